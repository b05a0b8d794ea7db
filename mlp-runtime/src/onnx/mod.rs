//! ONNX export: every layer describes itself as standard ONNX operators
//! ([`Layer::describe_onnx`]) into an [`OnnxGraph`], which the `onnx` feature encodes as an
//! ONNX model file ([`OnnxExt`]).
//!
//! The graph has one input named `input`, shaped `[batch, d1, ...]` with the first layer's
//! dims ([`Layer::INPUT_DIMS`]: `flatten(28, 28)` gives `[batch, 28, 28]`, flattened in the
//! graph), and one output named `output`, `[batch, OUT]`; `batch` is a dynamic dimension.
//! Initializers are named by the weight-file keys (`dense_0.weight`,
//! `residual_0.dense_1.bias`), so both files read side by side. Opsets 17 to 21 are
//! supported; 20 is the default.
//!
//! The graph types here exist whatever the features; only encoding and writing files need
//! the `onnx` feature, so the code `network!` generates is the same either way.

use alloc::{format, string::String, string::ToString, vec, vec::Vec};
#[cfg(feature = "onnx")]
mod export;
#[cfg(feature = "onnx")]
pub mod proto;

#[cfg(feature = "onnx")]
pub use export::{export_onnx, onnx_bytes, OnnxExt};

use crate::activation::Activation;
use crate::layer::{Layer, ParamRef, VisitorRef};

/// The opsets this crate writes, oldest first, with the IR version each needs.
pub const OPSETS: [(i64, i64); 5] = [(17, 8), (18, 8), (19, 9), (20, 9), (21, 10)];

/// The opset written unless [`OnnxOptions::opset`] picks another.
pub const DEFAULT_OPSET: i64 = 20;

/// What went wrong describing or writing an ONNX model.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OnnxError {
    /// A layer with no exact ONNX form: a hand-written layer that does not implement
    /// [`Layer::describe_onnx`].
    #[error("layer `{layer}` has no ONNX form: implement `Layer::describe_onnx` for it")]
    Unsupported {
        /// The layer's type name.
        layer: &'static str,
    },
    /// An opset outside 17..=21.
    #[error("ONNX opset {opset} is not supported: pick one from 17 to 21 (the default is 20)")]
    Opset {
        /// The opset asked for.
        opset: i64,
    },
    /// A layer's description does not fit the graph (an internal mistake, reported, not a panic).
    #[error("layer `{layer}`: {message}")]
    Graph {
        /// The scope (weight-file key prefix) of the layer at fault.
        layer: String,
        /// What is wrong.
        message: String,
    },
    /// Writing the file failed; whatever was at the path is untouched.
    #[cfg(feature = "std")]
    #[error("cannot write ONNX model {}: {source}", path.display())]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

/// Export settings: the opset and metadata stored in the model.
///
/// ```
/// use mlp::prelude::*;
/// let opts = OnnxOptions::new().opset(17).metadata("classes", "cat,dog");
/// assert_eq!(opts.get_opset(), 17);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct OnnxOptions {
    opset: i64,
    metadata: Vec<(String, String)>,
    graph_name: Option<String>,
}

impl Default for OnnxOptions {
    fn default() -> Self {
        OnnxOptions { opset: DEFAULT_OPSET, metadata: Vec::new(), graph_name: None }
    }
}

impl OnnxOptions {
    /// Opset 20, no metadata.
    pub fn new() -> Self {
        Self::default()
    }

    /// Picks the opset (17 to 21); another value makes the export fail with [`OnnxError::Opset`].
    pub fn opset(mut self, opset: i64) -> Self {
        self.opset = opset;
        self
    }

    /// Adds a metadata entry (`metadata_props`), for example the class names.
    pub fn metadata(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.metadata.push((key.into(), value.into()));
        self
    }

    /// Names the graph (the network's type name by default).
    pub fn graph_name(mut self, name: impl Into<String>) -> Self {
        self.graph_name = Some(name.into());
        self
    }

    /// The opset asked for.
    pub fn get_opset(&self) -> i64 {
        self.opset
    }

    /// The metadata entries, in the order added.
    pub fn get_metadata(&self) -> &[(String, String)] {
        &self.metadata
    }

    /// The graph name asked for, if any.
    pub fn get_graph_name(&self) -> Option<&str> {
        self.graph_name.as_deref()
    }
}

/// The IR version an opset needs, or [`OnnxError::Opset`].
pub fn ir_version(opset: i64) -> Result<i64, OnnxError> {
    OPSETS.iter().find(|(o, _)| *o == opset).map(|(_, ir)| *ir).ok_or(OnnxError::Opset { opset })
}

/// An attribute value of a node.
#[derive(Clone, Debug, PartialEq)]
pub enum OnnxAttr {
    /// A float.
    Float(f32),
    /// An integer.
    Int(i64),
    /// A string.
    String(String),
}

/// A tensor's values.
#[derive(Clone, Debug, PartialEq)]
pub enum OnnxData {
    /// 32-bit floats.
    F32(Vec<f32>),
    /// 64-bit integers (shapes).
    I64(Vec<i64>),
}

/// A constant tensor of the graph: a weight (named by its weight-file key) or a constant.
#[derive(Clone, Debug, PartialEq)]
pub struct OnnxTensor {
    /// Its name.
    pub name: String,
    /// Its shape.
    pub dims: Vec<i64>,
    /// Its values, row-major.
    pub data: OnnxData,
}

/// One operator of the graph.
#[derive(Clone, Debug, PartialEq)]
pub struct OnnxNode {
    /// The operator (`Gemm`, `Relu`).
    pub op_type: &'static str,
    /// A unique node name.
    pub name: String,
    /// Input value names.
    pub inputs: Vec<String>,
    /// Output value names.
    pub outputs: Vec<String>,
    /// Attributes by name.
    pub attributes: Vec<(&'static str, OnnxAttr)>,
}

/// A graph being described: nodes in order, initializers, the name scope of the layer being
/// described, and the value the next layer reads (its "current" value).
#[derive(Clone, Debug)]
pub struct OnnxGraph {
    opset: i64,
    scope: Vec<String>,
    nodes: Vec<OnnxNode>,
    initializers: Vec<OnnxTensor>,
    current: String,
    count: usize,
}

/// The graph input's name.
pub const INPUT: &str = "input";
/// The graph output's name.
pub const OUTPUT: &str = "output";
/// The dynamic batch dimension's name.
pub const BATCH: &str = "batch";

impl OnnxGraph {
    /// An empty graph for `opset` (17 to 21) whose current value is the input.
    pub fn new(opset: i64) -> Result<Self, OnnxError> {
        ir_version(opset)?;
        Ok(OnnxGraph {
            opset,
            scope: Vec::new(),
            nodes: Vec::new(),
            initializers: Vec::new(),
            current: INPUT.to_string(),
            count: 0,
        })
    }

    /// The opset the graph is described for.
    pub fn opset(&self) -> i64 {
        self.opset
    }

    /// A named sub-layer begins: its tensors' names get `name.` in front.
    pub fn enter(&mut self, name: &str) {
        self.scope.push(name.to_string());
    }

    /// The last entered sub-layer ends.
    pub fn leave(&mut self) {
        self.scope.pop();
    }

    /// The open scopes joined with `.` (empty at the top).
    pub fn scope(&self) -> String {
        self.scope.join(".")
    }

    /// The value the next operator reads.
    pub fn current(&self) -> &str {
        &self.current
    }

    /// Makes `value` the one the next operator reads (a residual unit's skip, say).
    pub fn set_current(&mut self, value: impl Into<String>) {
        self.current = value.into();
    }

    /// The nodes so far.
    pub fn nodes(&self) -> &[OnnxNode] {
        &self.nodes
    }

    /// The initializers so far.
    pub fn initializers(&self) -> &[OnnxTensor] {
        &self.initializers
    }

    /// `name` inside the current scope: `dense_0.weight`.
    fn scoped(&self, name: &str) -> String {
        if self.scope.is_empty() {
            name.to_string()
        } else {
            format!("{}.{name}", self.scope())
        }
    }

    /// Adds an initializer named `name` inside the current scope and returns its full name.
    pub fn initializer(&mut self, name: &str, dims: &[usize], data: OnnxData) -> String {
        let name = self.scoped(name);
        let dims = dims.iter().map(|&d| d as i64).collect();
        self.initializers.push(OnnxTensor { name: name.clone(), dims, data });
        name
    }

    /// Adds a constant (no weight-file key: its name has no `.`, so it never clashes with one).
    pub fn constant(&mut self, what: &str, dims: &[usize], data: OnnxData) -> String {
        self.count += 1;
        let name = format!("const_{what}_{}", self.count);
        let dims = dims.iter().map(|&d| d as i64).collect();
        self.initializers.push(OnnxTensor { name: name.clone(), dims, data });
        name
    }

    /// Adds every tensor `layer` visits (parameters and buffers) as initializers under their
    /// weight-file keys, and returns (key inside the layer, full name) pairs.
    pub fn tensors_of<L: Layer + ?Sized>(&mut self, layer: &L) -> Vec<(&'static str, String)> {
        struct Collect(Vec<(&'static str, Vec<usize>, Vec<f32>)>);
        impl VisitorRef for Collect {
            fn param(&mut self, name: &'static str, p: ParamRef<'_>) {
                self.0.push((name, p.shape.to_vec(), p.value.to_vec()));
            }
            fn buffer(&mut self, name: &'static str, value: &[f32], shape: &[usize]) {
                self.0.push((name, shape.to_vec(), value.to_vec()));
            }
        }
        let mut c = Collect(Vec::new());
        layer.visit_ref(&mut c);
        c.0.into_iter().map(|(n, shape, v)| (n, self.initializer(n, &shape, OnnxData::F32(v)))).collect()
    }

    /// Adds an operator reading `inputs` and returns its output's name, which becomes the
    /// current value.
    pub fn node(
        &mut self,
        op_type: &'static str,
        inputs: &[&str],
        attributes: Vec<(&'static str, OnnxAttr)>,
    ) -> String {
        self.count += 1;
        let scope = self.scope.join("/");
        let name = if scope.is_empty() {
            format!("/{op_type}_{}", self.count)
        } else {
            format!("/{scope}/{op_type}_{}", self.count)
        };
        let output = format!("{name}_output");
        self.nodes.push(OnnxNode {
            op_type,
            name,
            inputs: inputs.iter().map(|s| s.to_string()).collect(),
            outputs: vec![output.clone()],
            attributes,
        });
        self.current = output.clone();
        output
    }

    /// An error about the layer being described.
    pub fn error(&self, message: impl Into<String>) -> OnnxError {
        OnnxError::Graph { layer: self.scope(), message: message.into() }
    }

    /// Applies `activation` to the current value (nothing for `linear`).
    pub fn activation(&mut self, activation: Activation) {
        let x = self.current.clone();
        let f = |v: f32| OnnxAttr::Float(v);
        match activation {
            Activation::Linear => {}
            Activation::Relu => {
                self.node("Relu", &[&x], vec![]);
            }
            Activation::LeakyRelu(a) => {
                self.node("LeakyRelu", &[&x], vec![("alpha", f(a))]);
            }
            Activation::Elu(a) => {
                self.node("Elu", &[&x], vec![("alpha", f(a))]);
            }
            Activation::Selu => {
                let (alpha, gamma) = crate::activation::selu_constants();
                self.node("Selu", &[&x], vec![("alpha", f(alpha)), ("gamma", f(gamma))]);
            }
            Activation::Tanh => {
                self.node("Tanh", &[&x], vec![]);
            }
            Activation::Sigmoid => {
                self.node("Sigmoid", &[&x], vec![]);
            }
            Activation::Softmax => {
                self.node("Softmax", &[&x], vec![("axis", OnnxAttr::Int(-1))]);
            }
            Activation::Swish => {
                let s = self.node("Sigmoid", &[&x], vec![]);
                self.node("Mul", &[&x, &s], vec![]);
            }
            Activation::Gelu if self.opset >= 20 => {
                self.node("Gelu", &[&x], vec![("approximate", OnnxAttr::String("none".into()))]);
            }
            Activation::Gelu => {
                // x * 0.5 * (1 + erf(x / sqrt(2))), the exact form Gelu-20 defines.
                let sqrt2 = self.constant("sqrt2", &[], OnnxData::F32(vec![core::f32::consts::SQRT_2]));
                let one = self.constant("one", &[], OnnxData::F32(vec![1.0]));
                let half = self.constant("half", &[], OnnxData::F32(vec![0.5]));
                let d = self.node("Div", &[&x, &sqrt2], vec![]);
                let e = self.node("Erf", &[&d], vec![]);
                let p = self.node("Add", &[&e, &one], vec![]);
                let m = self.node("Mul", &[&x, &p], vec![]);
                self.node("Mul", &[&m, &half], vec![]);
            }
        }
    }

    /// Describes `layer` inside the scope `name` (a network's field), as generated code does.
    pub fn scoped_layer<L: Layer + ?Sized>(&mut self, name: &str, layer: &L) -> Result<(), OnnxError> {
        self.enter(name);
        let r = layer.describe_onnx(self);
        self.leave();
        r
    }

    /// The initializer with the full name `name` (`dense_0.weight`), if there is one.
    pub fn tensor(&self, name: &str) -> Option<&OnnxTensor> {
        self.initializers.iter().find(|t| t.name == name)
    }

    /// Flattens the current value from `[batch, dims...]` to `[batch, width]` when the
    /// input has more than one dim.
    pub fn flatten_input(&mut self, dims: &[usize]) {
        if dims.len() > 1 {
            let width: usize = dims.iter().product();
            let shape = self.constant("flatten_shape", &[2], OnnxData::I64(vec![-1, width as i64]));
            let x = self.current.clone();
            self.node("Reshape", &[&x, &shape], vec![]);
        }
    }

    /// Consumes the graph: (nodes, initializers, the final value).
    pub fn into_parts(self) -> (Vec<OnnxNode>, Vec<OnnxTensor>, String) {
        (self.nodes, self.initializers, self.current)
    }
}
