//! Learning-rate schedules at known points (Keras' documented examples where they exist),
//! the `Scheduled` wrapper, and `ReduceLrOnPlateau`'s state machine.

use mlp_runtime::optim::prelude::*;

fn close(a: f32, b: f64) -> bool {
    (a as f64 - b).abs() <= 1e-6 * (1.0 + b.abs())
}

#[test]
fn exponential_decay_points() {
    // Keras' docstring example: 0.1, decay 0.96 every 100000 steps, staircase.
    let s = ExponentialDecay::new(0.1, 100_000, 0.96).staircase(true);
    assert!(close(s.lr(0), 0.1) && close(s.lr(99_999), 0.1));
    assert!(close(s.lr(100_000), 0.096) && close(s.lr(250_000), 0.1 * 0.96 * 0.96));
    let s = ExponentialDecay::new(1.0, 100, 0.5);
    assert!(close(s.lr(50), 0.5f64.sqrt()));
    assert!(close(s.lr(100), 0.5));
    assert!(close(s.lr(300), 0.125));
    assert!(s.validate().is_ok());
    assert!(ExponentialDecay::new(1.0, 0, 0.5).validate().is_err());
    // Invalid parameters give a number (here 0.5^inf = 0), never a panic.
    assert_eq!(ExponentialDecay::new(1.0, 0, 0.5).lr(3), 0.0);
}

#[test]
fn inverse_time_decay_points() {
    // Keras' docstring example: 0.1 / (1 + 0.5 * step / 1.0).
    let s = InverseTimeDecay::new(0.1, 1, 0.5);
    assert!(close(s.lr(0), 0.1) && close(s.lr(1), 0.1 / 1.5) && close(s.lr(10), 0.1 / 6.0));
    // Géron's power scheduling with c = 1: lr0 / (1 + t / s), s = 10,000 steps.
    let s = InverseTimeDecay::new(0.01, 10_000, 1.0);
    assert!(close(s.lr(5_000), 0.01 / 1.5) && close(s.lr(20_000), 0.01 / 3.0));
    let s = s.staircase(true);
    assert!(close(s.lr(9_999), 0.01) && close(s.lr(10_000), 0.005) && close(s.lr(19_999), 0.005));
    assert!(s.validate().is_ok());
    assert!(InverseTimeDecay::new(1.0, 0, 0.5).validate().is_err());
    assert!(InverseTimeDecay::new(1.0, 10, -1.0).validate().is_err());
}

#[test]
fn piecewise_constant_points() {
    // Keras' docstring example: 1.0 for the first 100001 steps, 0.5 for the next 10000, then 0.1.
    let s = PiecewiseConstantDecay::new(vec![100_000, 110_000], vec![1.0, 0.5, 0.1]).unwrap();
    let points = [(0, 1.0), (100_000, 1.0), (100_001, 0.5), (110_000, 0.5), (110_001, 0.1), (u64::MAX, 0.1)];
    for (step, lr) in points {
        assert_eq!(s.lr(step), lr, "step {step}");
    }
    assert_eq!(s.boundaries(), &[100_000, 110_000]);
    let e = PiecewiseConstantDecay::new(vec![10], vec![1.0]).unwrap_err();
    assert!(e.to_string().contains("one more value"), "{e}");
    assert_eq!(e, OptimError::PiecewiseLengths { boundaries: 1, values: 1 });
    let e = PiecewiseConstantDecay::new(vec![10, 10], vec![1.0, 0.5, 0.1]).unwrap_err();
    assert_eq!(e, OptimError::PiecewiseBoundaries(vec![10, 10]));
    assert_eq!(PiecewiseConstantDecay::new(vec![], vec![0.3]).unwrap().lr(5), 0.3);
}

#[test]
fn cosine_decay_points() {
    let s = CosineDecay::new(0.1, 100);
    assert!(close(s.lr(0), 0.1));
    assert!(close(s.lr(25), 0.1 * 0.5 * (1.0 + std::f64::consts::FRAC_PI_4.cos())));
    assert!(close(s.lr(50), 0.05));
    assert!(close(s.lr(100), 0.0) && close(s.lr(10_000), 0.0));
    let s = CosineDecay::new(0.1, 100).alpha(0.1);
    assert!(close(s.lr(50), 0.1 * (0.9 * 0.5 + 0.1)));
    assert!(close(s.lr(100), 0.01) && close(s.lr(1000), 0.01));
    // Keras' warmup example: from 0 to 0.1 over 1000 steps, then decay over 1000.
    let s = CosineDecay::new(0.0, 1000).warmup(0.1, 1000);
    assert!(close(s.lr(0), 0.0) && close(s.lr(500), 0.05) && close(s.lr(1000), 0.1));
    assert!(close(s.lr(1500), 0.05) && close(s.lr(2000), 0.0) && close(s.lr(9000), 0.0));
    assert!(CosineDecay::new(0.1, 0).validate().is_err());
    assert!(CosineDecay::new(0.1, 0).lr(3).is_finite());
}

#[test]
fn one_cycle_follows_gerons_definition() {
    // 100 iterations: last_iterations = 100 // 10 + 1 = 11, half = (100 - 11) // 2 = 44,
    // start 0.01, last 0.01 / 1000.
    let s = OneCycle::new(100, 0.1);
    let points = [
        (0, 0.01),
        (22, 0.055),
        (44, 0.1),
        (66, 0.055),
        (88, 0.01),
        (94, 0.01 + (1e-5 - 0.01) * 6.0 / 12.0),
        (100, 1e-5),
        (500, 1e-5),
    ];
    for (step, lr) in points {
        assert!(close(s.lr(step), lr), "step {step}: {} vs {lr}", s.lr(step));
    }
    let s = OneCycle::new(20, 1.0).start_lr(0.5).last_iterations(4).last_lr(0.1);
    // half = 8: up 0.5 -> 1 over 0..8, down to 0.5 at 16, then to 0.1 at 20.
    assert!(close(s.lr(4), 0.75) && close(s.lr(8), 1.0) && close(s.lr(12), 0.75));
    assert!(close(s.lr(16), 0.5) && close(s.lr(18), 0.3) && close(s.lr(20), 0.1));
    assert!(OneCycle::new(0, 0.1).validate().is_err());
    assert!(OneCycle::new(0, 0.1).lr(0).is_finite(), "degenerate cycles do not divide by zero");
    assert!(OneCycle::new(2, 0.1).last_iterations(0).lr(5).is_finite());
}

#[test]
fn scheduled_optimizer_uses_the_rate_of_the_step_count_before_each_step() {
    let s = PiecewiseConstantDecay::new(vec![2], vec![0.1, 0.01]).unwrap();
    let mut opt = Sgd::new(1.0).with_schedule(s);
    assert_eq!(opt.learning_rate(), 0.1, "set at construction");
    let mut w = [1.0f32];
    let mut rates = Vec::new();
    for _ in 0..4 {
        opt.begin_step();
        rates.push(opt.learning_rate());
        opt.update(0, &mut w, &[1.0]);
    }
    // Steps see lr(0), lr(1), lr(2), lr(3), as Keras evaluates at `iterations`.
    assert_eq!(rates, [0.1, 0.1, 0.1, 0.01]);
    assert!((w[0] - (1.0 - 0.3 - 0.01)).abs() < 1e-6);
    // Closures are schedules too; clipping composes either way round.
    let opt = Adam::default().clipnorm(1.0).with_schedule(|step: u64| 1.0 / (step + 1) as f32);
    assert_eq!(opt.clip().norm, Some(1.0));
    assert_eq!(opt.learning_rate(), 1.0);
    let opt = Adam::default().with_schedule(|_: u64| 0.5).clipvalue(2.0);
    assert_eq!((opt.clip().value, opt.learning_rate()), (Some(2.0), 0.5));
}

#[test]
fn plateau_reduces_after_patience() {
    let mut p = ReduceLrOnPlateau::new().patience(2);
    assert_eq!(p.on_epoch_end(1.0, 0.1), None); // best 1.0
    assert_eq!(p.on_epoch_end(0.9, 0.1), None); // best 0.9
    assert_eq!(p.on_epoch_end(0.95, 0.1), None); // wait 1
    let lr = p.on_epoch_end(0.95, 0.1).unwrap(); // wait 2
    assert!(close(lr, 0.01));
    assert_eq!(p.state().wait, 0);
    // Improvements smaller than min_delta do not count.
    let mut p = ReduceLrOnPlateau::new().patience(1);
    p.on_epoch_end(1.0, 1.0);
    assert!(p.on_epoch_end(0.99995, 1.0).is_some());
    // NaN is never an improvement.
    let mut p = ReduceLrOnPlateau::new().patience(1);
    p.on_epoch_end(1.0, 1.0);
    assert!(p.on_epoch_end(f32::NAN, 1.0).is_some());
}

#[test]
fn plateau_defaults_and_validation() {
    let p = ReduceLrOnPlateau::default();
    assert_eq!(
        (p.get_factor(), p.get_patience(), p.get_min_delta(), p.get_cooldown(), p.get_min_lr(), p.get_mode()),
        (0.1, 10, 1e-4, 0, 0.0, PlateauMode::Min)
    );
    assert!(p.validate().is_ok());
    assert!(ReduceLrOnPlateau::new().factor(1.0).validate().is_err());
    assert!(ReduceLrOnPlateau::new().min_lr(f32::NAN).validate().is_err());
    // Ten epochs without improvement before the first reduction.
    let mut p = ReduceLrOnPlateau::new();
    let out: Vec<_> = (0..12).map(|_| p.on_epoch_end(1.0, 1.0)).collect();
    assert!(out[..10].iter().all(Option::is_none) && out[10].is_some());
}

#[test]
fn plateau_cooldown_follows_keras() {
    // patience 1, cooldown 2, flat metric: reductions at epochs 2, 4, 6 (Keras ticks the
    // cooldown down before counting, so cooldown 2 skips one epoch).
    let mut p = ReduceLrOnPlateau::new().patience(1).cooldown(2);
    let mut lr = 1.0f32;
    let mut reduced_at = Vec::new();
    for epoch in 1..=6 {
        if let Some(new) = p.on_epoch_end(1.0, lr) {
            lr = new;
            reduced_at.push(epoch);
        }
    }
    assert_eq!(reduced_at, [2, 4, 6]);
    assert!(close(lr, 1e-3));
}

#[test]
fn plateau_respects_min_lr_and_max_mode() {
    let mut p = ReduceLrOnPlateau::new().patience(1).min_lr(5e-4);
    p.on_epoch_end(1.0, 1e-3);
    assert_eq!(p.on_epoch_end(1.0, 1e-3), Some(5e-4));
    assert_eq!(p.on_epoch_end(1.0, 5e-4), None, "already at min_lr");
    let mut p = ReduceLrOnPlateau::new().patience(2).mode(PlateauMode::Max);
    assert_eq!(p.on_epoch_end(0.5, 1.0), None);
    assert_eq!(p.on_epoch_end(0.6, 1.0), None);
    assert_eq!(p.on_epoch_end(0.55, 1.0), None);
    assert!(p.on_epoch_end(0.6, 1.0).is_some(), "0.6 does not beat the best 0.6 by min_delta");
    // Counters round-trip for checkpoints; reset forgets.
    let s = p.state();
    let mut q = ReduceLrOnPlateau::new().patience(2).mode(PlateauMode::Max);
    q.set_state(s);
    assert_eq!(q, p);
    q.reset();
    assert_eq!(q.state().best, f32::NEG_INFINITY);
}
