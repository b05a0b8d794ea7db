//! Downloading a data set file into the cache, atomically and checksummed.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use super::DataError;

/// Removes a temporary file when dropped, unless it was kept: whatever fails between
/// creating and renaming it, no partial file stays in the cache.
struct TempFile(Option<PathBuf>);

impl Drop for TempFile {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            // Best effort: the error that got us here matters more than this one.
            let _ = std::fs::remove_file(p);
        }
    }
}

/// Downloads `url` into `dir`, checks the sha256 of its (decompressed) content, then
/// renames it to `stem.gz` (or `stem` if the server sent it uncompressed). Returns the
/// final path. On any failure nothing is left in `dir` and the error names the URL.
pub(crate) fn download(url: &str, dir: &Path, stem: &str, sha256: &str) -> Result<PathBuf, DataError> {
    let fail = |reason: String| DataError::Download { url: url.to_owned(), reason };
    std::fs::create_dir_all(dir).map_err(|source| DataError::Io { path: dir.to_owned(), source })?;
    // A name no other process or thread uses: two downloads at once do not clobber
    // each other's partial files, and the second rename just replaces a good file.
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let tmp = dir.join(format!(".{stem}.{}-{n}.part", std::process::id()));
    let guard = TempFile(Some(tmp.clone()));

    fetch_to(url, &tmp).map_err(fail)?;

    let bytes = std::fs::read(&tmp).map_err(|source| DataError::Io { path: tmp.clone(), source })?;
    let gz = bytes.starts_with(&[0x1f, 0x8b]);
    // A cut-off transfer that the HTTP layer missed shows up here as corrupt gzip
    // or as a checksum mismatch.
    let content = super::idx::gunzip_if_gz(bytes, &tmp).map_err(|e| fail(e.to_string()))?;
    let found = super::datasets::sha256_hex(&content);
    if !found.eq_ignore_ascii_case(sha256) {
        return Err(fail(format!("sha256 of the decompressed content is {found}, expected {sha256}")));
    }

    let dest = dir.join(if gz { format!("{stem}.gz") } else { stem.to_owned() });
    std::fs::rename(&tmp, &dest).map_err(|source| DataError::Io { path: dest.clone(), source })?;
    std::mem::forget(guard);
    Ok(dest)
}

/// Streams the body of a GET of `url` into the file `path`.
#[cfg(feature = "download")]
fn fetch_to(url: &str, path: &Path) -> Result<(), String> {
    use std::time::Duration;
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_connect(Some(Duration::from_secs(20)))
        .timeout_recv_response(Some(Duration::from_secs(60)))
        // A budget for the whole body, not per read: generous, since a slow link needs
        // minutes for 26 MB, but a stalled transfer still ends.
        .timeout_recv_body(Some(Duration::from_secs(20 * 60)))
        .build()
        .into();
    let response = agent.get(url).call().map_err(|e| e.to_string())?;
    let mut body = response.into_body().into_reader();
    let mut file = std::fs::File::create(path).map_err(|e| format!("{}: {e}", path.display()))?;
    std::io::copy(&mut body, &mut file).map_err(|e| format!("transfer cut off or failed: {e}"))?;
    file.sync_all().map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(())
}

#[cfg(not(feature = "download"))]
fn fetch_to(_url: &str, _path: &Path) -> Result<(), String> {
    Err("this build has no `download` feature".into())
}
