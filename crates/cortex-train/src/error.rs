//! The error type of `cortex-train`: the other crates' errors, plus what a training run
//! itself can hit (a non-finite loss, a checkpoint that cannot be written or read).

pub use cortex_core::{Cause, InvalidValue};

use std::path::PathBuf;

/// Shorthand for results of `cortex-train` functions.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything a training run can stop with.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An op rejected its input.
    #[error(transparent)]
    Ops(#[from] cortex_ops::Error),
    /// A layer rejected its configuration or input, or a model file could not be used.
    #[error(transparent)]
    Nn(#[from] cortex_nn::Error),
    /// An optimizer, schedule or clipping rule failed.
    #[error(transparent)]
    Optim(#[from] cortex_optim::Error),
    /// Reading or preparing data failed.
    #[error(transparent)]
    Data(#[from] cortex_data::Error),
    /// A trainer setting is out of its domain.
    #[error(transparent)]
    InvalidConfig(InvalidValue),
    /// The loss became NaN or infinite: training stops instead of silently diverging.
    #[error(
        "the training loss is {loss} at epoch {epoch}, step {step}: lower the learning rate, \
         clip gradients, or check the inputs for NaN"
    )]
    NonFiniteLoss {
        /// 1-based epoch.
        epoch: usize,
        /// 1-based step within the epoch.
        step: usize,
        /// The value.
        loss: f64,
    },
    /// A class target outside the model's classes, found by the trainer's device-side
    /// metrics (the loss itself does not read targets back; see
    /// [`crate::Output::classification`]).
    #[error(
        "target {value} of sample {sample} in batch {step} of {} is not a class id in \
         0..{classes}: check the labels (class ids count from 0), or give the model one \
         output per class",
        pass_name(*.epoch)
    )]
    TargetOutOfRange {
        /// 1-based training epoch, or `None` for an evaluation.
        epoch: Option<usize>,
        /// 1-based batch within the pass.
        step: usize,
        /// 0-based sample within the batch.
        sample: usize,
        /// The target.
        value: i64,
        /// The number of classes (the model's outputs).
        classes: usize,
    },
    /// A checkpoint, history file or plot could not be written or read.
    #[error("{path}: {source}")]
    File {
        /// The file.
        path: PathBuf,
        /// What went wrong: the I/O, serialization or plotting error.
        #[source]
        source: Cause,
    },
}

/// "epoch 3" or "the evaluation", for messages.
fn pass_name(epoch: Option<usize>) -> String {
    epoch.map_or_else(|| "the evaluation".to_string(), |e| format!("epoch {e}"))
}

pub(crate) fn invalid(
    owner: &'static str,
    argument: &'static str,
    expected: &str,
    got: impl std::fmt::Display,
) -> Error {
    Error::InvalidConfig(InvalidValue::new(owner, argument, expected, got))
}

pub(crate) fn file(path: &std::path::Path, cause: impl Into<Cause>) -> Error {
    Error::File {
        path: path.to_path_buf(),
        source: cause.into(),
    }
}
