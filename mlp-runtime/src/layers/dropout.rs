//! `dropout(p)`: inverted dropout in training, the identity at inference.

use crate::activation::Activation;
use crate::batch::Batch;
use crate::layer::{Backward, Context, Layer, Visitor, VisitorRef};
use crate::onnx::{OnnxError, OnnxGraph};
use crate::rng::Rng;
use alloc::vec::Vec;
use rand::Rng as _;

/// Zeroes each input with probability `rate` in training and scales the rest by
/// `1 / (1 - rate)`, so inference needs no rescaling (Keras' and PyTorch's convention).
/// Masks come from the [`Context`]'s generator, so runs are reproducible.
#[derive(Clone, Debug)]
pub struct Dropout<const N: usize> {
    rate: f32,
    mask: Vec<f32>,
    active: bool,
    out: Batch<N>,
    dx: Batch<N>,
}

impl<const N: usize> Dropout<N> {
    /// Dropout with the given rate, `0 <= rate < 1` (the macro checks literals).
    pub fn new(rate: f32) -> Self {
        Dropout { rate, mask: Vec::new(), active: false, out: Batch::zeros(0), dx: Batch::zeros(0) }
    }

    /// The drop probability.
    pub fn rate(&self) -> f32 {
        self.rate
    }
}

impl<const N: usize> Layer for Dropout<N> {
    const IN: usize = N;
    const OUT: usize = N;
    type Input = Batch<N>;
    type Output = Batch<N>;

    fn forward(&mut self, x: &Batch<N>, ctx: &mut Context) {
        self.out.copy_from(x);
        self.active = (ctx.training() || ctx.mc_dropout) && self.rate > 0.0;
        if !self.active {
            return;
        }
        self.mask.resize(x.as_slice().len(), 0.0);
        draw_mask(&mut ctx.rng, N, &mut self.mask, self.rate, 1.0 / (1.0 - self.rate));
        self.out.as_mut_slice().iter_mut().zip(&self.mask).for_each(|(y, m)| *y *= m);
    }

    fn output(&self) -> &Batch<N> {
        &self.out
    }

    fn backward(&mut self, _x: &Batch<N>, dy: &Batch<N>, how: Backward) {
        if !how.input_grad {
            return;
        }
        masked_input_grad(&mut self.dx, dy, self.active.then_some(&self.mask[..]));
    }

    fn input_grad(&self) -> &Batch<N> {
        &self.dx
    }

    fn visit(&mut self, _v: &mut dyn Visitor) {}

    fn visit_ref(&self, _v: &mut dyn VisitorRef) {}

    /// Nothing: the identity at inference.
    fn describe_onnx(&self, _g: &mut OnnxGraph) -> Result<(), OnnxError> {
        Ok(())
    }

    fn set_trainable(&mut self, _trainable: bool) {}

    fn output_activation(&self) -> Option<Activation> {
        None
    }
}

/// A uniform draw in [0, 1) from one random word: its top 24 bits, scaled, the conversion
/// `random::<f32>()` makes.
#[inline]
fn unit_uniform(u: u32) -> f32 {
    (u >> 8) as f32 * (1.0 / (1u32 << 24) as f32)
}

/// Sets each element of `mask` (samples of `width` floats) to 0 with probability `rate`,
/// else to `kept`: the draws of one `random::<f32>()` per element in order, and `rng`
/// left where those leave it. Large masks are drawn in parts on the kernel's threads,
/// each part from the stream's position for its first element (ChaCha seeks), so the
/// thread count changes no bit.
pub(super) fn draw_mask(rng: &mut Rng, width: usize, mask: &mut [f32], rate: f32, kept: f32) {
    let start = rng.get_word_pos();
    let stream = &*rng;
    // `move`: `rate` and `kept` by value. Borrowed, they were reloaded for every element
    // (the mask's stores might have changed them) and the loop did not vectorize.
    crate::kernel::row_parts(width, mask, move |first, part| {
        let mut rng = stream.clone();
        rng.set_word_pos(start + (first * width) as u128);
        // A word per element, drawn in bulk into a buffer on the stack (no allocation),
        // then converted in a loop that vectorizes.
        let mut words = [0u32; 256];
        for chunk in part.chunks_mut(words.len()) {
            let words = &mut words[..chunk.len()];
            rng.fill(words);
            for (m, &u) in chunk.iter_mut().zip(&*words) {
                *m = if unit_uniform(u) < rate { 0.0 } else { kept };
            }
        }
    });
    rng.set_word_pos(start + mask.len() as u128);
}

/// The input gradient of a layer whose output was `mask * x` (plus a constant) where `mask`
/// is given, the identity otherwise.
pub(super) fn masked_input_grad<const N: usize>(dx: &mut Batch<N>, dy: &Batch<N>, mask: Option<&[f32]>) {
    dx.copy_from(dy);
    if let Some(mask) = mask {
        dx.as_mut_slice().iter_mut().zip(mask).for_each(|(d, m)| *d *= m);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gradcheck::{check, random_batch, Tolerance};
    use crate::layer::Mode;

    #[test]
    fn dropout_backward_matches_with_a_fixed_mask() {
        let mut d = Dropout::<8>::new(0.4);
        check(&mut d, &random_batch::<8>(5, 9), Mode::Train, Tolerance::default(), 100).unwrap();
        check(&mut d, &random_batch::<8>(5, 9), Mode::Infer, Tolerance::default(), 100).unwrap();
    }

    #[test]
    fn bulk_masks_are_the_per_element_draws() {
        // 1000 samples of 7: the bulk draw crosses the generator's block boundaries; 3000:
        // the mask is drawn in parts on the kernel's threads (where the machine has two
        // cores), the second part seeking the stream (tests/threads.rs trains with dropout
        // on one and two threads to the same bits).
        for samples in [1000, 3000] {
            let mut d = Dropout::<7>::new(0.3);
            let x = Batch::<7>::from_samples(&vec![1.0; 7 * samples]).unwrap();
            let mut ctx = Context::train(5);
            ctx.rng.random::<u32>();
            d.forward(&x, &mut ctx);
            let mut rng = Context::train(5).rng;
            rng.random::<u32>();
            let scale = 1.0 / (1.0 - 0.3f32);
            let want: Vec<f32> =
                (0..7 * samples).map(|_| if rng.random::<f32>() < 0.3 { 0.0 } else { scale }).collect();
            assert_eq!(d.mask, want, "{samples} samples");
            assert_eq!(d.out.as_slice(), &want[..]);
            // And the generator is left where the per-element draws leave it.
            assert_eq!(ctx.rng.random::<u64>(), rng.random::<u64>());
        }
    }
}
