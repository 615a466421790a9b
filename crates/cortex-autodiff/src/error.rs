//! The error type of `cortex-autodiff`.

pub use cortex_core::{Cause, InvalidValue};

/// Shorthand for results of `cortex-autodiff` functions.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What gradient computation and checking can reject.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An op inside the checked function rejected its inputs.
    #[error(transparent)]
    Ops(#[from] cortex_ops::Error),
    /// Gradient checking needs f64: in f32, central differences with eps = 1e-6 lose about
    /// half of the 7 significant digits, so every check would fail or be meaningless.
    #[error(
        "gradcheck: input `{input}` has dtype {got}; gradient checks need f64 (cast with \
         `.cast(DType::F64)`), because finite differences in f32 are too inexact to compare"
    )]
    NotF64 {
        /// The input at fault.
        input: String,
        /// Its dtype.
        got: String,
    },
    /// A checker option is out of its domain.
    #[error(transparent)]
    InvalidOption(InvalidValue),
    /// An argument was requested with a rank that does not match its shape.
    #[error("gradcheck: argument {index} has shape {shape:?}, requested as rank {requested}")]
    ArgumentRank {
        /// Position of the argument.
        index: usize,
        /// Its shape.
        shape: Vec<usize>,
        /// The rank asked for.
        requested: usize,
    },
    /// An argument index beyond the inputs given.
    #[error("gradcheck: argument {index} requested, but only {count} inputs were given")]
    MissingArgument {
        /// Position asked for.
        index: usize,
        /// Number of inputs.
        count: usize,
    },
    /// The function produced a non-finite value, so differences are meaningless.
    #[error("gradcheck: the function produced a non-finite value ({what})")]
    NonFinite {
        /// Where it appeared.
        what: String,
    },
    /// The checked function failed outside `cortex-ops` (a layer of `cortex-nn`, a user
    /// closure); the message is that error's.
    #[error(transparent)]
    Function(Cause),
    /// A gradient check failed (returned by [`crate::GradCheckReport::into_result`]).
    #[error("gradcheck failed: {0}")]
    Mismatch(Box<crate::GradCheckReport>),
}
