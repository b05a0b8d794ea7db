//! Gradient clipping: norms after clipping, Keras' precedence, the builder methods.

use mlp_runtime::optim::clip::{clip_norm, clip_value, global_norm_scale, scale, sum_sq};
use mlp_runtime::optim::prelude::*;

fn norm(v: &[f32]) -> f64 {
    sum_sq(v).sqrt()
}

#[test]
fn clip_norm_caps_each_tensor_norm() {
    let mut g = [3.0f32, 4.0];
    clip_norm(&mut g, 1.0);
    assert!((norm(&g) - 1.0).abs() < 1e-6);
    assert!((g[0] - 0.6).abs() < 1e-6 && (g[1] - 0.8).abs() < 1e-6, "direction kept");
    let mut big = [100.0f32, -200.0, 300.0, 0.5];
    clip_norm(&mut big, 2.5);
    assert!((norm(&big) - 2.5).abs() < 1e-5);
    // Within the bound: untouched, bit for bit.
    let orig = [0.1f32, -0.2, 0.3];
    let mut g = orig;
    clip_norm(&mut g, 1.0);
    assert_eq!(g, orig);
    // A non-positive bound means no clipping, as in Keras.
    let mut g = [3.0f32, 4.0];
    clip_norm(&mut g, 0.0);
    assert_eq!(g, [3.0, 4.0]);
    let mut z = [0.0f32; 3];
    clip_norm(&mut z, 1.0);
    assert_eq!(z, [0.0; 3]);
}

#[test]
fn clip_value_clamps_elements() {
    let mut g = [-3.0f32, -0.2, 0.0, 0.4, 7.0];
    clip_value(&mut g, 0.5);
    assert_eq!(g, [-0.5, -0.2, 0.0, 0.4, 0.5]);
    let mut g = [-3.0f32, 7.0];
    clip_value(&mut g, -1.0);
    assert_eq!(g, [-3.0, 7.0]);
}

#[test]
fn global_clipnorm_caps_the_joint_norm() {
    let mut a = [3.0f32, 4.0];
    let mut b = [0.0f32, 12.0];
    let k = global_norm_scale(sum_sq(&a) + sum_sq(&b), 6.5);
    assert_eq!(k, 0.5);
    scale(&mut a, k);
    scale(&mut b, k);
    assert!(((sum_sq(&a) + sum_sq(&b)).sqrt() - 6.5).abs() < 1e-6);
    assert_eq!(b, [0.0, 6.0], "every tensor scaled by the same factor");
    assert_eq!(global_norm_scale(169.0, 13.0), 1.0);
    assert_eq!(global_norm_scale(1.0, 5.0), 1.0);
    assert_eq!(global_norm_scale(0.0, 5.0), 1.0);
    assert_eq!(global_norm_scale(1e6, 0.0), 1.0);
    // Like Keras: a non-finite norm makes the factor NaN, so the failure shows.
    assert!(global_norm_scale(f64::INFINITY, 1.0).is_nan());
    assert!(global_norm_scale(f64::NAN, 1.0).is_nan());
}

#[test]
fn keras_precedence_when_several_are_set() {
    let all = Clip { value: Some(0.5), norm: Some(1.0), global_norm: Some(2.0) };
    assert_eq!(all.effective(), Clip { norm: Some(1.0), ..Clip::NONE });
    let two = Clip { value: Some(0.5), global_norm: Some(2.0), ..Clip::NONE };
    assert_eq!(two.effective(), Clip { global_norm: Some(2.0), ..Clip::NONE });
    let nonpositive = Clip { norm: Some(0.0), value: Some(0.5), ..Clip::NONE };
    assert_eq!(nonpositive.effective(), Clip { value: Some(0.5), ..Clip::NONE });
    assert!(Clip::NONE.is_none() && Clip::default().is_none());
    assert!(Clip { norm: Some(-1.0), ..Clip::NONE }.is_none());
}

#[test]
fn builders_attach_clipping_to_any_optimizer() {
    assert_eq!(Sgd::new(0.01).clip(), Clip::NONE);
    assert_eq!(Sgd::new(0.01).clipnorm(1.0).clip(), Clip { norm: Some(1.0), ..Clip::NONE });
    assert_eq!(Adam::default().clipvalue(0.5).clip(), Clip { value: Some(0.5), ..Clip::NONE });
    assert_eq!(RMSprop::default().global_clipnorm(1.0).clip(), Clip { global_norm: Some(1.0), ..Clip::NONE });
    // Keras allows one kind: the last one set wins, without nesting wrappers.
    let opt: Clipped<Nadam> = Nadam::default().clipnorm(1.0).clipvalue(0.5);
    assert_eq!(opt.clip(), Clip { value: Some(0.5), ..Clip::NONE });
    // Everything else is the inner optimizer's.
    let mut opt = Adagrad::new(0.1).clipnorm(1.0);
    assert_eq!((opt.name(), opt.learning_rate()), ("adagrad", 0.1));
    opt.set_learning_rate(0.2);
    assert_eq!(opt.inner().learning_rate(), 0.2);
    let mut w = [1.0f32];
    opt.begin_step();
    opt.update(0, &mut w, &[1.0]);
    assert_eq!(opt.iterations(), 1);
    assert_eq!(opt.state().len(), 2);
    // Boxed optimizers keep their clipping.
    let boxed: Box<dyn Optimizer> = Box::new(AdamW::default().global_clipnorm(3.0));
    assert_eq!(boxed.clip().global_norm, Some(3.0));
}
