//! A Keras-like summary table of a network, from counts the macro computed at compile time.

use crate::layer::Network;
use std::fmt;

/// One row of a summary: a top-level layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Row {
    /// The layer's name (`dense_0`, or the name the user gave it).
    pub name: &'static str,
    /// What it is (`dense(300, relu)`, `batch_norm`, `residual`, or a sub-network's type).
    pub kind: &'static str,
    /// Output width.
    pub out: usize,
    /// Parameters, Keras' count (batch norm's moving statistics included).
    pub params: usize,
}

/// A network's summary; `Display` prints it like Keras' `model.summary()`.
///
/// ```
/// use mlp::prelude::*;
/// network! { Plain< flatten(28, 28); dense(300, relu); dense(100, relu); dense(10, softmax) > }
/// let s = Plain::summary();
/// assert_eq!(s.total, 266_610);
/// assert!(s.to_string().contains("Total params: 266,610"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Summary {
    /// The network's type name.
    pub name: &'static str,
    /// Input width.
    pub input: usize,
    /// The top-level layers.
    pub rows: &'static [Row],
    /// All parameters.
    pub total: usize,
    /// Trainable parameters.
    pub trainable: usize,
}

impl Summary {
    /// The summary of network `T`.
    pub fn of<T: Network>() -> Self {
        Summary {
            name: T::NAME,
            input: T::IN,
            rows: T::ROWS,
            total: T::PARAMS,
            trainable: T::TRAINABLE_PARAMS,
        }
    }
}

/// `266610` → `266,610`, as Keras prints counts.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name_w = self.rows.iter().map(|r| r.name.len()).chain([12]).max().unwrap_or(12);
        let kind_w = self.rows.iter().map(|r| r.kind.len()).chain([10]).max().unwrap_or(10);
        let width = name_w + kind_w + 30;
        writeln!(f, "Model: \"{}\" (input width {})", self.name, self.input)?;
        writeln!(f, "{}", "━".repeat(width))?;
        writeln!(f, "{:<name_w$}  {:<kind_w$}  {:>12}  {:>12}", "Layer", "Kind", "Output width", "Param #")?;
        writeln!(f, "{}", "━".repeat(width))?;
        for r in self.rows {
            writeln!(
                f,
                "{:<name_w$}  {:<kind_w$}  {:>12}  {:>12}",
                r.name,
                r.kind,
                r.out,
                thousands(r.params)
            )?;
        }
        writeln!(f, "{}", "━".repeat(width))?;
        writeln!(f, " Total params: {}", thousands(self.total))?;
        writeln!(f, " Trainable params: {}", thousands(self.trainable))?;
        write!(f, " Non-trainable params: {}", thousands(self.total - self.trainable))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn thousands_groups_digits() {
        assert_eq!(super::thousands(0), "0");
        assert_eq!(super::thousands(999), "999");
        assert_eq!(super::thousands(1000), "1,000");
        assert_eq!(super::thousands(266_610), "266,610");
    }
}
