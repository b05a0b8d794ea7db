//! Metrics reported beside the loss: accuracy and top-k accuracy.

use crate::batch::argmax;
use crate::loss::Targets;

/// A metric, averaged over the samples of an epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Metric {
    /// Keras' `"accuracy"`: the arg-max class for several outputs, a 0.5 threshold for one.
    Accuracy,
    /// Keras' `top_k_categorical_accuracy`: the true class is among the `k` largest outputs.
    TopK(usize),
}

impl Metric {
    /// The key in logs and history (`accuracy`, `top_5_accuracy`).
    pub fn name(&self) -> String {
        match self {
            Metric::Accuracy => "accuracy".into(),
            Metric::TopK(k) => format!("top_{k}_accuracy"),
        }
    }

    /// How many samples of the batch count as correct.
    pub fn correct(&self, output: &[f32], width: usize, targets: Targets<'_>) -> usize {
        let samples = output.chunks_exact(width.max(1));
        match (self, targets) {
            (Metric::Accuracy, Targets::Classes(c)) if width == 1 => {
                samples.zip(c).filter(|(y, t)| u32::from(y[0] > 0.5) == **t).count()
            }
            (Metric::Accuracy, Targets::Values(v)) if width == 1 => {
                samples.zip(v).filter(|(y, t)| (y[0] > 0.5) == (**t > 0.5)).count()
            }
            (Metric::Accuracy, Targets::Classes(c)) => {
                samples.zip(c).filter(|(y, t)| argmax(y) == **t as usize).count()
            }
            (Metric::Accuracy, Targets::Values(v)) => {
                samples.zip(v.chunks_exact(width)).filter(|(y, t)| argmax(y) == argmax(t)).count()
            }
            (Metric::TopK(k), Targets::Classes(c)) => {
                samples.zip(c).filter(|(y, t)| in_top_k(y, **t as usize, *k)).count()
            }
            (Metric::TopK(k), Targets::Values(v)) => {
                samples.zip(v.chunks_exact(width)).filter(|(y, t)| in_top_k(y, argmax(t), *k)).count()
            }
        }
    }
}

/// True when fewer than `k` outputs beat the true class's (ties count in its favour, as Keras).
fn in_top_k(y: &[f32], class: usize, k: usize) -> bool {
    let Some(&v) = y.get(class) else { return false };
    y.iter().filter(|&&o| o > v).count() < k
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accuracy_and_top_k() {
        let y = [0.1, 0.7, 0.2, 0.5, 0.3, 0.2];
        assert_eq!(Metric::Accuracy.correct(&y, 3, Targets::Classes(&[1, 1])), 1);
        assert_eq!(Metric::TopK(2).correct(&y, 3, Targets::Classes(&[2, 1])), 2);
        assert_eq!(Metric::TopK(1).correct(&y, 3, Targets::Classes(&[2, 0])), 1);
        let one_hot = [0.0, 1.0, 0.0, 0.0, 0.0, 1.0];
        assert_eq!(Metric::Accuracy.correct(&y, 3, Targets::Values(&one_hot)), 1);
        assert_eq!(Metric::Accuracy.correct(&[0.8, 0.3], 1, Targets::Classes(&[1, 1])), 1);
        assert_eq!(Metric::TopK(5).name(), "top_5_accuracy");
    }
}
