//! SVG plots: learning curves and image grids are written whole, name what they show,
//! and refuse odd input with an error rather than a panic or a half-written file.
#![cfg(feature = "plot")]

use std::path::Path;

use mlp_runtime::plot::{image_grid, training_curves, PlotError};
use mlp_runtime::train::{EpochLogs, History};

fn history(rows: &[&[(&str, f32)]]) -> History {
    History {
        epochs: rows
            .iter()
            .enumerate()
            .map(|(i, values)| EpochLogs {
                epoch: i + 1,
                values: values.iter().map(|&(k, v)| (k.to_string(), v)).collect(),
                seconds: 1.0,
            })
            .collect(),
    }
}

/// A Keras-like run: loss falls, accuracy rises, validation lags and overfits at the end.
fn keras_like(epochs: usize) -> History {
    let rows: Vec<Vec<(&str, f32)>> = (0..epochs)
        .map(|e| {
            let t = e as f32;
            vec![
                ("loss", 0.5 + 0.4 * (-t / 4.0).exp()),
                ("accuracy", 0.82 + 0.1 * (1.0 - (-t / 4.0).exp())),
                ("val_loss", 0.55 + 0.35 * (-t / 3.0).exp() + 0.004 * t * t / 4.0),
                ("val_accuracy", 0.8 + 0.08 * (1.0 - (-t / 3.0).exp())),
                ("lr", 0.001),
            ]
        })
        .collect();
    let refs: Vec<&[(&str, f32)]> = rows.iter().map(Vec::as_slice).collect();
    history(&refs)
}

/// The file is one SVG document: opens with `<svg`, closes with `</svg>`.
fn read_svg(path: &Path) -> String {
    let svg = std::fs::read_to_string(path).unwrap();
    assert!(svg.trim_start().starts_with("<svg"), "{}", &svg[..svg.len().min(200)]);
    assert!(svg.trim_end().ends_with("</svg>"));
    assert!(svg.contains("xmlns=\"http://www.w3.org/2000/svg\""));
    svg
}

/// Only the plot itself is left in the folder: no temporary files.
fn only_file(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect()
}

fn text_elements(svg: &str) -> Vec<String> {
    svg.split("<text")
        .skip(1)
        .map(|t| {
            let body = &t[t.find('>').unwrap() + 1..];
            body[..body.find("</text>").unwrap()].trim().to_string()
        })
        .collect()
}

#[test]
fn learning_curves_show_every_series_with_labels_and_legend() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("curves.svg");
    training_curves(&keras_like(20), &path).unwrap();
    let svg = read_svg(&path);
    let texts = text_elements(&svg);
    for label in [
        "loss",
        "val_loss",
        "accuracy",
        "val_accuracy",
        "Epoch",
        "Loss",
        "Accuracy",
        "Training and validation loss",
        "Training and validation accuracy",
    ] {
        assert!(texts.iter().any(|t| t == label), "no text {label:?} in {texts:?}");
    }
    // Epoch ticks are whole numbers (2, 4, ..., 20); `lr` is not plotted.
    assert!(texts.iter().any(|t| t == "2") && texts.iter().any(|t| t == "20"));
    assert!(!texts.iter().any(|t| t == "lr"));
    // Blue training and orange validation lines.
    assert!(svg.contains("#1F77B4") && svg.contains("#FF7F0E"), "colours");
    assert_eq!(only_file(dir.path()), ["curves.svg"]);
}

#[test]
fn learning_curves_of_loss_only_have_one_panel() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("loss.svg");
    training_curves(&history(&[&[("loss", 2.0)], &[("loss", 1.0)]]), &path).unwrap();
    let texts = text_elements(&read_svg(&path));
    assert!(texts.iter().any(|t| t == "Training loss"));
    assert!(!texts.iter().any(|t| t.contains("ccuracy")));
}

#[test]
fn one_epoch_and_nan_values_do_not_panic() {
    let dir = tempfile::tempdir().unwrap();
    let one = dir.path().join("one.svg");
    training_curves(&history(&[&[("loss", 0.7), ("val_loss", 0.8), ("accuracy", 0.5)]]), &one).unwrap();
    let texts = text_elements(&read_svg(&one));
    assert!(texts.iter().any(|t| t == "1") && texts.iter().any(|t| t == "val_loss"));

    let nan = dir.path().join("nan.svg");
    let h = history(&[
        &[("loss", 1.0), ("val_loss", f32::NAN)],
        &[("loss", f32::NAN), ("val_loss", f32::NAN)],
        &[("loss", f32::INFINITY), ("val_loss", f32::NAN)],
        &[("loss", 0.5), ("val_loss", f32::NAN)],
    ]);
    training_curves(&h, &nan).unwrap();
    let svg = read_svg(&nan);
    assert!(!svg.contains("NaN\"") && !svg.contains("inf\""), "no NaN coordinates");
    let texts = text_elements(&svg);
    assert!(texts.iter().any(|t| t == "loss (NaN/inf skipped)"), "{texts:?}");
    assert!(texts.iter().any(|t| t == "val_loss (all NaN/inf)"), "{texts:?}");

    // Every value NaN: an empty-looking panel, but still a chart.
    let all_nan = dir.path().join("all_nan.svg");
    let nan_row: &[(&str, f32)] = &[("loss", f32::NAN)];
    training_curves(&history(&[nan_row; 3]), &all_nan).unwrap();
    read_svg(&all_nan);
}

/// Decision: an empty history (or one without loss/accuracy keys) is an error, not an
/// empty chart, and an existing file at the path is left as it was.
#[test]
fn empty_history_is_an_error_and_keeps_the_old_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("curves.svg");
    std::fs::write(&path, "old").unwrap();
    let err = training_curves(&History::default(), &path).unwrap_err();
    assert!(matches!(err, PlotError::Empty { .. }), "{err:?}");
    assert!(err.to_string().contains("curves.svg"), "{err}");
    let err = training_curves(&history(&[&[("lr", 0.1)]]), &path).unwrap_err();
    assert!(matches!(err, PlotError::Empty { .. }), "{err:?}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "old");
    assert_eq!(only_file(dir.path()), ["curves.svg"]);
}

#[test]
fn unwritable_path_is_an_io_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("no such dir").join("curves.svg");
    let err = training_curves(&keras_like(3), &path).unwrap_err();
    assert!(matches!(err, PlotError::Io { .. }), "{err:?}");
    assert!(err.to_string().contains("curves.svg"), "{err}");
}

fn digit(k: usize) -> Vec<f32> {
    // A ring whose brightness varies with k, on a black background.
    (0..28 * 28)
        .map(|i| {
            let (r, c) = ((i / 28) as f32 - 13.5, (i % 28) as f32 - 13.5);
            let d = (r * r + c * c).sqrt();
            if (6.0..10.0).contains(&d) {
                0.3 + 0.1 * k as f32
            } else {
                0.0
            }
        })
        .collect()
}

#[test]
fn image_grid_draws_images_with_their_captions() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("grid.svg");
    let pixels: Vec<Vec<f32>> = (0..5).map(digit).collect();
    let images: Vec<&[f32]> = pixels.iter().map(Vec::as_slice).collect();
    let captions: Vec<String> = [
        "true: Shirt / predicted: T-shirt/top",
        "true: Coat / predicted: Pullover",
        "true: Sandal / predicted: Sneaker",
        "true: Bag & Co / predicted: <Dress>",
        "no\nwrap",
    ]
    .map(String::from)
    .to_vec();
    image_grid(&images, 2, 3, (28, 28), &captions, &path).unwrap();
    let svg = read_svg(&path);
    let texts = text_elements(&svg);
    // Long captions wrap at spaces; markup characters are escaped.
    for line in [
        "true: Shirt /",
        "predicted: T-shirt/top",
        "true: Coat /",
        "predicted: Pullover",
        "true: Sandal /",
        "predicted: Sneaker",
        "true: Bag &amp; Co /",
        "predicted: &lt;Dress&gt;",
        "no",
        "wrap",
    ] {
        assert!(texts.iter().any(|t| t == line), "no caption line {line:?} in {texts:?}");
    }
    assert!(svg.contains("<rect"));
    assert_eq!(only_file(dir.path()), ["grid.svg"]);
}

/// Arguments of one `image_grid` call: images, rows, cols, side, captions.
type Case<'a> = (Vec<&'a [f32]>, usize, usize, (usize, usize), &'a [String]);

#[test]
fn image_grid_refuses_odd_input() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("grid.svg");
    let img = vec![0.5f32; 28 * 28];
    let short = vec![0.5f32; 27 * 28];
    let one = vec!["a".to_string()];
    let two = vec!["a".to_string(), "b".to_string()];
    let cases: Vec<Case> = vec![
        (vec![&img, &img], 1, 2, (28, 28), &one), // one caption for two images
        (vec![&img], 1, 1, (28, 28), &two),       // two captions for one image
        (vec![&img, &img], 1, 1, (28, 28), &two), // more images than cells
        (vec![&short], 1, 1, (28, 28), &one),     // wrong pixel count
        (vec![&img], 0, 1, (28, 28), &one),       // no cells
        (vec![], 1, 1, (28, 28), &[]),            // nothing to draw
        (vec![&img], 1, 1, (0, 28), &one),        // empty side
        (vec![&img], usize::MAX, 2, (28, 28), &one), // overflowing grid
    ];
    for (images, rows, cols, side, captions) in cases {
        let err = image_grid(&images, rows, cols, side, captions, &path).unwrap_err();
        assert!(matches!(err, PlotError::BadInput { .. }), "{err:?}");
        assert!(err.to_string().contains("grid.svg"), "{err}");
    }
    assert!(only_file(dir.path()).is_empty());
}

#[test]
fn image_grid_clamps_pixels_and_overwrites_the_old_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("grid.svg");
    std::fs::write(&path, "old").unwrap();
    let odd = [f32::NAN, -1.0, 2.0, 0.5, f32::INFINITY, f32::NEG_INFINITY];
    image_grid(&[&odd], 1, 1, (2, 3), &["odd".to_string()], &path).unwrap();
    let svg = read_svg(&path);
    assert!(svg.contains("#FFFFFF") && svg.contains("#808080"), "white and mid gray");
    assert_eq!(only_file(dir.path()), ["grid.svg"]);
}
