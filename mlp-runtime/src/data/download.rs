//! Downloading a data set file into the cache: streamed, bounded, checksummed, atomic.
//!
//! The body goes to disk and, in the same pass, through a gzip inflater into a sha256
//! hasher that refuses more bytes than the file's [`FileSpec`] allows, so neither a
//! gzip bomb nor a huge body reaches memory. The file is written through the crate's
//! atomic-write helper: a failed or rejected download leaves nothing in the cache.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use super::idx::{hex_digest, GZIP_MAGIC};
use super::{DataError, FileSpec};

/// How long a download may go without receiving a byte, and the window over which it
/// must average at least [`MIN_BYTES_PER_SEC`]: a server that stalls or trickles
/// fails in about this time instead of holding a first run for many minutes.
const IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// The slowest transfer rate tolerated, averaged over [`IDLE_TIMEOUT`] (curl's
/// `--speed-limit` idea): 26 MB at this rate still finishes in 7 hours, a trickle of
/// a byte every few seconds does not go on for days.
const MIN_BYTES_PER_SEC: u64 = 1000;

/// Downloads `url` into `dir` as `spec.stem` + `.gz` (or `spec.stem` if the server
/// sends it uncompressed), checking the sha256 and size of its (decompressed) content.
/// Returns the final path. On any failure nothing is left in `dir` and the error names
/// the URL.
pub(crate) fn download(url: &str, dir: &Path, spec: &FileSpec) -> Result<PathBuf, DataError> {
    download_with(url, dir, spec, IDLE_TIMEOUT)
}

/// [`download`] with another idle timeout (tests use a short one).
fn download_with(url: &str, dir: &Path, spec: &FileSpec, idle: Duration) -> Result<PathBuf, DataError> {
    let fail = |reason: String| DataError::Download { url: url.to_owned(), reason };
    std::fs::create_dir_all(dir).map_err(|source| DataError::Io { path: dir.to_owned(), source })?;
    let limit = spec.limit();
    let max_body = super::idx::max_compressed(limit);
    let (mut body, length) = open(url, idle, max_body).map_err(fail)?;
    if let Some(n) = length.filter(|&n| n > max_body) {
        return Err(fail(format!("the server announces {n} bytes; the file has at most {max_body}")));
    }

    // The first bytes decide the name, so that an uncompressed file is not cached as .gz.
    let mut head = [0u8; 2];
    let n = super::idx::read_full(&mut body, &mut head).map_err(|e| fail(describe(&e, idle)))?;
    let head = head.get(..n).unwrap_or_default();
    let gz = head == GZIP_MAGIC;
    let dest = dir.join(if gz { format!("{}.gz", spec.stem) } else { spec.stem.clone() });

    let bar = progress_bar(&dest, length);
    let mut failure = None;
    let written = crate::io::atomic::write_with(&dest, |file| {
        let transfer = Transfer { idle, max_body, limit, sha256: &spec.sha256 };
        transfer.run(head, &mut body, file, gz, &bar).map_err(|reason| {
            failure = Some(reason);
            io::Error::other("download rejected")
        })
    });
    match written {
        Ok(()) => {
            bar.finish_with_message(format!("downloaded {}", name(&dest)));
            Ok(dest)
        }
        Err(e) => {
            bar.abandon();
            Err(fail(failure.unwrap_or_else(|| format!("{}: {e}", dest.display()))))
        }
    }
}

/// A progress bar with bytes on stderr; indicatif draws nothing when stderr is not a
/// terminal, so logs and pipes stay clean.
fn progress_bar(dest: &Path, length: Option<u64>) -> indicatif::ProgressBar {
    let bar = match length {
        Some(n) => indicatif::ProgressBar::new(n),
        None => indicatif::ProgressBar::no_length(),
    };
    let template = if length.is_some() {
        "{msg} {wide_bar} {bytes}/{total_bytes} {bytes_per_sec} {eta}"
    } else {
        "{msg} {bytes} {bytes_per_sec}"
    };
    if let Ok(style) = indicatif::ProgressStyle::with_template(template) {
        bar.set_style(style);
    }
    // The file name only: a full cache path would push the bar off an 80-column line.
    bar.set_message(format!("downloading {}", name(dest)));
    bar
}

/// The file name of `path`, for the progress bar.
fn name(path: &Path) -> String {
    path.file_name().unwrap_or(path.as_os_str()).to_string_lossy().into_owned()
}

/// The limits of one transfer.
struct Transfer<'a> {
    idle: Duration,
    /// Most body bytes accepted.
    max_body: u64,
    /// Most content bytes (after inflating) accepted.
    limit: u64,
    /// Expected lowercase hex sha256 of the content.
    sha256: &'a str,
}

impl Transfer<'_> {
    /// Copies `head` then the rest of `body` into `file`, inflating and hashing it on
    /// the way; an error (the reason, for the user) on a stall, a body or content past
    /// its limit, corrupt gzip, or a wrong checksum.
    fn run(
        &self,
        head: &[u8],
        body: &mut dyn Read,
        file: &mut File,
        gz: bool,
        bar: &indicatif::ProgressBar,
    ) -> Result<(), String> {
        let sink = Content { hasher: Sha256::new(), count: 0, limit: self.limit };
        let mut check =
            if gz { Check::Gz(Box::new(flate2::write::MultiGzDecoder::new(sink))) } else { Check::Raw(sink) };
        let mut feed = |chunk: &[u8], file: &mut File| -> Result<(), String> {
            file.write_all(chunk).map_err(|e| format!("writing the cache file: {e}"))?;
            check.write_all(chunk).map_err(|e| self.content_error(&e))
        };
        feed(head, file)?;
        let mut received = head.len() as u64;
        let mut buf = vec![0u8; 64 << 10];
        let (mut window_start, mut window_bytes) = (Instant::now(), 0u64);
        loop {
            let n = match body.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(describe(&e, self.idle)),
            };
            received += n as u64;
            if received > self.max_body {
                return Err(format!("the server sent more than {} bytes", self.max_body));
            }
            feed(buf.get(..n).unwrap_or_default(), file)?;
            bar.set_position(received);
            window_bytes += n as u64;
            let elapsed = window_start.elapsed();
            if elapsed >= self.idle {
                let min = MIN_BYTES_PER_SEC.saturating_mul(elapsed.as_secs().max(1));
                if window_bytes < min {
                    return Err(format!(
                        "the transfer stalls: {window_bytes} bytes in the last {:.1} s, fewer than \
                         {MIN_BYTES_PER_SEC} a second",
                        elapsed.as_secs_f64()
                    ));
                }
                (window_start, window_bytes) = (Instant::now(), 0);
            }
        }
        let content = check.finish().map_err(|e| self.content_error(&e))?;
        let found = hex_digest(content.hasher);
        if !found.eq_ignore_ascii_case(self.sha256) {
            return Err(format!("sha256 of the decompressed content is {found}, expected {}", self.sha256));
        }
        Ok(())
    }

    /// The reason for a failure to inflate or accept the content.
    fn content_error(&self, e: &io::Error) -> String {
        if e.get_ref().is_some_and(|inner| inner.is::<TooLarge>()) {
            format!("the content grows past the {} bytes the file has (a gzip bomb?)", self.limit)
        } else {
            format!("corrupt gzip data: {e}")
        }
    }
}

/// The (decompressed) content's destination: hashes it and refuses more than `limit`.
struct Content {
    hasher: Sha256,
    count: u64,
    limit: u64,
}

/// The marker error of [`Content`] past its limit.
#[derive(Debug, thiserror::Error)]
#[error("content past its size limit")]
struct TooLarge;

impl Write for Content {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.count = self.count.saturating_add(buf.len() as u64);
        if self.count > self.limit {
            return Err(io::Error::other(TooLarge));
        }
        self.hasher.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The body as served, inflated on the fly when it is gzip.
enum Check {
    Gz(Box<flate2::write::MultiGzDecoder<Content>>),
    Raw(Content),
}

impl Check {
    fn write_all(&mut self, chunk: &[u8]) -> io::Result<()> {
        match self {
            Check::Gz(d) => d.write_all(chunk),
            Check::Raw(c) => c.write_all(chunk),
        }
    }

    fn finish(self) -> io::Result<Content> {
        match self {
            Check::Gz(d) => d.finish(),
            Check::Raw(c) => Ok(c),
        }
    }
}

/// A read error of the body, for the user.
fn describe(e: &io::Error, idle: Duration) -> String {
    if is_timeout(e) {
        format!("no data received for {} s: the server stalls ({e})", idle.as_secs_f64())
    } else {
        format!("transfer cut off or failed: {e}")
    }
}

/// Whether a read failed because no byte came in time.
fn is_timeout(e: &io::Error) -> bool {
    #[cfg(feature = "download")]
    if let Some(ureq::Error::Timeout(_)) = e.get_ref().and_then(|inner| inner.downcast_ref::<ureq::Error>()) {
        return true;
    }
    matches!(e.kind(), io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock)
}

/// Sends a GET of `url`; returns the body (at most `max_body` bytes) and its announced
/// length.
#[cfg(feature = "download")]
fn open(url: &str, idle: Duration, max_body: u64) -> Result<(Box<dyn Read>, Option<u64>), String> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_connect(Some(Duration::from_secs(20)))
        .timeout_recv_response(Some(Duration::from_secs(60)))
        // Restarts with every read, unlike the whole-body budgets: a slow link may take
        // many minutes for 26 MB, a silent one fails after `idle`.
        .timeout_per_read(Some(idle))
        .build()
        .into();
    let response = agent.get(url).call().map_err(|e| e.to_string())?;
    let body = response.into_body();
    let length = body.content_length();
    Ok((Box::new(body.into_with_config().limit(max_body).reader()), length))
}

#[cfg(not(feature = "download"))]
fn open(_url: &str, _idle: Duration, _max_body: u64) -> Result<(Box<dyn Read>, Option<u64>), String> {
    Err("this build has no `download` feature".into())
}

/// Removes the partial files (`.{stem}.{pid}-{n}.part`) that downloads of earlier
/// versions left in `dir` when killed. Only those of processes that are gone: a live
/// process may still be writing its own. Best effort, and only where `/proc` tells
/// which processes live (Linux); elsewhere nothing is removed.
pub(crate) fn remove_stale_parts(dir: &Path) {
    if !Path::new("/proc/self").exists() {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(part_pid) else { continue };
        if !Path::new("/proc").join(pid.to_string()).exists() {
            // Best effort: a file that cannot be removed costs disk space, nothing else.
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// The pid in a partial file's name `.{stem}.{pid}-{n}.part`, or `None` for any other
/// name.
fn part_pid(name: &str) -> Option<u32> {
    let rest = name.strip_prefix('.')?.strip_suffix(".part")?;
    let (stem, tag) = rest.rsplit_once('.')?;
    let (pid, n) = tag.split_once('-')?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if stem.is_empty() || !digits(n) || !digits(pid) {
        return None;
    }
    pid.parse().ok()
}

#[cfg(all(test, feature = "download"))]
mod tests {
    use super::*;
    use std::net::TcpListener;

    /// Serves one request on 127.0.0.1: sends an HTTP head claiming `length` bytes,
    /// then hands the connection to `then`. Returns the URL.
    fn serve_once(length: usize, then: impl FnOnce(&mut std::net::TcpStream) + Send + 'static) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/f.gz", listener.local_addr().unwrap());
        std::thread::spawn(move || {
            let Ok((mut stream, _)) = listener.accept() else { return };
            let mut request = Vec::new();
            let mut buf = [0u8; 1024];
            while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                match stream.read(&mut buf) {
                    Ok(0) | Err(_) => return,
                    Ok(n) => request.extend_from_slice(&buf[..n]),
                }
            }
            let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {length}\r\nConnection: close\r\n\r\n");
            if stream.write_all(head.as_bytes()).is_ok() {
                then(&mut stream);
            }
        });
        url
    }

    fn spec() -> FileSpec {
        FileSpec::new("f", "00").with_size(1 << 20)
    }

    #[test]
    fn a_stalled_server_is_an_error_after_the_idle_timeout() {
        let dir = tempfile::tempdir().unwrap();
        let url = serve_once(1000, |s| {
            let _ = s.write_all(&[0x1f, 0x8b, 8, 0]);
            std::thread::sleep(Duration::from_secs(10));
        });
        let started = Instant::now();
        let err = download_with(&url, dir.path(), &spec(), Duration::from_millis(300)).unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(5), "took {:?}", started.elapsed());
        let msg = err.to_string();
        assert!(msg.contains(&url) && msg.contains("no data received for 0.3 s"), "{msg}");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "nothing left behind");
    }

    #[test]
    fn a_trickling_server_is_an_error_after_the_idle_window() {
        let dir = tempfile::tempdir().unwrap();
        let url = serve_once(100_000, |s| {
            for _ in 0..200 {
                if s.write_all(&[0]).is_err() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        });
        let started = Instant::now();
        let err = download_with(&url, dir.path(), &spec(), Duration::from_millis(300)).unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(3), "took {:?}", started.elapsed());
        assert!(err.to_string().contains("the transfer stalls"), "{err}");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "nothing left behind");
    }

    #[test]
    fn stale_parts_of_dead_processes_go_and_live_ones_stay() {
        let dir = tempfile::tempdir().unwrap();
        // Linux pids stay below 2^22, so this one is never alive.
        let dead = dir.path().join(".train-images-idx3-ubyte.999999999-0.part");
        let live = dir.path().join(format!(".train-images-idx3-ubyte.{}-3.part", std::process::id()));
        let other = dir.path().join(".notes.123-x.part");
        for p in [&dead, &live, &other] {
            std::fs::write(p, b"partial").unwrap();
        }
        remove_stale_parts(dir.path());
        if Path::new("/proc/self").exists() {
            assert!(!dead.exists());
        }
        assert!(live.exists() && other.exists());
        assert_eq!(part_pid(".a.b.12-0.part"), Some(12));
        assert_eq!(part_pid("a.12-0.part"), None);
        assert_eq!(part_pid(".a.12-.part"), None);
    }
}
