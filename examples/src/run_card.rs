//! The run card: what a run directory holds, besides its weights, to be used again.

use std::path::Path;

use cortex::data::{
    AudioConfig, FeatureColumns, ImageFolderConfig, Pipeline, Standardizer, TextEncoder,
};
use cortex::nn::{LinearConfig, MlpConfig};
use serde::{Deserialize, Serialize};

use crate::BoxError;
use crate::image_model::{CnnConfig, ImageMlpConfig};
use crate::rnn_model::{RecurrentConfig, RowReaderConfig};
use crate::speech_model::SpeechModelConfig;
use crate::text_model::TextModelConfig;

/// What a run directory holds to be used again (`run.json`): which example wrote it, the
/// model's sizes, the fitted preprocessing and the class names. The weights beside it are
/// the model the run was tested with: `best.bpk` ([`RunCard::weights`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "example", rename_all = "snake_case")]
pub enum RunCard {
    /// A `cnn` run.
    Cnn {
        /// The network's sizes and input normalisation.
        model: CnnConfig,
        /// How a new picture is read: the size and colour of the training images.
        pictures: ImageFolderConfig,
        /// Class names by id (the ids themselves for data without names).
        classes: Vec<String>,
    },
    /// An `mlp` run on images.
    MlpImages {
        /// The perceptron's sizes and input normalisation.
        model: ImageMlpConfig,
        /// How a new picture is read: the size and colour of the training images.
        pictures: ImageFolderConfig,
        /// Class names by id (the ids themselves for data without names).
        classes: Vec<String>,
    },
    /// An `mlp` run on a CSV table.
    MlpTable {
        /// The perceptron's sizes.
        model: MlpConfig,
        /// The feature columns a new row must have, with the training categories.
        columns: FeatureColumns,
        /// The preprocessing fitted on the training rows (imputation, one-hot, scaling).
        pipeline: Pipeline,
        /// The target column (ignored in new rows that have it).
        target: String,
        /// Class names by id.
        classes: Vec<String>,
    },
    /// An `rnn` run on images (`--task mnist`): rows as steps.
    RnnImages {
        /// The network's sizes and input normalisation.
        model: RowReaderConfig,
        /// How a new picture is read: the size and colour of the training images.
        pictures: ImageFolderConfig,
        /// Class names by id (the ids themselves for data without names).
        classes: Vec<String>,
    },
    /// An `rnn --task sunspots` run: next month's value from the previous `window`.
    Forecast {
        /// The network's sizes.
        model: RecurrentConfig,
        /// Values per input window.
        window: usize,
        /// `(mean, standard deviation)` of the training values, which the network sees
        /// standardized.
        scale: (f64, f64),
        /// Months of the bundled series trained on; the rest is the test period.
        train_months: usize,
    },
    /// A `linear_regression` run.
    Regression {
        /// The layer's sizes.
        model: LinearConfig,
        /// The feature columns a new row must have.
        columns: FeatureColumns,
        /// The feature standardization fitted on the training rows.
        scaler: Standardizer,
        /// The target column.
        target: String,
        /// `(mean, standard deviation)` of the training targets, which the layer predicts
        /// standardized.
        scale: (f64, f64),
    },
    /// A `speech` run.
    Speech {
        /// The classifier's sizes and feature normalisation.
        model: SpeechModelConfig,
        /// How a new clip becomes features: sample rate, clip length, spectrogram.
        audio: AudioConfig,
        /// Class names by id.
        classes: Vec<String>,
    },
    /// A `text` run.
    Text {
        /// The classifier's sizes.
        model: TextModelConfig,
        /// Tokenizer, vocabulary (fitted on the training texts) and length.
        encoder: TextEncoder,
        /// Class names by id.
        classes: Vec<String>,
    },
}

impl RunCard {
    /// The file name in a run directory.
    pub const FILE: &'static str = "run.json";

    /// The weights file beside the card: `last.bpk` for a linear regression (its objective
    /// is convex, and the run tests the converged last model), `best.bpk` for the others.
    pub fn weights(&self) -> &'static str {
        match self {
            Self::Regression { .. } => "last.bpk",
            _ => "best.bpk",
        }
    }

    /// Writes `dir/run.json` (atomically).
    ///
    /// # Errors
    /// A serialization error, or an I/O error naming the card's path.
    pub fn save(&self, dir: &Path) -> Result<(), BoxError> {
        let path = dir.join(Self::FILE);
        let json = serde_json::to_vec_pretty(self)?;
        std::fs::create_dir_all(dir)
            .and_then(|()| cortex::core::write_atomically(&path, &json))
            .map_err(|e| format!("{}: {e}", path.display()).into())
    }

    /// Reads `dir/run.json`.
    ///
    /// # Errors
    /// A message naming the file when it is missing or not a run card.
    pub fn load(dir: &Path) -> Result<Self, BoxError> {
        let path = dir.join(Self::FILE);
        let bytes = std::fs::read(&path).map_err(|e| {
            format!(
                "{}: {e} (a run directory written with --out DIR has one)",
                path.display()
            )
        })?;
        serde_json::from_slice(&bytes)
            .map_err(|e| format!("{}: not a run card: {e}", path.display()).into())
    }
}
