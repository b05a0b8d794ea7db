//! SVG plots: learning curves of a [`History`] and grids of grayscale images, like the
//! figures of the Keras tutorials.
//!
//! Drawn with `plotters`' SVG backend and no font library: text goes into the SVG as
//! `<text>` elements in the `sans-serif` family and the viewer lays it out. Every file is
//! written to a temporary file beside its target and renamed over it, so a failure never
//! leaves a half-written plot, and an error never touches an existing file.
//!
//! Needs the `plot` feature (on by default).

use std::fmt::Display;
use std::ops::Range;
use std::path::{Path, PathBuf};

use plotters::coord::ranged1d::{KeyPointHint, NoDefaultFormatting, Ranged, ValueFormatter};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::train::History;

/// What can go wrong while drawing or writing a plot. Every variant names the file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PlotError {
    /// The file (or its temporary sibling) could not be written or renamed into place.
    #[error("{path}: {source}")]
    Io {
        /// The plot file.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },

    /// There is nothing to draw, e.g. a history with no `loss`/`accuracy` values.
    /// Nothing is written.
    #[error("{path}: nothing to plot: {reason}")]
    Empty {
        /// The plot file.
        path: PathBuf,
        /// Why.
        reason: String,
    },

    /// The arguments do not fit together: captions and images differ in count, an image
    /// has the wrong number of pixels, the grid is too small, ... Nothing is written.
    #[error("{path}: {reason}")]
    BadInput {
        /// The plot file.
        path: PathBuf,
        /// What does not fit.
        reason: String,
    },

    /// `plotters` failed to lay out or draw the figure.
    #[error("{path}: drawing failed: {reason}")]
    Draw {
        /// The plot file.
        path: PathBuf,
        /// What `plotters` said.
        reason: String,
    },
}

/// Colour of training series (matplotlib's "tab:blue").
const TRAIN_COLOR: RGBColor = RGBColor(31, 119, 180);
/// Colour of validation series (matplotlib's "tab:orange").
const VAL_COLOR: RGBColor = RGBColor(255, 127, 14);
const FONT: &str = "sans-serif";
/// `plotters`' SVG backend writes `font-size` as the style size divided by 1.24.
fn font_px(px: f64) -> f64 {
    px * 1.24
}

/// One panel of the learning-curve figure.
struct Panel {
    quantity: &'static str,
    keys: [&'static str; 2],
}

const PANELS: [Panel; 2] = [
    Panel { quantity: "loss", keys: ["loss", "val_loss"] },
    Panel { quantity: "accuracy", keys: ["accuracy", "val_accuracy"] },
];

/// One series: its key and `(epoch, value)` for every epoch that logged it.
struct Series {
    key: &'static str,
    color: RGBColor,
    validation: bool,
    points: Vec<(f64, f32)>,
}

impl Series {
    fn finite(&self) -> impl Iterator<Item = (f64, f64)> + '_ {
        self.points.iter().filter(|(_, v)| v.is_finite()).map(|&(x, v)| (x, f64::from(v)))
    }

    /// Runs of consecutive finite points: a NaN or infinite value breaks the line.
    fn segments(&self) -> Vec<Vec<(f64, f64)>> {
        let mut out = vec![];
        let mut cur = vec![];
        for &(x, v) in &self.points {
            if v.is_finite() {
                cur.push((x, f64::from(v)));
            } else if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
        }
        if !cur.is_empty() {
            out.push(cur);
        }
        out
    }

    fn label(&self) -> String {
        let bad = self.points.iter().filter(|(_, v)| !v.is_finite()).count();
        match bad {
            0 => self.key.to_string(),
            n if n == self.points.len() => format!("{} (all NaN/inf)", self.key),
            _ => format!("{} (NaN/inf skipped)", self.key),
        }
    }
}

/// Draws Keras-tutorial learning curves of `history` into the SVG file `path`: one panel
/// with `loss` and `val_loss`, one with `accuracy` and `val_accuracy` (panels and series
/// appear only for the keys the history has), against the 1-based epoch, with axis
/// labels and a legend placed in the corner the curves leave free.
///
/// Training series are blue with filled dots, validation series orange with hollow dots.
/// A NaN or infinite value is left out and breaks its line; a single epoch shows as dots.
///
/// # Errors
/// [`PlotError::Empty`] if the history has no epochs, or none of the four keys (an empty
/// chart would look like a bug; `path` is left untouched), and [`PlotError::Io`] if the
/// file cannot be written.
///
/// # Example
/// ```no_run
/// use mlp::plot::training_curves;
/// # fn demo(history: &mlp::train::History) -> Result<(), Box<dyn std::error::Error>> {
/// // let history = model.fit(...)?;
/// training_curves(history, "learning_curves.svg")?;
/// # Ok(()) }
/// ```
pub fn training_curves(history: &History, path: impl AsRef<Path>) -> Result<(), PlotError> {
    let path = path.as_ref();
    let panels: Vec<(&Panel, Vec<Series>)> = PANELS
        .iter()
        .map(|panel| {
            let series = panel
                .keys
                .iter()
                .enumerate()
                .map(|(i, &key)| Series {
                    key,
                    color: if i == 0 { TRAIN_COLOR } else { VAL_COLOR },
                    validation: i == 1,
                    points: history
                        .epochs
                        .iter()
                        .filter_map(|e| e.get(key).map(|v| (e.epoch as f64, v)))
                        .collect(),
                })
                .filter(|s| !s.points.is_empty())
                .collect::<Vec<_>>();
            (panel, series)
        })
        .filter(|(_, series)| !series.is_empty())
        .collect();
    if panels.is_empty() {
        let reason = if history.epochs.is_empty() {
            "the history has no epochs".to_string()
        } else {
            "the history has none of loss, val_loss, accuracy, val_accuracy".to_string()
        };
        return Err(PlotError::Empty { path: path.to_path_buf(), reason });
    }

    // The same epoch axis on every panel.
    let epochs = panels.iter().flat_map(|(_, s)| s.iter().flat_map(|s| s.points.iter().map(|p| p.0)));
    let (lo, hi) = epochs.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), x| (lo.min(x), hi.max(x)));

    const PANEL_W: u32 = 600;
    const PANEL_H: u32 = 440;
    let size = (PANEL_W * panels.len() as u32, PANEL_H);
    let svg = render_svg(path, size, |root| {
        root.fill(&WHITE)?;
        let areas = root.split_evenly((1, panels.len()));
        for (area, (panel, series)) in areas.iter().zip(&panels) {
            draw_panel(area, panel, series, (lo, hi))?;
        }
        Ok(())
    })?;
    write_atomically(path, svg.as_bytes())
}

type DrawResult = Result<(), Box<dyn std::error::Error>>;

fn draw_panel(
    area: &DrawingArea<SVGBackend<'_>, Shift>,
    panel: &Panel,
    series: &[Series],
    (lo, hi): (f64, f64),
) -> DrawResult {
    let has_train = series.iter().any(|s| !s.validation);
    let has_val = series.iter().any(|s| s.validation);
    let title = match (has_train, has_val) {
        (true, true) => format!("Training and validation {}", panel.quantity),
        (true, false) => format!("Training {}", panel.quantity),
        _ => format!("Validation {}", panel.quantity),
    };

    let x_range = padded(lo, hi, 0.04, 0.5);
    let x_axis = Axis { range: x_range.clone(), ticks: epoch_ticks(lo, hi), decimals: 0 };
    let (y_lo, y_hi) = series
        .iter()
        .flat_map(Series::finite)
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), (_, y)| (a.min(y), b.max(y)));
    let y_range =
        if y_lo.is_finite() { padded(y_lo, y_hi, 0.06, (y_lo.abs() * 0.1).max(0.05)) } else { 0.0..1.0 };
    let (y_ticks, decimals) = value_ticks(&y_range, 6.0);
    let y_axis = Axis { range: y_range.clone(), ticks: y_ticks, decimals };

    let mut chart = ChartBuilder::on(area)
        .caption(&title, (FONT, font_px(17.0)))
        .margin(14)
        .x_label_area_size(46)
        .y_label_area_size(64)
        .build_cartesian_2d(x_axis, y_axis)?;
    let y_label = capitalize(panel.quantity);
    chart
        .configure_mesh()
        .x_desc("Epoch")
        .y_desc(y_label.as_str())
        .axis_desc_style((FONT, font_px(14.0)))
        .label_style((FONT, font_px(12.0)))
        .bold_line_style(BLACK.mix(0.1))
        .draw()?;

    for s in series {
        let line = s.color.stroke_width(2);
        let dots = if s.validation { s.color.stroke_width(2) } else { s.color.filled() };
        for segment in s.segments() {
            chart.draw_series(std::iter::once(PathElement::new(segment, line)))?;
        }
        let color = s.color;
        let validation = s.validation;
        chart.draw_series(s.finite().map(|p| Circle::new(p, 3, dots)))?.label(s.label()).legend(
            move |(x, y)| {
                let dot = if validation { color.stroke_width(2) } else { color.filled() };
                EmptyElement::at((x, y))
                    + PathElement::new(vec![(0, 0), (22, 0)], color.stroke_width(2))
                    + Circle::new((11, 0), 3, dot)
            },
        );
    }

    let corner = free_corner(series, &x_range, &y_range);
    chart
        .configure_series_labels()
        .position(corner)
        .margin(10)
        .label_font((FONT, font_px(12.5)))
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK.mix(0.25))
        .draw()?;
    Ok(())
}

/// A linear `f64` axis with the given ticks, labelled with `decimals` decimals.
struct Axis {
    range: Range<f64>,
    ticks: Vec<f64>,
    decimals: usize,
}

impl Ranged for Axis {
    type FormatOption = NoDefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, (from, to): (i32, i32)) -> i32 {
        let t = (value - self.range.start) / (self.range.end - self.range.start);
        (f64::from(from) + t * f64::from(to - from)).round() as i32
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        // Grid lines at the ticks only: no light lines between them.
        if hint.weight().allow_light_points() {
            vec![]
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> Range<f64> {
        self.range.clone()
    }
}

impl ValueFormatter<f64> for Axis {
    fn format_ext(&self, value: &f64) -> String {
        format!("{value:.*}", self.decimals)
    }
}

/// `lo..hi` widened by `frac` of its span on each side, or by `min_pad` if it is a point.
fn padded(lo: f64, hi: f64, frac: f64, min_pad: f64) -> Range<f64> {
    let span = hi - lo;
    let pad = if span > 0.0 { span * frac } else { min_pad };
    (lo - pad)..(hi + pad)
}

/// Integer epoch ticks: every epoch up to ten, else multiples of 2, 5, 10, 20, 50, ...
/// and the first epoch if it is not too close to the next.
fn epoch_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let (lo, hi) = (lo.round() as i64, hi.round() as i64);
    let span = (hi - lo).max(0);
    let mut step = 1i64;
    'find: for decade in [1i64, 10, 100, 1000, 10_000, 100_000, 1_000_000] {
        for m in [1, 2, 5] {
            step = m * decade;
            if span / step <= 10 {
                break 'find;
            }
        }
    }
    let mut ticks = vec![lo as f64];
    let mut t = (lo.div_euclid(step) + 1) * step;
    // The first epoch, unless the first round tick would crowd it (1, 2, 4, 6, ...).
    if step > 1 && (t - lo) * 5 < step * 3 {
        ticks.clear();
    }
    while t <= hi {
        ticks.push(t as f64);
        t += step;
    }
    ticks
}

/// About `n` round ticks (steps of 1, 2 or 5 times a power of ten) within `range` (a
/// non-empty range), and the
/// number of decimals their labels need.
fn value_ticks(range: &Range<f64>, n: f64) -> (Vec<f64>, usize) {
    let span = range.end - range.start;
    let mag = 10f64.powf(span.log10().floor());
    let step = [0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * mag)
        .min_by(|a, b| ((span / a - n).abs()).total_cmp(&(span / b - n).abs()))
        .unwrap_or(mag);
    let decimals = (-(step.log10() + 1e-9).floor()).clamp(0.0, 12.0) as usize;
    let first = (range.start / step).ceil() as i64;
    let last = (range.end / step).floor() as i64;
    let ticks = (first..=last).map(|k| k as f64 * step).collect();
    (ticks, decimals)
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// The corner of the plot the legend covers least of the curves: the series' points, and
/// points along their lines, counted in a legend-sized box at each corner.
fn free_corner(series: &[Series], x: &Range<f64>, y: &Range<f64>) -> SeriesLabelPosition {
    // A legend of two short entries takes about this fraction of a panel's plot area.
    let label_chars = series.iter().map(|s| s.label().len()).max().unwrap_or(8) as f64;
    let w = ((label_chars * 7.5 + 60.0) / 500.0).min(0.9);
    let h = (series.len() as f64 * 22.0 + 30.0) / 330.0;
    let norm =
        |(px, py): (f64, f64)| ((px - x.start) / (x.end - x.start), (py - y.start) / (y.end - y.start));
    let mut samples = vec![];
    for s in series {
        for seg in s.segments() {
            let seg: Vec<_> = seg.into_iter().map(norm).collect();
            samples.extend(&seg);
            for pair in seg.windows(2) {
                for k in 1..16 {
                    let t = f64::from(k) / 16.0;
                    samples.push((
                        pair[0].0 + (pair[1].0 - pair[0].0) * t,
                        pair[0].1 + (pair[1].1 - pair[0].1) * t,
                    ));
                }
            }
        }
    }
    let candidates = [
        (SeriesLabelPosition::UpperRight, (1.0 - w, 1.0), (1.0 - h, 1.0)),
        (SeriesLabelPosition::LowerRight, (1.0 - w, 1.0), (0.0, h)),
        (SeriesLabelPosition::UpperLeft, (0.0, w), (1.0 - h, 1.0)),
        (SeriesLabelPosition::LowerLeft, (0.0, w), (0.0, h)),
    ];
    let mut best = (usize::MAX, SeriesLabelPosition::UpperRight);
    for (pos, (x0, x1), (y0, y1)) in candidates {
        let covered =
            samples.iter().filter(|(px, py)| (x0..=x1).contains(px) && (y0..=y1).contains(py)).count();
        if covered < best.0 {
            best = (covered, pos);
        }
    }
    best.1
}

/// Draws `images` (row-major grayscale pixels in `[0, 1]`: 0 black, 1 white; values
/// outside are clamped, NaN shows black) in a grid of `rows` × `cols` cells, filled row by
/// row, each with its caption centred under it, into the SVG file `path`. `side` is the
/// image shape as `(height, width)` in pixels, `(28, 28)` for (Fashion-)MNIST. A caption
/// too wide for its cell is broken after each ` / `, then at spaces; a `\n` always starts
/// a new line. Cells past the last image stay blank.
///
/// Each pixel is a rectangle (runs of equal pixels in a row are merged), scaled up so a
/// 28 × 28 image is 140 px wide.
///
/// # Errors
/// [`PlotError::BadInput`] (nothing written) if `images` is empty, `rows` or `cols` is 0,
/// there are more images than cells, `captions` and `images` differ in count, or an image
/// does not have `height * width` pixels; [`PlotError::Io`] if the file cannot be written.
///
/// # Example
/// ```no_run
/// use mlp::plot::image_grid;
/// # fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// let shirt = vec![0.5f32; 28 * 28];
/// let coat = vec![0.8f32; 28 * 28];
/// let captions = vec![
///     "true: Shirt / predicted: T-shirt/top".to_string(),
///     "true: Coat / predicted: Pullover".to_string(),
/// ];
/// image_grid(&[&shirt, &coat], 1, 2, (28, 28), &captions, "misclassified.svg")?;
/// # Ok(()) }
/// ```
pub fn image_grid(
    images: &[&[f32]],
    rows: usize,
    cols: usize,
    side: (usize, usize),
    captions: &[String],
    path: impl AsRef<Path>,
) -> Result<(), PlotError> {
    let path = path.as_ref();
    let bad = |reason: String| PlotError::BadInput { path: path.to_path_buf(), reason };
    let (height, width) = side;
    if images.is_empty() {
        return Err(bad("no images to draw".into()));
    }
    if rows == 0 || cols == 0 {
        return Err(bad(format!("a {rows} x {cols} grid has no cells")));
    }
    if rows.checked_mul(cols).is_none_or(|cells| images.len() > cells) {
        return Err(bad(format!("{} images do not fit a {rows} x {cols} grid", images.len())));
    }
    if captions.len() != images.len() {
        return Err(bad(format!(
            "{} captions for {} images: give one caption per image",
            captions.len(),
            images.len()
        )));
    }
    if height == 0 || width == 0 {
        return Err(bad(format!("image side {height} x {width} is empty")));
    }
    let pixels = height.checked_mul(width);
    if let Some((i, img)) = images.iter().enumerate().find(|(_, img)| Some(img.len()) != pixels) {
        return Err(bad(format!(
            "image {i} has {} pixels, expected {height} x {width} = {}",
            img.len(),
            height.saturating_mul(width)
        )));
    }

    // Layout, in SVG pixels.
    const PAD: usize = 10;
    const MIN_CELL_W: usize = 170;
    const CAPTION_PX: f64 = 12.5;
    const LINE_H: usize = 16;
    let scale = (140 / height.max(width)).max(1);
    let (tile_w, tile_h) = (width * scale, height * scale);
    let cell_w = tile_w.max(MIN_CELL_W) + 2 * PAD;
    let chars_per_line = ((cell_w - PAD) as f64 / (CAPTION_PX * 0.56)).floor() as usize;
    let wrapped: Vec<Vec<String>> = captions.iter().map(|c| wrap(c, chars_per_line.max(4))).collect();
    let lines = wrapped.iter().map(Vec::len).max().unwrap_or(0);
    let cell_h = PAD + tile_h + 8 + lines * LINE_H + PAD;
    let (total_w, total_h) = (cell_w.saturating_mul(cols), cell_h.saturating_mul(rows));
    const MAX_SIDE: usize = 1 << 16;
    if total_w > MAX_SIDE || total_h > MAX_SIDE {
        return Err(bad(format!(
            "the figure would be {total_w} x {total_h} px; draw fewer or smaller images"
        )));
    }

    let svg = render_svg(path, (total_w as u32, total_h as u32), |root| {
        root.fill(&WHITE)?;
        let caption_style = TextStyle::from((FONT, font_px(CAPTION_PX)).into_font())
            .color(&BLACK)
            .pos(Pos::new(HPos::Center, VPos::Top));
        for (i, (img, caption)) in images.iter().zip(&wrapped).enumerate() {
            let (r, c) = (i / cols, i % cols);
            let x0 = (c * cell_w + (cell_w - tile_w) / 2) as i32;
            let y0 = (r * cell_h + PAD) as i32;
            let s = scale as i32;
            root.draw(&Rectangle::new([(x0, y0), (x0 + tile_w as i32, y0 + tile_h as i32)], BLACK.filled()))?;
            for (py, row) in img.chunks(width).enumerate() {
                let shades: Vec<u8> = row.iter().map(|&v| shade(v)).collect();
                let mut px = 0;
                while px < width {
                    let v = shades[px];
                    let run = shades[px..].iter().take_while(|&&u| u == v).count();
                    if v != 0 {
                        let (x, y) = (x0 + px as i32 * s, y0 + py as i32 * s);
                        root.draw(&Rectangle::new(
                            [(x, y), (x + run as i32 * s, y + s)],
                            RGBColor(v, v, v).filled(),
                        ))?;
                    }
                    px += run;
                }
            }
            let cx = (c * cell_w + cell_w / 2) as i32;
            let mut ty = y0 + tile_h as i32 + 8;
            for line in caption {
                root.draw(&Text::new(line.as_str(), (cx, ty), &caption_style))?;
                ty += LINE_H as i32;
            }
        }
        Ok(())
    })?;
    write_atomically(path, svg.as_bytes())
}

/// A pixel value in `[0, 1]` as a gray level; NaN is black.
fn shade(v: f32) -> u8 {
    if v.is_nan() {
        0
    } else {
        (v.clamp(0.0, 1.0) * 255.0).round() as u8
    }
}

/// Splits `text` into lines of at most `max` characters: at `\n`, then, if a line is too
/// long, after each ` / ` (as in "true: Shirt / predicted: T-shirt/top"), then at spaces;
/// a longer word is cut.
fn wrap(text: &str, max: usize) -> Vec<String> {
    let mut lines = vec![];
    for para in text.split('\n') {
        if para.chars().count() <= max {
            lines.push(para.trim().to_string());
            continue;
        }
        let parts: Vec<&str> = para.split(" / ").collect();
        for (i, part) in parts.iter().enumerate() {
            let part = if i + 1 < parts.len() { format!("{part} /") } else { part.to_string() };
            wrap_words(&part, max, &mut lines);
        }
    }
    lines
}

/// Appends `text` to `lines`, wrapped at spaces to `max` characters.
fn wrap_words(text: &str, max: usize, lines: &mut Vec<String>) {
    let mut line = String::new();
    for word in text.split_whitespace() {
        let mut word: Vec<char> = word.chars().collect();
        let line_len = line.chars().count();
        if line_len > 0 && line_len + 1 + word.len() <= max {
            line.push(' ');
            line.extend(&word);
            continue;
        }
        if line_len > 0 {
            lines.push(std::mem::take(&mut line));
        }
        while word.len() > max {
            lines.push(word.drain(..max).collect());
        }
        line.extend(&word);
    }
    lines.push(line);
}

/// Runs `draw` on an in-memory SVG of `size` and returns the document.
fn render_svg(
    path: &Path,
    size: (u32, u32),
    draw: impl FnOnce(&DrawingArea<SVGBackend<'_>, Shift>) -> DrawResult,
) -> Result<String, PlotError> {
    let failed = |e: &dyn Display| PlotError::Draw { path: path.to_path_buf(), reason: e.to_string() };
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        draw(&root).map_err(|e| failed(&e))?;
        root.present().map_err(|e| failed(&e))?;
    }
    Ok(svg)
}

/// Writes `bytes` through the crate's one atomic writer (temporary beside the target,
/// then rename; symlinks followed; devices, FIFOs and directories refused).
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), PlotError> {
    crate::io::atomic::write(path, bytes).map_err(|source| PlotError::Io { path: path.to_path_buf(), source })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_at_spaces_and_cuts_long_words() {
        assert_eq!(
            wrap("true: Shirt / predicted: T-shirt/top", 22),
            ["true: Shirt /", "predicted: T-shirt/top"]
        );
        assert_eq!(
            wrap("true: Shirt / predicted: T-shirt/top", 60),
            ["true: Shirt / predicted: T-shirt/top"]
        );
        assert_eq!(wrap("a b c d / e", 4), ["a b", "c d", "/", "e"]);
        assert_eq!(wrap("abcdefghij", 4), ["abcd", "efgh", "ij"]);
        assert_eq!(wrap("a\nb", 10), ["a", "b"]);
        assert_eq!(wrap("", 10), [""]);
    }

    #[test]
    fn epoch_ticks_are_integers_starting_at_the_first_epoch() {
        assert_eq!(epoch_ticks(1.0, 1.0), [1.0]);
        assert_eq!(epoch_ticks(1.0, 5.0), [1.0, 2.0, 3.0, 4.0, 5.0]);
        assert_eq!(epoch_ticks(1.0, 30.0), [1.0, 5.0, 10.0, 15.0, 20.0, 25.0, 30.0]);
        assert_eq!(epoch_ticks(1.0, 12.0), [2.0, 4.0, 6.0, 8.0, 10.0, 12.0]);
        assert_eq!(epoch_ticks(3.0, 200.0)[..3], [3.0, 20.0, 40.0]);
    }

    #[test]
    fn value_ticks_are_round() {
        let (ticks, decimals) = value_ticks(&(0.31..0.92), 6.0);
        assert_eq!(decimals, 1);
        assert_eq!(ticks.len(), 6);
        assert!((ticks[0] - 0.4).abs() < 1e-12 && (ticks[5] - 0.9).abs() < 1e-12);
        let (ticks, decimals) = value_ticks(&(0.851..0.869), 6.0);
        assert_eq!((ticks.len(), decimals), (3, 3));
        let (_, decimals) = value_ticks(&(0.0..300.0), 6.0);
        assert_eq!(decimals, 0);
    }
}
