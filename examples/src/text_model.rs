//! The text classifier of the `text` example, shared with `predict`.

use cortex::burn;
use cortex::burn::module::Module;
use cortex::burn::tensor::{Device, Int, Tensor};
use cortex::data::Vocabulary;
use cortex::nn::{
    Conv1d, Conv1dConfig, Dropout, DropoutConfig, Embedding, EmbeddingConfig, Linear, LinearConfig,
    Lstm, LstmConfig,
};
use serde::{Deserialize, Serialize};

use crate::BoxError;

/// Kernel widths of the CNN (Kim, 2014).
pub const WIDTHS: [usize; 3] = [3, 4, 5];

/// The classifier's sizes: what rebuilds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TextModelConfig {
    /// Token ids.
    pub vocabulary: usize,
    /// Classes.
    pub classes: usize,
    /// Embedding width.
    pub embedding: usize,
    /// Filters per kernel width (CNN) or hidden size (LSTM).
    pub width: usize,
    /// An LSTM instead of the CNN.
    pub lstm: bool,
    /// A bidirectional LSTM.
    pub bidirectional: bool,
}

/// Embedding → conv1d of widths 3, 4, 5 → ReLU → max over time → dropout → linear; or
/// embedding → LSTM → the final hidden states → dropout → linear.
#[derive(Module, Debug)]
pub struct TextClassifier {
    embedding: Embedding,
    /// The CNN's convolutions (empty for the LSTM).
    convs: Vec<Conv1d>,
    /// The LSTM (absent for the CNN).
    lstm: Option<Lstm>,
    dropout: Dropout,
    head: Linear,
}

impl TextClassifier {
    /// A fresh classifier of `config`'s sizes.
    ///
    /// # Errors
    /// The layers' configuration errors.
    pub fn new(config: &TextModelConfig, device: &Device) -> Result<Self, BoxError> {
        let embedding = EmbeddingConfig::new(config.vocabulary, config.embedding)
            .with_padding_idx(Some(Vocabulary::PAD))
            .init(device)?;
        let (convs, lstm, features) = if config.lstm {
            let lstm = LstmConfig::new(config.embedding, config.width)
                .with_bidirectional(config.bidirectional)
                .init(device)?;
            let directions = if config.bidirectional { 2 } else { 1 };
            (Vec::new(), Some(lstm), directions * config.width)
        } else {
            let convs = WIDTHS
                .iter()
                .map(|&k| Conv1dConfig::new(config.embedding, config.width, k).init(device))
                .collect::<Result<Vec<_>, _>>()?;
            (convs, None, WIDTHS.len() * config.width)
        };
        Ok(Self {
            embedding,
            convs,
            lstm,
            dropout: DropoutConfig::new(0.5).init()?,
            head: LinearConfig::new(features, config.classes).init(device)?,
        })
    }

    /// Token ids `[B, T]` → class scores `[B, classes]`.
    ///
    /// # Errors
    /// The layers' shape errors.
    pub fn forward(&self, tokens: Tensor<2, Int>) -> cortex::nn::Result<Tensor<2>> {
        let x: Tensor<3> = self.embedding.forward(tokens)?; // [B, T, E]
        let features = match &self.lstm {
            Some(lstm) => {
                // The last layer's final hidden state of each direction, side by side.
                let h = lstm.forward(x, None)?.state.h; // [D, B, H]
                let [directions, batch, hidden] = h.dims();
                h.swap_dims(0, 1).reshape([batch, directions * hidden])
            }
            None => {
                let x = x.swap_dims(1, 2); // [B, E, T]
                let pooled = self
                    .convs
                    .iter()
                    .map(|conv| {
                        let y = cortex::ops::relu(conv.forward(x.clone())?); // [B, F, T-k+1]
                        let [batch, filters, _] = y.dims();
                        Ok(y.max_dim(2).reshape([batch, filters]))
                    })
                    .collect::<cortex::nn::Result<Vec<_>>>()?;
                Tensor::cat(pooled, 1)
            }
        };
        self.head.forward(self.dropout.forward(features)?)
    }
}
