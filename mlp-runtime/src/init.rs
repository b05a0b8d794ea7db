//! Weight initializers with Keras' definitions.

use crate::rng::Rng;
use rand::Rng as _;
use rand_distr::{Distribution, Normal};

/// How a kernel is initialized. Fans are Keras': `fan_in` inputs, `fan_out` outputs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Init {
    /// Uniform in `±sqrt(6 / (fan_in + fan_out))` (Keras' default for Dense).
    GlorotUniform,
    /// Truncated normal, stddev `sqrt(2 / (fan_in + fan_out))`.
    GlorotNormal,
    /// Uniform in `±sqrt(6 / fan_in)`.
    HeUniform,
    /// Truncated normal, stddev `sqrt(2 / fan_in)`.
    HeNormal,
    /// Uniform in `±sqrt(3 / fan_in)`.
    LecunUniform,
    /// Truncated normal, stddev `sqrt(1 / fan_in)` (for SELU).
    LecunNormal,
    /// All zeros.
    Zeros,
    /// All ones.
    Ones,
}

/// Keras' truncated normal keeps draws within two standard deviations; dividing the
/// target stddev by this constant (the stddev of a unit normal truncated at ±2)
/// restores the variance.
const TRUNCATED_STDDEV: f32 = 0.879_625_7;

impl Init {
    /// The DSL keyword of this initializer.
    pub fn name(&self) -> &'static str {
        match self {
            Init::GlorotUniform => "glorot_uniform",
            Init::GlorotNormal => "glorot_normal",
            Init::HeUniform => "he_uniform",
            Init::HeNormal => "he_normal",
            Init::LecunUniform => "lecun_uniform",
            Init::LecunNormal => "lecun_normal",
            Init::Zeros => "zeros",
            Init::Ones => "ones",
        }
    }

    /// Fills `w` for a kernel with the given fans.
    pub fn fill(&self, w: &mut [f32], fan_in: usize, fan_out: usize, rng: &mut Rng) {
        let (fi, fo) = (fan_in as f32, fan_out as f32);
        match self {
            Init::GlorotUniform => uniform(w, (6.0 / (fi + fo)).sqrt(), rng),
            Init::HeUniform => uniform(w, (6.0 / fi).sqrt(), rng),
            Init::LecunUniform => uniform(w, (3.0 / fi).sqrt(), rng),
            Init::GlorotNormal => truncated_normal(w, (2.0 / (fi + fo)).sqrt(), rng),
            Init::HeNormal => truncated_normal(w, (2.0 / fi).sqrt(), rng),
            Init::LecunNormal => truncated_normal(w, (1.0 / fi).sqrt(), rng),
            Init::Zeros => w.fill(0.0),
            Init::Ones => w.fill(1.0),
        }
    }
}

fn uniform(w: &mut [f32], limit: f32, rng: &mut Rng) {
    w.iter_mut().for_each(|x| *x = rng.random_range(-limit..limit));
}

fn truncated_normal(w: &mut [f32], stddev: f32, rng: &mut Rng) {
    let s = stddev / TRUNCATED_STDDEV;
    let normal = Normal::new(0.0f32, s).expect("stddev is finite and positive");
    for x in w.iter_mut() {
        *x = loop {
            let v = normal.sample(rng);
            if v.abs() <= 2.0 * s {
                break v;
            }
        };
    }
}
