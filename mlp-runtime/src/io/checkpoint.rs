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

use std::collections::HashMap;
use std::fmt;
use std::path::Path;
use std::str::FromStr;

use serde_json::{json, Value};

use super::error::WeightError;
use super::weights::{self, LoadOptions, OwnedTensor, OPTIMIZER_PREFIX};
use crate::layer::Layer;
use crate::optim::Optimizer;
use crate::rng::Rng;

/// The checkpoint format version this crate writes and reads.
pub const CHECKPOINT_VERSION: u64 = 1;

/// The metadata key holding a checkpoint's JSON.
const META_KEY: &str = "mlp.checkpoint";

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
    /// The position in the stream, in 32-bit words.
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
        Ok(RngState {
            seed: RngState::parse_seed(seed).ok_or_else(bad)?,
            stream: stream.parse().map_err(|_| bad())?,
            word_pos: pos.parse().map_err(|_| bad())?,
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
/// opt.begin_step();
/// opt.update(0, &mut [1.0, 2.0], &[0.1, 0.2]);
/// let rng = mlp::rng::seeded(9);
/// save_checkpoint(&path, &mut net, &CheckpointState::of(5, &opt, &rng))?;
///
/// let mut resumed = Net::seeded(2);
/// let state = load_checkpoint(&path, &mut resumed)?;
/// let mut opt2 = Adam::default();
/// state.restore_optimizer(&mut opt2).map_err(|e| e.to_string())?;
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
    pub fn restore_optimizer<O: Optimizer + ?Sized>(&self, optimizer: &mut O) -> Result<(), String> {
        if optimizer.name() != self.optimizer_name {
            return Err(format!(
                "the checkpoint holds the state of optimizer `{}`, not `{}`",
                self.optimizer_name,
                optimizer.name()
            ));
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
pub fn save_checkpoint<L: Layer + ?Sized>(
    path: impl AsRef<Path>,
    net: &mut L,
    state: &CheckpointState,
) -> Result<(), WeightError> {
    let path = path.as_ref();
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
    let bytes = weights::encode(net, extra, metadata, path)?;
    weights::write_file(path, &bytes)
}

/// Loads a checkpoint written by [`save_checkpoint`]: writes the network's tensors into
/// `net` (strictly: every name and shape must match) and returns the rest. Everything is
/// checked before `net` changes, so a failed load leaves it as it was.
pub fn load_checkpoint<L: Layer + ?Sized>(
    path: impl AsRef<Path>,
    net: &mut L,
) -> Result<CheckpointState, WeightError> {
    let path = path.as_ref();
    let bytes = weights::read_file(path)?;
    let file = weights::parse(&bytes, path)?;
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
    let epoch =
        usize::try_from(uint("/epoch")?).map_err(|_| bad("checkpoint epoch does not fit in usize".into()))?;
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
            .map_err(|e| weights::convert_error(e, path, &key))?;
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

    let plan = weights::plan(net, &file, path, &LoadOptions::default())?;
    weights::apply(net, plan);
    Ok(CheckpointState {
        epoch,
        optimizer_name,
        optimizer_iterations,
        optimizer,
        rng: RngState { seed, stream, word_pos },
        extra,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng as _, RngCore};

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
