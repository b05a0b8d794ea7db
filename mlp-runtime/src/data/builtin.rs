//! Fashion-MNIST and MNIST: where to find them, how to check them, how to fetch them.
//!
//! `fashion_mnist::load()` looks, in order, in
//! 1. `$MLP_DATA_DIR/fashion-mnist/`,
//! 2. the user cache, `$MLP_CACHE_DIR/fashion-mnist/` or else
//!    `<cache dir>/mlp/fashion-mnist/` (`~/.cache/mlp/...` on Linux),
//! 3. `/usr/share/datasets/fashion-mnist/` (Debian's `dataset-fashion-mnist` package),
//!
//! for the four original files, each either gzip-compressed (`.gz`) or not. Failing
//! that, with the `download` feature (on by default), it downloads them into the cache.
//! Every file is checked against the sha256 of its *decompressed* content, so a copy
//! compressed by another tool still passes while a corrupt or different file does not.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::idx::{hex_digest, read_idx_from, Content, HashRead, MAX_IDX_BYTES};
use super::{DataError, Dataset, Idx};

/// One file of a data set: its name without `.gz`, the sha256 of its content, and the
/// content's size when known.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileSpec {
    /// The file name without `.gz` (`train-images-idx3-ubyte`).
    pub stem: String,
    /// Lowercase hex sha256 of the decompressed content.
    pub sha256: String,
    /// The decompressed size in bytes, header included (47 040 016 for the training
    /// images of MNIST). Reading or downloading the file never holds more: a file that
    /// inflates past it is an error ([`DataError::IdxTooLarge`]). `None`: at most
    /// [`MAX_IDX_BYTES`].
    pub size: Option<u64>,
}

impl FileSpec {
    /// A file spec from its name and checksum, of unknown size (see [`FileSpec::size`]).
    pub fn new(stem: impl Into<String>, sha256: impl Into<String>) -> Self {
        FileSpec { stem: stem.into(), sha256: sha256.into(), size: None }
    }

    /// The same spec with its decompressed size in bytes.
    #[must_use]
    pub fn with_size(self, size: u64) -> Self {
        FileSpec { size: Some(size), ..self }
    }

    /// The most bytes of content the file may have.
    pub(crate) fn limit(&self) -> u64 {
        self.size.unwrap_or(MAX_IDX_BYTES)
    }
}

/// The decompressed sizes of the four files of MNIST and Fashion-MNIST (the same
/// layout): 60 000 and 10 000 images of 28x28 bytes and their labels, with 16- and
/// 8-byte headers.
const MNIST_SIZES: [u64; 4] = [16 + 60_000 * 784, 8 + 60_000, 16 + 10_000 * 784, 8 + 10_000];

/// An IDX data set in the MNIST layout: four files, a train and a test split.
///
/// [`Source::fashion_mnist`] and [`Source::mnist`] describe the real ones; build your
/// own for other data sets in the same format (KMNIST, EMNIST...) or for tests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Source {
    /// Folder name under each search root (`fashion-mnist`).
    pub name: String,
    /// Train images, train labels, test images, test labels.
    pub files: [FileSpec; 4],
    /// URL the files' names (with `.gz`) are appended to for downloading.
    pub base_url: String,
    /// A Debian package that installs the data set, for the "not found" help.
    pub apt_package: Option<String>,
}

/// Where to look for a data set and where to download it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Search {
    /// Folders searched in order, each holding the data set's files directly.
    pub dirs: Vec<PathBuf>,
    /// Folder to download missing files into; `None` disables downloading.
    pub cache: Option<PathBuf>,
    /// Replaces the source's base URL when set.
    pub base_url: Option<String>,
}

impl Search {
    /// The standard search for the data set folder `name`, from the environment:
    /// `$MLP_DATA_DIR/<name>`, the user cache (`$MLP_CACHE_DIR/<name>`, else
    /// `<cache dir>/mlp/<name>`), `/usr/share/datasets/<name>`; downloads (with the
    /// `download` feature) go to the user cache, from `$MLP_DATA_URL` if set.
    ///
    /// This is the only place the data subsystem reads environment variables.
    pub fn from_env(name: &str) -> Search {
        let var = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
        let mut dirs = Vec::new();
        if let Some(d) = var("MLP_DATA_DIR") {
            dirs.push(PathBuf::from(d).join(name));
        }
        let cache = var("MLP_CACHE_DIR")
            .map(PathBuf::from)
            .or_else(|| dirs::cache_dir().map(|d| d.join("mlp")))
            .map(|d| d.join(name));
        dirs.extend(cache.clone());
        dirs.push(Path::new("/usr/share/datasets").join(name));
        Search {
            dirs,
            cache: cache.filter(|_| cfg!(feature = "download")),
            base_url: var("MLP_DATA_URL").map(|u| u.to_string_lossy().into_owned()),
        }
    }
}

/// The file names looked for, in order: compressed first, as distributed.
fn candidates(dir: &Path, stem: &str) -> [PathBuf; 2] {
    [dir.join(format!("{stem}.gz")), dir.join(stem)]
}

fn find(dir: &Path, stem: &str) -> Option<PathBuf> {
    candidates(dir, stem).into_iter().find(|p| p.is_file())
}

/// A candidate name that exists but is not a regular file (a folder or a FIFO named
/// like a data file), for the "not found" message.
fn irregular(dir: &Path, stem: &str) -> Option<PathBuf> {
    candidates(dir, stem).into_iter().find(|p| p.exists() && !p.is_file())
}

impl Source {
    /// Fashion-MNIST (Zalando Research, MIT license): 28x28 grey images of clothes,
    /// 10 classes (see [`fashion_mnist::CLASS_NAMES`]), 60 000 train and 10 000 test.
    pub fn fashion_mnist() -> Source {
        Source::sized(Source {
            name: "fashion-mnist".into(),
            files: [
                FileSpec::new(
                    "train-images-idx3-ubyte",
                    "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
                ),
                FileSpec::new(
                    "train-labels-idx1-ubyte",
                    "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
                ),
                FileSpec::new(
                    "t10k-images-idx3-ubyte",
                    "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
                ),
                FileSpec::new(
                    "t10k-labels-idx1-ubyte",
                    "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
                ),
            ],
            // Zalando's own mirror. It is an S3 *website* endpoint, which serves plain
            // HTTP only; the checksums make that safe.
            base_url: "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/".into(),
            apt_package: Some("dataset-fashion-mnist".into()),
        })
    }

    /// MNIST (LeCun, Cortes, Burges): 28x28 handwritten digits, 60 000 train and
    /// 10 000 test.
    pub fn mnist() -> Source {
        Source::sized(Source {
            name: "mnist".into(),
            files: [
                FileSpec::new(
                    "train-images-idx3-ubyte",
                    "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
                ),
                FileSpec::new(
                    "train-labels-idx1-ubyte",
                    "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
                ),
                FileSpec::new(
                    "t10k-images-idx3-ubyte",
                    "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
                ),
                FileSpec::new(
                    "t10k-labels-idx1-ubyte",
                    "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
                ),
            ],
            // PyTorch's mirror: LeCun's own site now refuses most automated downloads.
            base_url: "https://ossci-datasets.s3.amazonaws.com/mnist/".into(),
            apt_package: None,
        })
    }

    /// Gives the four files their MNIST-layout sizes.
    fn sized(mut self) -> Source {
        for (f, size) in self.files.iter_mut().zip(MNIST_SIZES) {
            f.size = Some(size);
        }
        self
    }

    /// Finds the four files (all in one folder of `search.dirs`), downloading into
    /// `search.cache` what is missing there if none has them all. Returns their paths;
    /// does not check their content (loading does).
    pub fn locate(&self, search: &Search) -> Result<[PathBuf; 4], DataError> {
        let mut searched = Vec::new();
        for dir in &search.dirs {
            let found: Vec<Option<PathBuf>> = self.files.iter().map(|f| find(dir, &f.stem)).collect();
            if let [Some(a), Some(b), Some(c), Some(d)] = found.as_slice() {
                return Ok([a.clone(), b.clone(), c.clone(), d.clone()]);
            }
            let why = if dir.is_dir() {
                let (mut missing, mut odd) = (Vec::new(), Vec::new());
                for (f, _) in self.files.iter().zip(&found).filter(|(_, p)| p.is_none()) {
                    match irregular(dir, &f.stem) {
                        Some(p) => odd.push(p.file_name().unwrap_or_default().to_string_lossy().into_owned()),
                        None => missing.push(format!("{}[.gz]", f.stem)),
                    }
                }
                let mut parts = Vec::new();
                if !missing.is_empty() {
                    parts.push(format!("missing {}", missing.join(", ")));
                }
                if !odd.is_empty() {
                    let verb = if odd.len() == 1 { "is" } else { "are" };
                    parts.push(format!("{} {verb} not a regular file", odd.join(", ")));
                }
                parts.join("; ")
            } else {
                "no such folder".to_owned()
            };
            searched.push((dir.clone(), why));
        }
        let download = match &search.cache {
            None if cfg!(feature = "download") => "disabled: no cache folder to download into".to_owned(),
            None => "disabled: built without the `download` feature of mlp".to_owned(),
            Some(cache) => match self.download_into(cache, search.base_url.as_deref()) {
                Ok(paths) => return Ok(paths),
                Err(e) => format!("failed: {e}"),
            },
        };
        let mut hint = format!(
            "set MLP_DATA_DIR to a folder that holds {}/ with the four files ({}, each .gz or not)",
            self.name,
            self.files.iter().map(|f| f.stem.as_str()).collect::<Vec<_>>().join(", "),
        );
        if let Some(pkg) = &self.apt_package {
            hint.push_str(&format!(", or install them with `apt install {pkg}`"));
        }
        hint.push_str(
            ", or connect to the internet with the `download` feature of mlp enabled (the default)",
        );
        Err(DataError::NotFound { name: self.name.clone(), searched, download, hint })
    }

    /// Downloads into `cache` each file not already there; the URL of each is
    /// `base_url` (or the source's) followed by the file name and `.gz`.
    fn download_into(&self, cache: &Path, base_url: Option<&str>) -> Result<[PathBuf; 4], DataError> {
        let base = base_url.unwrap_or(&self.base_url);
        let sep = if base.ends_with('/') { "" } else { "/" };
        super::download::remove_stale_parts(cache);
        let fetch = |f: &FileSpec| match find(cache, &f.stem) {
            Some(p) => Ok(p),
            None => super::download::download(&format!("{base}{sep}{}.gz", f.stem), cache, f),
        };
        let [a, b, c, d] = &self.files;
        Ok([fetch(a)?, fetch(b)?, fetch(c)?, fetch(d)?])
    }

    /// Loads the (train, test) splits found by `search`, pixels scaled to `[0, 1]`.
    pub fn load(&self, search: &Search) -> Result<(Dataset, Dataset), DataError> {
        self.load_files(&self.locate(search)?, 255.0)
    }

    /// Like [`Source::load`], pixels left in `0..=255` as floats.
    pub fn load_raw(&self, search: &Search) -> Result<(Dataset, Dataset), DataError> {
        self.load_files(&self.locate(search)?, 1.0)
    }

    /// Loads the (train, test) splits from exactly the folder `dir` (nothing else is
    /// searched or downloaded), pixels scaled to `[0, 1]`.
    pub fn load_from(&self, dir: impl AsRef<Path>) -> Result<(Dataset, Dataset), DataError> {
        let dir = dir.as_ref();
        let search = Search { dirs: vec![dir.to_owned()], ..Search::default() };
        // The search's hint (MLP_DATA_DIR, apt, downloading) is about `load`, which this
        // is not: say what this folder needs instead.
        self.load(&search).map_err(|e| match e {
            DataError::NotFound { name, searched, .. } => DataError::NotFound {
                download: "not tried: `load_from` reads only the folder it is given".to_owned(),
                hint: format!(
                    "put the four files ({}, each .gz or not) in {}, or call `load()` to search \
                     MLP_DATA_DIR and the user cache and to download",
                    self.files.iter().map(|f| f.stem.as_str()).collect::<Vec<_>>().join(", "),
                    dir.display(),
                ),
                name,
                searched,
            },
            other => other,
        })
    }

    fn load_files(&self, paths: &[PathBuf; 4], divisor: f32) -> Result<(Dataset, Dataset), DataError> {
        let [p0, p1, p2, p3] = paths;
        let [f0, f1, f2, f3] = &self.files;
        let train = Dataset::from_idx(&read_checked(p0, f0)?, &read_checked(p1, f1)?, divisor)?;
        let test = Dataset::from_idx(&read_checked(p2, f2)?, &read_checked(p3, f3)?, divisor)?;
        Ok((train, test))
    }
}

/// Reads an IDX file as a stream, never holding more than the spec's size, and checks
/// the sha256 of its decompressed content on the way.
fn read_checked(path: &Path, spec: &FileSpec) -> Result<Idx, DataError> {
    let limit = spec.limit();
    let mut content = Content::open(path, limit)?;
    let mut hasher = Sha256::new();
    let reader = HashRead { inner: &mut content.reader, hasher: &mut hasher };
    let idx = read_idx_from(reader, path, limit, content.raw_len, content.gz)?;
    let found = hex_digest(hasher);
    if !found.eq_ignore_ascii_case(&spec.sha256) {
        return Err(DataError::Checksum { path: path.to_owned(), expected: spec.sha256.clone(), found });
    }
    Ok(idx)
}

/// Fashion-MNIST, Keras' `keras.datasets.fashion_mnist`.
///
/// ```no_run
/// use mlp_runtime::prelude::*;
/// let (train, test) = fashion_mnist::load()?;
/// let (train, valid) = train.split_last(5000.0 / 60000.0)?;
/// println!("{} of {}", fashion_mnist::CLASS_NAMES[train.class(0).unwrap() as usize], train.len());
/// # Ok::<(), DataError>(())
/// ```
pub mod fashion_mnist {
    use super::{DataError, Dataset, Path, Search, Source};

    /// Class names by label.
    pub const CLASS_NAMES: [&str; 10] = [
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ];

    /// The data set's description: files, checksums, download URL.
    pub fn source() -> Source {
        Source::fashion_mnist()
    }

    /// (train, test): 60 000 and 10 000 images of width 784, pixels scaled to `[0, 1]`
    /// (Keras returns bytes and users divide by 255; this does it for you), classes
    /// 0-9. Searches the places listed in [`Search::from_env`](super::Search::from_env), then downloads.
    /// [`DataError::NotFound`] when it is nowhere and cannot be downloaded.
    pub fn load() -> Result<(Dataset, Dataset), DataError> {
        let s = source();
        s.load(&Search::from_env(&s.name))
    }

    /// Like [`load`], pixels left in `0..=255`.
    pub fn load_raw() -> Result<(Dataset, Dataset), DataError> {
        let s = source();
        s.load_raw(&Search::from_env(&s.name))
    }

    /// Like [`load`], from exactly the folder `dir`.
    pub fn load_from(dir: impl AsRef<Path>) -> Result<(Dataset, Dataset), DataError> {
        source().load_from(dir)
    }
}

/// MNIST, Keras' `keras.datasets.mnist`.
pub mod mnist {
    use super::{DataError, Dataset, Path, Search, Source};

    /// The data set's description: files, checksums, download URL.
    pub fn source() -> Source {
        Source::mnist()
    }

    /// (train, test): 60 000 and 10 000 digit images of width 784, pixels scaled to
    /// `[0, 1]`, classes 0-9. Searches the places listed in [`Search::from_env`](super::Search::from_env),
    /// then downloads. [`DataError::NotFound`] when it is nowhere and cannot be
    /// downloaded.
    pub fn load() -> Result<(Dataset, Dataset), DataError> {
        let s = source();
        s.load(&Search::from_env(&s.name))
    }

    /// Like [`load`], pixels left in `0..=255`.
    pub fn load_raw() -> Result<(Dataset, Dataset), DataError> {
        let s = source();
        s.load_raw(&Search::from_env(&s.name))
    }

    /// Like [`load`], from exactly the folder `dir`.
    pub fn load_from(dir: impl AsRef<Path>) -> Result<(Dataset, Dataset), DataError> {
        source().load_from(dir)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn load_from_an_empty_folder_says_what_the_folder_needs() {
        let dir = tempfile::tempdir().unwrap();
        let err = super::fashion_mnist::load_from(dir.path()).unwrap_err().to_string();
        assert!(err.starts_with("data set fashion-mnist not found; looked in:"), "{err}");
        assert!(err.contains("download: not tried: `load_from` reads only the folder it is given"), "{err}");
        assert!(err.contains("help: put the four files (train-images-idx3-ubyte"), "{err}");
        assert!(err.contains(&dir.path().display().to_string()), "{err}");
        assert!(!err.contains("set MLP_DATA_DIR"), "{err}");
    }
}
