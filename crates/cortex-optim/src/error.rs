//! The error type of `cortex-optim`.

pub use cortex_core::{Cause, InvalidValue};

use std::path::PathBuf;

/// Shorthand for results of `cortex-optim` functions.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything an optimizer, schedule or clipping rule can reject.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A hyper-parameter is out of its domain.
    #[error(transparent)]
    InvalidConfig(InvalidValue),
    /// A metric handed to a metric-driven schedule is NaN or infinite.
    #[error("{what}: the metric must be finite, got {got}")]
    NonFiniteMetric {
        /// The schedule.
        what: &'static str,
        /// The value given.
        got: f64,
    },
    /// The gradients are not finite, so their norm (and any clipping) is meaningless.
    #[error("gradient clipping: the global gradient norm is {norm}; a gradient holds NaN or inf")]
    NonFiniteGradient {
        /// The norm computed.
        norm: f64,
    },
    /// The module's parameters are not on an autodiff device, so it cannot be optimized.
    #[error(
        "the module's parameters are not on an autodiff device: create the module on \
         `device.autodiff()` (or call `.train()` on it) before optimizing it"
    )]
    NotAutodiff,
    /// Writing the optimizer state failed; an earlier file at that path is left as it was.
    #[error("cannot save the optimizer state to {path}: {source}")]
    Save {
        /// The destination.
        path: PathBuf,
        /// What went wrong: the I/O or serialization error.
        #[source]
        source: Cause,
    },
    /// Reading the optimizer state failed (missing, corrupt, or from another optimizer).
    #[error("cannot load the optimizer state from {path}: {source}")]
    Load {
        /// The file.
        path: PathBuf,
        /// What went wrong: the I/O or format error.
        #[source]
        source: Cause,
    },
}

pub(crate) fn invalid(
    owner: &'static str,
    argument: &'static str,
    expected: &str,
    got: impl std::fmt::Display,
) -> Error {
    Error::InvalidConfig(InvalidValue::new(owner, argument, expected, got))
}

/// `value` finite and `>= 0`.
pub(crate) fn non_negative(what: &'static str, field: &'static str, value: f64) -> Result<()> {
    if !(value.is_finite() && value >= 0.0) {
        return Err(invalid(what, field, "finite and >= 0", value));
    }
    Ok(())
}

/// `value` finite and `> 0`.
pub(crate) fn positive(what: &'static str, field: &'static str, value: f64) -> Result<()> {
    if !(value.is_finite() && value > 0.0) {
        return Err(invalid(what, field, "finite and > 0", value));
    }
    Ok(())
}

/// `value` in `[0, 1)`.
pub(crate) fn unit_interval(what: &'static str, field: &'static str, value: f64) -> Result<()> {
    if !(0.0..1.0).contains(&value) {
        return Err(invalid(what, field, "in [0, 1)", value));
    }
    Ok(())
}
