//! How a file's keys map to the network's tensor names ([`LoadOptions`]): PyTorch's
//! `state_dict` keys, a bigger model's prefix, renamed or skipped keys; and the near name
//! suggested when one does not match.

use alloc::boxed::Box;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

/// Keys under this prefix hold a checkpoint's optimizer state; weight loading ignores them,
/// so a checkpoint is also a weight file.
pub(crate) const OPTIMIZER_PREFIX: &str = "__optimizer.";

/// A key mapping for [`LoadOptions::map`]: file key in, network name out (`None` ignores the key).
pub type KeyMap<'a> = Box<dyn Fn(&str) -> Option<String> + 'a>;

/// How loading ([`load_from_bytes`](super::load_from_bytes), and with std `load_weights_with`)
/// maps a file's tensor names to the network's.
///
/// Each key of the file goes through these steps, in order:
/// 1. keys under `__optimizer.` (a checkpoint's optimizer state) are ignored;
/// 2. keys matched by [`skip`](LoadOptions::skip) are ignored;
/// 3. with a [`prefix`](LoadOptions::prefix), keys not under it are ignored and the prefix is
///    stripped from the others;
/// 4. the first matching [`rename`](LoadOptions::rename) replaces a leading run of segments;
/// 5. the [`map`](LoadOptions::map) closure, if any, has the last word (`None` ignores the key).
///
/// The result must be a network tensor, unless [`allow_extra`](LoadOptions::allow_extra).
///
/// ```
/// use mlp::prelude::*;
/// // A PyTorch nn.Sequential(Flatten, Linear, BatchNorm1d, ReLU, Linear) state_dict:
/// let opts = LoadOptions::new()
///     .rename("1", "dense_0")
///     .rename("2", "batch_norm_0")
///     .rename("4", "dense_1")
///     .skip("num_batches_tracked");
/// assert_eq!(opts.map_key("2.running_var").as_deref(), Some("batch_norm_0.running_var"));
/// assert_eq!(opts.map_key("2.num_batches_tracked"), None);
/// // The trunk of a bigger model's file:
/// let opts = LoadOptions::new().prefix("features");
/// assert_eq!(opts.map_key("features.dense_0.bias").as_deref(), Some("dense_0.bias"));
/// assert_eq!(opts.map_key("dense_0.bias"), None);
/// ```
#[derive(Default)]
pub struct LoadOptions<'a> {
    /// Take only keys under this prefix (`"features"` or `"features."`: whole segments) and
    /// strip it: a trunk's weights from a bigger model's file.
    pub(crate) prefix: Option<String>,
    /// Prefix renames `(from, to)`, on whole `.`-separated segments, first match wins:
    /// `("1", "dense_0")` turns `1.weight` into `dense_0.weight` but leaves `10.weight`. An
    /// empty `from` prepends `to` to every key (a trunk's file into a bigger network's
    /// `features`); an empty `to` strips `from`.
    pub(crate) rename: Vec<(String, String)>,
    /// Names to ignore, as whole `.`-separated segments at the start or the end of a key:
    /// `"dense_3"` skips `dense_3.weight` and `dense_3.bias` (a layer, as when reusing a
    /// model's lower layers) but not `residual_0.dense_3.bias` (skip that layer as
    /// `"residual_0.dense_3"`) nor `dense_30.bias`; `"num_batches_tracked"` skips PyTorch's
    /// `2.num_batches_tracked`. Checked on the file's key and on the mapped name; a skipped
    /// tensor of the network is not missing: it keeps its values.
    pub(crate) skip: Vec<String>,
    /// Any other key mapping: applied last; `None` ignores the key.
    pub(crate) map: Option<KeyMap<'a>>,
    /// Ignore file tensors the network does not have instead of failing.
    pub(crate) allow_extra: bool,
    /// Leave network tensors the file lacks as they are instead of failing (PyTorch's
    /// `strict=False`): for loading a pretrained trunk into a network with a new head.
    pub(crate) allow_missing: bool,
    /// Load NaN and infinite values instead of failing ([`LoadError::NonFinite`](super::LoadError::NonFinite)): for
    /// inspecting a run that diverged. Off by default, since such a network only looks untrained.
    pub(crate) allow_non_finite: bool,
}

impl fmt::Debug for LoadOptions<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoadOptions")
            .field("prefix", &self.prefix)
            .field("rename", &self.rename)
            .field("skip", &self.skip)
            .field("map", &self.map.as_ref().map(|_| "<closure>"))
            .field("allow_extra", &self.allow_extra)
            .field("allow_missing", &self.allow_missing)
            .field("allow_non_finite", &self.allow_non_finite)
            .finish()
    }
}

impl<'a> LoadOptions<'a> {
    /// Strict loading: every name must match, nothing renamed.
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes only keys under `prefix` and strips it (see [`LoadOptions::prefix`]).
    #[must_use]
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = Some(prefix.into());
        self
    }

    /// Adds a prefix rename (see [`LoadOptions::rename`]).
    #[must_use]
    pub fn rename(mut self, from: impl Into<String>, to: impl Into<String>) -> Self {
        self.rename.push((from.into(), to.into()));
        self
    }

    /// Skips a name (see [`LoadOptions::skip`]).
    #[must_use]
    pub fn skip(mut self, name: impl Into<String>) -> Self {
        self.skip.push(name.into());
        self
    }

    /// Sets the final key mapping (see [`LoadOptions::map`]).
    #[must_use]
    pub fn map(mut self, f: impl Fn(&str) -> Option<String> + 'a) -> Self {
        self.map = Some(Box::new(f));
        self
    }

    /// Ignores file tensors the network does not have.
    #[must_use]
    pub fn allow_extra(mut self, allow: bool) -> Self {
        self.allow_extra = allow;
        self
    }

    /// Leaves network tensors the file lacks untouched.
    #[must_use]
    pub fn allow_missing(mut self, allow: bool) -> Self {
        self.allow_missing = allow;
        self
    }

    /// Loads NaN and infinite values instead of failing (see [`LoadOptions::allow_non_finite`]).
    ///
    /// ```
    /// use mlp::prelude::*;
    /// network! { Net< input(2); dense(1) > }
    /// let mut diverged = Net::seeded(0);
    /// mlp::tensors::for_each_tensor(&mut diverged, |_, mut t| t.value().fill(f32::NAN));
    /// let bytes = mlp::io::weights_to_bytes(&diverged)?;
    /// let mut net = Net::seeded(0);
    /// let err = mlp::io::load_from_bytes(&mut net, &bytes, &LoadOptions::new()).unwrap_err();
    /// assert!(err.to_string().starts_with("tensor `dense_0.weight` in <bytes> holds NaN at index 0"), "{err}");
    /// mlp::io::load_from_bytes(&mut net, &bytes, &LoadOptions::new().allow_non_finite(true))?;
    /// assert!(net.get_tensor("dense_0.bias").unwrap()[0].is_nan());
    /// # Ok::<(), WeightError>(())
    /// ```
    #[must_use]
    pub fn allow_non_finite(mut self, allow: bool) -> Self {
        self.allow_non_finite = allow;
        self
    }

    /// Whether `key` holds a skipped run of segments.
    pub(crate) fn skips(&self, key: &str) -> bool {
        self.skip.iter().filter(|s| !s.is_empty()).any(|s| {
            let leading =
                key.strip_prefix(s.as_str()).is_some_and(|tail| tail.is_empty() || tail.starts_with('.'));
            leading || key.strip_suffix(s.as_str()).is_some_and(|head| head.ends_with('.'))
        })
    }

    /// The network name a file key maps to, or `None` if the key is ignored.
    pub fn map_key(&self, key: &str) -> Option<String> {
        if key.starts_with(OPTIMIZER_PREFIX) || self.skips(key) {
            return None;
        }
        let mut name = match &self.prefix {
            Some(p) if !p.is_empty() => strip_segments(key, p.strip_suffix('.').unwrap_or(p))?.to_string(),
            _ => key.to_string(),
        };
        for (from, to) in &self.rename {
            let rest = if from.is_empty() { Some(name.as_str()) } else { strip_segments(&name, from) };
            if let Some(rest) = rest {
                name = match (to.is_empty(), rest.is_empty()) {
                    (true, _) => rest.to_string(),
                    (false, true) => to.clone(),
                    (false, false) => format!("{to}.{rest}"),
                };
                break;
            }
        }
        if let Some(map) = &self.map {
            name = map(&name)?;
        }
        (!self.skips(&name)).then_some(name)
    }
}

/// `key` without the leading segments `prefix` (`"1"` strips `1.weight` to `weight` and
/// `1` to ``, but does not match `10.weight`).
fn strip_segments<'k>(key: &'k str, prefix: &str) -> Option<&'k str> {
    let rest = key.strip_prefix(prefix)?;
    if rest.is_empty() {
        Some(rest)
    } else {
        rest.strip_prefix('.')
    }
}

/// The candidate closest to `name` by edit distance, if close enough to be a likely typo.
pub(crate) fn closest(name: &str, candidates: &[String]) -> Option<String> {
    let limit = (name.chars().count() / 3).max(2);
    candidates
        .iter()
        .map(|c| (levenshtein(name, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c.clone())
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renames_match_whole_segments() {
        let o = LoadOptions::new().rename("1", "dense_0").rename("", "features");
        assert_eq!(o.map_key("1.weight").as_deref(), Some("dense_0.weight"));
        assert_eq!(o.map_key("10.weight").as_deref(), Some("features.10.weight"));
        assert_eq!(o.map_key("1").as_deref(), Some("dense_0"));
        let o = LoadOptions::new().rename("features", "");
        assert_eq!(o.map_key("features.dense_0.bias").as_deref(), Some("dense_0.bias"));
        assert_eq!(o.map_key("features_x.bias").as_deref(), Some("features_x.bias"));
    }

    #[test]
    fn skips_match_whole_leading_or_trailing_segments() {
        let o = LoadOptions::new().skip("num_batches_tracked");
        assert_eq!(o.map_key("2.num_batches_tracked"), None);
        assert_eq!(o.map_key("num_batches_tracked"), None);
        assert_eq!(o.map_key("2.xnum_batches_tracked").as_deref(), Some("2.xnum_batches_tracked"));
        assert_eq!(o.map_key("__optimizer.0.m"), None);
        // A layer by name, at the top or inside a block; whole segments only.
        let o = LoadOptions::new().skip("dense_3").skip("residual_0.dense_1");
        assert_eq!(o.map_key("dense_3.weight"), None);
        assert_eq!(o.map_key("dense_3.bias"), None);
        assert_eq!(o.map_key("dense_3"), None);
        assert_eq!(o.map_key("dense_30.bias").as_deref(), Some("dense_30.bias"));
        assert_eq!(o.map_key("residual_0.dense_1.weight"), None);
        assert_eq!(o.map_key("residual_0.dense_0.weight").as_deref(), Some("residual_0.dense_0.weight"));
        assert_eq!(o.map_key("residual_1.dense_3.bias").as_deref(), Some("residual_1.dense_3.bias"));
        assert_eq!(LoadOptions::new().skip("").map_key("a.b").as_deref(), Some("a.b"));
    }

    #[test]
    fn prefixes_with_or_without_a_dot_and_a_final_map() {
        for p in ["features", "features."] {
            let o =
                LoadOptions::new().prefix(p).map(|k| k.strip_suffix(".gamma").map(|h| format!("{h}.weight")));
            assert_eq!(o.map_key("features.bn.gamma").as_deref(), Some("bn.weight"));
            assert_eq!(o.map_key("features.bn.beta"), None);
            assert_eq!(o.map_key("featuresx.bn.gamma"), None);
        }
    }

    #[test]
    fn suggestions_only_for_near_names() {
        let names = ["dense_0.weight".to_string(), "dense_0.bias".to_string()];
        assert_eq!(closest("dense_0.weights", &names).as_deref(), Some("dense_0.weight"));
        assert_eq!(closest("dense_1.bias", &names).as_deref(), Some("dense_0.bias"));
        assert_eq!(closest("1.weight", &names), None);
        assert_eq!(levenshtein("kitten", "sitting"), 3);
        assert_eq!(levenshtein("", "abc"), 3);
    }
}
