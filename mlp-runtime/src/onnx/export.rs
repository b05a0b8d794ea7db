//! Encoding a described graph as an ONNX model, and writing it atomically.

use std::path::Path;

use prost::Message;

use super::proto::{self, attribute_type};
use super::{ir_version, OnnxAttr, OnnxData, OnnxError, OnnxGraph, OnnxOptions, BATCH, INPUT};
use crate::layer::Layer;

/// The ONNX model of `net` as bytes (see the [module docs](super)).
pub fn onnx_bytes<L: Layer + ?Sized>(net: &L, opts: &OnnxOptions) -> Result<Vec<u8>, OnnxError> {
    Ok(model_proto(net, opts)?.encode_to_vec())
}

/// Writes the ONNX model of `net` to `path`, atomically: a reader sees the old file or the
/// new one, and a failed write leaves the old one untouched.
pub fn export_onnx<L: Layer + ?Sized>(
    net: &L,
    path: impl AsRef<Path>,
    opts: &OnnxOptions,
) -> Result<(), OnnxError> {
    let path = path.as_ref();
    let bytes = onnx_bytes(net, opts)?;
    crate::io::atomic::write(path, &bytes)
        .map_err(|source| OnnxError::Io { path: path.to_path_buf(), source })
}

fn tensor_type(dims: Vec<proto::Dimension>) -> Option<proto::TypeProto> {
    Some(proto::TypeProto {
        tensor_type: Some(proto::TypeProtoTensor {
            elem_type: Some(proto::FLOAT),
            shape: Some(proto::TensorShapeProto { dim: dims }),
        }),
        denotation: None,
    })
}

fn dims(fixed: &[usize]) -> Vec<proto::Dimension> {
    let batch =
        proto::Dimension { value: Some(proto::DimensionValue::DimParam(BATCH.into())), denotation: None };
    std::iter::once(batch)
        .chain(fixed.iter().map(|&d| proto::Dimension {
            value: Some(proto::DimensionValue::DimValue(d as i64)),
            denotation: None,
        }))
        .collect()
}

/// The whole `ModelProto` of `net`.
pub(crate) fn model_proto<L: Layer + ?Sized>(
    net: &L,
    opts: &OnnxOptions,
) -> Result<proto::ModelProto, OnnxError> {
    let opset = opts.get_opset();
    let ir = ir_version(opset)?;
    // A hand-written layer may state dims that do not fit its width: an error, not a graph
    // onnxruntime would refuse.
    if L::INPUT_DIMS.iter().try_fold(1usize, |a, &d| a.checked_mul(d)) != Some(L::IN) {
        return Err(OnnxError::Graph {
            layer: std::any::type_name::<L>().to_string(),
            message: format!(
                "its input dims {:?} do not multiply to its input width {}",
                L::INPUT_DIMS,
                L::IN
            ),
        });
    }
    let mut g = OnnxGraph::new(opset)?;
    g.flatten_input(L::INPUT_DIMS);
    net.describe_onnx(&mut g)?;
    let (mut nodes, initializers, last) = g.into_parts();
    // The last node's output is renamed `output`; a network with no node (only dropout)
    // gets an Identity.
    match nodes.last_mut() {
        Some(n) if n.outputs.first() == Some(&last) => n.outputs[0] = super::OUTPUT.to_string(),
        _ => nodes.push(super::OnnxNode {
            op_type: "Identity",
            name: "/Identity_output".into(),
            inputs: vec![last],
            outputs: vec![super::OUTPUT.into()],
            attributes: vec![],
        }),
    }
    let node = nodes
        .into_iter()
        .map(|n| proto::NodeProto {
            input: n.inputs,
            output: n.outputs,
            name: Some(n.name),
            op_type: Some(n.op_type.to_string()),
            domain: None,
            attribute: n.attributes.into_iter().map(|(name, a)| attribute(name, a)).collect(),
            doc_string: None,
        })
        .collect();
    let initializer = initializers
        .into_iter()
        .map(|t| {
            let (data_type, float_data, int64_data) = match t.data {
                OnnxData::F32(v) => (proto::FLOAT, v, vec![]),
                OnnxData::I64(v) => (proto::INT64, vec![], v),
            };
            proto::TensorProto {
                dims: t.dims,
                data_type: Some(data_type),
                float_data,
                int64_data,
                name: Some(t.name),
                raw_data: None,
                doc_string: None,
            }
        })
        .collect();
    let name = opts.get_graph_name().map_or_else(|| short_type_name::<L>(), str::to_string);
    let graph = proto::GraphProto {
        node,
        name: Some(name),
        initializer,
        doc_string: None,
        input: vec![proto::ValueInfoProto {
            name: Some(INPUT.into()),
            r#type: tensor_type(dims(L::INPUT_DIMS)),
            doc_string: None,
        }],
        output: vec![proto::ValueInfoProto {
            name: Some(super::OUTPUT.into()),
            r#type: tensor_type(dims(&[L::OUT])),
            doc_string: None,
        }],
        value_info: vec![],
    };
    Ok(proto::ModelProto {
        ir_version: Some(ir),
        opset_import: vec![proto::OperatorSetIdProto { domain: Some(String::new()), version: Some(opset) }],
        producer_name: Some("mlp".into()),
        producer_version: Some(env!("CARGO_PKG_VERSION").into()),
        domain: None,
        model_version: None,
        doc_string: None,
        graph: Some(graph),
        metadata_props: opts
            .get_metadata()
            .iter()
            .map(|(k, v)| proto::StringStringEntryProto { key: Some(k.clone()), value: Some(v.clone()) })
            .collect(),
    })
}

/// `FashionMlp` for `my_crate::models::FashionMlp`.
fn short_type_name<L: ?Sized>() -> String {
    let full = std::any::type_name::<L>();
    let base = full.split('<').next().unwrap_or(full);
    base.rsplit("::").next().unwrap_or(base).to_string()
}

fn attribute(name: &str, a: OnnxAttr) -> proto::AttributeProto {
    let mut p = proto::AttributeProto { name: Some(name.to_string()), ..Default::default() };
    match a {
        OnnxAttr::Float(f) => {
            p.r#type = Some(attribute_type::FLOAT);
            p.f = Some(f);
        }
        OnnxAttr::Int(i) => {
            p.r#type = Some(attribute_type::INT);
            p.i = Some(i);
        }
        OnnxAttr::String(s) => {
            p.r#type = Some(attribute_type::STRING);
            p.s = Some(s.into_bytes());
        }
    }
    p
}

/// ONNX export as methods of every layer and network: `net.export_onnx("model.onnx")?`.
///
/// ```
/// use mlp::prelude::*;
/// network! { Net< flatten(2, 2); dense(3, relu); dense(2, softmax) > }
/// let net = Net::seeded(0);
/// let bytes = net.onnx_bytes()?;
/// assert!(!bytes.is_empty());
/// assert!(net.onnx_bytes_with(&OnnxOptions::new().opset(16)).is_err());
/// let dir = tempfile::tempdir().unwrap();
/// net.export_onnx_with(dir.path().join("net.onnx"), &OnnxOptions::new().opset(17))?;
/// # Ok::<(), OnnxError>(())
/// ```
pub trait OnnxExt: Layer {
    /// Writes the model to `path` (atomically), at opset 20.
    fn export_onnx(&self, path: impl AsRef<Path>) -> Result<(), OnnxError> {
        export_onnx(self, path, &OnnxOptions::default())
    }
    /// The model's bytes, at opset 20.
    fn onnx_bytes(&self) -> Result<Vec<u8>, OnnxError> {
        onnx_bytes(self, &OnnxOptions::default())
    }
    /// Writes the model to `path` (atomically) with `opts`.
    fn export_onnx_with(&self, path: impl AsRef<Path>, opts: &OnnxOptions) -> Result<(), OnnxError> {
        export_onnx(self, path, opts)
    }
    /// The model's bytes with `opts`.
    fn onnx_bytes_with(&self, opts: &OnnxOptions) -> Result<Vec<u8>, OnnxError> {
        onnx_bytes(self, opts)
    }
}

impl<L: Layer + ?Sized> OnnxExt for L {}
