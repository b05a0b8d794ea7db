//! The layers `network!` builds networks from, one file each.

mod activation;
mod batch_norm;
mod dense;
mod dropout;
mod layer_norm;
mod residual;

pub use activation::ActivationLayer;
pub use batch_norm::BatchNorm;
pub use dense::Dense;
pub use dropout::Dropout;
pub use layer_norm::LayerNorm;
pub use residual::{ProjectedResidual, Residual};
