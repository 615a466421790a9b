//! The spoken-word classifier of the `speech` example, shared with `predict`: feature frames
//! normalised per feature with the training clips' statistics → a bidirectional GRU → max
//! and mean over time → dropout → linear; or a 1-D CNN over time (conv → batch norm → ReLU,
//! twice, with a max-pool between) → max over time → dropout → linear.

use cortex::burn;
use cortex::burn::module::Module;
use cortex::burn::tensor::{Device, Tensor, TensorData};
use cortex::nn::{
    BatchNorm, BatchNormConfig, Conv1d, Conv1dConfig, Dropout, DropoutConfig, Gru, GruConfig,
    Linear, LinearConfig, MaxPool1d, MaxPool1dConfig, Padding,
};
use serde::{Deserialize, Serialize};

use crate::BoxError;

/// Which network reads the frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SpeechNetwork {
    /// A bidirectional GRU.
    Gru,
    /// A 1-D convolutional network over time.
    Cnn,
}

/// The classifier's sizes and its input normalisation: what rebuilds it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpeechModelConfig {
    /// Features per frame.
    pub width: usize,
    /// Classes.
    pub classes: usize,
    /// Hidden size of the GRU (per direction) or channels of the CNN.
    pub hidden: usize,
    /// The network.
    pub network: SpeechNetwork,
    /// Per feature: the training clips' mean and standard deviation.
    pub normalization: Vec<(f64, f64)>,
}

/// The network of a [`SpeechClassifier`]. (One per model: the size difference of the
/// variants costs nothing, and burn's `Module` is not implemented for `Box`.)
#[derive(Module, Debug)]
#[allow(clippy::large_enum_variant)]
enum Body {
    Gru(Gru),
    Cnn(ConvBody),
}

/// The CNN of a [`SpeechClassifier`].
#[derive(Module, Debug)]
struct ConvBody {
    conv1: Conv1d,
    norm1: BatchNorm,
    pool: MaxPool1d,
    conv2: Conv1d,
    norm2: BatchNorm,
}

/// Frames `[B, T, width]` → class scores `[B, classes]`.
#[derive(Module, Debug)]
pub struct SpeechClassifier {
    /// Per feature: the training clips' mean and standard deviation.
    #[module(skip)]
    normalization: Vec<(f64, f64)>,
    body: Body,
    dropout: Dropout,
    head: Linear,
}

impl SpeechClassifier {
    /// A fresh classifier of `config`'s sizes.
    ///
    /// # Errors
    /// A normalisation of another width than the frames'; the layers' configuration errors.
    pub fn new(config: &SpeechModelConfig, device: &Device) -> Result<Self, BoxError> {
        let (width, hidden) = (config.width, config.hidden);
        if config.normalization.len() != width {
            return Err(format!(
                "the normalisation has {} features, the frames {width}",
                config.normalization.len()
            )
            .into());
        }
        let (body, features) = match config.network {
            SpeechNetwork::Gru => {
                let gru = GruConfig::new(width, hidden)
                    .with_bidirectional(true)
                    .init(device)?;
                // Max and mean over time of both directions.
                (Body::Gru(gru), 4 * hidden)
            }
            SpeechNetwork::Cnn => {
                let conv = |input| {
                    Conv1dConfig::new(input, hidden, 5)
                        .with_padding(Padding::Same)
                        .init(device)
                };
                let body = ConvBody {
                    conv1: conv(width)?,
                    norm1: BatchNormConfig::new(hidden).init(device)?,
                    pool: MaxPool1dConfig::new(2).init()?,
                    conv2: conv(hidden)?,
                    norm2: BatchNormConfig::new(hidden).init(device)?,
                };
                (Body::Cnn(body), hidden)
            }
        };
        Ok(Self {
            normalization: config.normalization.clone(),
            body,
            dropout: DropoutConfig::new(0.3).init()?,
            head: LinearConfig::new(features, config.classes).init(device)?,
        })
    }

    /// Feature frames `[B, T, width]` → class scores `[B, classes]`.
    ///
    /// # Errors
    /// The layers' shape errors.
    pub fn forward(&self, frames: Tensor<3>) -> cortex::nn::Result<Tensor<2>> {
        let [batch, _, width] = frames.dims();
        let row = |f: fn(&(f64, f64)) -> f32| {
            let values: Vec<f32> = self.normalization.iter().map(f).collect();
            let data = TensorData::new(values, [1, 1, width]);
            Tensor::<3>::from_data(data, (&frames.device(), frames.dtype()))
        };
        let (mean, scale) = (row(|s| s.0 as f32), row(|s| 1.0 / s.1 as f32));
        let x = (frames - mean) * scale;
        let features = match &self.body {
            Body::Gru(gru) => {
                let output = gru.forward(x, None)?.output; // [B, T, 2H]
                let [_, _, channels] = output.dims();
                let max = output.clone().max_dim(1).reshape([batch, channels]);
                let mean = output.mean_dim(1).reshape([batch, channels]);
                Tensor::cat(vec![max, mean], 1)
            }
            Body::Cnn(c) => {
                let x = x.swap_dims(1, 2); // [B, width, T]
                let x = c.conv1.forward(x)?;
                let x = c.pool.forward(cortex::ops::relu(c.norm1.forward(x)?))?;
                let x = cortex::ops::relu(c.norm2.forward(c.conv2.forward(x)?)?);
                let [_, channels, _] = x.dims();
                x.max_dim(2).reshape([batch, channels])
            }
        };
        self.head.forward(self.dropout.forward(features)?)
    }
}
