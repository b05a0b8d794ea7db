//! Datasets from CSV files with a header row.

use std::io::Read;
use std::path::Path;

use super::{DataError, Dataset, TargetData, MAX_CLASSES};

/// How to read a CSV file's label column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TargetKind {
    /// Non-negative integer classes (classification).
    Classes,
    /// A float per sample (regression).
    Values,
}

impl Dataset {
    /// Reads a CSV file with a header row: the column named `label_column` holds the
    /// targets, every other column is a numeric feature, in file order.
    ///
    /// A field that does not parse gives an error naming the file, the 1-based line,
    /// the column and the text; non-finite numbers (`NaN`, `inf`) are rejected too, so
    /// missing values surface here rather than as a NaN loss later.
    ///
    /// ```
    /// # use mlp_runtime::prelude::*;
    /// # let dir = std::env::temp_dir().join(format!("mlp-doc-csv-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// let path = dir.join("iris.csv");
    /// std::fs::write(&path, "sepal,petal,species\n5.1,1.4,0\n6.3,6.0,2\n").unwrap();
    /// let ds = Dataset::from_csv(&path, "species", TargetKind::Classes).unwrap();
    /// assert_eq!((ds.len(), ds.width(), ds.classes()), (2, 2, Some(&[0, 2][..])));
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    pub fn from_csv(
        path: impl AsRef<Path>,
        label_column: &str,
        kind: TargetKind,
    ) -> Result<Dataset, DataError> {
        let path = path.as_ref();
        // Before opening: opening a FIFO blocks until a writer comes, and reading a
        // device could go on forever.
        super::idx::check_regular(path)?;
        let file =
            std::fs::File::open(path).map_err(|source| DataError::Io { path: path.to_owned(), source })?;
        Self::from_csv_reader(file, path, label_column, kind)
    }

    /// Like [`Dataset::from_csv`], from any reader; `path` is only used in errors.
    pub fn from_csv_reader(
        reader: impl Read,
        path: impl AsRef<Path>,
        label_column: &str,
        kind: TargetKind,
    ) -> Result<Dataset, DataError> {
        let path = path.as_ref();
        let format_err = |e: ::csv::Error| DataError::CsvFormat {
            path: path.to_owned(),
            line: e.position().map_or(0, ::csv::Position::line),
            reason: match e.kind() {
                ::csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
                    format!("expected {expected_len} fields like the header, found {len}")
                }
                _ => e.to_string(),
            },
        };

        let mut rdr = ::csv::ReaderBuilder::new().has_headers(true).from_reader(reader);
        let header: Vec<String> =
            rdr.headers().map_err(format_err)?.iter().map(|h| h.trim().to_owned()).collect();
        let mut labels = header.iter().enumerate().filter(|(_, h)| *h == label_column.trim()).map(|(i, _)| i);
        let (Some(label), second) = (labels.next(), labels.next()) else {
            return Err(DataError::CsvColumn {
                path: path.to_owned(),
                column: label_column.to_owned(),
                header,
            });
        };
        if let Some(second) = second {
            // Taking one and feeding the other to the network as a feature would leak
            // the answer into the input.
            return Err(DataError::CsvFormat {
                path: path.to_owned(),
                line: 1,
                reason: format!(
                    "the label column {label_column:?} appears more than once (columns {label} and \
                     {second}, 0-based); rename or drop the extra one"
                ),
            });
        }
        let width = header.len() - 1;
        if width == 0 {
            return Err(DataError::CsvFormat {
                path: path.to_owned(),
                line: 1,
                reason: format!("the header has only the label column {label_column:?}, no feature column"),
            });
        }

        let mut features = Vec::new();
        let mut classes = Vec::new();
        let mut values = Vec::new();
        let mut record = ::csv::StringRecord::new();
        while rdr.read_record(&mut record).map_err(format_err)? {
            let line = record.position().map_or(0, ::csv::Position::line);
            let field_err = |col: usize, text: &str, reason: &'static str| DataError::CsvField {
                path: path.to_owned(),
                line,
                column: header.get(col).cloned().unwrap_or_default(),
                text: clip(text),
                reason,
            };
            for (col, text) in record.iter().enumerate() {
                let t = text.trim();
                if col == label {
                    match kind {
                        TargetKind::Classes => classes.push(
                            t.parse::<u32>()
                                .ok()
                                .filter(|&c| c < MAX_CLASSES)
                                .ok_or_else(|| field_err(col, text, CLASS_EXPECTED))?,
                        ),
                        TargetKind::Values => values.push(parse_finite(t).ok_or(field_err(
                            col,
                            text,
                            "expected a finite number",
                        ))?),
                    }
                } else {
                    features.push(parse_finite(t).ok_or(field_err(col, text, "expected a finite number"))?);
                }
            }
        }
        let targets = match kind {
            TargetKind::Classes => TargetData::Classes(classes),
            TargetKind::Values => TargetData::Values { data: values, width: 1 },
        };
        Dataset::new(features, width, targets)
    }
}

/// At most [`ECHO_CHARS`] characters of `text`, then `…`: an error message quotes the
/// field, and a field can be megabytes long.
fn clip(text: &str) -> String {
    match text.char_indices().nth(ECHO_CHARS) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

/// What a class field must be; the bound is [`MAX_CLASSES`] (checked by a test).
const CLASS_EXPECTED: &str = "expected a class: an integer from 0 to 65535";

/// Characters of a bad field quoted in [`DataError::CsvField`].
const ECHO_CHARS: usize = 40;

fn parse_finite(t: &str) -> Option<f32> {
    t.parse::<f32>().ok().filter(|v| v.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str, label: &str, kind: TargetKind) -> Result<Dataset, DataError> {
        Dataset::from_csv_reader(text.as_bytes(), "in.csv", label, kind)
    }

    #[test]
    fn reads_classes_with_label_anywhere() {
        let d = read("a, label ,b\n1,2,3\n4, 0 ,5.5\n", "label", TargetKind::Classes).unwrap();
        assert_eq!((d.len(), d.width()), (2, 2));
        assert_eq!(d.features(), &[1.0, 3.0, 4.0, 5.5]);
        assert_eq!(d.classes(), Some(&[2, 0][..]));
    }

    #[test]
    fn reads_values_for_regression() {
        let d = read("x,y\n1,-2.5\n3,1e2\n", "y", TargetKind::Values).unwrap();
        assert_eq!(d.values(), Some(&[-2.5, 100.0][..]));
        assert_eq!(d.features(), &[1.0, 3.0]);
    }

    #[test]
    fn bad_field_names_file_line_column_and_text() {
        let err = read("a,b,label\n1,2,0\n1,x2,1\n", "label", TargetKind::Classes).unwrap_err();
        assert!(
            matches!(&err, DataError::CsvField { line: 3, column, text, .. } if column == "b" && text == "x2"),
            "{err:?}"
        );
        let msg = err.to_string();
        assert!(msg.starts_with("in.csv:3: column \"b\""), "{msg}");

        let err = read("a,label\n1,0\n2,-1\n", "label", TargetKind::Classes).unwrap_err();
        assert!(matches!(err, DataError::CsvField { line: 3, .. }), "{err:?}");
        let err = read("a,label\n1,0.5\n", "label", TargetKind::Classes).unwrap_err();
        assert!(matches!(err, DataError::CsvField { line: 2, .. }), "{err:?}");
        let err = read("a,label\nNaN,0\n", "label", TargetKind::Classes).unwrap_err();
        assert!(matches!(err, DataError::CsvField { line: 2, .. }), "{err:?}");
        let err = read("a,label\n,0\n", "label", TargetKind::Classes).unwrap_err();
        assert!(matches!(err, DataError::CsvField { line: 2, .. }), "{err:?}");
    }

    #[test]
    fn missing_label_column_lists_the_header() {
        let err = read("a,b,c\n1,2,3\n", "target", TargetKind::Classes).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("\"target\"") && msg.contains("[\"a\", \"b\", \"c\"]"), "{msg}");
    }

    #[test]
    fn ragged_rows_and_label_only_files_are_errors() {
        let err = read("a,label\n1,0\n1,2,3\n", "label", TargetKind::Classes).unwrap_err();
        assert!(matches!(err, DataError::CsvFormat { line: 3, .. }), "{err:?}");
        assert!(err.to_string().contains("expected 2 fields"), "{err}");
        assert!(read("label\n1\n", "label", TargetKind::Classes).is_err());
    }

    #[test]
    fn header_only_gives_an_empty_dataset() {
        let d = read("a,b,label\n", "label", TargetKind::Classes).unwrap();
        assert_eq!((d.len(), d.width()), (0, 2));
    }

    #[test]
    fn a_huge_bad_field_is_echoed_cut_short() {
        let text = format!("a,label\n{},0\n", "x".repeat(10 << 20));
        let err = read(&text, "label", TargetKind::Classes).unwrap_err();
        let DataError::CsvField { text, line: 2, .. } = &err else { panic!("{err:?}") };
        assert_eq!(text, &format!("{}…", "x".repeat(40)));
        assert!(err.to_string().len() < 200, "{err}");
        // Short fields and multi-byte characters are kept whole.
        let err = read("a,label\nnän,0\n", "label", TargetKind::Classes).unwrap_err();
        assert!(matches!(&err, DataError::CsvField { text, .. } if text == "nän"), "{err:?}");
        assert_eq!(clip(&"é".repeat(41)), format!("{}…", "é".repeat(40)));
    }

    #[test]
    fn a_second_label_column_is_an_error() {
        let err = read("label,a,label\n1,2,3\n", "label", TargetKind::Classes).unwrap_err();
        assert!(matches!(err, DataError::CsvFormat { line: 1, .. }), "{err:?}");
        assert!(err.to_string().contains("columns 0 and 2"), "{err}");
    }

    #[test]
    fn a_class_beyond_max_classes_names_the_line() {
        let err = read("a,label\n1,0\n2,4294967295\n", "label", TargetKind::Classes).unwrap_err();
        assert!(matches!(err, DataError::CsvField { line: 3, .. }), "{err:?}");
        assert!(err.to_string().contains(&format!("0 to {}", MAX_CLASSES - 1)), "{err}");
        let top = format!("a,label\n1,{}\n", MAX_CLASSES - 1);
        assert_eq!(read(&top, "label", TargetKind::Classes).unwrap().num_classes(), MAX_CLASSES as usize);
    }

    #[test]
    fn a_directory_is_not_a_regular_file() {
        let dir = tempfile::tempdir().unwrap();
        let err = Dataset::from_csv(dir.path(), "y", TargetKind::Classes).unwrap_err();
        assert!(err.to_string().contains("not a regular file"), "{err}");
    }

    #[test]
    fn missing_file_names_the_path() {
        let err = Dataset::from_csv("/nonexistent/x.csv", "y", TargetKind::Classes).unwrap_err();
        assert!(err.to_string().contains("/nonexistent/x.csv"), "{err}");
    }
}
