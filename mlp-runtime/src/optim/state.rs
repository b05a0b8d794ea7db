//! The bookkeeping every optimizer shares: learning rate, weight decay, step count and
//! per-tensor state (Keras' optimizer variables, keyed by slot), with checkpoint save and
//! restore. An optimizer's own file keeps only its hyper-parameters and update loop.

use super::{check, OptimError, Range, WeightDecay};

/// One kind of per-tensor buffer (Adam's `m`, ...), one buffer per slot.
#[derive(Clone, Debug)]
pub(crate) struct Slots {
    name: &'static str,
    /// Keras' initializer for this variable (0, or Adagrad's initial accumulator).
    init: f32,
    data: Vec<Vec<f32>>,
}

/// Slot numbers above this in a checkpoint are rejected rather than allocated for.
const MAX_SLOT: usize = 1 << 20;

impl Slots {
    pub(crate) const fn new(name: &'static str, init: f32) -> Self {
        Slots { name, init, data: Vec::new() }
    }

    /// The value new buffers start at.
    pub(crate) fn init(&self) -> f32 {
        self.init
    }

    /// Sets the value new buffers start at (Adagrad's initial accumulator).
    pub(crate) fn set_init(&mut self, init: f32) {
        self.init = init;
    }

    /// The buffer of `slot`, allocated on first sight (or when the tensor's length
    /// changed, which only a different network can do) and reused after.
    pub(crate) fn get(&mut self, slot: usize, len: usize) -> &mut [f32] {
        if slot >= self.data.len() {
            self.data.resize_with(slot + 1, Vec::new);
        }
        let b = &mut self.data[slot];
        if b.len() != len {
            b.clear();
            b.resize(len, self.init);
        }
        b
    }
}

/// Learning rate, weight decay, step count and the per-tensor buffers of `K` kinds.
#[derive(Clone, Debug)]
pub(crate) struct Core<const K: usize> {
    /// The learning rate of the next steps.
    pub(crate) lr: f32,
    /// The weight decay the trainer applies before each update (a hyper-parameter: not
    /// saved with the state).
    pub(crate) decay: WeightDecay,
    /// Steps taken (Keras' `iterations`).
    pub(crate) iterations: u64,
    /// One [`Slots`] per kind of buffer, in the order [`Core::save`] writes them.
    pub(crate) slots: [Slots; K],
}

impl<const K: usize> Core<K> {
    /// No steps taken yet, no buffers allocated, no weight decay.
    pub(crate) const fn new(lr: f32, slots: [Slots; K]) -> Self {
        Core { lr, decay: WeightDecay { rate: 0.0, exclude: Vec::new() }, iterations: 0, slots }
    }

    /// Checks the settings every optimizer has, the learning rate and the weight decay,
    /// naming `owner`.
    pub(crate) fn check_common(&self, owner: &'static str) -> Result<(), OptimError> {
        check(owner, "learning rate", self.lr, Range::NonNegative)?;
        self.decay.check(owner)
    }

    /// The buffers as named tensors, slot by slot, plus the learning rate.
    pub(crate) fn save(&self) -> Vec<(String, Vec<f32>)> {
        let slots = self.slots.iter().map(|k| k.data.len()).max().unwrap_or(0);
        let mut out = Vec::new();
        for s in 0..slots {
            for k in &self.slots {
                if let Some(b) = k.data.get(s).filter(|b| !b.is_empty()) {
                    out.push((format!("{s}.{}", k.name), b.clone()));
                }
            }
        }
        out.push(("learning_rate".to_string(), vec![self.lr]));
        out
    }

    /// Restores what [`Core::save`] wrote, all or nothing, into the kinds marked `used`
    /// (those this optimizer's settings keep); every slot must have every used kind.
    pub(crate) fn restore(
        &mut self,
        used: [bool; K],
        iterations: u64,
        state: &[(String, Vec<f32>)],
    ) -> Result<(), OptimError> {
        let kinds: Vec<usize> = (0..K).filter(|&i| used[i]).collect();
        let name_of = |i: usize| self.slots[i].name;
        let mut new: Vec<Vec<Vec<f32>>> = vec![Vec::new(); kinds.len()];
        let mut new_lr = self.lr;
        for (name, v) in state {
            if name == "learning_rate" {
                match v.as_slice() {
                    [x] if x.is_finite() => new_lr = *x,
                    _ => return Err(OptimError::StateLearningRate),
                }
                continue;
            }
            let parsed = name.split_once('.').and_then(|(s, k)| Some((s.parse::<usize>().ok()?, k)));
            let Some((slot, kind)) = parsed.filter(|&(s, _)| s <= MAX_SLOT) else {
                return Err(OptimError::StateName(name.clone()));
            };
            let Some(i) = kinds.iter().position(|&k| name_of(k) == kind) else {
                return Err(OptimError::StateKind {
                    tensor: name.clone(),
                    kind: kind.to_string(),
                    keeps: kinds.iter().map(|&k| name_of(k)).collect(),
                });
            };
            if new[i].len() <= slot {
                new[i].resize_with(slot + 1, Vec::new);
            }
            if !new[i][slot].is_empty() {
                return Err(OptimError::StateDuplicate(name.clone()));
            }
            if v.is_empty() {
                return Err(OptimError::StateEmpty(name.clone()));
            }
            new[i][slot] = v.clone();
        }
        // A slot with some kinds but not all would resume from zeros for the missing ones.
        let slots = new.iter().map(Vec::len).max().unwrap_or(0);
        for s in 0..slots {
            let lens: Vec<usize> = new.iter().map(|k| k.get(s).map_or(0, Vec::len)).collect();
            if lens.iter().any(|&l| l != lens[0]) {
                let lengths = kinds.iter().zip(&lens).map(|(&k, &l)| (name_of(k), l)).collect();
                return Err(OptimError::StateIncomplete { slot: s, lengths });
            }
        }
        for (&k, data) in kinds.iter().zip(new) {
            self.slots[k].data = data;
        }
        self.lr = new_lr;
        self.iterations = iterations;
        Ok(())
    }
}

/// The [`Optimizer`](super::Optimizer) methods that only read or write a field named `core`
/// (a [`Core`]): `learning_rate`, `set_learning_rate`, `weight_decay_settings`,
/// `iterations`, `state`, and `begin_step` unless the optimizer does more there
/// (`bookkeeping!(without begin_step)`).
macro_rules! bookkeeping {
    () => {
        $crate::optim::state::bookkeeping!(without begin_step);
        fn begin_step(&mut self) {
            self.core.iterations += 1;
        }
    };
    (without begin_step) => {
        fn learning_rate(&self) -> f32 {
            self.core.lr
        }
        fn set_learning_rate(&mut self, lr: f32) {
            self.core.lr = lr;
        }
        fn weight_decay_settings(&self) -> Option<&$crate::optim::WeightDecay> {
            self.core.decay.active()
        }
        fn iterations(&self) -> u64 {
            self.core.iterations
        }
        fn state(&self) -> Vec<(String, Vec<f32>)> {
            self.core.save()
        }
    };
}
pub(crate) use bookkeeping;

/// [`Optimizer::update`](super::Optimizer::update) and
/// [`Optimizer::update_and_zero`](super::Optimizer::update_and_zero) through the
/// optimizer's own `apply`, which takes either kind of [`Grad`](crate::kernel::Grad): one
/// update loop serves both.
macro_rules! update_via_apply {
    () => {
        fn update(&mut self, slot: usize, value: &mut [f32], grad: &[f32]) {
            self.apply(slot, value, $crate::kernel::Grad::Read(grad))
        }
        fn update_and_zero(&mut self, slot: usize, value: &mut [f32], grad: &mut [f32]) {
            self.apply(slot, value, $crate::kernel::Grad::Consume(grad))
        }
    };
}
pub(crate) use update_via_apply;
