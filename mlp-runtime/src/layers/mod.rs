//! The layers `network!` builds networks from, one file each.

mod activation;
mod alpha_dropout;
mod batch_norm;
mod dense;
mod dropout;
mod layer_norm;
mod prelu;
mod residual;

pub use activation::ActivationLayer;
pub use alpha_dropout::AlphaDropout;
pub use batch_norm::BatchNorm;
pub use dense::Dense;
pub use dropout::Dropout;
pub use layer_norm::LayerNorm;
pub use prelu::PRelu;
pub use residual::{ProjectedResidual, Residual};
