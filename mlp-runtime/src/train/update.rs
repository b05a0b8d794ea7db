//! The update after a backward pass: penalty gradients, the finiteness check, clipping,
//! weight decay and the optimizer step, as two visits over the network's tensors.

use super::StepError;
use crate::kernel::zip_parts;
use crate::layer::{GradState, Layer, Param, Visitor};
use crate::optim::clip::{clip_norm, clip_value, global_norm_scale, scale, sum_sq};
use crate::optim::weight_decay::KeyPath;
use crate::optim::{Clip, Optimizer};
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};

/// Keras' regularization loss: `sum(l1 * |w| + l2 * w^2)` over penalized kernels.
pub(super) fn penalty<N: Layer + ?Sized>(net: &mut N) -> f64 {
    let mut total = 0.0f64;
    crate::tensors::collect(net, |p| {
        if p.l1 > 0.0 || p.l2 > 0.0 {
            for w in p.value.iter() {
                total += (p.l1 * w.abs()) as f64 + (p.l2 * w * w) as f64;
            }
        }
    });
    total
}

/// Adds penalty gradients, clips, decays and updates every trainable tensor, applies the
/// layers' weight constraints ([`Layer::apply_constraints`]) and zeroes all gradients.
/// Returns the penalty of the weights before the update.
///
/// Every gradient is checked before any tensor changes: if one holds a NaN or an
/// infinity, nothing is updated, all gradients are zeroed and the error names the
/// tensor, so the weights trained so far survive.
pub(crate) fn apply_update<N: Layer + ?Sized, O: Optimizer + ?Sized>(
    net: &mut N,
    optimizer: &mut O,
) -> Result<f64, StepError> {
    let clip = optimizer.clip().effective();
    // Pass 1: the finiteness check, penalty gradients (they are part of the loss, so
    // they are clipped with the rest) and, when asked for, the global norm.
    let mut pre =
        Prepare { penalty: 0.0, sum_sq: 0.0, global: clip.global_norm.is_some(), slot: 0, bad: None };
    net.visit(&mut pre);
    if let Some(bad) = pre.bad {
        crate::tensors::zero_grads(net);
        return Err(StepError::NonFiniteGradient { tensor: crate::tensors::param_name(net, bad) });
    }
    let global_scale = match clip.global_norm {
        Some(max) => global_norm_scale(pre.sum_sq, max),
        None => 1.0,
    };
    optimizer.begin_step();
    net.visit(&mut Update { optimizer, clip, global_scale, slot: 0, path: KeyPath::default() });
    // Keras applies each variable's constraint right after the optimizer updates it.
    net.apply_constraints();
    Ok(pre.penalty)
}

struct Prepare {
    penalty: f64,
    sum_sq: f64,
    global: bool,
    /// Slot numbering as in [`Update`], and the first slot whose gradient is not finite.
    slot: usize,
    bad: Option<usize>,
}

impl Visitor for Prepare {
    fn param(&mut self, _: &'static str, p: Param<'_>) {
        self.prepare(p, false);
    }

    fn param_lazy(&mut self, _: &'static str, mut p: Param<'_>, state: &mut GradState) {
        real_zeros_if_read(&mut p, state);
        // Penalty gradients are added below, after the product's check.
        let found_finite = core::mem::take(&mut state.finite) && p.l1 == 0.0 && p.l2 == 0.0;
        self.prepare(p, found_finite);
    }
}

impl Prepare {
    /// Adds one tensor's penalty gradient and checks it, unless its backward pass already
    /// found it finite.
    fn prepare(&mut self, p: Param<'_>, found_finite: bool) {
        let slot = self.slot;
        self.slot += 1;
        if !p.trainable {
            return;
        }
        if p.l1 > 0.0 || p.l2 > 0.0 {
            for (g, w) in p.grad.iter_mut().zip(p.value.iter()) {
                self.penalty += (p.l1 * w.abs() + p.l2 * w * w) as f64;
                *g += 2.0 * p.l2 * w + p.l1 * w.signum() * f32::from(*w != 0.0);
            }
        }
        if self.bad.is_none() && !found_finite {
            let bad = AtomicBool::new(false);
            zip_parts([], [&*p.grad], |[], [g]| {
                if !crate::finite::all_finite(g) {
                    bad.store(true, Relaxed);
                }
            });
            if bad.into_inner() {
                self.bad = Some(slot);
            }
        }
        if self.global {
            self.sum_sq += sum_sq(p.grad);
        }
    }
}

/// A spent gradient ([`GradState::spent`]) made real zeros where it is about to be read:
/// no backward pass ran since the last update. A frozen tensor's is never read, so it
/// stays spent (the default would write zeros over it at every step).
fn real_zeros_if_read(p: &mut Param<'_>, state: &mut GradState) {
    if p.trainable && core::mem::take(&mut state.spent) {
        p.grad.fill(0.0);
    }
}

struct Update<'a, O: ?Sized> {
    optimizer: &'a mut O,
    clip: Clip,
    global_scale: f32,
    slot: usize,
    /// Where the visit is, for the weight decay's exclusions.
    path: KeyPath,
}

impl<O: Optimizer + ?Sized> Visitor for Update<'_, O> {
    fn enter(&mut self, name: &'static str) {
        self.path.enter(name);
    }

    fn leave(&mut self) {
        self.path.leave();
    }

    fn param(&mut self, name: &'static str, p: Param<'_>) {
        self.update(name, p, None);
    }

    fn param_lazy(&mut self, name: &'static str, mut p: Param<'_>, state: &mut GradState) {
        real_zeros_if_read(&mut p, state);
        // Clipping and the optimizer may change it: nothing is known of it afterwards.
        state.finite = false;
        self.update(name, p, Some(&mut state.spent));
    }
}

impl<O: Optimizer + ?Sized> Update<'_, O> {
    /// Updates one tensor, then leaves its gradient zero: written over, or, when the layer
    /// clears it lazily (`spent`), marked spent for its next backward pass to overwrite.
    fn update(&mut self, name: &'static str, p: Param<'_>, spent: Option<&mut bool>) {
        // Slots number every tensor, frozen or not, so freezing a layer never moves
        // another tensor's optimizer state.
        let slot = self.slot;
        self.slot += 1;
        if p.trainable {
            if let Some(max) = self.clip.norm {
                clip_norm(p.grad, max);
            }
            // Element-wise passes share the kernel's threads like the optimizers' updates:
            // the same operations per element, so the same bits at any thread count.
            let global_scale = self.global_scale;
            if global_scale != 1.0 {
                zip_parts([&mut *p.grad], [], |[g], []| scale(g, global_scale));
            }
            if let Some(v) = self.clip.value {
                zip_parts([&mut *p.grad], [], |[g], []| clip_value(g, v));
            }
            // Keras decays before the update, at the rate of this step (read after
            // `begin_step`, which is when a schedule sets it).
            if let Some(decay) = self.optimizer.weight_decay_settings() {
                if !self.path.excluded(decay, name) {
                    let lr = self.optimizer.learning_rate();
                    zip_parts([&mut *p.value], [], |[w], []| decay.apply(lr, w));
                }
            }
            match spent {
                Some(spent) => {
                    self.optimizer.update(slot, p.value, p.grad);
                    *spent = true;
                }
                // Zeroes the gradient as it reads it: the next step's backward adds into it.
                None => self.optimizer.update_and_zero(slot, p.value, p.grad),
            }
        } else {
            match spent {
                Some(spent) => *spent = true,
                None => zip_parts([p.grad], [], |[g], []| g.fill(0.0)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::activation::Activation;
    use crate::gradcheck::random_batch;
    use crate::init::Init;
    use crate::layer::Layer;
    use crate::layers::{Dense, Residual};
    use crate::loss::{MeanSquaredError, Targets};
    use crate::optim::Sgd;
    use crate::train::Model;

    /// A residual block around a dense layer, so the constraint has to be forwarded.
    fn model(max_norm: Option<f32>) -> Model<Residual<Dense<4, 4>, 4>, Sgd, MeanSquaredError> {
        let mut body =
            Dense::<4, 4>::new(Activation::Linear, Init::GlorotUniform, &mut crate::rng::seeded(1));
        if let Some(c) = max_norm {
            body = body.with_max_norm(c);
        }
        Model::compile(Residual::new(body, Activation::Linear), Sgd::new(0.5), MeanSquaredError)
    }

    fn norms(w: &[f32]) -> Vec<f32> {
        w.chunks(4).map(|r| r.iter().map(|v| v * v).sum::<f32>().sqrt()).collect()
    }

    #[test]
    fn a_training_step_applies_max_norm_after_the_update() {
        let x = random_batch::<4>(8, 3);
        let targets = vec![5.0; 8 * 4];
        let mut free = model(None);
        let mut limited = model(Some(0.5));
        free.train_step(&x, Targets::Values(&targets)).unwrap();
        limited.train_step(&x, Targets::Values(&targets)).unwrap();
        // The update alone leaves rows longer than the limit...
        let free_w = free.net.body().weight();
        assert!(norms(free_w).iter().all(|&n| n > 0.5), "{:?}", norms(free_w));
        // ...and the constrained step is that update, then each row scaled to 0.5.
        let want: Vec<f32> = free_w
            .chunks(4)
            .zip(norms(free_w))
            .flat_map(|(r, n)| r.iter().map(move |w| w * (0.5 / (1e-7 + n))).collect::<Vec<_>>())
            .collect();
        let got = limited.net.body().weight();
        assert!(got.iter().zip(&want).all(|(g, w)| (g - w).abs() <= 1e-6), "{got:?} vs {want:?}");
        assert!(norms(got).iter().all(|&n| n <= 0.5 * (1.0 + 1e-6)), "{:?}", norms(got));
    }

    /// The kernel's gradient through a visitor (`param_lazy`'s default), and, read first,
    /// through a read-only one.
    fn kernel_grad(m: &mut Model<Residual<Dense<4, 4>, 4>, Sgd, MeanSquaredError>) -> (Vec<f32>, Vec<f32>) {
        let mut read = Vec::new();
        crate::tensors::for_each_tensor_ref(m.net.body(), |name, t| {
            if let ("weight", crate::tensors::TensorRef::Param(p)) = (name, t) {
                read = p.grad.to_vec();
            }
        });
        let seen = crate::tensors::collect(m.net.body_mut(), |p| p.grad.to_vec()).swap_remove(0);
        (seen, read)
    }

    #[test]
    fn a_spent_kernel_gradient_is_overwritten_by_the_next_backward_pass() {
        let (x, y) = (random_batch::<4>(8, 3), random_batch::<4>(8, 4));
        let targets = Targets::Values(y.as_slice());
        // Two steps, the kernel's gradient left spent between them...
        let mut lazy = model(None);
        lazy.train_step(&x, targets).unwrap();
        lazy.train_step(&x, targets).unwrap();
        // ...against the same two steps with the gradient made zeros in between (a visitor
        // sees zeros, which clears the flag: the second backward pass adds to them).
        let mut eager = model(None);
        eager.train_step(&x, targets).unwrap();
        let (seen, read) = kernel_grad(&mut eager);
        assert!(seen.iter().all(|g| *g == 0.0), "a visitor sees zeros after a step: {seen:?}");
        assert!(read.iter().any(|g| *g != 0.0), "a read-only visitor sees the spent gradient");
        eager.train_step(&x, targets).unwrap();
        assert_eq!(lazy.net.body().weight(), eager.net.body().weight());
        assert_ne!(lazy.net.body().weight(), model(None).net.body().weight(), "the steps moved it");

        // After a step, two backward passes add up: the first overwrites, the second adds.
        let mut twice = model(None);
        twice.train_step(&x, targets).unwrap();
        let dy = random_batch::<4>(8, 5);
        twice.net.forward(&x, &mut crate::layer::Context::train(1));
        twice.net.backward(&x, &dy, crate::layer::Backward::FULL);
        let once = kernel_grad(&mut twice).0;
        twice.net.backward(&x, &dy, crate::layer::Backward::FULL);
        let (two, _) = kernel_grad(&mut twice);
        assert!(once.iter().any(|g| *g != 0.0));
        assert_eq!(two, once.iter().map(|g| g + g).collect::<Vec<_>>());
    }

    #[test]
    fn a_frozen_constrained_layer_is_left_alone() {
        let mut m = model(Some(0.5));
        m.net.body_mut().set_trainable(false);
        let before = m.net.body().weight().to_vec();
        assert!(norms(&before).iter().any(|&n| n > 0.5));
        let targets = vec![5.0; 8 * 4];
        m.train_step(&random_batch::<4>(8, 3), Targets::Values(&targets)).unwrap();
        assert_eq!(m.net.body().weight(), before);
    }
}
