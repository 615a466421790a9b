//! The error type of `cortex-data`: every variant says which file (and where in it), what was
//! expected and what was found.

pub use cortex_core::{Cause, InvalidValue};

use std::path::PathBuf;

/// Shorthand for results of `cortex-data` functions.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything reading, preprocessing, splitting and batching can reject.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be opened or read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error (or the decompressor's).
        #[source]
        source: Cause,
    },
    /// An IDX file is malformed: bad magic, unsupported type, truncated, trailing bytes, ...
    #[error("{path}: not a valid IDX file at byte {offset}: expected {expected}, got {got}")]
    Idx {
        /// The file.
        path: PathBuf,
        /// Byte offset (in the decompressed stream) where the problem was found.
        offset: usize,
        /// What the format requires there.
        expected: String,
        /// What the file holds.
        got: String,
    },
    /// Two files or arrays that must describe the same samples disagree in count.
    #[error("{what}: {left_name} has {left} samples but {right_name} has {right}")]
    CountMismatch {
        /// What was being assembled.
        what: String,
        /// The first source.
        left_name: String,
        /// Its count.
        left: usize,
        /// The second source.
        right_name: String,
        /// Its count.
        right: usize,
    },
    /// A CSV cell, row or header is invalid.
    #[error("{path}, line {line}, column `{column}`: expected {expected}, got {got:?}")]
    Csv {
        /// The file.
        path: PathBuf,
        /// 1-based line in the file (the header is line 1).
        line: u64,
        /// The column's header name (or its 0-based position when there is none).
        column: String,
        /// What was expected.
        expected: String,
        /// What the cell (or row) holds.
        got: String,
    },
    /// A file or dataset holds no samples.
    #[error("{what} is empty: {reason}")]
    Empty {
        /// The file or dataset.
        what: String,
        /// Why it counts as empty.
        reason: String,
    },
    /// A column named by the caller does not exist.
    #[error("{path}: no column `{column}`; the columns are {available:?}")]
    MissingColumn {
        /// The file.
        path: PathBuf,
        /// The column asked for.
        column: String,
        /// The header.
        available: Vec<String>,
    },
    /// A value still missing (NaN) where a transform needs numbers: impute or drop first.
    #[error(
        "{what}: column `{column}` has a missing value at row {row}; impute or drop missing values first"
    )]
    MissingValue {
        /// The transform.
        what: &'static str,
        /// The column.
        column: String,
        /// 0-based row in the dataset.
        row: usize,
    },
    /// A parameter (fraction, batch size, window, ...) is out of its domain.
    #[error(transparent)]
    InvalidArgument(InvalidValue),
    /// Data of another shape than a fitted transform or a batch expects.
    #[error("{what}: expected {expected}, got {got}")]
    ShapeMismatch {
        /// The operation.
        what: &'static str,
        /// The expected shape or count.
        expected: String,
        /// The one given.
        got: String,
    },
    /// An audio file that is not what the dataset was built for (another sample rate, no
    /// channels).
    #[error("{path}: expected {expected}, got {got}")]
    Audio {
        /// The file.
        path: PathBuf,
        /// What the dataset needs.
        expected: String,
        /// What the file holds.
        got: String,
    },
    /// A dataset that is not installed on this machine.
    #[error("dataset `{name}` is not installed: looked in {path}; {hint}")]
    Unavailable {
        /// The dataset.
        name: String,
        /// Where it was looked for.
        path: PathBuf,
        /// How to get it.
        hint: String,
    },
}

pub(crate) fn invalid(
    owner: &'static str,
    argument: &'static str,
    expected: &str,
    got: impl std::fmt::Display,
) -> Error {
    Error::InvalidArgument(InvalidValue::new(owner, argument, expected, got))
}

pub(crate) fn io(path: &std::path::Path, error: impl Into<Cause>) -> Error {
    Error::Io {
        path: path.to_path_buf(),
        source: error.into(),
    }
}
