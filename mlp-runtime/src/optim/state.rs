//! Per-tensor optimizer state (Keras' optimizer variables), keyed by slot.

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

/// The state of `kinds` as named tensors, slot by slot, plus the learning rate.
pub(crate) fn save(kinds: &[&Slots], lr: f32) -> Vec<(String, Vec<f32>)> {
    let slots = kinds.iter().map(|k| k.data.len()).max().unwrap_or(0);
    let mut out = Vec::new();
    for s in 0..slots {
        for k in kinds {
            if let Some(b) = k.data.get(s).filter(|b| !b.is_empty()) {
                out.push((format!("{s}.{}", k.name), b.clone()));
            }
        }
    }
    out.push(("learning_rate".to_string(), vec![lr]));
    out
}

/// Restores what [`save`] wrote into `kinds` (the buffer kinds this optimizer's settings
/// use) and `lr`, all or nothing. Every slot must have every kind.
pub(crate) fn restore(
    kinds: &mut [&mut Slots],
    lr: &mut f32,
    state: &[(String, Vec<f32>)],
) -> Result<(), String> {
    let mut new: Vec<Vec<Vec<f32>>> = vec![Vec::new(); kinds.len()];
    let mut new_lr = *lr;
    for (name, v) in state {
        if name == "learning_rate" {
            match v.as_slice() {
                [x] if x.is_finite() => new_lr = *x,
                _ => return Err(format!("optimizer state `{name}` must be one finite float")),
            }
            continue;
        }
        let parsed = name.split_once('.').and_then(|(s, k)| Some((s.parse::<usize>().ok()?, k)));
        let Some((slot, kind)) = parsed.filter(|&(s, _)| s <= MAX_SLOT) else {
            return Err(format!("optimizer state `{name}` is not named `<slot>.<kind>`"));
        };
        let Some(i) = kinds.iter().position(|k| k.name == kind) else {
            let known: Vec<_> = kinds.iter().map(|k| k.name).collect();
            return Err(format!(
                "optimizer state `{name}`: this optimizer, as configured, keeps no `{kind}` (it keeps {known:?})"
            ));
        };
        if new[i].len() <= slot {
            new[i].resize_with(slot + 1, Vec::new);
        }
        if !new[i][slot].is_empty() {
            return Err(format!("optimizer state `{name}` appears twice"));
        }
        if v.is_empty() {
            return Err(format!("optimizer state `{name}` is empty"));
        }
        new[i][slot] = v.clone();
    }
    // A slot with some kinds but not all would resume from zeros for the missing ones.
    let slots = new.iter().map(Vec::len).max().unwrap_or(0);
    for s in 0..slots {
        let lens: Vec<usize> = new.iter().map(|k| k.get(s).map_or(0, Vec::len)).collect();
        if lens.iter().any(|&l| l != lens[0]) {
            let desc: Vec<String> =
                kinds.iter().zip(&lens).map(|(k, l)| format!("{s}.{}: {l}", k.name)).collect();
            return Err(format!(
                "optimizer state of slot {s} is incomplete or inconsistent ({})",
                desc.join(", ")
            ));
        }
    }
    for (k, data) in kinds.iter_mut().zip(new) {
        k.data = data;
    }
    *lr = new_lr;
    Ok(())
}
