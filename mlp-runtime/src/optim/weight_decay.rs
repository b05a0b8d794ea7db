//! Decoupled weight decay, Keras 3's `weight_decay` and `exclude_from_weight_decay`, which
//! every optimizer takes (`keras/src/optimizers/base_optimizer.py`, `_apply_weight_decay`).
//!
//! The optimizer only holds the setting ([`super::Optimizer::weight_decay_settings`]); the
//! trainer applies it, like clipping: once per step, after `begin_step` (so a schedule's
//! rate for this step is used), each trainable tensor that is not excluded is decayed just
//! before its `update`, as Keras decays every variable before `update_step`.

use super::{check, OptimError, Range};

/// Decoupled weight decay: before each update, `w -= w * rate * learning_rate` for every
/// trainable tensor whose dotted key (`dense_0.weight`, `residual_0.dense_1.bias`) contains
/// none of `exclude`. Frozen tensors are never decayed; biases are, unless excluded (as in
/// Keras).
///
/// Set it through any optimizer's `weight_decay` and `exclude_from_weight_decay` builders
/// (before `clipnorm` or `with_schedule`, which wrap the optimizer):
///
/// ```
/// use mlp_runtime::prelude::*;
/// // Keras: opt = SGD(0.01, momentum=0.9, weight_decay=1e-4)
/// //        opt.exclude_from_weight_decay(var_names=["bias"])
/// let opt = Sgd::new(0.01).momentum(0.9).weight_decay(1e-4).exclude_from_weight_decay(["bias"]);
/// let wd = opt.weight_decay_settings().unwrap();
/// assert_eq!(wd.rate, 1e-4);
/// assert!(wd.excludes("dense_0.bias") && !wd.excludes("dense_0.weight"));
/// assert!(Adam::default().weight_decay_settings().is_none(), "no decay unless asked for");
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WeightDecay {
    /// Keras' `weight_decay`: the fraction of each weight removed per unit of learning
    /// rate. 0 (the default of every optimizer but AdamW) means no decay.
    pub rate: f32,
    /// Keras' `exclude_from_weight_decay(var_names=...)`: a tensor whose dotted key contains
    /// any of these is not decayed. Plain substrings, like Keras' pattern search without
    /// regex syntax: `"bias"` leaves out every bias, `"batch_norm"` every batch-norm tensor,
    /// `"dense_1.weight"` one kernel.
    pub exclude: Vec<String>,
}

impl WeightDecay {
    /// `Some(self)` when there is something to decay (a rate other than 0): what an
    /// optimizer's [`weight_decay_settings`](super::Optimizer::weight_decay_settings) returns.
    pub fn active(&self) -> Option<&WeightDecay> {
        (self.rate != 0.0).then_some(self)
    }

    /// Whether the tensor with this dotted key is left out of the decay.
    pub fn excludes(&self, key: &str) -> bool {
        self.excludes_bytes(key.bytes())
    }

    /// Decays one tensor, in place, at learning rate `lr`: `w -= w * (rate * lr)`.
    ///
    /// The trainer calls it; a loop that drives an optimizer by hand calls it before each
    /// tensor's `update`, after `begin_step`, with `opt.learning_rate()`:
    ///
    /// ```
    /// use mlp_runtime::prelude::*;
    /// let mut opt = Sgd::new(0.1).weight_decay(0.5);
    /// let mut w = [2.0_f32];
    /// opt.begin_step();
    /// if let Some(wd) = opt.weight_decay_settings() {
    ///     wd.apply(opt.learning_rate(), &mut w); // 2 * (1 - 0.1 * 0.5) = 1.9
    /// }
    /// opt.update(0, &mut w, &[1.0]); // 1.9 - 0.1 * 1
    /// assert!((w[0] - 1.8).abs() < 1e-6);
    /// ```
    pub fn apply(&self, lr: f32, value: &mut [f32]) {
        // `rate * lr` first, once per tensor: AdamW's rounding before the decay moved here,
        // so its results keep their bits. Keras' TensorFlow backend rounds `w * rate` first;
        // the two products differ in their last bits only, a fraction of an ulp of `w`.
        let k = self.rate * lr;
        value.iter_mut().for_each(|w| *w -= *w * k);
    }

    /// Checks the rate (Keras takes any float; a negative or non-finite one only grows or
    /// destroys the weights), naming `owner`.
    pub(crate) fn check(&self, owner: &'static str) -> Result<(), OptimError> {
        check(owner, "weight_decay", self.rate, Range::NonNegative)
    }

    /// Whether the key spelled by `key`'s bytes contains any excluded name: one substring
    /// search for [`WeightDecay::excludes`] and for the trainer's [`KeyPath`], which never
    /// builds the key.
    fn excludes_bytes(&self, key: impl Iterator<Item = u8> + Clone) -> bool {
        self.exclude.iter().any(|name| contains(key.clone(), name.as_bytes()))
    }
}

/// Whether `needle` occurs in `haystack` (an empty needle occurs everywhere, as an empty
/// pattern matches every name in Keras).
fn contains(mut haystack: impl Iterator<Item = u8> + Clone, needle: &[u8]) -> bool {
    loop {
        let mut probe = haystack.clone();
        if needle.iter().all(|&b| probe.next() == Some(b)) {
            return true;
        }
        if haystack.next().is_none() {
            return false;
        }
    }
}

/// Open `enter` segments kept inline; deeper nesting, which no network reaches in practice,
/// spills into a `Vec`.
const INLINE: usize = 8;

/// The sub-layers a visit is inside (the `enter` segments not yet left), so the trainer can
/// match a tensor's dotted key against the exclusions without building it: no allocation
/// per step.
#[derive(Debug, Default)]
pub(crate) struct KeyPath {
    inline: [&'static str; INLINE],
    depth: usize,
    deeper: Vec<&'static str>,
}

impl KeyPath {
    /// A sub-layer begins ([`Visitor::enter`](crate::layer::Visitor::enter)).
    pub(crate) fn enter(&mut self, segment: &'static str) {
        match self.inline.get_mut(self.depth) {
            Some(slot) => *slot = segment,
            None => self.deeper.push(segment),
        }
        self.depth += 1;
    }

    /// The last entered sub-layer ends ([`Visitor::leave`](crate::layer::Visitor::leave)).
    pub(crate) fn leave(&mut self) {
        if self.depth > INLINE {
            self.deeper.pop();
        }
        self.depth = self.depth.saturating_sub(1);
    }

    /// Whether `decay` excludes the tensor `name` at this point of the visit.
    pub(crate) fn excluded(&self, decay: &WeightDecay, name: &str) -> bool {
        if decay.exclude.is_empty() {
            return false;
        }
        let segments = self.inline[..self.depth.min(INLINE)].iter().chain(&self.deeper);
        let key = segments.flat_map(|s| s.bytes().chain([b'.'])).chain(name.bytes());
        decay.excludes_bytes(key)
    }
}

/// The builders and getters of the weight decay, for an optimizer whose [`Core`](super::state::Core)
/// is in field `core` (every optimizer: one source for all).
macro_rules! weight_decay_builders {
    () => {
        /// Sets Keras' `weight_decay`: before each update, every trainable tensor not
        /// excluded loses `weight_decay * learning_rate` of its value (decoupled decay; see
        /// [`WeightDecay`](crate::optim::WeightDecay)). 0 means none.
        #[must_use]
        pub fn weight_decay(mut self, weight_decay: f32) -> Self {
            self.core.decay.rate = weight_decay;
            self
        }

        /// Keras' `exclude_from_weight_decay(var_names=...)`: tensors whose dotted key
        /// (`dense_0.bias`) contains any of `names` are not decayed. Replaces earlier
        /// exclusions, as in Keras.
        #[must_use]
        pub fn exclude_from_weight_decay<S: Into<String>>(
            mut self,
            names: impl IntoIterator<Item = S>,
        ) -> Self {
            self.core.decay.exclude = names.into_iter().map(Into::into).collect();
            self
        }

        /// The weight decay (set by [`Self::weight_decay`]).
        pub fn get_weight_decay(&self) -> f32 {
            self.core.decay.rate
        }

        /// The names excluded from weight decay (set by [`Self::exclude_from_weight_decay`]).
        pub fn get_exclude_from_weight_decay(&self) -> &[String] {
            &self.core.decay.exclude
        }
    };
}
pub(crate) use weight_decay_builders;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layer::{Backward, Context, Layer, Param, ParamRef, Visitor, VisitorRef};
    use crate::optim::{Adagrad, Adam, AdamW, Adamax, ExponentialDecay, Nadam, Optimizer, OptimizerExt};
    use crate::optim::{RMSprop, Sgd};
    use crate::train::apply_update;
    use crate::Batch;

    /// A trainable (or frozen) tensor and the sub-layers it sits in.
    struct Tensor {
        path: &'static [&'static str],
        name: &'static str,
        value: Vec<f32>,
        grad: Vec<f32>,
        trainable: bool,
    }

    /// Named tensors, visited as a network visits its own, so the trainer's update runs on
    /// them as on a network; nothing else about them is a layer.
    struct Tensors {
        tensors: Vec<Tensor>,
        nothing: Batch<1>,
    }

    impl Tensors {
        fn new(tensors: Vec<Tensor>) -> Self {
            Tensors { tensors, nothing: Batch::zeros(0) }
        }

        /// A 2x3 kernel `dense_0.weight` and a bias `dense_0.bias`.
        fn dense(weight: [f32; 6], bias: [f32; 2]) -> Self {
            let t = |name, value: &[f32]| Tensor {
                path: &["dense_0"],
                name,
                value: value.to_vec(),
                grad: vec![0.0; value.len()],
                trainable: true,
            };
            Tensors::new(vec![t("weight", &weight), t("bias", &bias)])
        }

        /// One training step's update, from these gradients (one per tensor).
        fn step(&mut self, opt: &mut dyn Optimizer, grads: &[&[f32]]) {
            for (t, g) in self.tensors.iter_mut().zip(grads) {
                t.grad.copy_from_slice(g);
            }
            apply_update(self, opt).unwrap();
        }

        fn value(&self, i: usize) -> &[f32] {
            &self.tensors[i].value
        }
    }

    impl Layer for Tensors {
        const IN: usize = 1;
        const OUT: usize = 1;
        type Input = Batch<1>;
        type Output = Batch<1>;
        fn forward(&mut self, _: &Batch<1>, _: &mut Context) {
            unreachable!("only the update runs on these tensors")
        }
        fn output(&self) -> &Batch<1> {
            &self.nothing
        }
        fn backward(&mut self, _: &Batch<1>, _: &Batch<1>, _: Backward) {
            unreachable!("only the update runs on these tensors")
        }
        fn input_grad(&self) -> &Batch<1> {
            &self.nothing
        }
        fn visit(&mut self, v: &mut dyn Visitor) {
            for t in &mut self.tensors {
                t.path.iter().for_each(|s| v.enter(s));
                let shape = [t.value.len()];
                let (value, grad, trainable) = (&mut t.value[..], &mut t.grad[..], t.trainable);
                v.param(t.name, Param { value, grad, shape: &shape, trainable, l1: 0.0, l2: 0.0 });
                t.path.iter().for_each(|_| v.leave());
            }
        }
        fn visit_ref(&self, v: &mut dyn VisitorRef) {
            for t in &self.tensors {
                t.path.iter().for_each(|s| v.enter(s));
                let shape = [t.value.len()];
                let (value, grad, trainable) = (&t.value[..], &t.grad[..], t.trainable);
                v.param(t.name, ParamRef { value, grad, shape: &shape, trainable, l1: 0.0, l2: 0.0 });
                t.path.iter().for_each(|_| v.leave());
            }
        }
        fn set_trainable(&mut self, trainable: bool) {
            self.tensors.iter_mut().for_each(|t| t.trainable = trainable);
        }
    }

    const W: [f32; 6] = [0.5, -1.0, 1.5, 2.0, -0.25, 0.75];
    const B: [f32; 2] = [0.1, -0.2];
    /// Two steps' gradients for the kernel and the bias.
    const GW: [[f32; 6]; 2] = [[0.1, 0.2, -0.3, 0.4, -0.5, 0.6], [-0.2, 0.1, 0.05, 0.3, 0.0, -0.1]];
    const GB: [[f32; 2]; 2] = [[0.05, -0.05], [0.02, 0.1]];

    /// Every optimizer, with learning rate 0.1 and weight decay `wd`.
    fn every_optimizer(wd: f32) -> Vec<Box<dyn Optimizer>> {
        vec![
            Box::new(Sgd::new(0.1).weight_decay(wd)),
            Box::new(Sgd::new(0.1).momentum(0.9).nesterov(true).weight_decay(wd)),
            Box::new(RMSprop::new(0.1).momentum(0.5).centered(true).weight_decay(wd)),
            Box::new(Adagrad::new(0.1).weight_decay(wd)),
            Box::new(Adam::new(0.1).amsgrad(true).weight_decay(wd)),
            Box::new(AdamW::new(0.1).weight_decay(wd)),
            Box::new(Nadam::new(0.1).weight_decay(wd)),
            Box::new(Adamax::new(0.1).weight_decay(wd)),
        ]
    }

    #[test]
    fn every_optimizer_decays_by_lr_times_wd_then_updates() {
        let (lr, wd) = (0.1f64, 0.2f64);
        for (mut decayed, mut plain) in every_optimizer(wd as f32).into_iter().zip(every_optimizer(0.0)) {
            let name = decayed.name();
            assert!(plain.weight_decay_settings().is_none(), "{name}: a rate of 0 is no decay");
            let mut a = Tensors::dense(W, B);
            a.step(&mut *decayed, &[&GW[0], &GB[0]]);
            // Keras' order: w * (1 - lr * wd) first, then the update without decay.
            let by_hand =
                |w: &[f32]| -> Vec<f32> { w.iter().map(|&w| (w as f64 * (1.0 - lr * wd)) as f32).collect() };
            let mut b = Tensors::dense(by_hand(&W).try_into().unwrap(), by_hand(&B).try_into().unwrap());
            b.step(&mut *plain, &[&GW[0], &GB[0]]);
            for i in 0..2 {
                for (&x, &y) in a.value(i).iter().zip(b.value(i)) {
                    // The hand product is rounded once, the decay's twice: an ulp apart at
                    // most. Decaying after the update would be off by lr * wd of the step
                    // (1e-4 or more here), and no decay by lr * wd of the weight.
                    assert!((x - y).abs() <= 2.0 * f32::EPSILON * y.abs().max(1.0), "{name}: {x} vs {y}");
                }
            }
        }
    }

    fn excluding(names: &[&str]) -> WeightDecay {
        WeightDecay { rate: 0.1, exclude: names.iter().map(|s| s.to_string()).collect() }
    }

    /// Two steps of `opt` on [`W`] and [`B`] with gradients [`GW`], [`GB`], checked against
    /// Keras' kernel and bias after them, to within `tol`.
    fn matches_keras(mut opt: impl Optimizer, kernel: [f32; 6], bias: [f32; 2], tol: f32) {
        let mut net = Tensors::dense(W, B);
        for t in 0..2 {
            net.step(&mut opt, &[&GW[t], &GB[t]]);
        }
        for (ours, keras) in [(net.value(0), &kernel[..]), (net.value(1), &bias[..])] {
            for (&x, &k) in ours.iter().zip(keras) {
                assert!((x - k).abs() <= tol, "{}: {x}, Keras {k}", opt.name());
            }
        }
    }

    /// Keras 3.15.1 (TensorFlow backend), with `K0 = [[0.5, -1, 1.5], [2, -0.25, 0.75]]`,
    /// `B0 = [0.1, -0.2]` and the gradients of [`GW`], [`GB`] (all float32):
    /// ```python
    /// k, b = keras.Variable(K0, name="kernel"), keras.Variable(B0, name="bias")
    /// opt = keras.optimizers.SGD(learning_rate=0.1, momentum=0.9, weight_decay=0.05)
    /// # Adam(learning_rate=0.01, weight_decay=0.1) (AdamW gives the same bits);
    /// # SGD(learning_rate=ExponentialDecay(0.1, decay_steps=1, decay_rate=0.5), weight_decay=0.5)
    /// opt.exclude_from_weight_decay(var_names=["bias"])
    /// for gk, gb in zip(GK, GB):
    ///     opt.apply([gk, gb], [k, b])
    /// print(k.numpy().ravel(), b.numpy())
    /// ```
    /// Our tensors are `dense_0.weight` and `dense_0.bias`: "bias" leaves out the second.
    #[test]
    fn sgd_adam_adamw_and_a_schedule_match_keras_with_the_bias_excluded() {
        // SGD: Keras' bits exactly.
        let sgd = Sgd::new(0.1).momentum(0.9).weight_decay(0.05).exclude_from_weight_decay(["bias"]);
        let kernel = [0.49606252, -1.037925, 1.5368874, 1.87425, -0.15275626, 0.63881874];
        matches_keras(sgd, kernel, [0.0885, -0.20050001], 0.0);

        // Adam and AdamW: within 2.5e-7 (21 ulps at most, on the bias, which is not decayed:
        // Keras orders Adam's own f32 arithmetic differently). The decay moves the kernel by
        // 1e-3 of itself per step.
        let kernel = [0.49267185, -1.0173124, 1.5123767, 1.9761865, -0.23280992, 0.73312557];
        let bias = [0.08101557, -0.1936616];
        let adam = Adam::new(0.01).weight_decay(0.1).exclude_from_weight_decay(["bias"]);
        matches_keras(adam, kernel, bias, 2.5e-7);
        let adamw = AdamW::new(0.01).weight_decay(0.1).exclude_from_weight_decay(["bias"]);
        matches_keras(adamw, kernel, bias, 2.5e-7);

        // The decay takes each step's scheduled rate, 0.1 then 0.05, as the update does:
        // Keras' bits exactly.
        let scheduled = Sgd::new(0.1)
            .weight_decay(0.5)
            .exclude_from_weight_decay(["bias"])
            .with_schedule(ExponentialDecay::new(0.1, 1, 0.5));
        let kernel = [0.463375, -0.95075, 1.4161248, 1.7985001, -0.1828125, 0.6411875];
        matches_keras(scheduled, kernel, [0.094, -0.2], 0.0);
    }

    #[test]
    fn frozen_tensors_are_never_decayed() {
        let frozen = |name, trainable| Tensor {
            path: &["residual_0", "dense_1"],
            name,
            value: vec![1.0, -2.0],
            grad: vec![0.0; 2],
            trainable,
        };
        let mut net = Tensors::new(vec![frozen("weight", false), frozen("bias", true)]);
        let mut opt = Sgd::new(0.1).weight_decay(0.5);
        net.step(&mut opt, &[&[0.0; 2], &[0.0; 2]]);
        assert_eq!(net.value(0), [1.0, -2.0]);
        assert_eq!(net.value(1), [0.95, -1.9]);
    }

    #[test]
    fn exclusion_is_a_substring_of_the_dotted_key() {
        let keys = ["dense_0.weight", "dense_0.bias", "batch_norm_1.weight", "residual_2.dense_1.bias"];
        let excluded = |names: &[&str]| -> Vec<bool> {
            let wd = excluding(names);
            keys.iter().map(|k| wd.excludes(k)).collect()
        };
        assert_eq!(excluded(&[]), [false; 4]);
        assert_eq!(excluded(&["bias"]), [false, true, false, true]);
        assert_eq!(excluded(&["batch_norm"]), [false, false, true, false]);
        // Across segments, and several names at once.
        assert_eq!(excluded(&["2.dense", "0.w"]), [true, false, false, true]);
        // Keras matches anywhere in the name; an empty pattern matches everything.
        assert_eq!(excluded(&["ens"]), [true, true, false, true]);
        assert_eq!(excluded(&[""]), [true; 4]);
        // Longer than the key, or only a prefix of it present: no match.
        assert_eq!(excluded(&["dense_0.weights", "x"]), [false; 4]);
    }

    #[test]
    fn the_visits_path_matches_as_the_joined_key_does_at_any_depth() {
        let names: [&'static str; 11] = ["a", "bb", "c", "dd", "e", "ff", "g", "hh", "i", "jj", "k"];
        let patterns = ["", "a", "a.bb", "k", "jj.k", "i.jj", "hh.i", "dd.e.ff", "b.c", "x", "k.w", "a.w"];
        for depth in 0..=names.len() {
            let mut path = KeyPath::default();
            names[..depth].iter().for_each(|s| path.enter(s));
            let mut key: String = names[..depth].iter().map(|s| format!("{s}.")).collect();
            key.push('w');
            for p in patterns {
                let wd = excluding(&[p]);
                assert_eq!(path.excluded(&wd, "w"), key.contains(p), "{p:?} in {key:?}");
            }
            // Leaving returns to the shallower path.
            if depth > 0 {
                path.leave();
                let shorter: String = names[..depth - 1].iter().map(|s| format!("{s}.")).collect();
                let wd = excluding(&[names[depth - 1]]);
                assert_eq!(path.excluded(&wd, "w"), format!("{shorter}w").contains(names[depth - 1]));
            }
        }
    }

    #[test]
    fn apply_removes_rate_times_lr_of_each_weight() {
        let wd = WeightDecay { rate: 0.5, exclude: Vec::new() };
        let mut w = [2.0f32, -4.0, 0.0];
        wd.apply(0.1, &mut w);
        assert_eq!(w, [1.9, -3.8, 0.0]);
        assert!(wd.active().is_some() && WeightDecay::default().active().is_none());
    }

    #[test]
    fn a_negative_or_non_finite_rate_is_refused_naming_it() {
        for rate in [-1e-4, f32::NAN, f32::INFINITY] {
            let e = WeightDecay { rate, exclude: Vec::new() }.check("SGD").unwrap_err();
            assert!(matches!(e, OptimError::Hyperparameter { owner: "SGD", name: "weight_decay", .. }));
            assert!(e.to_string().starts_with("SGD weight_decay must be a finite number >= 0, got "), "{e}");
        }
        assert_eq!(WeightDecay { rate: 0.0, exclude: Vec::new() }.check("SGD"), Ok(()));
    }
}
