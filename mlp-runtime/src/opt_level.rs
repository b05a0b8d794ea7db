//! One line on stderr when this crate was compiled without optimization (issue 13).
//!
//! Generic code (`Dense<784, 300>`, `Model::fit`) is compiled in the user's crate, at the
//! user's opt-level, so a plain `cargo run` trains ~250x slower than `--release` (measured
//! from a fresh crate, README "Use it in your crate") and nothing says why. `build.rs`
//! sets `mlp_unoptimized` when this crate itself is built at opt-level 0; it cannot see a
//! user crate at opt-level 0 whose dependencies are optimized.
//!
//! `MLP_NO_DEBUG_WARNING` set to anything but empty or `0` silences the line.

use std::ffi::{OsStr, OsString};
use std::sync::Once;

/// The environment variable that silences the warning.
const SILENCE: &str = "MLP_NO_DEBUG_WARNING";

/// Prints the warning on stderr, at most once per process, if it applies.
pub(crate) fn warn_if_unoptimized() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if let Some(line) = message(cfg!(mlp_unoptimized), std::env::var_os(SILENCE)) {
            eprintln!("{line}");
        }
    });
}

/// The warning, or `None` when the build is optimized or the user silenced it.
fn message(unoptimized: bool, silenced: Option<OsString>) -> Option<String> {
    let silenced = silenced.is_some_and(|v| !v.is_empty() && v != OsStr::new("0"));
    (unoptimized && !silenced).then(|| {
        format!(
            "mlp: this build of mlp-runtime is not optimized (opt-level 0): training runs \
             ~250x slower than release; see \"Use it in your crate\" in mlp's README \
             (set {SILENCE}=1 to silence)"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warns_when_unoptimized_and_not_silenced() {
        let line = message(true, None).unwrap();
        assert!(line.starts_with("mlp: "));
        assert!(line.contains("opt-level 0"));
        assert!(line.contains("Use it in your crate"));
        assert!(line.contains("MLP_NO_DEBUG_WARNING=1"));
        assert!(!line.contains('\n'), "one line");
    }

    #[test]
    fn silent_when_optimized() {
        assert_eq!(message(false, None), None);
        assert_eq!(message(false, Some("1".into())), None);
    }

    #[test]
    fn any_value_but_empty_or_zero_silences() {
        for v in ["1", "yes", "true"] {
            assert_eq!(message(true, Some(v.into())), None, "{v}");
        }
        for v in ["", "0"] {
            assert!(message(true, Some(v.into())).is_some(), "{v:?}");
        }
    }
}
