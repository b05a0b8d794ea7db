//! A Keras-like summary table of a network: from counts the macro computed at compile time
//! ([`Summary::of`]), or counted on a network value, frozen layers included ([`Summary::of_value`]).

use crate::layer::Network;
use crate::tensors::for_each_tensor_ref;
use alloc::{string::String, string::ToString};
use core::fmt;

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
    /// Trainable parameters: in [`Summary::of`], every parameter of every layer; in
    /// [`Summary::of_value`], only those of layers that are not frozen.
    pub trainable: usize,
}

impl Summary {
    /// The summary of network type `T`, from the counts the macro computed at compile time.
    /// Those cannot know what a value has frozen: every parameter counts as trainable (batch
    /// norm's moving statistics aside). [`Summary::of_value`] counts a value's frozen layers.
    pub fn of<T: Network>() -> Self {
        Summary {
            name: T::NAME,
            input: T::IN,
            rows: T::ROWS,
            total: T::PARAMS,
            trainable: T::TRAINABLE_PARAMS,
        }
    }

    /// The summary of the network `net` as it is now: its tensors are counted, and the
    /// parameters of frozen layers ([`Layer::set_trainable`](crate::Layer::set_trainable))
    /// count as non-trainable, as in Keras' `model.summary()`. The rows are those of
    /// [`Summary::of`]. [`Network::runtime_summary`] is the method form.
    ///
    /// ```
    /// use mlp::prelude::*;
    /// network! { Net< input(4); dense(8, relu); batch_norm; dense(3, softmax) > }
    /// let mut net = Net::seeded(0);
    /// net.dense_0.set_trainable(false);
    /// let s = Summary::of_value(&net);
    /// // dense_0's 40 and batch norm's 16 moving statistics are non-trainable.
    /// assert_eq!((s.total, s.trainable), (99, 43));
    /// assert!(s.to_string().ends_with("Non-trainable params: 56"));
    /// // The compile-time counts do not see the freeze.
    /// assert_eq!(Net::summary().trainable, 83);
    /// ```
    pub fn of_value<T: Network>(net: &T) -> Self {
        let (mut total, mut trainable) = (0, 0);
        for_each_tensor_ref(net, |_, t| {
            total += t.value().len();
            if t.trainable() {
                trainable += t.value().len();
            }
        });
        Summary { name: T::NAME, input: T::IN, rows: T::ROWS, total, trainable }
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
