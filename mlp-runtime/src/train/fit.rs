//! The settings of one `fit` call (Keras' `fit` keyword arguments), as a builder.

use super::callbacks::Callback;
use super::progress::Verbosity;
use crate::data::Dataset;

/// Settings of one `fit` call, with Keras' defaults.
///
/// They do not depend on the network, so one value serves several models; callbacks,
/// which do (they may save or restore its weights), are added by [`Fit::callback`]. A
/// callback passed as `&mut` stays the caller's, readable after training:
///
/// ```
/// use mlp::prelude::*;
/// network! { Small< input(2); dense(4, relu); dense(2, softmax) > }
/// network! { Wide< input(2); dense(16, relu); dense(2, softmax) > }
///
/// let data = Dataset::classification(vec![0.0, 1.0, 1.0, 0.0, 0.5, 0.5], 2, vec![0, 1, 0])?;
/// let settings = Fit::new().epochs(3).batch_size(2).verbose(Verbosity::Silent);
///
/// let mut small = Model::compile(Small::seeded(1), Sgd::new(0.1), SparseCategoricalCrossentropy::new());
/// let mut early = EarlyStopping::new("loss").patience(1);
/// small.fit(&data, settings.clone().callback(&mut early))?;
/// assert!(early.best_epoch >= 1);
///
/// let mut wide = Model::compile(Wide::seeded(1), Sgd::new(0.1), SparseCategoricalCrossentropy::new());
/// wide.fit(&data, settings)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Fit<'a> {
    pub(super) epochs: usize,
    pub(super) batch_size: usize,
    pub(super) shuffle: bool,
    pub(super) validation_split: f64,
    pub(super) validation_data: Option<&'a Dataset>,
    pub(super) verbosity: Verbosity,
    pub(super) seed: Option<u64>,
}

impl std::fmt::Debug for Fit<'_> {
    /// The settings, with the validation data by size.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fit")
            .field("epochs", &self.epochs)
            .field("batch_size", &self.batch_size)
            .field("shuffle", &self.shuffle)
            .field("validation_split", &self.validation_split)
            .field("validation_data", &self.validation_data.map(|d| d.len()))
            .field("verbosity", &self.verbosity)
            .field("seed", &self.seed)
            .finish()
    }
}

impl Default for Fit<'_> {
    fn default() -> Self {
        Fit {
            epochs: 1,
            batch_size: 32,
            shuffle: true,
            validation_split: 0.0,
            validation_data: None,
            verbosity: Verbosity::default(),
            seed: None,
        }
    }
}

impl<'a> Fit<'a> {
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
    /// Adds a callback, owned (`EarlyStopping::new(..)`) or borrowed (`&mut early`, to
    /// read it after training). Callbacks are typed by the network they see, so the
    /// result is a [`FitWithCallbacks`] for that network.
    #[must_use]
    pub fn callback<N>(self, callback: impl Callback<N> + 'a) -> FitWithCallbacks<'a, N> {
        FitWithCallbacks::from(self).callback(callback)
    }
}

/// [`Fit`]'s settings and the callbacks of one `fit` call for network `N`: what
/// [`Fit::callback`] returns. [`Model::fit`](super::Model::fit) takes either.
pub struct FitWithCallbacks<'a, N> {
    pub(super) settings: Fit<'a>,
    pub(super) callbacks: Vec<Box<dyn Callback<N> + 'a>>,
}

impl<'a, N> From<Fit<'a>> for FitWithCallbacks<'a, N> {
    fn from(settings: Fit<'a>) -> Self {
        FitWithCallbacks { settings, callbacks: Vec::new() }
    }
}

impl<N> std::fmt::Debug for FitWithCallbacks<'_, N> {
    /// The settings, with callbacks by name.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let callbacks: Vec<&str> = self.callbacks.iter().map(|c| c.name()).collect();
        f.debug_struct("FitWithCallbacks")
            .field("settings", &self.settings)
            .field("callbacks", &callbacks)
            .finish()
    }
}

/// [`Fit`]'s setters on [`FitWithCallbacks`], so they may follow a callback.
macro_rules! settings {
    ($($name:ident($arg:ident: $ty:ty)),* $(,)?) => {$(
        #[doc = concat!("[`Fit::", stringify!($name), "`].")]
        #[must_use]
        pub fn $name(mut self, $arg: $ty) -> Self {
            self.settings = self.settings.$name($arg);
            self
        }
    )*};
}

impl<'a, N> FitWithCallbacks<'a, N> {
    settings!(
        epochs(epochs: usize),
        batch_size(batch_size: usize),
        shuffle(shuffle: bool),
        validation_split(fraction: f64),
        validation_data(data: &'a Dataset),
        verbose(verbosity: Verbosity),
        seed(seed: u64),
    );

    /// Adds another callback; they run in the order added.
    #[must_use]
    pub fn callback(mut self, callback: impl Callback<N> + 'a) -> Self {
        self.callbacks.push(Box::new(callback));
        self
    }
}
