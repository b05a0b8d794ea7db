//! Finding, checking and downloading IDX data sets, on small generated files: the
//! lookup order, checksums of decompressed content, and downloads from a local HTTP
//! server (good, wrong checksum, cut off, missing) that must leave no partial file.
#![cfg_attr(not(feature = "download"), allow(dead_code))]

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::{Arc, Mutex};

use flate2::{write::GzEncoder, Compression};
use mlp_runtime::data::{DataError, FileSpec, Search, Source};
use sha2::{Digest, Sha256};

const STEMS: [&str; 4] = [
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
];

fn idx(dims: &[u32], data: &[u8]) -> Vec<u8> {
    let mut b = vec![0, 0, 8, dims.len() as u8];
    for d in dims {
        b.extend_from_slice(&d.to_be_bytes());
    }
    b.extend_from_slice(data);
    b
}

fn gz(bytes: &[u8], level: u32) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::new(level));
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

fn hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// A tiny data set in the MNIST layout: 3 train and 2 test images of 2x3 pixels.
fn tiny() -> [Vec<u8>; 4] {
    [
        idx(&[3, 2, 3], &(0..18).map(|i| i * 10).collect::<Vec<u8>>()),
        idx(&[3], &[4, 0, 9]),
        idx(&[2, 2, 3], &[255; 12]),
        idx(&[2], &[1, 2]),
    ]
}

fn tiny_source(base_url: &str) -> Source {
    let files = tiny();
    Source {
        name: "tiny".into(),
        files: std::array::from_fn(|i| FileSpec::new(STEMS[i], hex(&files[i]))),
        base_url: base_url.into(),
        apt_package: None,
    }
}

/// Writes the tiny files into `dir`, gzip-compressed or not.
fn write_tiny(dir: &Path, compressed: bool) {
    std::fs::create_dir_all(dir).unwrap();
    for (stem, bytes) in STEMS.iter().zip(tiny()) {
        if compressed {
            std::fs::write(dir.join(format!("{stem}.gz")), gz(&bytes, 6)).unwrap();
        } else {
            std::fs::write(dir.join(stem), bytes).unwrap();
        }
    }
}

fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| rd.map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    names.sort();
    names
}

fn assert_is_tiny(train: &mlp_runtime::data::Dataset, test: &mlp_runtime::data::Dataset) {
    assert_eq!((train.len(), train.width(), test.len()), (3, 6, 2));
    assert_eq!(train.classes(), Some(&[4, 0, 9][..]));
    assert_eq!(test.classes(), Some(&[1, 2][..]));
    // Scaled to [0, 1] by dividing by 255.
    assert_eq!(train.sample(1).unwrap()[0], 60.0 / 255.0);
    assert_eq!(test.sample(1).unwrap(), &[1.0; 6]);
}

#[test]
fn loads_from_a_folder_gzipped_or_not() {
    let tmp = tempfile::tempdir().unwrap();
    let source = tiny_source("http://unused.invalid/");
    for compressed in [true, false] {
        let dir = tmp.path().join(format!("gz-{compressed}"));
        write_tiny(&dir, compressed);
        let (train, test) = source.load_from(&dir).unwrap();
        assert_is_tiny(&train, &test);
    }
    let (raw, _) =
        source.load_raw(&Search { dirs: vec![tmp.path().join("gz-true")], ..Search::default() }).unwrap();
    assert_eq!(raw.sample(1).unwrap()[0], 60.0);
}

#[test]
fn recompressed_copies_pass_because_the_checksum_is_of_the_content() {
    let tmp = tempfile::tempdir().unwrap();
    for (stem, bytes) in STEMS.iter().zip(tiny()) {
        // Another compression level gives other .gz bytes for the same content.
        std::fs::write(tmp.path().join(format!("{stem}.gz")), gz(&bytes, 9)).unwrap();
    }
    let (train, test) = tiny_source("").load_from(tmp.path()).unwrap();
    assert_is_tiny(&train, &test);
}

#[test]
fn a_corrupt_local_file_is_a_checksum_error_naming_it() {
    let tmp = tempfile::tempdir().unwrap();
    write_tiny(tmp.path(), false);
    let bad = tmp.path().join(STEMS[1]);
    std::fs::write(&bad, idx(&[3], &[4, 0, 8])).unwrap();
    let source = tiny_source("");
    let err = source.load_from(tmp.path()).unwrap_err();
    match &err {
        DataError::Checksum { path, expected, found } => {
            assert_eq!(path, &bad);
            assert_eq!(expected, &source.files[1].sha256);
            assert_eq!(found, &hex(&idx(&[3], &[4, 0, 8])));
        }
        other => panic!("expected a checksum error, got {other:?}"),
    }
    assert!(err.to_string().contains(&bad.display().to_string()), "{err}");
}

#[test]
fn lookup_takes_the_first_folder_that_has_all_four_files() {
    let tmp = tempfile::tempdir().unwrap();
    let [a, b, c] = ["a", "b", "c"].map(|d| tmp.path().join(d));
    write_tiny(&a, true);
    std::fs::remove_file(a.join(format!("{}.gz", STEMS[3]))).unwrap(); // a: 3 of 4
    write_tiny(&b, false);
    write_tiny(&c, true);
    let source = tiny_source("");
    let search =
        Search { dirs: vec![tmp.path().join("none"), a.clone(), b.clone(), c.clone()], ..Search::default() };
    let paths = source.locate(&search).unwrap();
    assert_eq!(paths, STEMS.map(|s| b.join(s)));

    // A folder with both names: the compressed one, as distributed, comes first.
    write_tiny(&b, true);
    assert_eq!(source.locate(&search).unwrap(), STEMS.map(|s| b.join(format!("{s}.gz"))));

    std::fs::remove_dir_all(&b).unwrap();
    assert_eq!(source.locate(&search).unwrap()[0], c.join(format!("{}.gz", STEMS[0])));
}

#[test]
fn nothing_found_lists_every_place_and_how_to_get_the_data() {
    let tmp = tempfile::tempdir().unwrap();
    let partial = tmp.path().join("partial");
    write_tiny(&partial, true);
    std::fs::remove_file(partial.join(format!("{}.gz", STEMS[0]))).unwrap();
    let missing = tmp.path().join("missing");
    let mut source = tiny_source("");
    source.apt_package = Some("dataset-tiny".into());
    let err = source
        .load(&Search { dirs: vec![missing.clone(), partial.clone()], ..Search::default() })
        .unwrap_err();
    let DataError::NotFound { name, searched, download, .. } = &err else {
        panic!("expected NotFound, got {err:?}")
    };
    assert_eq!(name, "tiny");
    assert_eq!(searched[0], (missing.clone(), "no such folder".to_owned()));
    assert_eq!(searched[1], (partial.clone(), format!("missing {}[.gz]", STEMS[0])));
    assert!(download.starts_with("disabled"), "{download}");
    let msg = err.to_string();
    for needle in [
        &missing.display().to_string(),
        &partial.display().to_string(),
        "MLP_DATA_DIR",
        "apt install dataset-tiny",
    ] {
        assert!(msg.contains(needle), "{needle:?} not in:\n{msg}");
    }
}

/// What the test server answers for one path.
#[derive(Clone)]
enum Reply {
    Body(Vec<u8>),
    /// Claims `claimed` bytes, sends `body`, then closes the connection.
    CutOff {
        body: Vec<u8>,
        claimed: usize,
    },
}

/// A minimal HTTP/1.1 server on 127.0.0.1 serving `routes` (404 for anything else)
/// from a background thread; returns its base URL and the paths requested.
fn serve(routes: Vec<(String, Reply)>) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/files/", listener.local_addr().unwrap());
    let hits = Arc::new(Mutex::new(Vec::new()));
    let log = hits.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut request = Vec::new();
            let mut buf = [0u8; 1024];
            while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                match stream.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => request.extend_from_slice(&buf[..n]),
                }
            }
            let text = String::from_utf8_lossy(&request);
            let path = text.split_whitespace().nth(1).unwrap_or("").to_owned();
            log.lock().unwrap().push(path.clone());
            let reply = routes.iter().find(|(p, _)| format!("/files/{p}") == path).map(|(_, r)| r.clone());
            let (status, body, claimed) = match reply {
                Some(Reply::Body(b)) => ("200 OK", b.clone(), b.len()),
                Some(Reply::CutOff { body, claimed }) => ("200 OK", body, claimed),
                None => ("404 Not Found", b"no such file".to_vec(), 12),
            };
            let head = format!(
                "HTTP/1.1 {status}\r\nContent-Type: application/octet-stream\r\nContent-Length: {claimed}\r\nConnection: close\r\n\r\n"
            );
            let _ = stream.write_all(head.as_bytes()).and_then(|_| stream.write_all(&body));
            let _ = stream.shutdown(std::net::Shutdown::Both);
        }
    });
    (url, hits)
}

fn gz_routes() -> Vec<(String, Reply)> {
    STEMS.iter().zip(tiny()).map(|(s, b)| (format!("{s}.gz"), Reply::Body(gz(&b, 6)))).collect()
}

/// A search whose only folder is the (empty) cache, downloading from `url`.
fn cache_search(cache: &Path, url: &str) -> Search {
    Search { dirs: vec![cache.to_owned()], cache: Some(cache.to_owned()), base_url: Some(url.to_owned()) }
}

#[cfg(feature = "download")]
#[test]
fn downloads_missing_files_into_the_cache_once() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache").join("tiny");
    let (url, hits) = serve(gz_routes());
    // The source's own URL is unreachable: the search's base URL must win.
    let source = tiny_source("http://127.0.0.1:9/");
    let (train, test) = source.load(&cache_search(&cache, &url)).unwrap();
    assert_is_tiny(&train, &test);
    let mut expected = STEMS.map(|s| format!("{s}.gz"));
    expected.sort();
    assert_eq!(listing(&cache), expected);
    assert_eq!(hits.lock().unwrap().len(), 4);

    // Cached now: loading again fetches nothing; a lost file is fetched alone.
    source.load(&cache_search(&cache, &url)).unwrap();
    assert_eq!(hits.lock().unwrap().len(), 4);
    std::fs::remove_file(cache.join(format!("{}.gz", STEMS[2]))).unwrap();
    source.load(&cache_search(&cache, &url)).unwrap();
    assert_eq!(hits.lock().unwrap().last().unwrap(), &format!("/files/{}.gz", STEMS[2]));
    assert_eq!(hits.lock().unwrap().len(), 5);
}

#[cfg(feature = "download")]
#[test]
fn an_uncompressed_download_is_kept_without_gz() {
    let tmp = tempfile::tempdir().unwrap();
    let mut routes = gz_routes();
    routes[1].1 = Reply::Body(tiny()[1].clone());
    let (url, _) = serve(routes);
    let (train, _) = tiny_source("").load(&cache_search(tmp.path(), &url)).unwrap();
    assert_eq!(train.classes(), Some(&[4, 0, 9][..]));
    assert!(tmp.path().join(STEMS[1]).is_file());
}

/// Loads with one bad route; returns the download failure and the cache listing.
#[cfg(feature = "download")]
fn failed_download(bad: Reply) -> (String, String, Vec<String>) {
    let tmp = tempfile::tempdir().unwrap();
    let mut routes = gz_routes();
    routes[1].1 = bad;
    let (url, _) = serve(routes);
    let err = tiny_source("").load(&cache_search(tmp.path(), &url)).unwrap_err();
    let DataError::NotFound { download, .. } = err else { panic!("expected NotFound, got {err:?}") };
    (download, format!("{url}{}.gz", STEMS[1]), listing(tmp.path()))
}

#[cfg(feature = "download")]
#[test]
fn a_wrong_checksum_download_leaves_nothing_behind() {
    let other = gz(&idx(&[3], &[4, 0, 8]), 6);
    let (download, url, files) = failed_download(Reply::Body(other));
    assert!(download.contains(&url) && download.contains("sha256"), "{download}");
    // Files are fetched in order: the first one stays, the bad one is gone, no .part.
    assert_eq!(files, [format!("{}.gz", STEMS[0])]);
}

#[cfg(feature = "download")]
#[test]
fn a_cut_off_transfer_leaves_nothing_behind() {
    let full = gz(&tiny()[1], 6);
    let body = full[..full.len() / 2].to_vec();
    let (download, url, files) = failed_download(Reply::CutOff { body, claimed: full.len() });
    assert!(download.contains(&url), "{download}");
    assert_eq!(files, [format!("{}.gz", STEMS[0])]);
}

#[cfg(feature = "download")]
#[test]
fn a_cut_off_transfer_without_length_is_still_caught() {
    // The server closes early and its Content-Length matches what it sent, so only
    // the gzip stream or the checksum can tell.
    let full = gz(&tiny()[1], 6);
    let body = full[..full.len() - 5].to_vec();
    let claimed = body.len();
    let (download, url, files) = failed_download(Reply::CutOff { body, claimed });
    assert!(download.contains(&url), "{download}");
    assert_eq!(files, [format!("{}.gz", STEMS[0])]);
}

#[cfg(feature = "download")]
#[test]
fn a_missing_remote_file_names_the_url() {
    let tmp = tempfile::tempdir().unwrap();
    let (url, _) = serve(gz_routes().into_iter().take(3).collect());
    let err = tiny_source("").load(&cache_search(tmp.path(), &url)).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains(&format!("{url}{}.gz", STEMS[3])) && msg.contains("404"), "{msg}");
    assert_eq!(listing(tmp.path()).len(), 3);
}

#[test]
fn without_a_cache_nothing_is_downloaded() {
    let tmp = tempfile::tempdir().unwrap();
    let (url, hits) = serve(gz_routes());
    let search = Search { dirs: vec![tmp.path().to_owned()], cache: None, base_url: Some(url) };
    assert!(matches!(tiny_source("").load(&search), Err(DataError::NotFound { .. })));
    assert!(hits.lock().unwrap().is_empty());
}

/// A gzip stream of `head` followed by `zeros` zero bytes, compressed chunk by chunk:
/// a small file that inflates to far more than its name promises.
fn gz_bomb(head: &[u8], zeros: usize) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::best());
    e.write_all(head).unwrap();
    let block = vec![0u8; 64 << 10];
    for _ in 0..zeros / block.len() {
        e.write_all(&block).unwrap();
    }
    e.finish().unwrap()
}

/// [`tiny_source`] with each file's exact size, as the built-in data sets have.
fn sized_tiny_source(base_url: &str) -> Source {
    let mut source = tiny_source(base_url);
    for (f, bytes) in source.files.iter_mut().zip(tiny()) {
        *f = f.clone().with_size(bytes.len() as u64);
    }
    source
}

#[test]
fn the_built_in_data_sets_know_their_decompressed_sizes() {
    for source in [Source::fashion_mnist(), Source::mnist()] {
        let sizes = source.files.map(|f| f.size);
        assert_eq!(sizes, [Some(47_040_016), Some(60_008), Some(7_840_016), Some(10_008)], "{}", source.name);
    }
}

/// `MLP_DATA_DIR=../shared/data cargo test -p mlp-runtime --test data_sources -- --ignored`
#[test]
#[ignore = "needs the real datasets: MLP_DATA_DIR=../shared/data"]
fn the_built_in_sizes_are_exact_for_the_real_files() {
    let root = std::env::var_os("MLP_DATA_DIR").expect("set MLP_DATA_DIR to the folder holding mnist/");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(root);
    for source in [Source::fashion_mnist(), Source::mnist()] {
        let dir = root.join(&source.name);
        source.load_from(&dir).unwrap();
        for i in 0..4 {
            let mut short = source.clone();
            short.files[i].size = short.files[i].size.map(|s| s - 1);
            let err = short.load_from(&dir).unwrap_err();
            assert!(matches!(err, DataError::IdxTooLarge { .. }), "{err:?}");
        }
    }
}

#[test]
fn a_local_gzip_bomb_is_refused_at_the_files_known_size() {
    let tmp = tempfile::tempdir().unwrap();
    write_tiny(tmp.path(), true);
    // The right content, then 16 MiB more: the header alone cannot tell.
    let bomb = tmp.path().join(format!("{}.gz", STEMS[2]));
    std::fs::write(&bomb, gz_bomb(&tiny()[2], 16 << 20)).unwrap();
    let err = sized_tiny_source("").load_from(tmp.path()).unwrap_err();
    match &err {
        DataError::IdxTooLarge { path, limit, .. } => {
            assert_eq!((path, *limit), (&bomb, tiny()[2].len() as u64));
        }
        other => panic!("expected IdxTooLarge, got {other:?}"),
    }
    assert!(err.to_string().contains(&bomb.display().to_string()), "{err}");
}

#[test]
fn a_raw_local_file_larger_than_its_size_is_refused_before_reading() {
    let tmp = tempfile::tempdir().unwrap();
    write_tiny(tmp.path(), false);
    let big = tmp.path().join(STEMS[0]);
    std::fs::OpenOptions::new().append(true).open(&big).unwrap().set_len(1 << 40).unwrap();
    let err = sized_tiny_source("").load_from(tmp.path()).unwrap_err();
    assert!(matches!(&err, DataError::IdxTooLarge { path, .. } if path == &big), "{err:?}");
    assert!(err.to_string().contains("the file has 1099511627776 bytes"), "{err}");
}

#[test]
fn a_folder_named_like_a_data_file_is_not_a_regular_file() {
    let tmp = tempfile::tempdir().unwrap();
    write_tiny(tmp.path(), true);
    let odd = format!("{}.gz", STEMS[3]);
    std::fs::remove_file(tmp.path().join(&odd)).unwrap();
    std::fs::create_dir(tmp.path().join(&odd)).unwrap();
    let err = tiny_source("").load_from(tmp.path()).unwrap_err();
    let DataError::NotFound { searched, .. } = &err else { panic!("expected NotFound, got {err:?}") };
    assert_eq!(searched[0].1, format!("{odd} is not a regular file"));
}

#[cfg(feature = "download")]
#[test]
fn a_downloaded_gzip_bomb_is_refused_and_leaves_nothing_behind() {
    // 512 KiB of content in about 600 bytes: a body of a plausible size for an 11-byte
    // file, stopped as it inflates.
    let small = gz_bomb(&tiny()[1], 512 << 10);
    assert!(small.len() < 1000, "{}", small.len());
    let (download, url, files) = failed_download_sized(Reply::Body(small));
    assert!(download.contains(&url) && download.contains("grows past the 11 bytes"), "{download}");
    assert_eq!(files, [format!("{}.gz", STEMS[0])]);
    // A larger body is refused by its announced length alone.
    let (download, url, files) = failed_download_sized(Reply::Body(gz_bomb(&tiny()[1], 16 << 20)));
    assert!(download.contains(&url) && download.contains("the server announces"), "{download}");
    assert_eq!(files, [format!("{}.gz", STEMS[0])]);
}

/// [`failed_download`] for the sized source.
#[cfg(feature = "download")]
fn failed_download_sized(bad: Reply) -> (String, String, Vec<String>) {
    let tmp = tempfile::tempdir().unwrap();
    let mut routes = gz_routes();
    routes[1].1 = bad;
    let (url, _) = serve(routes);
    let err = sized_tiny_source("").load(&cache_search(tmp.path(), &url)).unwrap_err();
    let DataError::NotFound { download, .. } = err else { panic!("expected NotFound, got {err:?}") };
    (download, format!("{url}{}.gz", STEMS[1]), listing(tmp.path()))
}

#[cfg(all(feature = "download", target_os = "linux"))]
#[test]
fn partial_files_of_killed_downloads_are_removed_at_the_next_run() {
    let tmp = tempfile::tempdir().unwrap();
    // Left by a download that was killed: Linux pids stay below 2^22, so that process
    // is gone.
    let part = tmp.path().join(format!(".{}.999999999-0.part", STEMS[0]));
    std::fs::write(&part, b"half a file").unwrap();
    let (url, _) = serve(gz_routes());
    tiny_source("").load(&cache_search(tmp.path(), &url)).unwrap();
    let mut expected = STEMS.map(|s| format!("{s}.gz"));
    expected.sort();
    assert_eq!(listing(tmp.path()), expected);
}
