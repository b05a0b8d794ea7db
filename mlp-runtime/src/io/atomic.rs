//! Writing a file so that a reader sees the old content or the new, never a mix.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Distinguishes temporary files of concurrent saves within one process.
static COUNTER: AtomicU64 = AtomicU64::new(0);

/// The temporary file beside `path`: `<name>.tmp-<pid>-<n>`, in the same directory so the
/// rename stays on one file system.
fn temporary(path: &Path) -> io::Result<PathBuf> {
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "the path does not end in a file name"))?;
    let mut tmp = name.to_os_string();
    tmp.push(format!(".tmp-{}-{}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed)));
    Ok(path.with_file_name(tmp))
}

/// Writes `path` through `write`: into a temporary file in the same directory, synced to
/// disk, then renamed over `path`. On any failure the temporary file is removed and
/// whatever `path` held before is untouched.
pub(crate) fn write_with(path: &Path, write: impl FnOnce(&mut File) -> io::Result<()>) -> io::Result<()> {
    let tmp = temporary(path)?;
    let result = (|| {
        // Not `create_new`: a stale temporary left by a crashed process that had the same
        // pid must not block saving forever. No live writer shares the name (pid + counter).
        let mut file = OpenOptions::new().write(true).create(true).truncate(true).open(&tmp)?;
        write(&mut file)?;
        file.flush()?;
        file.sync_all()?;
        drop(file);
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
        return result;
    }
    sync_parent(path);
    Ok(())
}

/// Writes `bytes` to `path` atomically (see [`write_with`]).
pub(crate) fn write(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_with(path, |f| f.write_all(bytes))
}

/// Makes the rename itself durable where the platform allows (best effort: the data is
/// already synced, and some file systems refuse to open directories).
fn sync_parent(path: &Path) {
    #[cfg(unix)]
    {
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leftovers(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains(".tmp-"))
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_failing_writer_leaves_the_old_file_and_no_temporary() -> io::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("w.bin");
        write(&path, b"old content")?;
        let err = write_with(&path, |f| {
            f.write_all(b"half of the new")?;
            Err(io::Error::other("disk full"))
        });
        assert_eq!(err.map_err(|e| e.to_string()), Err("disk full".to_string()));
        assert_eq!(fs::read(&path)?, b"old content");
        assert_eq!(leftovers(dir.path()), Vec::<String>::new());
        write(&path, b"new")?;
        assert_eq!(fs::read(&path)?, b"new");
        Ok(())
    }

    #[test]
    fn a_failing_rename_removes_the_temporary() -> io::Result<()> {
        let dir = tempfile::tempdir()?;
        let target = dir.path().join("occupied");
        fs::create_dir(&target)?;
        fs::write(target.join("inside"), b"keep")?;
        assert!(write(&target, b"data").is_err());
        assert_eq!(fs::read(target.join("inside"))?, b"keep");
        assert_eq!(leftovers(dir.path()), Vec::<String>::new());
        Ok(())
    }

    #[test]
    fn a_path_without_a_file_name_is_refused() {
        assert!(write(Path::new("/"), b"x").is_err());
        assert!(write(Path::new(""), b"x").is_err());
    }
}
