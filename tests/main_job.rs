//! The main job (`examples/fashion_mnist/main.rs`) as a user runs it: usage errors before any
//! work, output paths checked before the data is loaded, outputs in an order that loses
//! nothing, a closed stdout. `cargo test` builds the examples these tests run.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The example binary that `cargo test` built beside this test.
fn main_job() -> PathBuf {
    let exe = std::env::current_exe().expect("the test's own path");
    let dir = exe.parent().and_then(Path::parent).expect("target/<profile>/deps");
    let bin = dir.join("examples").join(format!("fashion_mnist{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.is_file(),
        "{} is missing: `cargo test` builds the examples (or `cargo build --example fashion_mnist`)",
        bin.display()
    );
    bin
}

/// Runs the main job where no data set can be found or downloaded: anything that gets as
/// far as loading the data fails with the data's "not found" error.
fn run_without_data(args: &[&str]) -> Output {
    let empty = tempfile::tempdir().unwrap();
    Command::new(main_job())
        .args(args)
        .env("MLP_DATA_DIR", empty.path().join("none"))
        .env("MLP_CACHE_DIR", empty.path().join("cache"))
        // Port 9 (discard) on loopback: nothing listens, so a download fails at once.
        .env("MLP_DATA_URL", "http://127.0.0.1:9/")
        .env("MLP_THREADS", "1")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn bad_output_paths_are_usage_errors_before_the_data_is_loaded() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-folder").join("model.safetensors");
    let missing_onnx = dir.path().join("no-such-folder").join("model.onnx");
    let folder = dir.path().join("a-folder.svg");
    std::fs::create_dir(&folder).unwrap();
    let cases = [
        ("--save", missing.to_str().unwrap(), "cannot create a file in"),
        ("--export", missing_onnx.to_str().unwrap(), "cannot create a file in"),
        ("--plot", folder.to_str().unwrap(), "not a regular file but a directory"),
        ("--errors", "/dev/null", "not a regular file but a character device"),
    ];
    for (flag, path, why) in cases {
        let out = run_without_data(&[flag, path, "--epochs", "1"]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{flag} {path}: {err}");
        assert!(err.contains(&format!("{flag} {path}: {why}")), "{err}");
        assert!(!err.contains("not found; looked in"), "the data must not be looked for: {err}");
    }
    assert!(folder.is_dir(), "the folder is left alone");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "no probe file is left behind");
}

#[test]
fn good_output_paths_pass_the_check_and_leave_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let save = dir.path().join("model.safetensors");
    let out = run_without_data(&["--save", save.to_str().unwrap(), "--epochs", "1"]);
    // It got as far as the data, which is nowhere.
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("not found; looked in"), "{}", stderr(&out));
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "no probe file is left behind");
}

#[test]
fn bad_numbers_are_usage_errors() {
    for (args, why) in [
        (&["--lr", "nan"][..], "--lr must be a finite number >= 0, found NaN"),
        (&["--lr", "-1"][..], "--lr must be a finite number >= 0, found -1"),
        (&["--validation-split", "1.5"][..], "--validation-split must be in [0, 1), found 1.5"),
    ] {
        let out = run_without_data(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(why), "{}", stderr(&out));
        assert!(!stderr(&out).contains("not found; looked in"), "{}", stderr(&out));
    }
}

#[test]
fn a_closed_stdout_ends_quietly() {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = Command::new(main_job()).arg("--help").stdout(writer).stderr(Stdio::piped()).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stderr(&out), "", "no panic, no message");
}

/// Training on the real data: the weights and the two lines come before the pictures, and
/// a picture that cannot be written costs nothing else.
#[test]
#[ignore = "needs the real datasets: MLP_DATA_DIR=../shared/data"]
fn a_failing_picture_loses_neither_the_weights_nor_the_accuracy() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let save = dir.path().join("model.safetensors");
    let pictures = dir.path().join("pictures");
    std::fs::create_dir(&pictures).unwrap();
    let plot = pictures.join("curves.svg");
    let errors = dir.path().join("errors.svg");
    let mut child = Command::new(main_job())
        .args(["--model", "plain", "--epochs", "1", "--batch-size", "256", "--seed", "1"])
        .args(["--save", save.to_str().unwrap(), "--plot", plot.to_str().unwrap()])
        .args(["--errors", errors.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The summary table is printed after the paths were checked and the data loaded:
    // take the plot's folder away then, so the plot fails after training.
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    while !seen.contains("Total params") {
        let mut line = String::new();
        assert!(err.read_line(&mut line).unwrap() > 0, "the main job ended early: {seen}");
        seen.push_str(&line);
    }
    std::fs::remove_dir(&pictures).unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut err, &mut rest).unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{rest}");
    assert!(rest.contains(&format!("--plot {}", plot.display())), "{rest}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(
        lines.len() == 2
            && lines[0].starts_with("test accuracy: 0.")
            && lines[1].starts_with("train seconds: "),
        "{stdout}"
    );
    assert!(std::fs::metadata(&save).unwrap().len() > 1_000_000, "the weights were saved");
    assert!(std::fs::read_to_string(&errors).unwrap().starts_with("<svg"), "the other picture was drawn");
}
