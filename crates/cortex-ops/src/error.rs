//! The error type of `cortex-ops`: every variant names the op, what it expected and what it got.

pub use cortex_core::{Cause, InvalidValue};

/// Shorthand for results of `cortex-ops` functions.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything a `cortex-ops` function can reject.
///
/// Each variant carries the op name (`op`), the argument at fault and enough of the expected
/// and given values for the message to say what to fix.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A tensor has the wrong number of dimensions.
    #[error("{op}: `{arg}` must have rank {expected}, got rank {got} (shape {shape:?})")]
    RankMismatch {
        /// The op that rejected the input.
        op: &'static str,
        /// The argument at fault.
        arg: &'static str,
        /// The rank (or range of ranks) accepted.
        expected: String,
        /// The rank given.
        got: usize,
        /// The full shape given.
        shape: Vec<usize>,
    },
    /// A tensor has the right rank but the wrong sizes.
    #[error("{op}: `{arg}` must have shape {expected}, got {got:?}")]
    ShapeMismatch {
        /// The op that rejected the input.
        op: &'static str,
        /// The argument at fault.
        arg: &'static str,
        /// The accepted shape, `*` standing for any size (e.g. `[*, 784]`).
        expected: String,
        /// The shape given.
        got: Vec<usize>,
    },
    /// A tensor that needs at least one element (a batch, a set of classes) is empty.
    #[error("{op}: `{arg}` is empty (shape {shape:?}); it needs at least one element")]
    EmptyInput {
        /// The op that rejected the input.
        op: &'static str,
        /// The argument at fault.
        arg: &'static str,
        /// The shape given.
        shape: Vec<usize>,
    },
    /// A scalar hyper-parameter (stride, probability, epsilon, ...) is out of its domain.
    #[error(transparent)]
    InvalidArgument(InvalidValue),
    /// An integer index (class target, embedding index) lies outside `[0, bound)`.
    #[error(
        "{op}: `{arg}` holds {value} at flat position {position}, expected 0 <= index < {bound}"
    )]
    IndexOutOfRange {
        /// The op that rejected the input.
        op: &'static str,
        /// The argument at fault.
        arg: &'static str,
        /// Flat (row-major) position of the first bad index.
        position: usize,
        /// The bad index.
        value: i64,
        /// The exclusive upper bound (number of classes or embeddings).
        bound: usize,
    },
    /// A (dilated) kernel does not fit in the (padded) input.
    #[error(
        "{op}: kernel of extent {kernel:?} (after dilation) is larger than the padded input {padded_input:?}"
    )]
    KernelTooLarge {
        /// The op that rejected the input.
        op: &'static str,
        /// Effective kernel extent per spatial dimension: `dilation * (k - 1) + 1`.
        kernel: Vec<usize>,
        /// Input extent per spatial dimension plus padding on both sides.
        padded_input: Vec<usize>,
    },
    /// `groups` does not divide a channel count.
    #[error("{op}: groups = {groups} must divide {what} = {channels}")]
    GroupsMismatch {
        /// The op that rejected the input.
        op: &'static str,
        /// Which channel count (`"in_channels"` or `"out_channels"`).
        what: &'static str,
        /// The number of groups given.
        groups: usize,
        /// The channel count that it does not divide.
        channels: usize,
    },
    /// Two tensors that must share a float precision do not.
    #[error("{op}: `{arg}` has dtype {got}, expected {expected} (the dtype of the first input)")]
    DTypeMismatch {
        /// The op that rejected the input.
        op: &'static str,
        /// The argument at fault.
        arg: &'static str,
        /// The dtype required.
        expected: String,
        /// The dtype given.
        got: String,
    },
    /// Two tensors that must live on one device do not.
    #[error(
        "{op}: `{arg}` is on {got}, expected {expected} (the device of the first input): move \
         it with `.to_device(&device)`"
    )]
    DeviceMismatch {
        /// The op that rejected the input.
        op: &'static str,
        /// The argument at fault.
        arg: &'static str,
        /// The device required.
        expected: String,
        /// The device given.
        got: String,
    },
}

impl From<InvalidValue> for Error {
    fn from(invalid: InvalidValue) -> Self {
        Error::InvalidArgument(invalid)
    }
}
