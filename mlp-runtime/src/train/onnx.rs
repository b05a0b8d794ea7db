//! `Model` forwards the network's ONNX export (Keras users call `model.export`).

use super::Model;
use crate::layer::Layer;
use crate::onnx::{export_onnx, onnx_bytes, OnnxError, OnnxOptions};
use std::path::Path;

impl<N: Layer, O, L> Model<N, O, L> {
    /// [`OnnxExt::export_onnx`](crate::onnx::OnnxExt::export_onnx) of the network.
    pub fn export_onnx(&self, path: impl AsRef<Path>) -> Result<(), OnnxError> {
        export_onnx(&self.net, path, &OnnxOptions::default())
    }
    /// [`OnnxExt::onnx_bytes`](crate::onnx::OnnxExt::onnx_bytes) of the network.
    pub fn onnx_bytes(&self) -> Result<Vec<u8>, OnnxError> {
        onnx_bytes(&self.net, &OnnxOptions::default())
    }
    /// [`OnnxExt::export_onnx_with`](crate::onnx::OnnxExt::export_onnx_with) of the network.
    pub fn export_onnx_with(&self, path: impl AsRef<Path>, opts: &OnnxOptions) -> Result<(), OnnxError> {
        export_onnx(&self.net, path, opts)
    }
    /// [`OnnxExt::onnx_bytes_with`](crate::onnx::OnnxExt::onnx_bytes_with) of the network.
    pub fn onnx_bytes_with(&self, opts: &OnnxOptions) -> Result<Vec<u8>, OnnxError> {
        onnx_bytes(&self.net, opts)
    }
}
