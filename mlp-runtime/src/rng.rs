//! The generator behind initializers, shuffling and dropout.

use rand::SeedableRng;

/// ChaCha8: a stream that is stable across platforms and versions, and whose state
/// (seed, stream, word position) can be saved, so checkpoints resume bit-identically.
pub type Rng = rand_chacha::ChaCha8Rng;

/// A generator from a `u64` seed.
pub fn seeded(seed: u64) -> Rng {
    Rng::seed_from_u64(seed)
}
