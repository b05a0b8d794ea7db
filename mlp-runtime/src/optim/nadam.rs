//! Nadam: Adam with Nesterov momentum, Keras' `Nadam`.

use super::state::{bookkeeping, update_via_apply, Core, Slots};
use super::weight_decay::weight_decay_builders;
use super::{check, OptimError, Optimizer, Range};
use crate::kernel::{update_parts, Grad};

/// Nadam, Keras 3's `Nadam` (defaults: learning rate 1e-3, `beta_1` 0.9, `beta_2` 0.999,
/// `epsilon` 1e-7), Dozat's Adam with Nesterov momentum and a momentum schedule.
///
/// Keras 3's update (`keras/src/optimizers/nadam.py`), at step `t` (1 for the first):
/// ```text
/// u_t      = beta_1 * (1 - 0.5 * 0.96^t)
/// u_{t+1}  = beta_1 * (1 - 0.5 * 0.96^(t+1))
/// prod_t   = u_1 * u_2 * ... * u_t          (kept across steps, like Keras' u_product)
/// m += (g - m) * (1 - beta_1)
/// v += (g^2 - v) * (1 - beta_2)
/// m_hat = u_{t+1} * m / (1 - prod_t * u_{t+1}) + (1 - u_t) * g / (1 - prod_t)
/// v_hat = v / (1 - beta_2^t)
/// w -= lr * m_hat / (sqrt(v_hat) + epsilon)
/// ```
/// The running product is recomputed from the step count on restore, so checkpoints
/// need only `m` and `v`.
#[derive(Clone, Debug)]
pub struct Nadam {
    beta_1: f32,
    beta_2: f32,
    epsilon: f32,
    /// `prod_t` above, in f32 like Keras' variable.
    u_product: f32,
    /// Learning rate, steps, and the buffers `m`, `v`.
    core: Core<2>,
}

impl Nadam {
    /// Nadam with learning rate `lr` and Keras' other defaults.
    pub fn new(lr: f32) -> Self {
        Nadam {
            beta_1: 0.9,
            beta_2: 0.999,
            epsilon: 1e-7,
            u_product: 1.0,
            core: Core::new(lr, [Slots::new("m", 0.0), Slots::new("v", 0.0)]),
        }
    }

    beta_epsilon_settings!();
    weight_decay_builders!();

    /// `u_t` of the formula above.
    fn u(&self, t: u64) -> f64 {
        self.beta_1 as f64 * (1.0 - 0.5 * 0.96f64.powf(t as f64))
    }

    /// Advances `u_product` to step `t`; one code path for training and restoring, so both
    /// round identically.
    fn advance(&mut self, t: u64) {
        self.u_product *= self.u(t) as f32;
    }

    /// One tensor's update, from a gradient read or consumed ([`Optimizer::update`],
    /// [`Optimizer::update_and_zero`]).
    fn apply(&mut self, slot: usize, value: &mut [f32], grad: Grad<'_>) {
        // Guard against an update without begin_step: treat it as step 1.
        let t = self.core.iterations.max(1);
        let u_t = self.u(t);
        let u_next = self.u(t + 1);
        let prod = if self.core.iterations == 0 { u_t } else { self.u_product as f64 };
        let prod_next = prod * u_next;
        // m_hat = a * m + b * g, v_hat = v * c.
        let a = (u_next / (1.0 - prod_next)) as f32;
        let b = ((1.0 - u_t) / (1.0 - prod)) as f32;
        let c = (1.0 / (1.0 - (self.beta_2 as f64).powf(t as f64))) as f32;
        let (c1, c2, lr, eps) = (1.0 - self.beta_1, 1.0 - self.beta_2, self.core.lr, self.epsilon);
        let n = value.len();
        let [m, v] = &mut self.core.slots;
        let m = m.get(slot, n);
        let v = v.get(slot, n);
        update_parts([value, m, v], grad, |[value, m, v], grad| {
            for (((w, m), v), &g) in value.iter_mut().zip(m.iter_mut()).zip(v.iter_mut()).zip(grad) {
                *m += (g - *m) * c1;
                *v += (g * g - *v) * c2;
                let m_hat = a * *m + b * g;
                let v_hat = *v * c;
                *w -= m_hat * lr / (v_hat.sqrt() + eps);
            }
        });
    }
}

impl Default for Nadam {
    /// Keras' defaults: learning rate 1e-3.
    fn default() -> Self {
        Nadam::new(1e-3)
    }
}

impl Optimizer for Nadam {
    fn name(&self) -> &'static str {
        "nadam"
    }

    bookkeeping!(without begin_step);

    fn begin_step(&mut self) {
        self.core.iterations += 1;
        self.advance(self.core.iterations);
    }

    update_via_apply!();

    fn set_state(&mut self, iterations: u64, state: &[(String, Vec<f32>)]) -> Result<(), OptimError> {
        // The shortcut below holds for beta_1 in [0, 1) only.
        check("nadam", "beta_1", self.beta_1, Range::UnitOpen)?;
        self.core.restore([true, true], iterations, state)?;
        self.u_product = 1.0;
        for t in 1..=iterations {
            let before = self.u_product.to_bits();
            self.advance(t);
            // u_t rises toward beta_1 < 1, so once a step leaves the product unchanged
            // (underflowed, or at a rounding fixed point) every later step does too: stop
            // rather than loop as many times as a checkpoint claims (up to 2^53).
            if self.u_product.to_bits() == before {
                break;
            }
        }
        Ok(())
    }

    fn validate(&self) -> Result<(), OptimError> {
        self.core.check_common("nadam")?;
        check("nadam", "beta_1", self.beta_1, Range::UnitOpen)?;
        check("nadam", "beta_2", self.beta_2, Range::UnitOpen)?;
        check("nadam", "epsilon", self.epsilon, Range::NonNegative)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restoring_a_huge_step_count_is_quick_and_matches_stepping() {
        let steps = 5000;
        let mut stepped = Nadam::new(0.01);
        for _ in 0..steps {
            stepped.begin_step();
        }
        let mut restored = Nadam::new(0.01);
        restored.set_state(steps, &stepped.state()).unwrap();
        let (mut a, mut b) = ([1.0f32, -2.0], [1.0f32, -2.0]);
        for (opt, w) in [(&mut stepped, &mut a), (&mut restored, &mut b)] {
            opt.begin_step();
            opt.update(0, w, &[0.5, 0.25]);
        }
        assert_eq!(a.map(f32::to_bits), b.map(f32::to_bits));
        // Before the shortcut this looped 2^53 times.
        restored.set_state(1 << 53, &stepped.state()).unwrap();
        assert_eq!(restored.iterations(), 1 << 53);
        assert!(Nadam::new(0.01).beta_1(1.5).set_state(1 << 53, &stepped.state()).is_err());
    }
}
