//! Losses: values on hand-computed examples, gradients against central finite
//! differences (fused and non-fused), fused softmax = softmax Jacobian x non-fused
//! gradient, huge logits, bad input, and no allocation.

use mlp_runtime::loss::prelude::*;
use mlp_runtime::Activation;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

// ---- allocation counter (per thread, so parallel tests do not disturb each other) ----

struct Counting;
thread_local!(static ALLOCS: Cell<usize> = const { Cell::new(0) });
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        unsafe { System.dealloc(p, l) }
    }
}
#[global_allocator]
static GLOBAL: Counting = Counting;
fn allocs() -> usize {
    ALLOCS.with(|c| c.get())
}

// ---- helpers ----

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * (1.0 + a.abs().max(b.abs()))
}

fn value(loss: &dyn Loss, out: &[f32], width: usize, t: Targets<'_>) -> f64 {
    let mut g = vec![0.0; out.len()];
    loss.loss_and_grad(out, width, t, &mut g, false) as f64
}

/// Central differences of `f` at `x`, each coordinate moved by `h`.
fn numeric_grad(x: &[f32], h: f32, f: &dyn Fn(&[f32]) -> f64) -> Vec<f64> {
    (0..x.len())
        .map(|i| {
            let mut p = x.to_vec();
            p[i] += h;
            let up = f(&p);
            p[i] -= 2.0 * h;
            let down = f(&p);
            (up - down) / (2.0 * h as f64)
        })
        .collect()
}

fn assert_grad(analytic: &[f32], numeric: &[f64], tol: f64, what: &str) {
    for (i, (&a, &n)) in analytic.iter().zip(numeric).enumerate() {
        assert!(close(a as f64, n, tol), "{what}: grad[{i}] analytic {a} vs numeric {n}");
    }
}

/// Checks the non-fused gradient of `loss` at `out` against finite differences.
fn check_plain(loss: &dyn Loss, out: &[f32], width: usize, t: Targets<'_>, h: f32, tol: f64) {
    let mut g = vec![0.0; out.len()];
    loss.loss_and_grad(out, width, t, &mut g, false);
    let n = numeric_grad(out, h, &|o| value(loss, o, width, t));
    assert_grad(&g, &n, tol, loss.name());
}

fn softmax(z: &[f32], width: usize) -> Vec<f32> {
    let mut p = z.to_vec();
    Activation::Softmax.forward(&mut p, width);
    p
}

fn sigmoid(z: &[f32]) -> Vec<f32> {
    let mut p = z.to_vec();
    Activation::Sigmoid.forward(&mut p, 1);
    p
}

/// Checks the fused gradient (with respect to the logits `z` of activation `act`)
/// against finite differences of loss(act(z)).
fn check_fused(loss: &dyn Loss, act: Activation, z: &[f32], width: usize, t: Targets<'_>) {
    assert!(loss.fuses_with(Some(act)));
    let y = if act == Activation::Softmax { softmax(z, width) } else { sigmoid(z) };
    let mut g = vec![0.0; z.len()];
    loss.loss_and_grad(&y, width, t, &mut g, true);
    let f = |z: &[f32]| {
        let y = if act == Activation::Softmax { softmax(z, width) } else { sigmoid(z) };
        value(loss, &y, width, t)
    };
    assert_grad(&g, &numeric_grad(z, 1e-2, &f), 2e-3, loss.name());
}

// ---- values on hand-computed examples ----

#[test]
fn sparse_categorical_values() {
    let l = SparseCategoricalCrossentropy::new();
    let out = [0.7, 0.2, 0.1, 0.1, 0.8, 0.1];
    let v = value(&l, &out, 3, Targets::Classes(&[0, 1]));
    assert!(close(v, -(0.7f64.ln() + 0.8f64.ln()) / 2.0, 1e-6));
    // Keras renormalizes: outputs [1, 3] are probabilities [0.25, 0.75].
    assert!(close(l.loss_sum(&[1.0, 3.0], 2, Targets::Classes(&[1])), -(0.75f64.ln()), 1e-6));
    // ... and clips: log(0) becomes log(1e-7).
    assert!(close(l.loss_sum(&[1.0, 0.0], 2, Targets::Classes(&[1])), -(1e-7f64.ln()), 1e-4));
    // Float labels are class indices.
    assert!(close(l.loss_sum(&out, 3, Targets::Values(&[0.0, 1.0])), -(0.7f64.ln() + 0.8f64.ln()), 1e-6));
    // On logits: -log_softmax.
    let l = SparseCategoricalCrossentropy::from_logits();
    let lse = (1f64.exp() + 2f64.exp() + 3f64.exp()).ln();
    assert!(close(l.loss_sum(&[1.0, 2.0, 3.0], 3, Targets::Classes(&[2])), lse - 3.0, 1e-6));
    assert!(close(l.loss_sum(&[0.0, 0.0], 2, Targets::Classes(&[0])), 2f64.ln(), 1e-6));
    assert_eq!(l, SparseCategoricalCrossentropy::from_logits());
    assert_eq!(SparseCategoricalCrossentropy::default(), SparseCategoricalCrossentropy::new());
}

#[test]
fn categorical_values() {
    let l = CategoricalCrossentropy::new();
    let out = [0.2, 0.3, 0.5];
    let t = [0.1, 0.0, 0.9];
    let want = -(0.1 * 0.2f64.ln() + 0.9 * 0.5f64.ln());
    assert!(close(value(&l, &out, 3, Targets::Values(&t)), want, 1e-6));
    // A class index is a one-hot row.
    assert!(close(l.loss_sum(&out, 3, Targets::Classes(&[1])), -(0.3f64.ln()), 1e-6));
    let l = CategoricalCrossentropy::from_logits();
    let z = [1.0f32, -1.0, 0.5];
    let lse = (1f64.exp() + (-1f64).exp() + 0.5f64.exp()).ln();
    let want = 0.1 * (lse - 1.0) + 0.9 * (lse - 0.5);
    assert!(close(l.loss_sum(&z, 3, Targets::Values(&t)), want, 1e-6));
}

#[test]
fn binary_values() {
    let l = BinaryCrossentropy::new();
    // Two samples of width 2: mean over the width, then over the batch.
    let out = [0.9, 0.2, 0.4, 0.6];
    let t = [1.0, 0.0, 1.0, 1.0];
    let s0 = -(0.9f64.ln() + 0.8f64.ln()) / 2.0;
    let s1 = -(0.4f64.ln() + 0.6f64.ln()) / 2.0;
    assert!(close(value(&l, &out, 2, Targets::Values(&t)), (s0 + s1) / 2.0, 1e-6));
    assert!(close(l.loss_sum(&out, 2, Targets::Values(&t)), s0 + s1, 1e-6));
    // Clipped at 1 - 1e-7 (f32), so a confident miss costs about 16.1, not infinity.
    let v = l.loss_sum(&[1.0], 1, Targets::Values(&[0.0]));
    assert!(v.is_finite() && v > 15.0 && v < 16.2, "{v}");
    // Width-1 class labels.
    assert!(close(l.loss_sum(&[0.9, 0.2], 1, Targets::Classes(&[1, 0])), -(0.9f64.ln() + 0.8f64.ln()), 1e-6));
    let l = BinaryCrossentropy::from_logits();
    assert!(close(l.loss_sum(&[0.0], 1, Targets::Values(&[1.0])), 2f64.ln(), 1e-6));
    assert!(close(l.loss_sum(&[2.0], 1, Targets::Values(&[1.0])), (1.0 + (-2f64).exp()).ln(), 1e-6));
    assert!(close(l.loss_sum(&[2.0], 1, Targets::Values(&[0.0])), (1.0 + 2f64.exp()).ln(), 1e-6));
    assert!(close(l.loss_sum(&[-1e4], 1, Targets::Values(&[1.0])), 1e4, 1e-6));
}

#[test]
fn regression_values() {
    let out = [1.0, -2.0, 0.5, 3.0];
    let t = [0.0, 0.0, 0.0, 0.0];
    // MSE: per sample mean over width 2, then batch mean.
    assert!(close(
        value(&MeanSquaredError, &out, 2, Targets::Values(&t)),
        (1.0 + 4.0 + 0.25 + 9.0) / 4.0,
        1e-6
    ));
    assert!(close(
        MeanSquaredError.loss_sum(&out, 2, Targets::Values(&t)),
        (1.0 + 4.0) / 2.0 + (0.25 + 9.0) / 2.0,
        1e-6
    ));
    assert!(close(
        value(&MeanAbsoluteError, &out, 2, Targets::Values(&t)),
        (1.0 + 2.0 + 0.5 + 3.0) / 4.0,
        1e-6
    ));
    // Huber, delta 1: 0.5 e^2 inside, |e| - 0.5 outside.
    let h = (0.5 + 1.5 + 0.125 + 2.5) / 4.0;
    assert!(close(value(&Huber::new(), &out, 2, Targets::Values(&t)), h, 1e-6));
    // delta 2: 0.5, 2, 0.125, 2*3 - 2.
    let h2 = (0.5 + 2.0 + 0.125 + 4.0) / 4.0;
    assert!(close(value(&Huber::new().delta(2.0), &out, 2, Targets::Values(&t)), h2, 1e-6));
    assert_eq!(Huber::default().delta, 1.0);
    let mut g = [0.0; 4];
    MeanAbsoluteError.loss_and_grad(
        &[1.0, 1.0, 1.0, 1.0],
        2,
        Targets::Values(&[1.0, 0.0, 2.0, 1.0]),
        &mut g,
        false,
    );
    assert_eq!(g, [0.0, 0.25, -0.25, 0.0]);
}

#[test]
fn names_and_fusion() {
    assert_eq!(SparseCategoricalCrossentropy::new().name(), "sparse_categorical_crossentropy");
    assert_eq!(CategoricalCrossentropy::new().name(), "categorical_crossentropy");
    assert_eq!(BinaryCrossentropy::new().name(), "binary_crossentropy");
    assert_eq!(MeanSquaredError.name(), "mean_squared_error");
    assert_eq!(MeanAbsoluteError.name(), "mean_absolute_error");
    assert_eq!(Huber::new().name(), "huber_loss");
    let sm = Some(Activation::Softmax);
    let sg = Some(Activation::Sigmoid);
    assert!(SparseCategoricalCrossentropy::new().fuses_with(sm));
    assert!(CategoricalCrossentropy::new().fuses_with(sm));
    assert!(!SparseCategoricalCrossentropy::from_logits().fuses_with(sm));
    assert!(!SparseCategoricalCrossentropy::new().fuses_with(sg));
    assert!(!SparseCategoricalCrossentropy::new().fuses_with(None));
    assert!(BinaryCrossentropy::new().fuses_with(sg));
    assert!(!BinaryCrossentropy::new().fuses_with(sm));
    assert!(!BinaryCrossentropy::from_logits().fuses_with(sg));
    assert!(!MeanSquaredError.fuses_with(sg));
}

// ---- gradients against finite differences ----

#[test]
fn categorical_grad_plain_matches_finite_differences() {
    // Outputs that do not sum to 1 exercise Keras' renormalization.
    let out = [0.3, 0.5, 0.4, 0.2, 0.1, 0.6];
    check_plain(&SparseCategoricalCrossentropy::new(), &out, 3, Targets::Classes(&[1, 2]), 1e-3, 2e-3);
    check_plain(
        &CategoricalCrossentropy::new(),
        &out,
        3,
        Targets::Values(&[0.2, 0.8, 0.0, 0.0, 0.5, 0.5]),
        1e-3,
        2e-3,
    );
    // A clipped entry (p = 0 for the target) has a zero gradient through the clip.
    let out = [0.0, 0.5, 0.5];
    let l = SparseCategoricalCrossentropy::new();
    let mut g = [1.0; 3];
    l.loss_and_grad(&out, 3, Targets::Classes(&[0]), &mut g, false);
    assert_eq!(g, [0.0, 0.0, 0.0]);
}

#[test]
fn categorical_grad_logits_matches_finite_differences() {
    let z = [1.0, -0.5, 2.0, 0.3, 0.0, -1.2];
    check_plain(&SparseCategoricalCrossentropy::from_logits(), &z, 3, Targets::Classes(&[0, 2]), 1e-2, 2e-3);
    check_plain(
        &CategoricalCrossentropy::from_logits(),
        &z,
        3,
        Targets::Values(&[0.2, 0.8, 0.0, 0.0, 0.5, 0.5]),
        1e-2,
        2e-3,
    );
}

#[test]
fn categorical_grad_fused_matches_finite_differences() {
    let z = [1.0, -0.5, 2.0, 0.3, 0.0, -1.2];
    check_fused(&SparseCategoricalCrossentropy::new(), Activation::Softmax, &z, 3, Targets::Classes(&[0, 2]));
    check_fused(
        &CategoricalCrossentropy::new(),
        Activation::Softmax,
        &z,
        3,
        Targets::Values(&[0.2, 0.8, 0.0, 0.0, 0.5, 0.5]),
    );
    check_fused(&CategoricalCrossentropy::new(), Activation::Softmax, &z, 3, Targets::Classes(&[1, 1]));
}

#[test]
fn fused_softmax_equals_softmax_jacobian_times_plain_gradient() {
    let z = [1.0, -0.5, 2.0, 0.3, 0.0, -1.2, 3.0, 2.5, -4.0];
    let p = softmax(&z, 3);
    for (loss, t) in [
        (&SparseCategoricalCrossentropy::new() as &dyn Loss, Targets::Classes(&[0, 2, 1])),
        (&CategoricalCrossentropy::new(), Targets::Values(&[0.2, 0.8, 0.0, 0.0, 0.5, 0.5, 1.0, 0.0, 0.0])),
    ] {
        let mut fused = [0.0; 9];
        let mut plain = [0.0; 9];
        let lf = loss.loss_and_grad(&p, 3, t, &mut fused, true);
        let lp = loss.loss_and_grad(&p, 3, t, &mut plain, false);
        assert_eq!(lf, lp, "the value does not depend on fusion");
        let mut chain = [0.0; 9];
        Activation::Softmax.backward(&z, &p, &plain, &mut chain, 3);
        assert_grad(&fused, &chain.map(f64::from), 1e-5, loss.name());
    }
}

#[test]
fn fused_sigmoid_equals_sigmoid_derivative_times_plain_gradient() {
    let z = [1.0, -0.5, 2.0, 0.3];
    let y = sigmoid(&z);
    let t = Targets::Values(&[1.0, 0.0, 0.3, 1.0]);
    let l = BinaryCrossentropy::new();
    let (mut fused, mut plain, mut chain) = ([0.0; 4], [0.0; 4], [0.0; 4]);
    l.loss_and_grad(&y, 2, t, &mut fused, true);
    l.loss_and_grad(&y, 2, t, &mut plain, false);
    Activation::Sigmoid.backward(&z, &y, &plain, &mut chain, 2);
    assert_grad(&fused, &chain.map(f64::from), 1e-5, "bce");
    check_fused(&l, Activation::Sigmoid, &z, 2, t);
}

#[test]
fn fused_paths_stay_finite_for_huge_logits() {
    let z = [1e4, 0.0, -1e4, -1e4, 1e4, 0.0];
    let p = softmax(&z, 3);
    let mut g = [0.0; 6];
    let l =
        SparseCategoricalCrossentropy::new().loss_and_grad(&p, 3, Targets::Classes(&[2, 1]), &mut g, true);
    assert!(l.is_finite());
    // (p - onehot) / batch with p one-hot on the largest logit.
    assert_eq!(g, [0.5, 0.0, -0.5, 0.0, 0.0, 0.0]);
    let l = CategoricalCrossentropy::new().loss_and_grad(&p, 3, Targets::Classes(&[0, 1]), &mut g, false);
    assert!(l.is_finite() && g.iter().all(|g| g.is_finite()));
    // On logits, log-softmax is exact: the loss of the first sample is 1e4 + log(1 + e^-1e4).
    let l = SparseCategoricalCrossentropy::from_logits().loss_and_grad(
        &z,
        3,
        Targets::Classes(&[1, 1]),
        &mut g,
        false,
    );
    assert!(close(l as f64, 1e4 / 2.0, 1e-6), "{l}");
    assert_eq!(g, [0.5, -0.5, 0.0, 0.0, 0.0, 0.0]);
    let y = sigmoid(&[1e4, -1e4]);
    let l = BinaryCrossentropy::new().loss_and_grad(&y, 1, Targets::Values(&[0.0, 1.0]), &mut g[..2], true);
    assert!(l.is_finite());
    assert_eq!(&g[..2], &[0.5, -0.5]);
    let l = BinaryCrossentropy::from_logits().loss_and_grad(
        &[1e4, -1e4],
        1,
        Targets::Values(&[0.0, 1.0]),
        &mut g[..2],
        false,
    );
    assert!(close(l as f64, 1e4, 1e-6));
    assert_eq!(&g[..2], &[0.5, -0.5]);
}

#[test]
fn binary_grad_matches_finite_differences() {
    let out = [0.9, 0.2, 0.4, 0.6];
    let t = Targets::Values(&[1.0, 0.0, 0.3, 1.0]);
    check_plain(&BinaryCrossentropy::new(), &out, 2, t, 1e-3, 2e-3);
    check_plain(&BinaryCrossentropy::from_logits(), &[1.0, -0.5, 2.0, 0.3], 2, t, 1e-2, 2e-3);
    check_plain(&BinaryCrossentropy::new(), &out, 2, Targets::Classes(&[0, 1]), 1e-3, 2e-3);
}

#[test]
fn label_smoothing_is_keras_and_its_gradients_match_finite_differences() {
    let (ls, out) = (0.1f32, [0.7f32, 0.2, 0.1, 0.1, 0.8, 0.1]);
    // Keras: y = y * (1 - ls) + ls / classes, then the usual cross-entropy.
    let smooth = |onehot: &[f32]| -> Vec<f32> { onehot.iter().map(|&t| t * (1.0 - ls) + ls / 3.0).collect() };
    let rows = smooth(&[1.0, 0.0, 0.0, 0.0, 1.0, 0.0]);
    let want: f64 = out.iter().zip(&rows).map(|(&p, &t)| -(t as f64) * (p as f64).ln()).sum::<f64>() / 2.0;
    let cat = CategoricalCrossentropy::new().label_smoothing(ls);
    let sparse = SparseCategoricalCrossentropy::new().label_smoothing(ls);
    let onehot = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0];
    assert!(close(value(&cat, &out, 3, Targets::Values(&onehot)), want, 1e-6));
    // The sparse loss is the categorical one on the labels' one-hot rows, in every mode.
    assert!(close(value(&sparse, &out, 3, Targets::Classes(&[0, 1])), want, 1e-6));
    assert!(close(sparse.loss_sum(&out, 3, Targets::Classes(&[0, 1])), 2.0 * want, 1e-6));
    let z = [1.0, -0.5, 2.0, 0.3, 0.0, -1.2];
    for (a, b) in [
        (sparse, cat),
        (
            SparseCategoricalCrossentropy::from_logits().label_smoothing(ls),
            CategoricalCrossentropy::from_logits().label_smoothing(ls),
        ),
    ] {
        for fused in [false, true] {
            if fused && a.from_logits {
                continue;
            }
            let y = if fused { softmax(&z, 3) } else { z.to_vec() };
            let (mut ga, mut gb) = ([0.0; 6], [0.0; 6]);
            let la = a.loss_and_grad(&y, 3, Targets::Classes(&[0, 2]), &mut ga, fused);
            let lb = b.loss_and_grad(&y, 3, Targets::Values(&[1.0, 0.0, 0.0, 0.0, 0.0, 1.0]), &mut gb, fused);
            assert!(
                close(la as f64, lb as f64, 1e-6) && ga.iter().zip(&gb).all(|(x, y)| (x - y).abs() < 1e-6)
            );
        }
    }
    // Gradients, on probabilities, logits and through the softmax.
    check_plain(&sparse, &[0.3, 0.5, 0.4, 0.2, 0.1, 0.6], 3, Targets::Classes(&[1, 2]), 1e-3, 2e-3);
    check_plain(
        &cat,
        &[0.3, 0.5, 0.4, 0.2, 0.1, 0.6],
        3,
        Targets::Values(&[0.2, 0.8, 0.0, 0.0, 0.5, 0.5]),
        1e-3,
        2e-3,
    );
    check_plain(
        &SparseCategoricalCrossentropy::from_logits().label_smoothing(0.2),
        &z,
        3,
        Targets::Classes(&[0, 2]),
        1e-2,
        2e-3,
    );
    check_fused(&sparse, Activation::Softmax, &z, 3, Targets::Classes(&[0, 2]));
    check_fused(&cat, Activation::Softmax, &z, 3, Targets::Values(&[0.2, 0.8, 0.0, 0.0, 0.5, 0.5]));
    // Binary: y = y * (1 - ls) + ls / 2.
    let bce = BinaryCrossentropy::new().label_smoothing(0.2);
    let (p, t) = ([0.9f32, 0.2], [1.0f32, 0.0]);
    let want: f64 = p
        .iter()
        .zip(&t)
        .map(|(&p, &t)| {
            let (p, t) = (p as f64, t as f64 * 0.8 + 0.1);
            -(t * p.ln() + (1.0 - t) * (1.0 - p).ln())
        })
        .sum::<f64>()
        / 2.0;
    assert!(close(value(&bce, &p, 1, Targets::Values(&t)), want, 1e-6));
    check_plain(&bce, &[0.9, 0.2, 0.4, 0.6], 2, Targets::Values(&[1.0, 0.0, 0.3, 1.0]), 1e-3, 2e-3);
    check_plain(
        &BinaryCrossentropy::from_logits().label_smoothing(0.2),
        &[1.0, -0.5, 2.0, 0.3],
        2,
        Targets::Classes(&[0, 1]),
        1e-2,
        2e-3,
    );
    check_fused(&bce, Activation::Sigmoid, &[1.0, -0.5, 2.0, 0.3], 2, Targets::Values(&[1.0, 0.0, 0.3, 1.0]));
    // Out of Keras' range: refused once, before training.
    assert!(cat.label_smoothing(1.5).check_output(Some(Activation::Softmax), 3).is_err());
    assert!(BinaryCrossentropy::new().label_smoothing(-0.1).check_output(None, 1).is_err());
    assert!(sparse.check_output(Some(Activation::Softmax), 3).is_ok());
}

#[test]
fn regression_grads_match_finite_differences() {
    let out = [1.0, -2.0, 0.5, 3.0, 0.2, -0.7];
    let t = Targets::Values(&[0.0, 0.1, 0.0, 0.5, -0.3, 0.4]);
    check_plain(&MeanSquaredError, &out, 3, t, 1e-2, 1e-3);
    check_plain(&MeanAbsoluteError, &out, 3, t, 1e-2, 1e-3);
    check_plain(&Huber::new(), &out, 3, t, 1e-2, 1e-3);
    check_plain(&Huber::new().delta(0.3), &out, 3, t, 1e-2, 1e-3);
}

// ---- bad input ----

fn assert_fails(loss: &dyn Loss, out: &[f32], width: usize, t: Targets<'_>, fused: bool) {
    let mut g = vec![7.0; out.len()];
    let l = loss.loss_and_grad(out, width, t, &mut g, fused);
    assert!(l.is_nan(), "{}: expected NaN, got {l}", loss.name());
    assert!(g.iter().all(|&g| g == 0.0), "{}: gradient not zeroed", loss.name());
}

#[test]
fn bad_input_gives_nan_and_an_explanation_never_a_panic() {
    let out = [0.5, 0.5, 0.3, 0.7];
    let scce = SparseCategoricalCrossentropy::new();
    // Class out of range.
    assert_fails(&scce, &out, 2, Targets::Classes(&[0, 2]), false);
    let e = scce.check_targets(Targets::Classes(&[0, 2]), 2).unwrap_err();
    assert!(e.message().contains("class 2") && e.message().contains("2 classes"), "{e}");
    // Wrong number of targets, width 0, width not dividing the output.
    assert_fails(&scce, &out, 2, Targets::Classes(&[0]), false);
    assert_fails(&scce, &out, 0, Targets::Classes(&[0, 1]), false);
    assert_fails(&scce, &out, 3, Targets::Classes(&[0]), false);
    assert!(scce.loss_sum(&out, 0, Targets::Classes(&[0])).is_nan());
    // Non-integral float labels.
    assert_fails(&scce, &out, 2, Targets::Values(&[0.5, 1.0]), false);
    assert!(scce.check_targets(Targets::Values(&[0.5]), 2).is_err());
    assert!(scce.check_targets(Targets::Values(&[1.0, 0.0]), 2).is_ok());
    // Fusing a loss on logits makes no sense.
    assert_fails(&SparseCategoricalCrossentropy::from_logits(), &out, 2, Targets::Classes(&[0, 1]), true);
    assert_fails(&BinaryCrossentropy::from_logits(), &out, 2, Targets::Values(&out), true);
    // Regression losses take values only, and never fuse.
    for l in [&MeanSquaredError as &dyn Loss, &MeanAbsoluteError, &Huber::new()] {
        assert_fails(l, &out, 2, Targets::Classes(&[0, 1]), false);
        assert_fails(l, &out, 2, Targets::Values(&out), true);
        assert_fails(l, &out, 2, Targets::Values(&out[..3]), false);
        assert!(l.loss_sum(&out, 2, Targets::Classes(&[0, 1])).is_nan());
        let e = l.check_targets(Targets::Classes(&[0, 1]), 2).unwrap_err();
        assert!(e.message().contains("class indices"), "{e}");
        assert!(l.check_targets(Targets::Values(&out[..3]), 2).is_err());
        assert!(l.check_targets(Targets::Values(&[f32::NAN, 0.0]), 2).is_err());
        assert!(l.check_targets(Targets::Values(&out), 2).is_ok());
    }
    // Binary: class 2 with width 1, class beyond the width otherwise.
    assert_fails(&BinaryCrossentropy::new(), &out, 1, Targets::Classes(&[0, 2, 1, 1]), false);
    assert!(BinaryCrossentropy::new().check_targets(Targets::Classes(&[2]), 1).is_err());
    assert!(BinaryCrossentropy::new().check_targets(Targets::Classes(&[1]), 2).is_ok());
    // The gradient buffer must match the output.
    let mut short = [0.0; 3];
    assert!(MeanSquaredError.loss_and_grad(&out, 2, Targets::Values(&out), &mut short, false).is_nan());
    // Empty batch.
    assert!(scce.loss_and_grad(&[], 2, Targets::Classes(&[]), &mut [], false).is_nan());
    assert_eq!(scce.loss_sum(&[], 2, Targets::Classes(&[])), 0.0);
}

#[test]
fn losses_do_not_allocate() {
    let z = [1.0f32, -0.5, 2.0, 0.3, 0.0, -1.2];
    let mut g = [0.0f32; 6];
    let losses: [&dyn Loss; 8] = [
        &SparseCategoricalCrossentropy::new(),
        &SparseCategoricalCrossentropy::from_logits(),
        &CategoricalCrossentropy::new(),
        &BinaryCrossentropy::new(),
        &BinaryCrossentropy::from_logits(),
        &MeanSquaredError,
        &MeanAbsoluteError,
        &Huber::new(),
    ];
    let p = softmax(&z, 3);
    let before = allocs();
    for l in losses {
        let t = if l.name() == "sparse_categorical_crossentropy" {
            Targets::Classes(&[0, 2])
        } else {
            Targets::Values(&p)
        };
        let fused = l.fuses_with(Some(Activation::Softmax));
        std::hint::black_box(l.loss_and_grad(&p, 3, t, &mut g, fused));
        std::hint::black_box(l.loss_sum(&p, 3, t));
    }
    assert_eq!(allocs(), before);
}
