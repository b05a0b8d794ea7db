//! `Search::from_env`, the one function that reads the environment. It is alone in its
//! test binary because setting variables would race with other tests.

use std::path::PathBuf;

use mlp_runtime::data::Search;

#[test]
fn search_order_and_overrides_come_from_the_environment() {
    std::env::set_var("MLP_DATA_DIR", "/data/root");
    std::env::set_var("MLP_CACHE_DIR", "/cache/root");
    std::env::set_var("MLP_DATA_URL", "http://127.0.0.1:1/mirror/");
    let s = Search::from_env("fashion-mnist");
    assert_eq!(
        s.dirs,
        [
            PathBuf::from("/data/root/fashion-mnist"),
            PathBuf::from("/cache/root/fashion-mnist"),
            PathBuf::from("/usr/share/datasets/fashion-mnist"),
        ]
    );
    let cache = cfg!(feature = "download").then(|| PathBuf::from("/cache/root/fashion-mnist"));
    assert_eq!(s.cache, cache);
    assert_eq!(s.base_url.as_deref(), Some("http://127.0.0.1:1/mirror/"));

    // Unset (or empty) variables fall back to the user cache and the source's URL.
    std::env::remove_var("MLP_DATA_DIR");
    std::env::set_var("MLP_CACHE_DIR", "");
    std::env::remove_var("MLP_DATA_URL");
    let s = Search::from_env("mnist");
    assert_eq!(s.dirs.last(), Some(&PathBuf::from("/usr/share/datasets/mnist")));
    assert!(!s.dirs.iter().any(|d| d.starts_with("/data/root") || d.starts_with("/cache/root")));
    if let Some(user_cache) = dirs::cache_dir() {
        assert_eq!(s.dirs.first(), Some(&user_cache.join("mlp").join("mnist")));
    }
    assert_eq!(s.base_url, None);
}
