//! Cosine decay with optional linear warmup, Keras' `CosineDecay`.

use super::{OptimError, Schedule};

/// Keras' `CosineDecay`: an optional linear warmup from `initial` to `warmup_target` over
/// `warmup_steps`, then a cosine decay over `decay_steps` from `warmup_target` (or
/// `initial` without warmup) down to `alpha` times it, where it stays:
/// ```text
/// warmup (step < warmup_steps): initial + (warmup_target - initial) * step / warmup_steps
/// decay:  s = min(step - warmup_steps, decay_steps)
///         from * ((1 - alpha) * 0.5 * (1 + cos(pi * s / decay_steps)) + alpha)
/// ```
///
/// ```
/// use mlp_runtime::prelude::*;
/// let s = CosineDecay::new(0.1, 100);
/// assert_eq!(s.lr(0), 0.1);
/// assert!((s.lr(50) - 0.05).abs() < 1e-7);
/// assert_eq!(s.lr(1000), 0.0);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CosineDecay {
    /// The rate at step 0.
    initial: f32,
    /// Length of the cosine decay (> 0).
    decay_steps: u64,
    /// Final rate as a fraction of the decay's starting rate (Keras default 0).
    alpha: f32,
    /// Rate reached at the end of the warmup; `None` skips the warmup.
    warmup_target: Option<f32>,
    /// Length of the warmup.
    warmup_steps: u64,
}

/// Reading the settings back (the plain names are the builder methods).
impl CosineDecay {
    /// The rate at step 0.
    pub fn get_initial(&self) -> f32 {
        self.initial
    }

    /// Length of the cosine decay (> 0).
    pub fn get_decay_steps(&self) -> u64 {
        self.decay_steps
    }

    /// Final rate as a fraction of the decay's starting rate (Keras default 0).
    pub fn get_alpha(&self) -> f32 {
        self.alpha
    }

    /// Rate reached at the end of the warmup; `None` skips the warmup.
    pub fn get_warmup_target(&self) -> Option<f32> {
        self.warmup_target
    }

    /// Length of the warmup.
    pub fn get_warmup_steps(&self) -> u64 {
        self.warmup_steps
    }
}

impl CosineDecay {
    /// Decay from `initial` to 0 over `decay_steps`, no warmup (Keras' defaults).
    pub fn new(initial: f32, decay_steps: u64) -> Self {
        CosineDecay { initial, decay_steps, alpha: 0.0, warmup_target: None, warmup_steps: 0 }
    }

    /// Sets the final rate as a fraction of the starting one.
    #[must_use]
    pub fn alpha(mut self, alpha: f32) -> Self {
        self.alpha = alpha;
        self
    }

    /// Warms up linearly from `initial` to `target` over `steps` before decaying.
    #[must_use]
    pub fn warmup(mut self, target: f32, steps: u64) -> Self {
        self.warmup_target = Some(target);
        self.warmup_steps = steps;
        self
    }

    fn decay(&self, step: f64, from: f64) -> f64 {
        let d = self.decay_steps as f64;
        let fraction = if d > 0.0 { step.min(d) / d } else { 1.0 };
        let cosine = 0.5 * (1.0 + (std::f64::consts::PI * fraction).cos());
        let alpha = self.alpha as f64;
        from * ((1.0 - alpha) * cosine + alpha)
    }
}

impl Schedule for CosineDecay {
    fn lr(&self, step: u64) -> f32 {
        let step = step as f64;
        let lr = match self.warmup_target {
            None => self.decay(step, self.initial as f64),
            Some(target) => {
                let w = self.warmup_steps as f64;
                if step < w {
                    let init = self.initial as f64;
                    (target as f64 - init) * step / w + init
                } else {
                    self.decay(step - w, target as f64)
                }
            }
        };
        lr as f32
    }

    fn validate(&self) -> Result<(), OptimError> {
        super::check_decay_steps("CosineDecay", self.decay_steps)?;
        Ok(())
    }
}
