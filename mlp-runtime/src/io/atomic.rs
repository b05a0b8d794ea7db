//! The one way this crate writes a file: a reader sees the old content or the new, never a
//! mix, and whatever sat at the path is either replaced as a regular file or left alone.
//!
//! [`write_with`]:
//! - follows symlinks (chains too) and replaces the file they end at, so the link stays;
//! - refuses a target that is not a regular file (directory, device, FIFO, socket),
//!   before anything is written;
//! - writes a temporary file beside the target, with the target's permissions (and owner,
//!   where allowed), syncs it and renames it over the target;
//! - names temporaries `<name>.tmp-<pid>-<n>`, with a long name shortened and hashed so the
//!   temporary fits NAME_MAX (255 bytes);
//! - removes temporaries of the same target left by killed saves. A writer holds an
//!   exclusive advisory lock on its temporary for its whole life, so a temporary whose lock
//!   can be taken belongs to no one; a live concurrent save's is never touched.

use std::ffi::{OsStr, OsString};
use std::fs::{self, File, Metadata, OpenOptions, TryLockError};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use sha2::{Digest, Sha256};

/// Distinguishes temporary files of concurrent saves within one process.
static COUNTER: AtomicU64 = AtomicU64::new(0);

/// The longest file name most file systems allow, in bytes.
const NAME_MAX: usize = 255;

/// The longest suffix a temporary gets: `.tmp-` + a u32 pid + `-` + a u64 counter.
const SUFFIX_MAX: usize = ".tmp-".len() + 10 + 1 + 20;

/// Linux's own limit on symlinks followed in one lookup.
const MAX_LINKS: usize = 40;

/// Writes `path` through `write`: into a temporary file beside the file `path` resolves
/// to, synced to disk, then renamed over it (see the [module docs](self)). On any failure
/// the temporary file is removed and whatever `path` held before is untouched.
pub(crate) fn write_with(path: &Path, write: impl FnOnce(&mut File) -> io::Result<()>) -> io::Result<()> {
    let Place { target, existing, dir, base } = place(path)?;
    remove_stale(&dir, &base);
    let (tmp, mut file) = create_temporary(&dir, &base, existing.as_ref())?;
    // `file` (and with it the lock) lives until after the rename, so no cleaner can take
    // the temporary away between the sync and the rename.
    let result = (|| {
        write(&mut file)?;
        file.flush()?;
        file.sync_all()?;
        fs::rename(&tmp, &target)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
        return result;
    }
    drop(file);
    sync_dir(&dir);
    Ok(())
}

/// Where a save of `path` writes: the file it resolves to (and its metadata, if it
/// exists), that file's folder, and the base name of its temporaries.
struct Place {
    target: PathBuf,
    existing: Option<Metadata>,
    dir: PathBuf,
    base: OsString,
}

/// Resolves `path` for a save: an error unless it ends in a file name and resolves to a
/// regular file or to nothing.
fn place(path: &Path) -> io::Result<Place> {
    let (target, existing) = resolve(path)?;
    let name = target
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "the path does not end in a file name"))?;
    let base = temporary_base(name);
    let dir = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    Ok(Place { target, existing, dir, base })
}

/// Checks, before the work whose result will be saved at `path`, that the save can
/// succeed: `path` ends in a file name, resolves (through any symlinks) to a regular file
/// or to nothing, and its folder takes a new file (a probe file is created there and
/// removed). The error says what is wrong; callers add the path.
///
/// ```
/// let dir = tempfile::tempdir()?;
/// mlp_runtime::io::check_writable(dir.path().join("model.safetensors"))?;
/// assert!(mlp_runtime::io::check_writable(dir.path()).is_err()); // a directory
/// assert!(mlp_runtime::io::check_writable(dir.path().join("no/such/folder/m.bin")).is_err());
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn check_writable(path: impl AsRef<Path>) -> io::Result<()> {
    let Place { dir, base, .. } = place(path.as_ref())?;
    // A temporary like a save's, so a probe left by a killed process is cleaned like one.
    let (probe, file) = create_temporary(&dir, &base, None)
        .map_err(|e| io::Error::new(e.kind(), format!("cannot create a file in {}: {e}", dir.display())))?;
    drop(file);
    fs::remove_file(&probe)
}

/// Writes `bytes` to `path` atomically (see [`write_with`]).
pub(crate) fn write(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_with(path, |f| f.write_all(bytes))
}

/// The file `path` ends at after following symlinks, with its metadata if it exists.
/// Anything but a regular file (or nothing) there is an error.
fn resolve(path: &Path) -> io::Result<(PathBuf, Option<Metadata>)> {
    let mut p = path.to_path_buf();
    for _ in 0..=MAX_LINKS {
        match fs::symlink_metadata(&p) {
            // Nothing there (a dangling link included): the file will be created, as a
            // shell's `>` would.
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok((p, None)),
            Err(e) => return Err(e),
            Ok(m) if m.file_type().is_symlink() => {
                let dest = fs::read_link(&p)?;
                // A relative link is relative to its own directory; `join` keeps an absolute one.
                p = p.parent().map_or_else(|| dest.clone(), |dir| dir.join(&dest));
            }
            Ok(m) if m.is_file() => return Ok((p, Some(m))),
            Ok(m) => {
                let what = kind(&m);
                let msg = if p == path {
                    format!("not a regular file but {what}; refusing to replace it")
                } else {
                    format!(
                        "links to {}, which is not a regular file but {what}; refusing to replace it",
                        p.display()
                    )
                };
                return Err(io::Error::new(io::ErrorKind::InvalidInput, msg));
            }
        }
    }
    Err(io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("more than {MAX_LINKS} levels of symbolic links"),
    ))
}

/// What a non-regular file is, for messages.
fn kind(m: &Metadata) -> &'static str {
    if m.is_dir() {
        return "a directory";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let t = m.file_type();
        if t.is_char_device() {
            return "a character device";
        }
        if t.is_block_device() {
            return "a block device";
        }
        if t.is_fifo() {
            return "a FIFO";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    "a special file"
}

/// What temporaries of the file `name` start with: the name itself, or, when the name is
/// too long for the suffix to fit NAME_MAX, its head and a hash of the whole (so two long
/// names with the same head get different temporaries). The same name always gives the
/// same base, which is how stale temporaries are found.
fn temporary_base(name: &OsStr) -> OsString {
    if name.as_encoded_bytes().len() + SUFFIX_MAX <= NAME_MAX {
        return name.to_os_string();
    }
    let hash = Sha256::digest(name.as_encoded_bytes());
    let hex: String = hash[..8].iter().map(|b| format!("{b:02x}")).collect();
    let keep = NAME_MAX - SUFFIX_MAX - 1 - hex.len();
    // Cut at a character boundary so the temporary's name stays readable.
    let lossy = name.to_string_lossy();
    let mut end = keep.min(lossy.len());
    while !lossy.is_char_boundary(end) {
        end -= 1;
    }
    OsString::from(format!("{}~{hex}", &lossy[..end]))
}

/// Whether `file_name` is a temporary of the target whose base is `base`:
/// `<base>.tmp-<digits>-<digits>` exactly, so a user's `model.tmp-old` is never one.
fn is_temporary_of(file_name: &OsStr, base: &OsStr) -> bool {
    let name = file_name.as_encoded_bytes();
    let Some(rest) = name.strip_prefix(base.as_encoded_bytes()).and_then(|r| r.strip_prefix(b".tmp-")) else {
        return false;
    };
    let mut parts = rest.split(|&b| b == b'-');
    let digits = |p: Option<&[u8]>| p.is_some_and(|p| !p.is_empty() && p.iter().all(u8::is_ascii_digit));
    digits(parts.next()) && digits(parts.next()) && parts.next().is_none()
}

/// Removes every temporary of the same target in `dir` whose writer is gone (its lock can
/// be taken). Best effort: a temporary that cannot be inspected is left.
fn remove_stale(dir: &Path, base: &OsStr) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        if is_temporary_of(&entry.file_name(), base) {
            remove_if_stale(&entry.path());
        }
    }
}

fn remove_if_stale(p: &Path) {
    if !fs::symlink_metadata(p).is_ok_and(|m| m.is_file()) {
        return;
    }
    let mut opts = OpenOptions::new();
    opts.read(true);
    #[cfg(unix)]
    {
        // Something swapped in since the check must not make this hang (a FIFO) or follow.
        use std::os::unix::fs::OpenOptionsExt;
        opts.custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW);
    }
    let Ok(f) = opts.open(p) else { return };
    // Locked: a live save. An error: no locking here, so liveness is unknown; keep it.
    if f.try_lock().is_err() {
        return;
    }
    if same_file(&f, p) {
        let _ = fs::remove_file(p);
    }
}

/// Creates and locks a new temporary in `dir`, with `like`'s permissions if given.
fn create_temporary(dir: &Path, base: &OsStr, like: Option<&Metadata>) -> io::Result<(PathBuf, File)> {
    for _ in 0..100 {
        let mut name = base.to_os_string();
        name.push(format!(".tmp-{}-{}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed)));
        let tmp = dir.join(name);
        let mut opts = OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        if like.is_some() {
            // Owner-only until the target's own mode is copied below.
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let file = match opts.open(&tmp) {
            // A stale temporary of a process that had our pid, which could not be removed.
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            r => r?,
        };
        match file.try_lock() {
            Ok(()) => {}
            // A cleaner took it between create and lock and is about to remove it.
            Err(TryLockError::WouldBlock) => continue,
            // No advisory locks on this file system: cleaners then never remove it either.
            Err(TryLockError::Error(_)) => {}
        }
        // A cleaner may have removed it between create and lock.
        if !same_file(&file, &tmp) {
            continue;
        }
        if let Some(meta) = like {
            if let Err(e) = copy_permissions(&file, meta) {
                let _ = fs::remove_file(&tmp);
                return Err(e);
            }
        }
        return Ok((tmp, file));
    }
    Err(io::Error::other("could not create a temporary file beside the target (100 attempts)"))
}

/// Gives `file` the owner (where allowed) and mode of `meta`.
fn copy_permissions(file: &File, meta: &Metadata) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let mine = file.metadata()?;
        if (mine.uid(), mine.gid()) != (meta.uid(), meta.gid()) {
            // Only root (or a member of the group) may; otherwise the saver owns the new file.
            let _ = std::os::unix::fs::fchown(file, Some(meta.uid()), Some(meta.gid()));
        }
    }
    // After the chown, which clears set-id bits.
    file.set_permissions(meta.permissions())
}

/// Whether `path` still names the open `file`.
fn same_file(file: &File, path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        match (file.metadata(), fs::symlink_metadata(path)) {
            (Ok(a), Ok(b)) => (a.dev(), a.ino()) == (b.dev(), b.ino()),
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = (file, path);
        true
    }
}

/// Makes the rename itself durable where the platform allows (best effort: the data is
/// already synced, and some file systems refuse to open directories).
fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
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
    fn a_directory_is_refused_and_left_alone() -> io::Result<()> {
        let dir = tempfile::tempdir()?;
        let target = dir.path().join("occupied");
        fs::create_dir(&target)?;
        fs::write(target.join("inside"), b"keep")?;
        let err = write(&target, b"data").unwrap_err();
        assert_eq!(err.to_string(), "not a regular file but a directory; refusing to replace it");
        assert_eq!(fs::read(target.join("inside"))?, b"keep");
        assert_eq!(leftovers(dir.path()), Vec::<String>::new());
        Ok(())
    }

    #[test]
    fn a_path_without_a_file_name_is_refused() {
        for p in ["/", ""] {
            assert!(write(Path::new(p), b"x").is_err(), "{p}");
            assert!(place(Path::new(p)).is_err(), "{p}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_chain_is_followed_and_its_final_target_replaced() -> io::Result<()> {
        use std::os::unix::fs::symlink;
        let dir = tempfile::tempdir()?;
        let real_dir = dir.path().join("real");
        fs::create_dir(&real_dir)?;
        let target = real_dir.join("model.bin");
        fs::write(&target, b"old")?;
        // link2 -> link1 (relative, in another directory) -> real/model.bin
        let link1 = dir.path().join("link1");
        symlink("real/model.bin", &link1)?;
        let links = dir.path().join("links");
        fs::create_dir(&links)?;
        let link2 = links.join("link2");
        symlink(&link1, &link2)?;

        write(&link2, b"new")?;
        assert_eq!(fs::read(&target)?, b"new");
        assert!(fs::symlink_metadata(&link1)?.file_type().is_symlink());
        assert!(fs::symlink_metadata(&link2)?.file_type().is_symlink());
        assert_eq!(fs::read_link(&link1)?, Path::new("real/model.bin"));
        // The temporary was beside the target, and nothing is left anywhere.
        for d in [dir.path(), &real_dir, &links] {
            assert_eq!(leftovers(d), Vec::<String>::new());
        }

        // A dangling link creates its target; a loop is an error, not a hang.
        let dangling = dir.path().join("dangling");
        symlink("real/new.bin", &dangling)?;
        write(&dangling, b"fresh")?;
        assert_eq!(fs::read(real_dir.join("new.bin"))?, b"fresh");
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        symlink(&b, &a)?;
        symlink(&a, &b)?;
        let err = write(&a, b"x").unwrap_err();
        assert!(err.to_string().contains("levels of symbolic links"), "{err}");
        Ok(())
    }

    #[cfg(unix)]
    #[test]
    fn the_existing_files_permissions_are_kept() -> io::Result<()> {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir()?;
        // 0o640 and 0o666 are outside what a 022 umask lets `create` give: copied, not created.
        for mode in [0o600, 0o640, 0o666, 0o444] {
            let path = dir.path().join(format!("w{mode:o}"));
            fs::write(&path, b"old")?;
            fs::set_permissions(&path, fs::Permissions::from_mode(mode))?;
            write(&path, b"new")?;
            assert_eq!(fs::read(&path)?, b"new");
            assert_eq!(fs::metadata(&path)?.permissions().mode() & 0o7777, mode, "{mode:o}");
        }
        Ok(())
    }

    #[cfg(unix)]
    #[test]
    fn devices_fifos_and_sockets_are_refused_and_left_alone() -> io::Result<()> {
        use std::os::unix::fs::{symlink, FileTypeExt};
        let dir = tempfile::tempdir()?;

        let err = write(Path::new("/dev/null"), b"x").unwrap_err();
        assert_eq!(err.to_string(), "not a regular file but a character device; refusing to replace it");
        assert!(fs::metadata("/dev/null")?.file_type().is_char_device());

        let fifo = dir.path().join("fifo");
        let status = std::process::Command::new("mkfifo").arg(&fifo).status()?;
        assert!(status.success(), "mkfifo failed");
        let err = write(&fifo, b"x").unwrap_err();
        assert_eq!(err.to_string(), "not a regular file but a FIFO; refusing to replace it");
        assert!(fs::symlink_metadata(&fifo)?.file_type().is_fifo());

        let socket = dir.path().join("socket");
        let _listener = std::os::unix::net::UnixListener::bind(&socket)?;
        let err = write(&socket, b"x").unwrap_err();
        assert_eq!(err.to_string(), "not a regular file but a socket; refusing to replace it");
        assert_eq!(place(&socket).map(|_| ()).map_err(|e| e.to_string()), Err(err.to_string()));
        assert!(fs::symlink_metadata(&socket)?.file_type().is_socket());

        let link = dir.path().join("link");
        symlink(&fifo, &link)?;
        let err = write(&link, b"x").unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "links to {}, which is not a regular file but a FIFO; refusing to replace it",
                fifo.display()
            )
        );
        assert!(fs::symlink_metadata(&link)?.file_type().is_symlink());
        assert_eq!(leftovers(dir.path()), Vec::<String>::new());
        Ok(())
    }

    #[test]
    fn names_up_to_name_max_save_and_long_names_get_distinct_temporaries() -> io::Result<()> {
        let dir = tempfile::tempdir()?;
        for len in [249, 255] {
            let name = "w".repeat(len - 4) + ".bin";
            let path = dir.path().join(&name);
            write(&path, b"data")?;
            assert_eq!(fs::read(&path)?, b"data");
        }
        let a = temporary_base(OsStr::new(&("é".repeat(120) + "a")));
        let b = temporary_base(OsStr::new(&("é".repeat(120) + "b")));
        assert_ne!(a, b);
        for base in [a, b] {
            assert!(base.len() + SUFFIX_MAX <= NAME_MAX, "{}", base.len());
        }
        assert_eq!(temporary_base(OsStr::new("model.bin")), OsStr::new("model.bin"));
        assert_eq!(leftovers(dir.path()), Vec::<String>::new());
        Ok(())
    }

    #[test]
    fn only_names_of_this_targets_temporaries_match() {
        let base = OsStr::new("model.bin");
        for yes in ["model.bin.tmp-1-0", "model.bin.tmp-4294967295-18446744073709551615"] {
            assert!(is_temporary_of(OsStr::new(yes), base), "{yes}");
        }
        for no in [
            "model.bin",
            "model.bin.tmp-",
            "model.bin.tmp-1",
            "model.bin.tmp-1-",
            "model.bin.tmp-1-2-3",
            "model.bin.tmp-x-2",
            "model.bin.tmp-1-2.tmp-3-4",
            "model.bin2.tmp-1-2",
            "other.bin.tmp-1-2",
        ] {
            assert!(!is_temporary_of(OsStr::new(no), base), "{no}");
        }
    }

    #[test]
    fn concurrent_saves_of_one_file_never_remove_each_others_temporaries() -> io::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("shared.bin");
        std::thread::scope(|s| {
            let writers: Vec<_> = (0..4u8)
                .map(|t| {
                    let path = &path;
                    s.spawn(move || -> io::Result<()> {
                        for _ in 0..100 {
                            // Slow enough that the others' cleanups see this temporary.
                            write_with(path, |f| {
                                f.write_all(&[t; 4096])?;
                                std::thread::yield_now();
                                f.write_all(&[t; 4096])
                            })?;
                        }
                        Ok(())
                    })
                })
                .collect();
            writers.into_iter().try_for_each(|w| w.join().expect("writer panicked"))
        })?;
        let bytes = fs::read(&path)?;
        assert_eq!(bytes.len(), 8192);
        assert!(bytes.iter().all(|&b| b == bytes[0]));
        assert_eq!(leftovers(dir.path()), Vec::<String>::new());
        Ok(())
    }

    #[test]
    fn stale_temporaries_are_removed_and_a_live_saves_kept() -> io::Result<()> {
        let dir = tempfile::tempdir()?;
        for name in ["model.bin", &("m".repeat(250) + ".bin")] {
            let path = dir.path().join(name);
            let base = temporary_base(OsStr::new(name));
            let tmp = |rest: &str| {
                let mut n = base.clone();
                n.push(rest);
                dir.path().join(n)
            };
            let stale = tmp(".tmp-4000000-0");
            let live = tmp(".tmp-4000001-7");
            let users = tmp(".tmp-old");
            let other = dir.path().join("other.bin.tmp-4000000-0");
            for p in [&stale, &live, &users, &other] {
                fs::write(p, b"partial")?;
            }
            // A concurrent save (here: this process through another open file) holds its lock.
            let holder = File::open(&live)?;
            holder.lock()?;
            write(&path, b"data")?;
            assert!(!stale.exists(), "{}", stale.display());
            assert!(live.exists() && users.exists() && other.exists());
            drop(holder);
            write(&path, b"data")?;
            assert!(!live.exists());
            assert!(users.exists() && other.exists());
            for p in [&users, &other] {
                fs::remove_file(p)?;
            }
        }
        Ok(())
    }
}
