//! The settings of one `fit` call (Keras' `fit` keyword arguments), as a builder.

use super::callbacks::Callback;
use super::progress::Verbosity;
use crate::data::Dataset;

/// Settings of one `fit` call, with Keras' defaults.
pub struct Fit<'a, N> {
    pub(super) epochs: usize,
    pub(super) batch_size: usize,
    pub(super) shuffle: bool,
    pub(super) validation_split: f64,
    pub(super) validation_data: Option<&'a Dataset>,
    pub(super) verbosity: Verbosity,
    pub(super) seed: Option<u64>,
    pub(super) callbacks: Vec<Box<dyn Callback<N> + 'a>>,
}

impl<N> std::fmt::Debug for Fit<'_, N> {
    /// The settings, with callbacks by name.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let callbacks: Vec<&str> = self.callbacks.iter().map(|c| c.name()).collect();
        f.debug_struct("Fit")
            .field("epochs", &self.epochs)
            .field("batch_size", &self.batch_size)
            .field("shuffle", &self.shuffle)
            .field("validation_split", &self.validation_split)
            .field("validation_data", &self.validation_data.map(|d| d.len()))
            .field("verbosity", &self.verbosity)
            .field("seed", &self.seed)
            .field("callbacks", &callbacks)
            .finish()
    }
}

impl<N> Default for Fit<'_, N> {
    fn default() -> Self {
        Fit {
            epochs: 1,
            batch_size: 32,
            shuffle: true,
            validation_split: 0.0,
            validation_data: None,
            verbosity: Verbosity::default(),
            seed: None,
            callbacks: Vec::new(),
        }
    }
}

impl<'a, N> Fit<'a, N> {
    /// One epoch, batch size 32, shuffling, no validation, a progress bar.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }
    /// Epochs to train in this call (continuing the model's count).
    #[must_use]
    pub fn epochs(mut self, epochs: usize) -> Self {
        self.epochs = epochs;
        self
    }
    /// Samples per step.
    #[must_use]
    pub fn batch_size(mut self, batch_size: usize) -> Self {
        self.batch_size = batch_size;
        self
    }
    /// Shuffle the training samples before each epoch (default true).
    #[must_use]
    pub fn shuffle(mut self, shuffle: bool) -> Self {
        self.shuffle = shuffle;
        self
    }
    /// Keras' `validation_split`: the last `fraction` of the data, taken before shuffling.
    /// Ignored when [`Fit::validation_data`] is set, as in Keras.
    #[must_use]
    pub fn validation_split(mut self, fraction: f64) -> Self {
        self.validation_split = fraction;
        self
    }
    /// Keras' `validation_data`: validates on `data` every epoch. It overrides
    /// [`Fit::validation_split`], as in Keras: training then uses all of `fit`'s data.
    #[must_use]
    pub fn validation_data(mut self, data: &'a Dataset) -> Self {
        self.validation_data = Some(data);
        self
    }
    /// How much to print on stderr.
    #[must_use]
    pub fn verbose(mut self, verbosity: Verbosity) -> Self {
        self.verbosity = verbosity;
        self
    }
    /// Reseeds the generator behind shuffling and dropout before training.
    #[must_use]
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }
    /// Adds a callback.
    #[must_use]
    pub fn callback(mut self, callback: impl Callback<N> + 'a) -> Self {
        self.callbacks.push(Box::new(callback));
        self
    }
}
