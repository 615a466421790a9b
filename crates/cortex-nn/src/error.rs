//! The error type of `cortex-nn`: every variant names the layer, what it expected and what it
//! got, so the message says what to fix.

pub use cortex_core::{Cause, InvalidValue};

use std::path::PathBuf;

/// Shorthand for results of `cortex-nn` functions.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything a layer, its configuration or a model file can reject.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A configuration value is out of its domain (zero sizes, bad dropout probability, ...).
    #[error(transparent)]
    InvalidConfig(InvalidValue),
    /// The input of `forward` has the wrong rank or sizes.
    #[error("{layer}: input `{arg}` must have shape {expected}, got {got:?}")]
    InputShape {
        /// The layer that rejected the input.
        layer: &'static str,
        /// The input at fault (`x`, `h0`, `indices`, ...).
        arg: &'static str,
        /// The accepted shape, `*` standing for any size (e.g. `[*, 3, *, *]`).
        expected: String,
        /// The shape given.
        got: Vec<usize>,
    },
    /// A parameter given to a `from_…` constructor (e.g. imported from PyTorch) has the wrong
    /// shape.
    #[error("{layer}: parameter `{name}` must have shape {expected}, got {got:?}")]
    ParameterShape {
        /// The layer being built.
        layer: &'static str,
        /// The parameter at fault (PyTorch's name where there is one).
        name: String,
        /// The shape required, e.g. `[3, 8]`, or `[4·H, 8]` where only a multiple is fixed.
        expected: String,
        /// The shape given.
        got: Vec<usize>,
    },
    /// A parameter a `from_…` constructor needs is absent from what was given (e.g. a
    /// PyTorch `state_dict` without `bias_hh_l1`).
    #[error("{layer}: parameter `{name}` is missing")]
    MissingParameter {
        /// The layer being built.
        layer: &'static str,
        /// The missing parameter, by PyTorch's name.
        name: String,
    },
    /// An op of `cortex-ops` rejected what the layer passed on (e.g. an embedding index out of
    /// range, a kernel larger than the padded input).
    #[error("{layer}: {source}")]
    Op {
        /// The layer that called the op.
        layer: &'static str,
        /// The op's own error.
        #[source]
        source: cortex_ops::Error,
    },
    /// Writing a model file failed; an earlier file at that path is left as it was.
    #[error("cannot save the model to {path}: {source}")]
    Save {
        /// The destination.
        path: PathBuf,
        /// What went wrong: the I/O or serialization error.
        #[source]
        source: Cause,
    },
    /// A model file could not be read (missing, truncated, not a burnpack file).
    #[error("cannot read the model file {path}: {source}")]
    Load {
        /// The file.
        path: PathBuf,
        /// What went wrong: the I/O or format error.
        #[source]
        source: Cause,
    },
    /// A model file was read but holds another architecture: tensors missing, unexpected or
    /// of other shapes than the module it is loaded into.
    #[error("the model file {path} does not fit this module (another architecture?): {reason}")]
    Architecture {
        /// The file.
        path: PathBuf,
        /// The missing, unused or mis-shaped tensors.
        reason: String,
    },
}

impl Error {
    /// Wraps an op error with the layer that called the op.
    pub(crate) fn op(layer: &'static str) -> impl FnOnce(cortex_ops::Error) -> Error {
        move |source| Error::Op { layer, source }
    }
}

/// Gradient cases report layer errors through `cortex-autodiff`'s error type.
impl From<Error> for cortex_autodiff::Error {
    fn from(error: Error) -> Self {
        cortex_autodiff::Error::Function(Cause::new(error))
    }
}
