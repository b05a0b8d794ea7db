//! Which instruction set the kernel uses: the widest the CPU has, detected once at run
//! time, unless `MLP_ISA` names another (like PyTorch's `ATEN_CPU_CAPABILITY`), so one
//! machine can test and benchmark every path it supports.

use alloc::vec::Vec;

/// An instruction-set path of the kernel; [`isa`](super::isa) tells which one runs.
///
/// ```
/// use mlp::kernel::{isa, Isa};
/// // The portable path runs everywhere.
/// assert!(Isa::Portable.supported());
/// assert!(isa().supported());
/// println!("products run on the {} path", isa());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Isa {
    /// Plain Rust, vectorized by the compiler for the baseline target (SSE2 on x86-64).
    Portable,
    /// AVX2 with FMA, eight lanes (x86-64 since Haswell and Zen).
    Avx2,
    /// AVX-512 F, sixteen lanes (x86-64 since Skylake-SP and Zen 4).
    Avx512,
}

impl Isa {
    /// Every path, narrowest first.
    pub const ALL: [Isa; 3] = [Isa::Portable, Isa::Avx2, Isa::Avx512];

    /// The name `MLP_ISA` takes: `portable`, `avx2` or `avx512`.
    pub fn name(self) -> &'static str {
        match self {
            Isa::Portable => "portable",
            Isa::Avx2 => "avx2",
            Isa::Avx512 => "avx512",
        }
    }

    /// Whether this CPU can run the path. Without std there is no run-time detection:
    /// only the portable path runs.
    pub fn supported(self) -> bool {
        match self {
            Isa::Portable => true,
            #[cfg(all(target_arch = "x86_64", feature = "std"))]
            Isa::Avx2 => is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma"),
            #[cfg(all(target_arch = "x86_64", feature = "std"))]
            Isa::Avx512 => Isa::Avx2.supported() && is_x86_feature_detected!("avx512f"),
            #[cfg(not(all(target_arch = "x86_64", feature = "std")))]
            _ => false,
        }
    }

    /// The paths this CPU can run, narrowest first: what the tests go through.
    pub fn supported_all() -> Vec<Isa> {
        Isa::ALL.into_iter().filter(|i| i.supported()).collect()
    }

    /// The widest path this CPU can run.
    pub fn best() -> Isa {
        Isa::ALL.into_iter().rev().find(|i| i.supported()).unwrap_or(Isa::Portable)
    }
}

impl core::fmt::Display for Isa {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

/// The path for this process: `MLP_ISA` if it names a path this CPU supports, else the
/// widest supported one. A value it cannot use is reported once on stderr, then ignored
/// (the product still runs, on the widest path).
#[cfg(feature = "std")]
pub(super) fn process_isa() -> Isa {
    static ACTIVE: std::sync::OnceLock<Isa> = std::sync::OnceLock::new();
    *ACTIVE.get_or_init(|| match std::env::var("MLP_ISA") {
        Err(_) => Isa::best(),
        Ok(v) => match from_env(&v) {
            Ok(isa) => isa,
            Err(why) => {
                eprintln!("mlp: MLP_ISA={v:?} ignored: {why}; using {}", Isa::best());
                Isa::best()
            }
        },
    })
}

/// Without std: the portable path.
#[cfg(not(feature = "std"))]
pub(super) fn process_isa() -> Isa {
    Isa::Portable
}

/// Parses `MLP_ISA`: a path's name that this CPU supports.
#[cfg(feature = "std")]
fn from_env(v: &str) -> Result<Isa, String> {
    let v = v.trim();
    let isa = Isa::ALL
        .into_iter()
        .find(|i| i.name().eq_ignore_ascii_case(v))
        .ok_or_else(|| "expected portable, avx2 or avx512".to_string())?;
    if isa.supported() {
        Ok(isa)
    } else {
        Err(format!("this CPU does not support {isa}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mlp_isa_values() {
        assert_eq!(from_env("portable"), Ok(Isa::Portable));
        assert_eq!(from_env(" AVX2 ").is_ok(), Isa::Avx2.supported());
        assert!(from_env("sse9").unwrap_err().contains("expected portable, avx2 or avx512"));
        if !Isa::Avx512.supported() {
            assert!(from_env("avx512").unwrap_err().contains("does not support avx512"));
        }
        assert!(Isa::supported_all().contains(&Isa::best()));
    }
}
