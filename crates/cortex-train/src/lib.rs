//! # cortex-train
//!
//! The supervised-learning workflow — fit on the training split, validate every epoch, test
//! at the end — for classification and regression: [`Trainer`] with metrics (loss, accuracy, top-k,
//! confusion matrix, per-class precision/recall; MSE, MAE, RMSE, R²), early stopping on a
//! validation metric, the best model kept, atomic checkpoints and exact resume, NaN/inf loss
//! detection, a progress bar, the history as CSV/JSON and curves as SVG; and a seeded
//! hyperparameter [`search`](search::search) (grid or random).
//!
//! ```
//! use burn::tensor::Device;
//! use cortex_data::{bundled, split, SplitConfig, Standardizer, TabularBatch};
//! use cortex_nn::{Mlp, MlpConfig};
//! use cortex_optim::{AdamConfig, OptimizerConfig};
//! use cortex_train::{Output, Trainer, TrainerConfig};
//!
//! let iris = bundled::iris()?;
//! let parts = split(150, &SplitConfig::new(0.6, 0.2, 0.2).stratified().with_seed(1), iris.class_ids())?;
//! let (mut train, mut valid) = (iris.select(&parts.train)?, iris.select(&parts.validation)?);
//! let scale = Standardizer::fit(&train)?;
//! scale.transform(&mut train)?;
//! scale.transform(&mut valid)?;
//! let config = TrainerConfig::new(AdamConfig::new().with_lr(0.01))
//!     .with_epochs(3).with_batch_size(16).with_quiet(true);
//! let trainer = Trainer::new(config, &Device::flex())?;
//! let model = MlpConfig::new(4, vec![16], 3).init(&trainer.device())?;
//! let fitted = trainer.fit(model, &train, &valid, |m: &Mlp, b: TabularBatch| {
//!     let (x, y) = b.into_classes()?;
//!     Output::classification(m.forward(x)?, y)
//! })?;
//! assert_eq!(fitted.history.epochs.len(), 3);
//! # Ok::<(), cortex_train::Error>(())
//! ```

#![warn(missing_docs)]

mod accumulate;
pub mod checkpoint;
mod early_stopping;
mod error;
mod history;
mod metrics;
mod monitor;
mod output;
mod progress;
pub mod search;
mod trainer;

pub use early_stopping::{EarlyStopping, Goal, Verdict};
pub use error::{Cause, Error, InvalidValue, Result};
pub use history::{EpochRecord, History};
pub use metrics::{
    ClassificationMetrics, ConfusionMatrix, Metrics, RegressionMetrics, default_top_k,
};
pub use monitor::Metric;
pub use output::{Output, Prediction};
pub use trainer::{Fitted, Trainer, TrainerConfig};
