//! Checkpoints: a network's tensors, the optimizer's state, the epoch and the generator's
//! position in one safetensors file, so training resumes bit-identically.
//!
//! # Format (version 1)
//!
//! A safetensors file (F32 tensors, little-endian, row-major) holding
//! - every tensor of the network under its usual name (`dense_0.weight`, ...), so a
//!   checkpoint is also a weight file: [`load_weights`](crate::io::load_weights) reads it
//!   and ignores the rest;
//! - each optimizer state tensor `name` (`"0.m"`, `"learning_rate"`, ...) as
//!   `__optimizer.<name>`, 1-D;
//! - one metadata entry, `mlp.checkpoint`, a JSON object:
//!
//! ```text
//! {"version": 1, "epoch": 3,
//!  "optimizer": {"name": "adam", "iterations": 1407, "tensors": ["0.m", "0.v", ..., "learning_rate"]},
//!  "rng": {"seed": "<64 hex digits>", "stream": 0, "word_pos": "4096"},
//!  "extra": [["key", "value"], ...]}
//! ```
//!
//! `optimizer.tensors` keeps the order of [`Optimizer::state`]; `word_pos` is a decimal
//! string (a u128). Keys within the JSON object are sorted and there is only one metadata
//! entry, so the same state always gives the same bytes.
//!
//! Loading checks every field: `epoch` and `iterations` at most 2^53, `word_pos` below
//! 2^68 (ChaCha's range), every value finite, and each per-tensor state tensor
//! (`<slot>.<kind>`) as long as the network's trainable tensor number `slot` (in visit
//! order), so state saved for another network is an error rather than a silent reset.
//! Saving refuses the same.

use std::collections::HashMap;
use std::fmt;
use std::path::Path;
use std::str::FromStr;

use serde_json::{json, Value};

use super::error::WeightError;
use super::keys::{LoadOptions, OPTIMIZER_PREFIX};
use super::load;
use super::weights::{self, OwnedTensor};
use crate::layer::Layer;
use crate::optim::{OptimError, Optimizer};
use crate::rng::Rng;

/// The checkpoint format version this crate writes and reads.
pub const CHECKPOINT_VERSION: u64 = 1;

/// The metadata key holding a checkpoint's JSON.
const META_KEY: &str = "mlp.checkpoint";

/// The largest epoch and iteration count a checkpoint may hold: 2^53, the largest range of
/// integers an f64 holds exactly (so JSON readers in Python or JavaScript see the true
/// value), far beyond any real run, and far from the overflow of a counter that keeps
/// counting.
const MAX_COUNT: u64 = 1 << 53;

/// ChaCha's position is 68 bits (2^64 blocks of 16 words); a larger one would be truncated.
const WORD_POS_LIMIT: u128 = 1 << 68;

/// The exact state of a [`Rng`] (ChaCha8): seed, stream and position in the stream.
///
/// ```
/// use mlp::prelude::*;
/// use rand::Rng as _;
/// let mut rng = mlp::rng::seeded(7);
/// let _: u32 = rng.random();
/// let state = RngState::of(&rng);
/// let mut restored = state.restore();
/// assert_eq!(rng.random::<u64>(), restored.random::<u64>());
/// // A compact text form, for keeping more generators in `CheckpointState::extra`:
/// assert_eq!(state.to_string().parse::<RngState>(), Ok(state));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RngState {
    /// The 32-byte key.
    pub seed: [u8; 32],
    /// The stream number.
    pub stream: u64,
    /// The position in the stream, in 32-bit words; below 2^68 (ChaCha's range).
    pub word_pos: u128,
}

impl RngState {
    /// Captures `rng`'s state.
    pub fn of(rng: &Rng) -> Self {
        RngState { seed: rng.get_seed(), stream: rng.get_stream(), word_pos: rng.get_word_pos() }
    }

    /// A generator that continues exactly where the captured one was.
    pub fn restore(&self) -> Rng {
        use rand::SeedableRng;
        let mut rng = Rng::from_seed(self.seed);
        rng.set_stream(self.stream);
        rng.set_word_pos(self.word_pos);
        rng
    }

    fn seed_hex(&self) -> String {
        self.seed.iter().map(|b| format!("{b:02x}")).collect()
    }

    fn parse_seed(hex: &str) -> Option<[u8; 32]> {
        if hex.len() != 64 || !hex.is_ascii() {
            return None;
        }
        let mut seed = [0u8; 32];
        for (i, b) in seed.iter_mut().enumerate() {
            *b = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
        }
        Some(seed)
    }
}

/// `chacha8:<seed as 64 hex digits>:<stream>:<word_pos>`.
impl fmt::Display for RngState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "chacha8:{}:{}:{}", self.seed_hex(), self.stream, self.word_pos)
    }
}

impl FromStr for RngState {
    type Err = String;

    /// Parses what [`Display`](fmt::Display) writes.
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("`{s}` is not a generator state (chacha8:<64 hex digits>:<stream>:<word_pos>)");
        let mut parts = s.split(':');
        let (Some("chacha8"), Some(seed), Some(stream), Some(pos), None) =
            (parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad());
        };
        let word_pos: u128 = pos.parse().map_err(|_| bad())?;
        if word_pos >= WORD_POS_LIMIT {
            return Err(format!("`{s}`: the word position must be below 2^68"));
        }
        Ok(RngState {
            seed: RngState::parse_seed(seed).ok_or_else(bad)?,
            stream: stream.parse().map_err(|_| bad())?,
            word_pos,
        })
    }
}

/// Everything besides the network's tensors that resuming training needs.
///
/// ```
/// use mlp::prelude::*;
/// use mlp::io::{load_checkpoint, save_checkpoint};
/// network! { Net< input(4); dense(8, relu); batch_norm; dense(3, softmax) > }
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("ckpt.safetensors");
/// let mut net = Net::seeded(1);
/// let mut opt = Adam::default();
/// // One step on the first trainable tensor (slot 0): its state has that tensor's length.
/// let mut w = net.get_tensor("dense_0.weight").unwrap();
/// opt.begin_step();
/// let grad = vec![0.1; w.len()];
/// opt.update(0, &mut w, &grad);
/// net.set_tensor("dense_0.weight", &w)?;
/// let rng = mlp::rng::seeded(9);
/// save_checkpoint(&path, &net, &CheckpointState::of(5, &opt, &rng))?;
///
/// let mut resumed = Net::seeded(2);
/// let state = load_checkpoint(&path, &mut resumed)?;
/// let mut opt2 = Adam::default();
/// state.restore_optimizer(&mut opt2)?;
/// assert_eq!((state.epoch, opt2.iterations()), (5, 1));
/// assert_eq!(state.rng.restore(), rng);
/// assert_eq!(resumed.get_tensor("dense_0.weight"), net.get_tensor("dense_0.weight"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct CheckpointState {
    /// Epochs completed.
    pub epoch: usize,
    /// [`Optimizer::name`] of the optimizer whose state this is.
    pub optimizer_name: String,
    /// [`Optimizer::iterations`].
    pub optimizer_iterations: u64,
    /// [`Optimizer::state`], in its order.
    pub optimizer: Vec<(String, Vec<f32>)>,
    /// The training generator (shuffling, dropout).
    pub rng: RngState,
    /// Anything else the trainer wants back (callback state, more generators as
    /// [`RngState`]'s text form, ...), in order.
    pub extra: Vec<(String, String)>,
}

impl CheckpointState {
    /// The state of `optimizer` and `rng` after `epoch` epochs, no extras.
    pub fn of<O: Optimizer + ?Sized>(epoch: usize, optimizer: &O, rng: &Rng) -> Self {
        CheckpointState {
            epoch,
            optimizer_name: optimizer.name().to_string(),
            optimizer_iterations: optimizer.iterations(),
            optimizer: optimizer.state(),
            rng: RngState::of(rng),
            extra: Vec::new(),
        }
    }

    /// Restores the optimizer's state ([`Optimizer::set_state`]) after checking that the
    /// checkpoint was written by an optimizer of the same name. Nothing changes on error.
    pub fn restore_optimizer<O: Optimizer + ?Sized>(&self, optimizer: &mut O) -> Result<(), OptimError> {
        if optimizer.name() != self.optimizer_name {
            return Err(OptimError::OtherOptimizer {
                saved: self.optimizer_name.clone(),
                current: optimizer.name(),
            });
        }
        optimizer.set_state(self.optimizer_iterations, &self.optimizer)
    }

    /// The value of the first extra called `key`.
    pub fn extra(&self, key: &str) -> Option<&str> {
        self.extra.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    fn to_json(&self) -> Value {
        let tensors: Vec<&str> = self.optimizer.iter().map(|(n, _)| n.as_str()).collect();
        json!({
            "version": CHECKPOINT_VERSION,
            "epoch": self.epoch,
            "optimizer": {
                "name": self.optimizer_name,
                "iterations": self.optimizer_iterations,
                "tensors": tensors,
            },
            "rng": {
                "seed": self.rng.seed_hex(),
                "stream": self.rng.stream,
                "word_pos": self.rng.word_pos.to_string(),
            },
            "extra": self.extra.iter().map(|(k, v)| json!([k, v])).collect::<Vec<_>>(),
        })
    }
}

/// Saves `net`'s tensors and `state` to `path` (format in the [module docs](self)),
/// atomically like [`save_weights`](crate::io::save_weights).
///
/// What [`load_checkpoint`] would refuse is refused here, before the file is touched (a
/// counter above 2^53, a generator position beyond ChaCha's, optimizer state of another
/// network, NaN or infinite values): a checkpoint that cannot be resumed never replaces one
/// that can.
pub fn save_checkpoint<L: Layer + ?Sized>(
    path: impl AsRef<Path>,
    net: &L,
    state: &CheckpointState,
) -> Result<(), WeightError> {
    let path = path.as_ref();
    check_state(state, &trainable(net), path)?;
    let mut first_bad = None;
    crate::tensors::for_each_tensor_ref(net, |name, t| {
        if first_bad.is_none() {
            if let Some((index, value, count)) = load::non_finite(t.value()) {
                first_bad = Some(WeightError::NonFinite {
                    path: Some(path.to_path_buf()),
                    name: name.to_string(),
                    index,
                    value,
                    count,
                });
            }
        }
    });
    if let Some(e) = first_bad {
        return Err(e);
    }
    let bytes = encode_checkpoint(net, state, path)?;
    weights::write_file(path, &bytes)
}

/// The bytes of a checkpoint file, unchecked.
fn encode_checkpoint<L: Layer + ?Sized>(
    net: &L,
    state: &CheckpointState,
    path: &Path,
) -> Result<Vec<u8>, WeightError> {
    let bad = |reason: String| WeightError::Checkpoint { path: path.to_path_buf(), reason };
    let mut extra = Vec::with_capacity(state.optimizer.len());
    let mut seen = std::collections::HashSet::new();
    for (name, v) in &state.optimizer {
        if !seen.insert(name.as_str()) {
            return Err(bad(format!("optimizer state `{name}` appears twice")));
        }
        extra.push((
            format!("{OPTIMIZER_PREFIX}{name}"),
            OwnedTensor { shape: vec![v.len()], data: super::convert::to_le_bytes(v) },
        ));
    }
    let metadata = HashMap::from([(META_KEY.to_string(), state.to_json().to_string())]);
    weights::encode(net, extra, metadata, path)
}

/// The checks [`load_checkpoint`] makes on what it read, beyond parsing; [`save_checkpoint`]
/// makes them before writing. `params` is [`trainable`] of the network.
fn check_state(
    state: &CheckpointState,
    params: &[(String, Vec<usize>, usize)],
    path: &Path,
) -> Result<(), WeightError> {
    let bad = |reason: String| WeightError::Checkpoint { path: path.to_path_buf(), reason };
    for (field, n) in [("/epoch", state.epoch as u64), ("/optimizer/iterations", state.optimizer_iterations)]
    {
        if n > MAX_COUNT {
            return Err(bad(format!(
                "checkpoint metadata `{field}` is {n}; at most 2^53 = {MAX_COUNT} is accepted"
            )));
        }
    }
    if state.rng.word_pos >= WORD_POS_LIMIT {
        return Err(bad(format!(
            "checkpoint metadata `/rng/word_pos` is {}; ChaCha's position must be below 2^68",
            state.rng.word_pos
        )));
    }
    for (name, values) in &state.optimizer {
        let key = format!("{OPTIMIZER_PREFIX}{name}");
        if let Some((index, value, count)) = load::non_finite(values) {
            return Err(WeightError::NonFinite {
                path: Some(path.to_path_buf()),
                name: key,
                index,
                value,
                count,
            });
        }
        check_slot(name, &key, values.len(), params).map_err(bad)?;
    }
    Ok(())
}

/// Loads a checkpoint written by [`save_checkpoint`]: writes the network's tensors into
/// `net` (strictly: every name and shape must match, every value finite) and returns the
/// rest, range-checked (see the [module docs](self)). Everything is checked before `net`
/// changes, so a failed load leaves it as it was.
pub fn load_checkpoint<L: Layer + ?Sized>(
    path: impl AsRef<Path>,
    net: &mut L,
) -> Result<CheckpointState, WeightError> {
    let path = path.as_ref();
    let bytes = weights::read_file(path)?;
    let file = load::parse(&bytes).map_err(|e| e.at(path))?;
    let bad = |reason: String| WeightError::Checkpoint { path: path.to_path_buf(), reason };

    // `SafeTensors` keeps its metadata private; `read_metadata` (which `parse` ran already,
    // so it cannot fail here) hands it out.
    let meta = safetensors::SafeTensors::read_metadata(&bytes)
        .map_err(|e| WeightError::Corrupt { path: path.to_path_buf(), reason: e.to_string() })?
        .1;
    let json = meta.metadata().as_ref().and_then(|m| m.get(META_KEY)).ok_or_else(|| {
        bad(format!("not a checkpoint: no `{META_KEY}` metadata (a plain weight file? use load_weights)"))
    })?;
    let v: Value = serde_json::from_str(json)
        .map_err(|e| bad(format!("`{META_KEY}` metadata is not valid JSON: {e}")))?;
    let field = |ptr: &str| v.pointer(ptr).ok_or_else(|| bad(format!("checkpoint metadata lacks `{ptr}`")));
    let uint = |ptr: &str| {
        field(ptr)?
            .as_u64()
            .ok_or_else(|| bad(format!("checkpoint metadata `{ptr}` is not an unsigned integer")))
    };
    let string = |ptr: &str| {
        field(ptr)?
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| bad(format!("checkpoint metadata `{ptr}` is not a string")))
    };

    let version = uint("/version")?;
    if version != CHECKPOINT_VERSION {
        return Err(bad(format!(
            "checkpoint format version {version}; this build reads version {CHECKPOINT_VERSION}"
        )));
    }
    let epoch = usize::try_from(uint("/epoch")?)
        .map_err(|_| bad("checkpoint metadata `/epoch` does not fit in usize".into()))?;
    let optimizer_name = string("/optimizer/name")?;
    let optimizer_iterations = uint("/optimizer/iterations")?;
    let seed_hex = string("/rng/seed")?;
    let seed = RngState::parse_seed(&seed_hex)
        .ok_or_else(|| bad(format!("checkpoint metadata `/rng/seed` is not 64 hex digits: `{seed_hex}`")))?;
    let stream = uint("/rng/stream")?;
    let word_pos = string("/rng/word_pos")?
        .parse::<u128>()
        .map_err(|e| bad(format!("checkpoint metadata `/rng/word_pos` is not a u128: {e}")))?;

    let names = field("/optimizer/tensors")?
        .as_array()
        .ok_or_else(|| bad("checkpoint metadata `/optimizer/tensors` is not a list".into()))?;
    let mut optimizer = Vec::with_capacity(names.len());
    for n in names {
        let n = n
            .as_str()
            .ok_or_else(|| bad("checkpoint metadata `/optimizer/tensors` holds a non-string".into()))?;
        let key = format!("{OPTIMIZER_PREFIX}{n}");
        let view =
            file.tensor(&key).map_err(|_| bad(format!("optimizer state tensor `{key}` is missing")))?;
        if view.shape().len() != 1 {
            return Err(bad(format!(
                "optimizer state tensor `{key}` has shape {:?}; expected 1-D",
                view.shape()
            )));
        }
        let values = super::convert::to_f32(view.dtype(), view.data())
            .map_err(|e| load::convert_error(e, &key).at(path))?;
        optimizer.push((n.to_string(), values));
    }
    let listed: std::collections::HashSet<&str> = names.iter().filter_map(Value::as_str).collect();
    let mut stray: Vec<&str> = file
        .iter()
        .filter_map(|(k, _)| k.strip_prefix(OPTIMIZER_PREFIX))
        .filter(|n| !listed.contains(n))
        .collect();
    if !stray.is_empty() {
        stray.sort_unstable();
        return Err(bad(format!(
            "optimizer state tensors not listed in the metadata: {}",
            stray.iter().map(|n| format!("`{OPTIMIZER_PREFIX}{n}`")).collect::<Vec<_>>().join(", ")
        )));
    }

    let pairs = field("/extra")?
        .as_array()
        .ok_or_else(|| bad("checkpoint metadata `/extra` is not a list".into()))?;
    let mut extra = Vec::with_capacity(pairs.len());
    for p in pairs {
        match p.as_array().map(Vec::as_slice) {
            Some([Value::String(k), Value::String(v)]) => extra.push((k.clone(), v.clone())),
            _ => return Err(bad(format!("checkpoint metadata `/extra` holds {p}, not a [key, value] pair"))),
        }
    }

    let state = CheckpointState {
        epoch,
        optimizer_name,
        optimizer_iterations,
        optimizer,
        rng: RngState { seed, stream, word_pos },
        extra,
    };
    // The weights first: for a checkpoint of another network, their message is the clearer.
    let plan = load::plan(net, &file, &LoadOptions::default()).map_err(|e| e.at(path))?;
    check_state(&state, &trainable(net), path)?;
    load::apply(net, plan);
    Ok(state)
}

/// Name, shape and length of each of `net`'s trainable tensors, in visit order: slot `i`
/// of an optimizer is tensor `i` (see [`Optimizer::update`]).
fn trainable<L: Layer + ?Sized>(net: &L) -> Vec<(String, Vec<usize>, usize)> {
    let mut out = Vec::new();
    crate::tensors::for_each_tensor_ref(net, |name, t| {
        if let crate::tensors::TensorRef::Param(p) = t {
            out.push((name.to_string(), p.shape.to_vec(), p.value.len()));
        }
    });
    out
}

/// Checks a per-tensor optimizer state tensor (`<slot>.<kind>`) against the network's
/// tensor in that slot. An optimizer would otherwise drop state of the wrong length at
/// its first step and start that tensor afresh, silently. Other names (`learning_rate`)
/// are the optimizer's to check.
fn check_slot(
    name: &str,
    key: &str,
    len: usize,
    params: &[(String, Vec<usize>, usize)],
) -> Result<(), String> {
    let Some(slot) = name.split_once('.').and_then(|(s, _)| s.parse::<usize>().ok()) else {
        return Ok(());
    };
    match params.get(slot) {
        None => Err(format!(
            "optimizer state tensor `{key}` is for trainable tensor {slot}; the network has {}",
            params.len()
        )),
        Some((param, shape, n)) if *n != len => Err(format!(
            "optimizer state tensor `{key}` has {len} values; trainable tensor {slot} is `{param}`, \
             shape {shape:?} ({n} values): the checkpoint is of another network"
        )),
        Some(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::activation::Activation;
    use crate::init::Init;
    use crate::layers::Dense;
    use rand::{Rng as _, RngCore};

    fn net() -> Dense<3, 2> {
        Dense::new(Activation::Linear, Init::GlorotUniform, &mut crate::rng::seeded(1))
    }

    /// SGD with momentum's state for `net()`: slot 0 is the [2, 3] weight, slot 1 the bias.
    fn good() -> CheckpointState {
        CheckpointState {
            epoch: 2,
            optimizer_name: "SGD".into(),
            optimizer_iterations: 7,
            optimizer: vec![
                ("0.momentum".into(), vec![0.5; 6]),
                ("1.momentum".into(), vec![0.25; 2]),
                ("learning_rate".into(), vec![0.1]),
            ],
            rng: RngState::of(&crate::rng::seeded(0)),
            extra: vec![],
        }
    }

    /// `edit`ed state is refused by `save_checkpoint` (the good file stays) and, written
    /// without that check (an edited or foreign file), by `load_checkpoint` (the network
    /// stays), with the same message; which is returned.
    fn refused(edit: impl FnOnce(&mut CheckpointState, &mut Dense<3, 2>)) -> String {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ckpt.safetensors");
        let (mut state, mut bad_net) = (good(), net());
        save_checkpoint(&path, &bad_net, &state).unwrap();
        let before = std::fs::read(&path).unwrap();
        edit(&mut state, &mut bad_net);
        let saved = save_checkpoint(&path, &bad_net, &state).unwrap_err().to_string();
        assert_eq!(std::fs::read(&path).unwrap(), before);

        std::fs::write(&path, encode_checkpoint(&bad_net, &state, &path).unwrap()).unwrap();
        let mut target = net();
        crate::tensors::for_each_tensor(&mut target, |_, mut t| t.value().fill(3.0));
        let loaded = load_checkpoint(&path, &mut target).unwrap_err().to_string();
        assert_eq!(saved, loaded);
        crate::tensors::for_each_tensor(&mut target, |name, mut t| {
            assert!(t.value().iter().all(|&v| v == 3.0), "{name} changed by a failed load");
        });
        loaded.replace(&format!("{}: ", path.display()), "").replace(&path.display().to_string(), "<path>")
    }

    #[test]
    fn counters_and_the_generator_position_are_range_checked() {
        assert_eq!(
            refused(|s, _| s.epoch = usize::MAX),
            "checkpoint metadata `/epoch` is 18446744073709551615; at most 2^53 = 9007199254740992 is accepted"
        );
        assert_eq!(
            refused(|s, _| s.optimizer_iterations = u64::MAX),
            "checkpoint metadata `/optimizer/iterations` is 18446744073709551615; at most 2^53 = \
             9007199254740992 is accepted"
        );
        assert_eq!(
            refused(|s, _| s.rng.word_pos = 1 << 68),
            "checkpoint metadata `/rng/word_pos` is 295147905179352825856; ChaCha's position must be below 2^68"
        );
        // The limits themselves load, exactly.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("edge.safetensors");
        let mut state = good();
        (state.epoch, state.optimizer_iterations, state.rng.word_pos) = (1 << 53, 1 << 53, (1 << 68) - 1);
        save_checkpoint(&path, &net(), &state).unwrap();
        assert_eq!(load_checkpoint(&path, &mut net()).unwrap(), state);
        assert_eq!(
            format!("chacha8:{}:0:{}", "0".repeat(64), 1u128 << 68).parse::<RngState>().map(drop),
            Err(format!(
                "`chacha8:{}:0:{}`: the word position must be below 2^68",
                "0".repeat(64),
                1u128 << 68
            ))
        );
    }

    #[test]
    fn optimizer_state_must_fit_the_network_and_be_finite() {
        assert_eq!(
            refused(|s, _| s.optimizer[0].1.pop().map(drop).unwrap()),
            "optimizer state tensor `__optimizer.0.momentum` has 5 values; trainable tensor 0 is `weight`, \
             shape [2, 3] (6 values): the checkpoint is of another network"
        );
        assert_eq!(
            refused(|s, _| s.optimizer.insert(2, ("2.momentum".into(), vec![0.0; 2]))),
            "optimizer state tensor `__optimizer.2.momentum` is for trainable tensor 2; the network has 2"
        );
        assert_eq!(
            refused(|s, _| s.optimizer[1].1[1] = f32::NAN),
            "tensor `__optimizer.1.momentum` in <path> holds NaN at index 1 (1 non-finite value)"
        );
        assert_eq!(
            refused(
                |_, n| crate::tensors::for_each_tensor(n, |_, mut t| t.value()[1..].fill(f32::NEG_INFINITY))
            ),
            "tensor `weight` in <path> holds -inf at index 1 (5 non-finite values); \
             LoadOptions::allow_non_finite(true) loads it anyway"
        );
    }

    #[test]
    fn a_restored_generator_continues_the_same_stream() {
        let mut rng = crate::rng::seeded(42);
        rng.set_stream(3);
        let _ = rng.next_u32(); // odd word position: mid-block
        let state = RngState::of(&rng);
        let mut restored = state.restore();
        for _ in 0..100 {
            assert_eq!(rng.random::<u64>(), restored.random::<u64>());
        }
        assert_eq!(rng, restored);
    }

    #[test]
    fn text_form_round_trips_and_rejects_garbage() {
        let state = RngState { seed: [0xab; 32], stream: u64::MAX, word_pos: u128::MAX >> 60 };
        assert_eq!(state.to_string().parse::<RngState>(), Ok(state));
        for bad in ["", "chacha8", "chacha8:zz:0:0", "pcg:00:0:0", &format!("{state}:1"), "chacha8:é:0:0"] {
            assert!(bad.parse::<RngState>().is_err(), "{bad}");
        }
    }
}
