//! What a model's forward pass hands the trainer: the loss to differentiate and the
//! predictions to measure.

use burn::tensor::{Int, Tensor};
use cortex_ops::{CrossEntropyOptions, Reduction, TargetCheck};

use crate::error::Result;

/// Predictions of one batch with their targets.
#[derive(Debug, Clone)]
pub enum Prediction {
    /// Class scores `[B, C]` and class ids `[B]`.
    Classes {
        /// Logits (or any scores ordered like them).
        logits: Tensor<2>,
        /// Class ids.
        targets: Tensor<1, Int>,
    },
    /// Real predictions `[B, K]` and targets `[B, K]`.
    Values {
        /// Predictions.
        predictions: Tensor<2>,
        /// Targets.
        targets: Tensor<2>,
    },
}

/// The loss of one batch (`[1]`, mean over the batch) and its predictions.
#[derive(Debug, Clone)]
pub struct Output {
    /// The mean loss, differentiated by the trainer.
    pub loss: Tensor<1>,
    /// The predictions, for the metrics.
    pub prediction: Prediction,
}

impl Output {
    /// Softmax cross-entropy (fused, stable) of `logits` `[B, C]` against `targets` `[B]`.
    ///
    /// The targets are not read back to the host here (a device synchronisation per step off
    /// the CPU): a target outside `0..C` counts nowhere in this loss, and the trainer, which
    /// counts such rows on the device, stops with [`crate::Error::TargetOutOfRange`] at its
    /// next read of the metrics. Used outside a trainer, check the targets first or call
    /// [`cortex_ops::cross_entropy`], which fails at once.
    ///
    /// # Errors
    /// Shape errors (typed, from the loss); [`crate::Error::InvalidConfig`] for scores of a
    /// single class (its cross-entropy is 0 whatever the model does: nothing would be
    /// learned).
    pub fn classification(logits: Tensor<2>, targets: Tensor<1, Int>) -> Result<Self> {
        let [_, classes] = logits.dims();
        if classes == 1 {
            return Err(crate::error::invalid(
                "Output::classification",
                "logits",
                "scores of at least 2 classes (with one class the cross-entropy is 0 and \
                 nothing is learned: check that the targets hold more than one class)",
                format!("{:?}", logits.dims()),
            ));
        }
        let loss = cortex_autodiff::fused_cross_entropy(
            logits.clone(),
            targets.clone(),
            &CrossEntropyOptions::new().with_target_check(TargetCheck::Deferred),
        )
        .map_err(|e| match e {
            cortex_autodiff::Error::Ops(op) => crate::Error::Ops(op),
            other => crate::error::invalid(
                "Output::classification",
                "logits",
                "valid cross-entropy inputs",
                other,
            ),
        })?;
        Ok(Self {
            loss,
            prediction: Prediction::Classes { logits, targets },
        })
    }

    /// Mean squared error of `predictions` against `targets` (same shape `[B, K]`).
    ///
    /// # Errors
    /// A shape mismatch (typed, from the loss).
    pub fn regression(predictions: Tensor<2>, targets: Tensor<2>) -> Result<Self> {
        let loss = cortex_ops::mse_loss(predictions.clone(), targets.clone(), Reduction::Mean)?
            .reshape([1]);
        Ok(Self {
            loss,
            prediction: Prediction::Values {
                predictions,
                targets,
            },
        })
    }
}
