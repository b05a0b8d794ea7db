//! Weight initializers with Keras' definitions.

use crate::rng::Rng;
use rand::Rng as _;
use rand_distr::{Distribution, Normal};

/// How a kernel is initialized. Fans are Keras': `fan_in` inputs, `fan_out` outputs.
///
/// The Glorot, He and LeCun initializers are [`VarianceScaling`] with fixed settings, as in
/// Keras, and draw the same values as their [`Init::VarianceScaling`] form.
#[derive(Clone, Copy, Debug, PartialEq)]
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
    /// Keras' `VarianceScaling`: the scale, fan and distribution chosen freely (Géron's
    /// He initialization over `fan_avg`, say).
    VarianceScaling(VarianceScaling),
}

/// Keras' `VarianceScaling` initializer: draws with variance `scale / n`, where `n` is the
/// fan `mode` picks (at least 1, as in Keras). `scale` must be positive and finite.
///
/// ```
/// use mlp::init::{FanMode, Init, ScalingDistribution, VarianceScaling};
/// // Géron: he_avg_init = VarianceScaling(scale=2., mode="fan_avg", distribution="uniform").
/// let he_avg = VarianceScaling { scale: 2.0, mode: FanMode::FanAvg, distribution: ScalingDistribution::Uniform };
/// let mut w = vec![0.0; 300 * 100];
/// Init::VarianceScaling(he_avg).fill(&mut w, 300, 100, &mut mlp::rng::seeded(0));
/// let limit = (3.0f32 * 2.0 / 200.0).sqrt();
/// assert!(w.iter().all(|v| v.abs() <= limit));
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct VarianceScaling {
    /// The target variance times `n`: 1 for Glorot and LeCun, 2 for He.
    pub scale: f32,
    /// Which fan `n` is.
    pub mode: FanMode,
    /// The distribution drawn from.
    pub distribution: ScalingDistribution,
}

impl Default for VarianceScaling {
    /// Keras' defaults: scale 1, `fan_in`, truncated normal (LeCun normal).
    fn default() -> Self {
        VarianceScaling {
            scale: 1.0,
            mode: FanMode::FanIn,
            distribution: ScalingDistribution::TruncatedNormal,
        }
    }
}

/// The fan [`VarianceScaling`] divides its scale by (Keras' `mode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FanMode {
    /// `fan_in`: the layer's inputs.
    FanIn,
    /// `fan_out`: the layer's outputs.
    FanOut,
    /// `(fan_in + fan_out) / 2`.
    FanAvg,
}

/// The distribution [`VarianceScaling`] draws from (Keras' `distribution`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScalingDistribution {
    /// Normal truncated at two standard deviations, its stddev corrected so the variance is
    /// `scale / n`.
    TruncatedNormal,
    /// Plain normal with stddev `sqrt(scale / n)`.
    UntruncatedNormal,
    /// Uniform in `±sqrt(3 * scale / n)`.
    Uniform,
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
            Init::VarianceScaling(_) => "variance_scaling",
        }
    }

    /// The [`VarianceScaling`] a named initializer is (Keras defines them so), `None` for
    /// zeros and ones: one formula draws them all.
    fn variance_scaling(&self) -> Option<VarianceScaling> {
        use FanMode::{FanAvg, FanIn};
        use ScalingDistribution::{TruncatedNormal, Uniform};
        let vs = |scale, mode, distribution| Some(VarianceScaling { scale, mode, distribution });
        match *self {
            Init::GlorotUniform => vs(1.0, FanAvg, Uniform),
            Init::GlorotNormal => vs(1.0, FanAvg, TruncatedNormal),
            Init::HeUniform => vs(2.0, FanIn, Uniform),
            Init::HeNormal => vs(2.0, FanIn, TruncatedNormal),
            Init::LecunUniform => vs(1.0, FanIn, Uniform),
            Init::LecunNormal => vs(1.0, FanIn, TruncatedNormal),
            Init::VarianceScaling(v) => Some(v),
            Init::Zeros | Init::Ones => None,
        }
    }

    /// Fills `w` for a kernel with the given fans.
    pub fn fill(&self, w: &mut [f32], fan_in: usize, fan_out: usize, rng: &mut Rng) {
        match self {
            Init::Zeros => w.fill(0.0),
            Init::Ones => w.fill(1.0),
            _ => {
                if let Some(vs) = self.variance_scaling() {
                    vs.fill(w, fan_in, fan_out, rng)
                }
            }
        }
    }
}

impl VarianceScaling {
    /// Fills `w` for a kernel with the given fans (Keras 3's `VarianceScaling.__call__`).
    ///
    /// # Panics
    ///
    /// If `scale` is not positive and finite (Keras refuses it too).
    pub fn fill(&self, w: &mut [f32], fan_in: usize, fan_out: usize, rng: &mut Rng) {
        assert!(
            self.scale > 0.0 && self.scale.is_finite(),
            "variance scaling needs a positive, finite scale, got {}",
            self.scale
        );
        let (fi, fo) = (fan_in as f32, fan_out as f32);
        let n = match self.mode {
            FanMode::FanIn => fi,
            FanMode::FanOut => fo,
            FanMode::FanAvg => (fi + fo) / 2.0,
        }
        .max(1.0);
        // `scale / n` rounds to the same f32 as the named initializers' `2 / (fi + fo)`,
        // `6 / fi`, ... (halving is exact), so their draws keep every bit.
        match self.distribution {
            ScalingDistribution::TruncatedNormal => truncated_normal(w, libm::sqrtf(self.scale / n), rng),
            ScalingDistribution::UntruncatedNormal => normal(w, libm::sqrtf(self.scale / n), rng),
            ScalingDistribution::Uniform => uniform(w, libm::sqrtf(3.0 * self.scale / n), rng),
        }
    }
}

fn uniform(w: &mut [f32], limit: f32, rng: &mut Rng) {
    w.iter_mut().for_each(|x| *x = rng.random_range(-limit..limit));
}

fn normal(w: &mut [f32], stddev: f32, rng: &mut Rng) {
    let normal = Normal::new(0.0f32, stddev).expect("stddev is finite and positive");
    w.iter_mut().for_each(|x| *x = normal.sample(rng));
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

#[cfg(test)]
mod tests {
    use super::*;
    use FanMode::{FanAvg, FanIn, FanOut};
    use ScalingDistribution::{TruncatedNormal, Uniform, UntruncatedNormal};

    const NAMED: [Init; 6] = [
        Init::GlorotUniform,
        Init::GlorotNormal,
        Init::HeUniform,
        Init::HeNormal,
        Init::LecunUniform,
        Init::LecunNormal,
    ];

    fn draw(init: Init, fan_in: usize, fan_out: usize, seed: u64) -> Vec<f32> {
        let mut w = vec![0.0; fan_in * fan_out];
        init.fill(&mut w, fan_in, fan_out, &mut crate::rng::seeded(seed));
        w
    }

    /// The named initializers' own formulas, as they were before they became variance
    /// scalings: seeded weights elsewhere (Keras-parity tests) depend on these bits.
    fn direct(init: Init, w: &mut [f32], fan_in: usize, fan_out: usize, rng: &mut Rng) {
        let (fi, fo) = (fan_in as f32, fan_out as f32);
        match init {
            Init::GlorotUniform => uniform(w, (6.0 / (fi + fo)).sqrt(), rng),
            Init::HeUniform => uniform(w, (6.0 / fi).sqrt(), rng),
            Init::LecunUniform => uniform(w, (3.0 / fi).sqrt(), rng),
            Init::GlorotNormal => truncated_normal(w, (2.0 / (fi + fo)).sqrt(), rng),
            Init::HeNormal => truncated_normal(w, (2.0 / fi).sqrt(), rng),
            Init::LecunNormal => truncated_normal(w, (1.0 / fi).sqrt(), rng),
            _ => unreachable!(),
        }
    }

    #[test]
    fn named_initializers_keep_their_direct_formulas_bit_for_bit() {
        // Fans of every parity and size, including odd sums (fan_avg not an integer).
        let fans =
            [(1, 1), (2, 3), (3, 2), (7, 5), (28 * 28, 300), (300, 100), (100, 10), (33, 17), (1000, 999)];
        for init in NAMED {
            for &(fi, fo) in &fans {
                for seed in [0, 42] {
                    let mut want = vec![0.0; fi * fo];
                    direct(init, &mut want, fi, fo, &mut crate::rng::seeded(seed));
                    let got = draw(init, fi, fo, seed);
                    let same = got.iter().zip(&want).all(|(a, b)| a.to_bits() == b.to_bits());
                    assert!(same, "{init:?} with fans {fi}, {fo}, seed {seed}");
                }
            }
        }
    }

    #[test]
    fn named_initializers_are_their_keras_variance_scalings() {
        // Keras 3: he_normal = VarianceScaling(2, fan_in, truncated_normal), and so on.
        let vs =
            |scale, mode, distribution| Init::VarianceScaling(VarianceScaling { scale, mode, distribution });
        let pairs = [
            (Init::GlorotUniform, vs(1.0, FanAvg, Uniform)),
            (Init::GlorotNormal, vs(1.0, FanAvg, TruncatedNormal)),
            (Init::HeUniform, vs(2.0, FanIn, Uniform)),
            (Init::HeNormal, vs(2.0, FanIn, TruncatedNormal)),
            (Init::LecunUniform, vs(1.0, FanIn, Uniform)),
            (Init::LecunNormal, vs(1.0, FanIn, TruncatedNormal)),
            (Init::LecunNormal, Init::VarianceScaling(VarianceScaling::default())),
        ];
        for (named, general) in pairs {
            assert_eq!(draw(named, 33, 17, 5), draw(general, 33, 17, 5), "{named:?}");
        }
        assert_eq!(vs(2.0, FanOut, Uniform).name(), "variance_scaling");
    }

    fn std(w: &[f32]) -> f64 {
        let n = w.len() as f64;
        let mean = w.iter().map(|&v| v as f64).sum::<f64>() / n;
        (w.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / n).sqrt()
    }

    #[test]
    fn every_mode_and_distribution_has_keras_spread() {
        // 400 x 100 = 40,000 draws: a sample std is within about 0.5% of the true one, so
        // 3% is far outside chance and far inside a wrong fan (25% apart at the closest).
        let (fi, fo) = (400, 100);
        for (mode, n) in [(FanIn, 400.0), (FanOut, 100.0), (FanAvg, 250.0)] {
            for distribution in [TruncatedNormal, UntruncatedNormal, Uniform] {
                let init = VarianceScaling { scale: 2.0, mode, distribution };
                let w = draw(Init::VarianceScaling(init), fi, fo, 11);
                let want = (2.0f64 / n).sqrt();
                let got = std(&w);
                assert!((got / want - 1.0).abs() < 0.03, "{init:?}: std {got}, want {want}");
                let max = w.iter().fold(0.0f32, |m, v| m.max(v.abs())) as f64;
                match distribution {
                    // Keras: uniform in ±sqrt(3 * scale / n), which reaches close to the limit.
                    Uniform => {
                        let limit = (3.0 * 2.0 / n).sqrt();
                        assert!(max <= limit && max > 0.99 * limit, "{init:?}: max {max}, limit {limit}");
                    }
                    // Cut at 2 of the widened stddev, which 40,000 draws approach.
                    TruncatedNormal => {
                        let cut = 2.0 * want / 0.879_625_661_034_239_8;
                        assert!(
                            max <= cut * (1.0 + 1e-6) && max > 0.97 * cut,
                            "{init:?}: max {max}, cut {cut}"
                        );
                    }
                    // About 2.3% of plain normal draws lie beyond that cut.
                    UntruncatedNormal => {
                        let cut = 2.0 * want / 0.879_625_661_034_239_8;
                        let beyond = w.iter().filter(|v| v.abs() as f64 > cut).count();
                        assert!((600..1300).contains(&beyond), "{init:?}: {beyond} beyond {cut}");
                    }
                }
            }
        }
    }

    #[test]
    #[should_panic(expected = "positive, finite scale")]
    fn a_scale_of_zero_is_refused() {
        let init = VarianceScaling { scale: 0.0, ..Default::default() };
        draw(Init::VarianceScaling(init), 3, 2, 0);
    }
}
