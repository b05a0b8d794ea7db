//! Optimizers: steps against Keras 3's formulas evaluated in f64 in this file (and a few
//! numbers worked by hand or taken from Keras' docs), minimizing a quadratic,
//! bit-identical resume from saved state, no allocation after the first step.
//!
//! Steps here drive the optimizer by hand, as the trainer does: weight decay, then `update`.

use mlp_runtime::optim::prelude::*;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

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

// ---- a fixed problem: two tensors (slots 0 and 1), gradients known per step ----

const W0: [f32; 3] = [1.0, -0.5, 2.0];
const B0: [f32; 2] = [0.25, -1.5];

/// The gradient of step `t` (1-based) for element `i` of slot `s`: varied signs and
/// scales, independent of the weights so the f64 reference sees the same numbers.
fn grad(s: usize, i: usize, t: u64) -> f32 {
    let base = [[0.5f32, -1.0, 2.0], [3.0, -0.01, 0.0]][s][i];
    base * (1.0 + 0.25 * t as f32) * if t.is_multiple_of(3) { -1.0 } else { 1.0 }
}

fn grads(s: usize, n: usize, t: u64) -> Vec<f32> {
    (0..n).map(|i| grad(s, i, t)).collect()
}

/// One tensor's step after `begin_step`, as the trainer takes it: the weight decay the
/// optimizer asks for (nothing is excluded here), then the update.
fn update(opt: &mut dyn Optimizer, slot: usize, w: &mut [f32], g: &[f32]) {
    if let Some(wd) = opt.weight_decay_settings() {
        wd.apply(opt.learning_rate(), w);
    }
    opt.update(slot, w, g);
}

/// Runs `steps` steps of `opt` on the fixed problem, from the step after `opt.iterations()`.
fn run(opt: &mut dyn Optimizer, w: &mut [f32], b: &mut [f32], steps: u64) {
    for _ in 0..steps {
        opt.begin_step();
        let t = opt.iterations();
        update(opt, 0, w, &grads(0, w.len(), t));
        update(opt, 1, b, &grads(1, b.len(), t));
    }
}

/// A reference optimizer on one f64 tensor: `(t, w, g, state)`.
type Reference = dyn FnMut(u64, &mut [f64], &[f64], &mut Vec<Vec<f64>>);

/// Runs our optimizer and an f64 transcription of Keras' formula side by side.
fn compare(mut opt: impl Optimizer, steps: u64, mut reference: Box<Reference>, tol: f64) {
    let (mut w, mut b) = (W0, B0);
    run(&mut opt, &mut w, &mut b, steps);
    for (s, (ours, w0)) in [(&w[..], &W0[..]), (&b[..], &B0[..])].into_iter().enumerate() {
        let mut r: Vec<f64> = w0.iter().map(|&x| x as f64).collect();
        let mut st = Vec::new();
        for t in 1..=steps {
            let g: Vec<f64> = grads(s, r.len(), t).iter().map(|&g| g as f64).collect();
            reference(t, &mut r, &g, &mut st);
        }
        for (i, (&o, &e)) in ours.iter().zip(&r).enumerate() {
            // Compare the displacement, which is what the formula decides, allowing for
            // the f32 rounding of the weight itself (a few ulps of a number near 2).
            let (d_ours, d_ref) = (o as f64 - w0[i] as f64, e - w0[i] as f64);
            assert!(
                (d_ours - d_ref).abs() <= tol * d_ref.abs() + 1e-6,
                "{}: slot {s}[{i}] moved {d_ours}, Keras' formula says {d_ref}",
                opt.name()
            );
        }
    }
}

/// State vectors the reference closures keep, zero-initialized on first use.
fn bufs(st: &mut Vec<Vec<f64>>, k: usize, n: usize, init: f64) {
    while st.len() < k {
        st.push(vec![init; n]);
    }
}

// ---- hand-worked numbers ----

#[test]
fn sgd_by_hand() {
    let step = |mut o: Sgd, gs: &[f32]| {
        let mut w = [1.0f32];
        for &g in gs {
            o.begin_step();
            o.update(0, &mut w, &[g]);
        }
        w[0]
    };
    assert!((step(Sgd::new(0.1), &[0.5]) - 0.95).abs() < 1e-7);
    // m1 = -0.05, w = 0.95; m2 = 0.9 * -0.05 - 0.05 = -0.095, w = 0.855.
    assert!((step(Sgd::new(0.1).momentum(0.9), &[0.5, 0.5]) - 0.855).abs() < 1e-6);
    // Nesterov: w += 0.9 m - lr g: 1 - 0.095 = 0.905, then 0.905 + 0.9 * -0.095 - 0.05 = 0.7695.
    assert!((step(Sgd::new(0.1).momentum(0.9).nesterov(true), &[0.5, 0.5]) - 0.7695).abs() < 1e-6);
}

#[test]
fn rmsprop_matches_keras_docstring_example() {
    // keras.optimizers.RMSprop docstring: lr 0.1, var 10, loss var^2 / 2 -> 9.683772.
    let mut opt = RMSprop::new(0.1);
    let mut w = [10.0f32];
    opt.begin_step();
    let g = [w[0]];
    opt.update(0, &mut w, &g);
    assert!((w[0] - 9.683772).abs() < 2e-6, "{}", w[0]);
}

#[test]
fn adagrad_adam_adamw_nadam_first_step_by_hand() {
    let one = |opt: &mut dyn Optimizer, w: f32, g: f32| {
        let mut w = [w];
        opt.begin_step();
        update(opt, 0, &mut w, &[g]);
        w[0] as f64
    };
    // Adagrad: acc = 0.1 + 1, w = 1 - 0.1 / sqrt(1.1 + 1e-7).
    let want = 1.0 - 0.1 / (1.1f64 + 1e-7).sqrt();
    assert!((one(&mut Adagrad::new(0.1), 1.0, 1.0) - want).abs() < 1e-6);
    // Adam, g = 4: m = 0.4, v = 0.016, alpha = lr sqrt(1 - 0.999) / (1 - 0.9).
    let alpha = 0.1 * (0.001f64).sqrt() / 0.1;
    let want = 1.0 - 0.4 * alpha / (0.016f64.sqrt() + 1e-7);
    assert!((one(&mut Adam::new(0.1), 1.0, 4.0) - want).abs() < 1e-6);
    // AdamW: the decay alone, w (1 - wd lr), when the gradient is 0.
    let want = 2.0 * (1.0 - 0.004 * 0.1);
    assert!((one(&mut AdamW::new(0.1), 2.0, 0.0) - want).abs() < 1e-7);
    // Nadam, g = 1: u1 = 0.9 * 0.52, u2 = 0.9 * (1 - 0.5 * 0.96^2), m = 0.1, v = 0.001.
    let (u1, u2) = (0.9 * 0.52, 0.9 * (1.0 - 0.5 * 0.9216));
    let m_hat = u2 * 0.1 / (1.0 - u1 * u2) + (1.0 - u1) * 1.0 / (1.0 - u1);
    let v_hat = 0.001 / (1.0 - 0.999);
    let want = 1.0 - 0.1 * m_hat / (f64::sqrt(v_hat) + 1e-7);
    assert!((one(&mut Nadam::new(0.1), 1.0, 1.0) - want).abs() < 1e-6);
}

// ---- several steps against f64 transcriptions of Keras' update_step ----

#[test]
fn sgd_matches_keras_formula() {
    compare(
        Sgd::new(0.05),
        6,
        Box::new(|_, w, g, _| w.iter_mut().zip(g).for_each(|(w, g)| *w -= g * 0.05)),
        1e-5,
    );
    for nesterov in [false, true] {
        let r = move |_t: u64, w: &mut [f64], g: &[f64], st: &mut Vec<Vec<f64>>| {
            bufs(st, 1, w.len(), 0.0);
            for i in 0..w.len() {
                let m = &mut st[0][i];
                *m = *m * 0.9 - g[i] * 0.05;
                w[i] += if nesterov { *m * 0.9 - g[i] * 0.05 } else { *m };
            }
        };
        compare(Sgd::new(0.05).momentum(0.9).nesterov(nesterov), 6, Box::new(r), 1e-5);
    }
}

fn keras_adam(lr: f64, wd: f64, amsgrad: bool) -> Box<Reference> {
    let (b1, b2, eps) = (0.9f64, 0.999f64, 1e-7);
    Box::new(move |t, w, g, st| {
        bufs(st, 3, w.len(), 0.0);
        let alpha = lr * (1.0 - b2.powi(t as i32)).sqrt() / (1.0 - b1.powi(t as i32));
        for i in 0..w.len() {
            w[i] -= w[i] * wd * lr;
            st[0][i] += (g[i] - st[0][i]) * (1.0 - b1);
            st[1][i] += (g[i] * g[i] - st[1][i]) * (1.0 - b2);
            let mut v = st[1][i];
            if amsgrad {
                st[2][i] = st[2][i].max(v);
                v = st[2][i];
            }
            w[i] -= st[0][i] * alpha / (v.sqrt() + eps);
        }
    })
}

#[test]
fn adam_and_adamw_match_keras_formula() {
    compare(Adam::new(0.1), 7, keras_adam(0.1, 0.0, false), 1e-4);
    compare(Adam::new(0.1).amsgrad(true), 7, keras_adam(0.1, 0.0, true), 1e-4);
    compare(AdamW::new(0.1).weight_decay(0.05), 7, keras_adam(0.1, 0.05, false), 1e-4);
    compare(AdamW::new(0.1), 7, keras_adam(0.1, 0.004, false), 1e-4);
}

#[test]
fn nadam_matches_keras_formula() {
    let (lr, b1, b2, eps) = (0.1f64, 0.9f64, 0.999f64, 1e-7);
    let u = move |t: u64| b1 * (1.0 - 0.5 * 0.96f64.powi(t as i32));
    let r = move |t: u64, w: &mut [f64], g: &[f64], st: &mut Vec<Vec<f64>>| {
        bufs(st, 2, w.len(), 0.0);
        // Keras' u_product after its update at step t: u_1 * ... * u_t.
        let u_product: f64 = (1..=t).map(u).product();
        let u_t = b1 * (1.0 - 0.5 * 0.96f64.powi(t as i32));
        let u_t1 = b1 * (1.0 - 0.5 * 0.96f64.powi(t as i32 + 1));
        let u_product_t1 = u_product * u_t1;
        for i in 0..w.len() {
            st[0][i] += (g[i] - st[0][i]) * (1.0 - b1);
            st[1][i] += (g[i] * g[i] - st[1][i]) * (1.0 - b2);
            let m_hat = u_t1 * st[0][i] / (1.0 - u_product_t1) + (1.0 - u_t) * g[i] / (1.0 - u_product);
            let v_hat = st[1][i] / (1.0 - b2.powi(t as i32));
            w[i] -= m_hat * lr / (v_hat.sqrt() + eps);
        }
    };
    compare(Nadam::new(0.1), 7, Box::new(r), 1e-4);
}

#[test]
fn adamax_matches_keras_formula() {
    for (b1, b2) in [(0.9f64, 0.999f64), (0.5, 0.9)] {
        let (lr, eps) = (0.1f64, 1e-7);
        let r = move |t: u64, w: &mut [f64], g: &[f64], st: &mut Vec<Vec<f64>>| {
            bufs(st, 2, w.len(), 0.0);
            for i in 0..w.len() {
                st[0][i] += (g[i] - st[0][i]) * (1.0 - b1);
                st[1][i] = (b2 * st[1][i]).max(g[i].abs());
                w[i] -= lr * st[0][i] / ((1.0 - b1.powi(t as i32)) * (st[1][i] + eps));
            }
        };
        compare(Adamax::new(0.1).beta_1(b1 as f32).beta_2(b2 as f32), 7, Box::new(r), 1e-4);
    }
}

fn keras_rmsprop(lr: f64, rho: f64, mom: f64, centered: bool) -> Box<Reference> {
    let eps = 1e-7;
    Box::new(move |_, w, g, st| {
        bufs(st, 3, w.len(), 0.0);
        for i in 0..w.len() {
            st[0][i] = rho * st[0][i] + (1.0 - rho) * g[i] * g[i];
            let denom = if centered {
                st[2][i] = rho * st[2][i] + (1.0 - rho) * g[i];
                st[0][i] - st[2][i] * st[2][i] + eps
            } else {
                st[0][i] + eps
            };
            let inc = lr * g[i] / denom.sqrt();
            if mom > 0.0 {
                st[1][i] = mom * st[1][i] + inc;
                w[i] -= st[1][i];
            } else {
                w[i] -= inc;
            }
        }
    })
}

#[test]
fn rmsprop_matches_keras_formula() {
    compare(RMSprop::new(0.01), 7, keras_rmsprop(0.01, 0.9, 0.0, false), 1e-4);
    compare(RMSprop::new(0.01).momentum(0.5), 7, keras_rmsprop(0.01, 0.9, 0.5, false), 1e-4);
    compare(RMSprop::new(0.01).rho(0.8).centered(true), 7, keras_rmsprop(0.01, 0.8, 0.0, true), 1e-4);
    compare(RMSprop::new(0.01).momentum(0.9).centered(true), 7, keras_rmsprop(0.01, 0.9, 0.9, true), 1e-4);
}

#[test]
fn adagrad_matches_keras_formula() {
    for init in [0.1f32, 0.5] {
        let r = move |_t: u64, w: &mut [f64], g: &[f64], st: &mut Vec<Vec<f64>>| {
            bufs(st, 1, w.len(), init as f64);
            for i in 0..w.len() {
                st[0][i] += g[i] * g[i];
                w[i] -= 0.1 * g[i] / (st[0][i] + 1e-7).sqrt();
            }
        };
        compare(Adagrad::new(0.1).initial_accumulator_value(init), 6, Box::new(r), 1e-5);
    }
}

// ---- minimizing a quadratic ----

/// f(w) = sum c_i (w_i - a_i)^2 from w = 0; returns f at the end over f at the start.
fn quadratic(opt: &mut dyn Optimizer, steps: usize) -> f64 {
    let (a, c) = ([1.0f32, -2.0, 3.0], [1.0f32, 0.5, 2.0]);
    let f =
        |w: &[f32]| w.iter().zip(a).zip(c).map(|((&w, a), c)| (c * (w - a) * (w - a)) as f64).sum::<f64>();
    let mut w = [0.0f32; 3];
    let f0 = f(&w);
    for _ in 0..steps {
        let g: Vec<f32> = w.iter().zip(a).zip(c).map(|((&w, a), c)| 2.0 * c * (w - a)).collect();
        opt.begin_step();
        opt.update(0, &mut w, &g);
    }
    f(&w) / f0
}

#[test]
fn every_optimizer_minimizes_a_quadratic() {
    let cases: Vec<(Box<dyn Optimizer>, f64)> = vec![
        (Box::new(Sgd::new(0.1)), 1e-6),
        (Box::new(Sgd::new(0.05).momentum(0.9)), 1e-6),
        (Box::new(Sgd::new(0.05).momentum(0.9).nesterov(true)), 1e-6),
        (Box::new(Adam::new(0.05)), 1e-4),
        (Box::new(Adam::new(0.05).amsgrad(true)), 1e-4),
        (Box::new(AdamW::new(0.05)), 1e-3),
        (Box::new(Nadam::new(0.05)), 1e-4),
        (Box::new(RMSprop::new(0.01)), 1e-3),
        (Box::new(RMSprop::new(0.01).momentum(0.5).centered(true)), 1e-3),
        (Box::new(Adagrad::new(0.5)), 1e-4),
        (Box::new(Adamax::new(0.05)), 1e-4),
        (Box::new(Sgd::new(0.1).clipnorm(1.0)), 1e-6),
    ];
    for (mut opt, bound) in cases {
        let r = quadratic(&mut opt, 2000);
        assert!(r < bound, "{}: f fell only to {r} of its start", opt.name());
    }
}

// ---- state ----

fn all_optimizers() -> Vec<Box<dyn Fn() -> Box<dyn Optimizer>>> {
    vec![
        Box::new(|| Box::new(Sgd::new(0.05))),
        Box::new(|| Box::new(Sgd::new(0.05).momentum(0.9))),
        Box::new(|| Box::new(Sgd::new(0.05).momentum(0.9).nesterov(true))),
        Box::new(|| Box::new(Adam::new(0.01))),
        Box::new(|| Box::new(Adam::new(0.01).amsgrad(true))),
        Box::new(|| Box::new(AdamW::new(0.01))),
        Box::new(|| Box::new(Adam::new(0.01).weight_decay(0.05))),
        Box::new(|| Box::new(Nadam::new(0.01))),
        Box::new(|| Box::new(RMSprop::new(0.01))),
        Box::new(|| Box::new(RMSprop::new(0.01).momentum(0.9).centered(true))),
        Box::new(|| Box::new(Adagrad::new(0.1))),
        Box::new(|| Box::new(Adamax::new(0.01))),
        Box::new(|| Box::new(Adam::new(0.01).clipvalue(0.5))),
        Box::new(|| {
            Box::new(
                Sgd::new(0.05)
                    .momentum(0.9)
                    .with_schedule(mlp_runtime::optim::ExponentialDecay::new(0.1, 3, 0.5)),
            )
        }),
        Box::new(|| {
            Box::new(
                Sgd::new(0.05)
                    .weight_decay(0.1)
                    .exclude_from_weight_decay(["bias"])
                    .clipnorm(2.0)
                    .with_schedule(mlp_runtime::optim::ExponentialDecay::new(0.1, 3, 0.5)),
            )
        }),
    ]
}

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

#[test]
fn restored_state_continues_bit_identically() {
    for make in all_optimizers() {
        let mut a = make();
        let (mut wa, mut ba) = (W0, B0);
        run(&mut a, &mut wa, &mut ba, 5);
        // After a learning-rate change (ReduceLrOnPlateau), which the state carries.
        a.set_learning_rate(a.learning_rate() * 0.5);
        let (saved, iters, lr) = (a.state(), a.iterations(), a.learning_rate());
        let (mut wb, mut bb) = (wa, ba);
        let mut b = make();
        b.set_state(iters, &saved).unwrap();
        assert_eq!(b.iterations(), iters);
        assert_eq!(b.learning_rate().to_bits(), lr.to_bits(), "{}", a.name());
        run(&mut a, &mut wa, &mut ba, 5);
        run(&mut b, &mut wb, &mut bb, 5);
        assert_eq!(bits(&wa), bits(&wb), "{}", a.name());
        assert_eq!(bits(&ba), bits(&bb), "{}", a.name());
        assert_eq!(a.state(), b.state(), "{}", a.name());
    }
}

#[test]
fn state_names_tensors_by_slot() {
    let mut opt = Adam::default();
    let (mut w, mut b) = (W0, B0);
    run(&mut opt, &mut w, &mut b, 1);
    let names: Vec<String> = opt.state().into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["0.m", "0.v", "1.m", "1.v", "learning_rate"]);
    let mut sgd = Sgd::default();
    run(&mut sgd, &mut w, &mut b, 1);
    assert_eq!(sgd.state().len(), 1, "plain SGD keeps no per-tensor state, like Keras");
}

#[test]
fn bad_state_is_rejected_and_changes_nothing() {
    let mut opt = Adam::default();
    let (mut w, mut b) = (W0, B0);
    run(&mut opt, &mut w, &mut b, 2);
    let before = (opt.state(), opt.iterations());
    let v = |n: usize| vec![0.5f32; n];
    let bad: Vec<Vec<(String, Vec<f32>)>> = vec![
        vec![("0.q".into(), v(3))],                       // unknown kind
        vec![("m".into(), v(3))],                         // no slot
        vec![("x.m".into(), v(3))],                       // slot not a number
        vec![("99999999999.m".into(), v(3))],             // absurd slot
        vec![("0.m".into(), v(3))],                       // v missing
        vec![("0.m".into(), v(3)), ("0.v".into(), v(2))], // inconsistent lengths
        vec![("0.m".into(), v(3)), ("0.m".into(), v(3))], // duplicate
        vec![("0.v_hat".into(), v(3))],                   // not amsgrad
        vec![("learning_rate".into(), vec![f32::NAN])],   // bad rate
        vec![("learning_rate".into(), vec![1.0, 2.0])],   // bad rate
    ];
    for s in bad {
        let e = opt.set_state(7, &s).unwrap_err();
        assert!(!e.to_string().is_empty());
        assert_eq!((opt.state(), opt.iterations()), before, "changed by rejected state {s:?}: {e}");
    }
    assert!(Sgd::new(0.1).set_state(1, &[("0.m".into(), v(3))]).is_err(), "no momentum, no m");
}

#[test]
fn no_allocation_after_the_first_step() {
    for make in all_optimizers() {
        let mut opt = make();
        let (mut w, mut b) = (W0, B0);
        let (g0, g1) = (grads(0, 3, 1), grads(1, 2, 1));
        opt.begin_step();
        opt.update(0, &mut w, &g0);
        opt.update(1, &mut b, &g1);
        let before = allocs();
        for _ in 0..5 {
            opt.begin_step();
            opt.update(0, &mut w, &g0);
            opt.update(1, &mut b, &g1);
        }
        assert_eq!(allocs(), before, "{} allocated after its first step", opt.name());
    }
}

#[test]
fn a_tensor_of_new_length_gets_fresh_state_without_panicking() {
    let mut opt = Adam::default();
    let mut w = [1.0f32; 3];
    opt.begin_step();
    opt.update(0, &mut w, &[1.0; 3]);
    let mut w2 = [1.0f32; 5];
    opt.update(0, &mut w2, &[1.0; 5]);
    assert!(w2.iter().all(|x| x.is_finite() && *x < 1.0));
    // A gradient shorter than the tensor updates what it covers.
    let mut w3 = [1.0f32; 4];
    Sgd::new(0.1).update(0, &mut w3, &[1.0; 2]);
    assert_eq!(w3, [0.9, 0.9, 1.0, 1.0]);
}

// ---- defaults, names, validation ----

#[test]
fn keras_defaults_and_names() {
    let s = Sgd::default();
    assert_eq!((s.learning_rate(), s.get_momentum(), s.get_nesterov(), s.name()), (0.01, 0.0, false, "SGD"));
    let a = Adam::default();
    assert_eq!(
        (a.learning_rate(), a.get_beta_1(), a.get_beta_2(), a.get_epsilon(), a.get_amsgrad(), a.name()),
        (1e-3, 0.9, 0.999, 1e-7, false, "adam")
    );
    let w = AdamW::default();
    assert_eq!((w.learning_rate(), w.get_weight_decay(), w.name()), (1e-3, 0.004, "adamw"));
    assert_eq!((w.get_beta_1(), w.get_beta_2(), w.get_epsilon(), w.get_amsgrad()), (0.9, 0.999, 1e-7, false));
    let n = Nadam::default();
    assert_eq!(
        (n.learning_rate(), n.get_beta_1(), n.get_beta_2(), n.get_epsilon(), n.name()),
        (1e-3, 0.9, 0.999, 1e-7, "nadam")
    );
    let r = RMSprop::default();
    assert_eq!(
        (r.learning_rate(), r.get_rho(), r.get_momentum(), r.get_epsilon(), r.get_centered(), r.name()),
        (1e-3, 0.9, 0.0, 1e-7, false, "rmsprop")
    );
    let g = Adagrad::default();
    assert_eq!(
        (g.learning_rate(), g.get_initial_accumulator_value(), g.get_epsilon(), g.name()),
        (1e-3, 0.1, 1e-7, "adagrad")
    );
    assert_eq!(Adam::new(0.5).beta_1(0.8).beta_2(0.99).epsilon(1e-8).learning_rate(), 0.5);
    for make in all_optimizers() {
        let o = make();
        assert_eq!(o.validate(), Ok(()), "{}", o.name());
        assert_eq!(o.iterations(), 0);
    }
}

#[test]
fn validate_rejects_what_keras_rejects() {
    let message = |o: &dyn Optimizer| o.validate().unwrap_err().to_string();
    assert!(message(&Sgd::new(0.1).momentum(1.5)).contains("momentum"));
    assert!(message(&Sgd::new(f32::NAN)).contains("learning rate"));
    assert!(message(&Adam::new(0.1).beta_1(1.0)).contains("beta_1"));
    assert!(message(&AdamW::new(0.1).weight_decay(-1.0)).contains("weight_decay"));
    assert!(Nadam::new(0.1).beta_2(-0.1).validate().is_err());
    assert!(RMSprop::new(0.1).rho(1.0).validate().is_err());
    assert!(Adagrad::new(0.1).initial_accumulator_value(-1.0).validate().is_err());
    assert!(message(&Adam::new(0.1).clipnorm(0.0)).contains("clipnorm"));
    assert!(Adam::new(0.1).global_clipnorm(f32::INFINITY).validate().is_err());
    let bad_schedule = mlp_runtime::optim::CosineDecay::new(0.1, 0);
    assert!(Adam::new(0.1).with_schedule(bad_schedule).validate().is_err());
}

#[test]
fn every_optimizer_takes_a_weight_decay_and_refuses_a_negative_or_non_finite_one() {
    let (names, excluded) = (["bias"], vec!["bias".to_string()]);
    let sgd = Sgd::default().weight_decay(0.1).exclude_from_weight_decay(names);
    assert_eq!((sgd.get_weight_decay(), sgd.get_exclude_from_weight_decay()), (0.1, &excluded[..]));
    assert_eq!(Adam::default().get_weight_decay(), 0.0, "none unless asked for, as in Keras");
    let with = |wd: f32| -> Vec<Box<dyn Optimizer>> {
        vec![
            Box::new(Sgd::default().weight_decay(wd).exclude_from_weight_decay(names)),
            Box::new(RMSprop::default().weight_decay(wd).exclude_from_weight_decay(names)),
            Box::new(Adagrad::default().weight_decay(wd).exclude_from_weight_decay(names)),
            Box::new(Adam::default().weight_decay(wd).exclude_from_weight_decay(names)),
            Box::new(AdamW::default().weight_decay(wd).exclude_from_weight_decay(names)),
            Box::new(Nadam::default().weight_decay(wd).exclude_from_weight_decay(names)),
            Box::new(Adamax::default().weight_decay(wd).exclude_from_weight_decay(names)),
            // The wrappers pass the setting and its check on.
            Box::new(Adam::default().weight_decay(wd).clipnorm(1.0).with_schedule(|_| 0.1)),
        ]
    };
    for opt in with(0.25) {
        let wd = opt.weight_decay_settings().expect("set");
        assert_eq!(wd.rate, 0.25, "{}", opt.name());
        assert_eq!(opt.validate(), Ok(()), "{}", opt.name());
    }
    for bad in [-0.1, f32::NAN, f32::INFINITY] {
        for opt in with(bad) {
            let e = opt.validate().unwrap_err();
            assert!(matches!(e, OptimError::Hyperparameter { name: "weight_decay", .. }), "{e:?}");
            assert!(e.to_string().contains(" weight_decay must be a finite number >= 0, got "), "{e}");
        }
    }
    let e = Nadam::new(0.1).weight_decay(-1.0).validate().unwrap_err();
    assert_eq!(e.to_string(), "nadam weight_decay must be a finite number >= 0, got -1");
}

#[test]
fn errors_are_typed_and_name_the_setting() {
    // A std::error::Error, so `?` works in a function returning Box<dyn Error>.
    fn validated(o: &dyn Optimizer) -> Result<(), Box<dyn std::error::Error>> {
        Ok(o.validate()?)
    }
    assert!(validated(&Sgd::default()).is_ok());
    assert_eq!(
        Sgd::new(0.1).momentum(1.5).validate(),
        Err(OptimError::Hyperparameter { owner: "SGD", name: "momentum", value: 1.5, expected: "in [0, 1]" })
    );
    let e = validated(&AdamW::new(0.1).beta_2(1.0)).unwrap_err();
    assert_eq!(e.to_string(), "adamw beta_2 must be in [0, 1), got 1");
    // The epsilon bound reads as words, not as f32::MAX spelled out.
    let e = Adam::new(0.1).epsilon(-1.0).validate().unwrap_err();
    assert_eq!(e.to_string(), "adam epsilon must be a finite number >= 0, got -1");
    let e = Nadam::new(f32::INFINITY).validate().unwrap_err();
    assert_eq!(e.to_string(), "nadam learning rate must be a finite number >= 0, got inf");
    let e = Sgd::new(0.1).clipvalue(-1.0).validate().unwrap_err();
    assert_eq!(e.to_string(), "SGD clipvalue must be a finite number > 0, got -1");
    // Each wrapper passes its inner optimizer's error on unchanged.
    let e = Adagrad::new(0.1).epsilon(f32::NAN).clipnorm(1.0).with_schedule(|_| 0.1).validate();
    assert!(matches!(e, Err(OptimError::Hyperparameter { owner: "adagrad", name: "epsilon", .. })), "{e:?}");
}

#[test]
fn state_errors_name_the_tensor() {
    let mut opt = Adam::default();
    let v = |n: usize| vec![0.5f32; n];
    let err = |opt: &mut Adam, s: Vec<(&str, Vec<f32>)>| {
        let s: Vec<(String, Vec<f32>)> = s.into_iter().map(|(n, v)| (n.to_string(), v)).collect();
        opt.set_state(1, &s).unwrap_err()
    };
    assert_eq!(
        err(&mut opt, vec![("0.v_hat", v(3))]),
        OptimError::StateKind { tensor: "0.v_hat".into(), kind: "v_hat".into(), keeps: vec!["m", "v"] }
    );
    assert_eq!(err(&mut opt, vec![("x.m", v(3))]), OptimError::StateName("x.m".into()));
    assert_eq!(err(&mut opt, vec![("0.m", v(1)), ("0.m", v(1))]), OptimError::StateDuplicate("0.m".into()));
    assert_eq!(err(&mut opt, vec![("0.m", vec![])]), OptimError::StateEmpty("0.m".into()));
    assert_eq!(err(&mut opt, vec![("learning_rate", vec![])]), OptimError::StateLearningRate);
    let e = err(&mut opt, vec![("1.m", v(3)), ("1.v", v(2))]);
    assert_eq!(e, OptimError::StateIncomplete { slot: 1, lengths: vec![("m", 3), ("v", 2)] });
    assert_eq!(e.to_string(), "optimizer state of slot 1 is incomplete or inconsistent (1.m: 3, 1.v: 2)");
    // AMSGrad keeps v_hat too, so the same tensor is accepted there.
    let mut ams = Adam::default().amsgrad(true);
    let state = [("0.m", v(3)), ("0.v", v(3)), ("0.v_hat", v(3))].map(|(n, v)| (n.to_string(), v));
    assert_eq!(ams.set_state(4, &state), Ok(()));
    assert_eq!(ams.iterations(), 4);
}

#[test]
fn adagrad_starts_new_accumulators_at_the_configured_value() {
    // One step from the accumulator 0.5: w = 1 - lr * g / sqrt(0.5 + g^2 + eps).
    let mut opt = Adagrad::new(0.1).initial_accumulator_value(0.5);
    let mut w = [1.0f32];
    opt.begin_step();
    opt.update(0, &mut w, &[2.0]);
    let expected = 1.0 - 0.1 * 2.0 / (0.5f64 + 4.0 + 1e-7).sqrt();
    assert!((w[0] as f64 - expected).abs() < 1e-6, "{} vs {expected}", w[0]);
    assert_eq!(opt.state()[0], ("0.accumulator".to_string(), vec![4.5]));
}
