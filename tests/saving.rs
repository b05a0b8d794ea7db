//! Every writer (weights, checkpoints, CSV logs, model checkpoints, plots) goes through the
//! one atomic writer: a FIFO or directory at the path is refused with the path named, a
//! symlink is followed and kept, a file's permissions are kept.
#![cfg(unix)]

use std::fs;
use std::os::unix::fs::{symlink, FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};

use mlp::io::{load_checkpoint, save_checkpoint};
use mlp::prelude::*;
use mlp::tensors::snapshot;

network! { Net< input(2); dense(4, relu); dense(2, softmax) > }

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

/// A fresh directory, removed on drop (the root crate has no `tempfile` dev-dependency).
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> std::io::Result<Self> {
        let dir = std::env::temp_dir().join(format!("mlp-saving-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir)?;
        Ok(TempDir(dir))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn fifo(dir: &Path) -> Result<PathBuf> {
    let path = dir.join("fifo");
    let status = std::process::Command::new("mkfifo").arg(&path).status()?;
    assert!(status.success(), "mkfifo failed");
    Ok(path)
}

fn refused(path: &Path) -> String {
    format!("{}: not a regular file but a FIFO; refusing to replace it", path.display())
}

fn is_fifo(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_fifo())
}

fn data() -> Dataset {
    let x: Vec<f32> = (0..40).map(|i| (i % 7) as f32 / 7.0).collect();
    let y: Vec<u32> = (0..20).map(|i| (i % 2) as u32).collect();
    Dataset::classification(x, 2, y).unwrap()
}

fn model() -> Model<Net, Sgd, SparseCategoricalCrossentropy> {
    Model::compile(Net::seeded(1), Sgd::new(0.1), SparseCategoricalCrossentropy::new())
}

fn fit<'a>() -> Fit<'a> {
    Fit::new().epochs(2).batch_size(5).verbose(Verbosity::Silent)
}

#[test]
fn weights_and_checkpoints_refuse_a_fifo_and_follow_a_symlink() -> Result {
    let dir = TempDir::new("weights")?;
    let fifo = fifo(&dir.0)?;
    let net = Net::seeded(1);
    assert_eq!(net.save(&fifo).unwrap_err().to_string(), refused(&fifo));
    let state = CheckpointState::of(1, &Sgd::new(0.1), &mlp::rng::seeded(0));
    assert_eq!(save_checkpoint(&fifo, &net, &state).unwrap_err().to_string(), refused(&fifo));
    assert!(is_fifo(&fifo));

    let target = dir.0.join("model.safetensors");
    fs::write(&target, b"old")?;
    fs::set_permissions(&target, fs::Permissions::from_mode(0o600))?;
    let link = dir.0.join("latest.safetensors");
    symlink("model.safetensors", &link)?;
    net.save(&link)?;
    assert!(fs::symlink_metadata(&link)?.file_type().is_symlink());
    assert_eq!(fs::metadata(&target)?.permissions().mode() & 0o777, 0o600);
    let mut other = Net::seeded(2);
    other.load(&target)?;
    assert_eq!(snapshot(&other), snapshot(&net));

    save_checkpoint(&link, &net, &state)?;
    assert!(fs::symlink_metadata(&link)?.file_type().is_symlink());
    assert_eq!(load_checkpoint(&target, &mut other)?.epoch, 1);
    Ok(())
}

#[test]
fn callbacks_refuse_a_bad_path_before_training() -> Result {
    let dir = TempDir::new("callbacks")?;
    let fifo = fifo(&dir.0)?;
    fn refuses(cb: impl Callback<Net>) {
        let mut m = model();
        let before = snapshot(&m.net);
        let err = m.fit(&data(), fit().callback(cb)).unwrap_err().to_string();
        assert!(err.contains("not a regular file but a"), "{err}");
        assert_eq!(snapshot(&m.net), before, "trained although the callback cannot write: {err}");
        assert_eq!(m.epoch(), 0);
    }
    refuses(CsvLogger::new(&fifo));
    refuses(ModelCheckpoint::new(&fifo));
    refuses(ModelCheckpoint::new(&dir.0));
    assert!(is_fifo(&fifo));
    Ok(())
}

#[test]
fn the_csv_log_replaces_a_symlinks_target_and_keeps_the_link() -> Result {
    let dir = TempDir::new("csv")?;
    let target = dir.0.join("log.csv");
    fs::write(&target, b"")?;
    fs::set_permissions(&target, fs::Permissions::from_mode(0o640))?;
    let link = dir.0.join("current.csv");
    symlink(&target, &link)?;
    model().fit(&data(), fit().callback(CsvLogger::new(&link)))?;
    assert!(fs::symlink_metadata(&link)?.file_type().is_symlink());
    let log = fs::read_to_string(&target)?;
    assert_eq!(log.lines().count(), 3, "{log}");
    assert!(log.starts_with("epoch,loss"), "{log}");
    assert_eq!(fs::metadata(&target)?.permissions().mode() & 0o777, 0o640);
    Ok(())
}

#[test]
fn plots_refuse_a_fifo_and_follow_a_symlink() -> Result {
    let dir = TempDir::new("plot")?;
    let fifo = fifo(&dir.0)?;
    let history = model().fit(&data(), fit())?;
    let err = mlp::plot::training_curves(&history, &fifo).unwrap_err();
    assert_eq!(err.to_string(), refused(&fifo));
    assert!(is_fifo(&fifo));

    let target = dir.0.join("curves.svg");
    let link = dir.0.join("latest.svg");
    symlink(&target, &link)?;
    mlp::plot::training_curves(&history, &link)?;
    assert!(fs::symlink_metadata(&link)?.file_type().is_symlink());
    assert!(fs::read_to_string(&target)?.starts_with("<svg"));
    Ok(())
}
