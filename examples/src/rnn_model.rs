//! The recurrent models of the `rnn` example, shared with `predict`: an LSTM or GRU with a
//! linear head on its final hidden state ([`Recurrent`]), and the image classifier that reads
//! each image row by row with it ([`RowReader`]).

use std::str::FromStr;

use cortex::burn;
use cortex::burn::module::Module;
use cortex::burn::tensor::{Device, Tensor};
use cortex::nn::{Gru, GruConfig, InvalidValue, Linear, LinearConfig, Lstm, LstmConfig};
use serde::{Deserialize, Serialize};

use crate::BoxError;
use crate::image_model::normalize;

/// The recurrent cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cell {
    /// Long short-term memory.
    Lstm,
    /// Gated recurrent unit.
    Gru,
}

impl FromStr for Cell {
    type Err = BoxError;

    fn from_str(name: &str) -> Result<Self, BoxError> {
        match name {
            "lstm" => Ok(Self::Lstm),
            "gru" => Ok(Self::Gru),
            other => Err(format!("--cell must be lstm or gru, got `{other}`").into()),
        }
    }
}

/// A [`Recurrent`]'s sizes: what rebuilds it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecurrentConfig {
    /// The cell.
    pub cell: Cell,
    /// Features per step.
    pub inputs: usize,
    /// Hidden size.
    pub hidden: usize,
    /// Outputs of the head.
    pub outputs: usize,
}

/// An LSTM or GRU with a linear head on its final hidden state.
#[derive(Module, Debug)]
pub struct Recurrent {
    lstm: Option<Lstm>,
    gru: Option<Gru>,
    head: Linear,
}

impl Recurrent {
    /// A fresh network of `config`'s sizes.
    ///
    /// # Errors
    /// The layers' configuration errors.
    pub fn new(config: &RecurrentConfig, device: &Device) -> Result<Self, BoxError> {
        let RecurrentConfig {
            cell,
            inputs,
            hidden,
            outputs,
        } = *config;
        let (lstm, gru) = match cell {
            Cell::Lstm => (Some(LstmConfig::new(inputs, hidden).init(device)?), None),
            Cell::Gru => (None, Some(GruConfig::new(inputs, hidden).init(device)?)),
        };
        Ok(Self {
            lstm,
            gru,
            head: LinearConfig::new(hidden, outputs).init(device)?,
        })
    }

    /// Steps `[B, T, F]` → outputs `[B, outputs]`.
    ///
    /// # Errors
    /// The layers' shape errors.
    pub fn forward(&self, x: Tensor<3>) -> cortex::nn::Result<Tensor<2>> {
        let h_n = match (&self.lstm, &self.gru) {
            (Some(lstm), _) => lstm.forward(x, None)?.state.h,
            (None, Some(gru)) => gru.forward(x, None)?.state,
            (None, None) => {
                let invalid = InvalidValue::new("Recurrent", "cell", "an LSTM or a GRU", "neither");
                return Err(cortex::nn::Error::InvalidConfig(invalid));
            }
        };
        let [layers, batch, hidden] = h_n.dims();
        self.head
            .forward(h_n.narrow(0, layers - 1, 1).reshape([batch, hidden]))
    }
}

/// A [`RowReader`]'s sizes and input normalisation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RowReaderConfig {
    /// `[channels, height, width]` of the images.
    pub shape: [usize; 3],
    /// Per channel: the training split's pixel mean and standard deviation.
    pub normalization: Vec<(f64, f64)>,
    /// The network; it takes `channels × width` features per step.
    pub recurrent: RecurrentConfig,
}

/// An image classifier that reads each image's rows as steps: `[B, C, H, W]` → `H` steps of
/// `C·W` pixels, normalised per channel.
#[derive(Module, Debug)]
pub struct RowReader {
    #[module(skip)]
    normalization: Vec<(f64, f64)>,
    recurrent: Recurrent,
}

impl RowReader {
    /// A fresh classifier of `config`'s sizes.
    ///
    /// # Errors
    /// A step size that is not `channels × width`, a statistic per channel missing, or the
    /// layers' configuration errors.
    pub fn new(config: &RowReaderConfig, device: &Device) -> Result<Self, BoxError> {
        let [channels, _, width] = config.shape;
        if config.recurrent.inputs != channels * width {
            return Err(format!(
                "the network takes {} features per step, but rows of {channels}x{width} \
                 pixels have {}",
                config.recurrent.inputs,
                channels * width
            )
            .into());
        }
        if config.normalization.len() != channels {
            return Err(format!(
                "{} normalisation statistics for {channels}-channel images",
                config.normalization.len()
            )
            .into());
        }
        Ok(Self {
            normalization: config.normalization.clone(),
            recurrent: Recurrent::new(&config.recurrent, device)?,
        })
    }

    /// Images `[B, C, H, W]` in `[0, 1]` → class scores `[B, classes]`.
    ///
    /// # Errors
    /// The layers' shape errors.
    pub fn forward(&self, images: Tensor<4>) -> cortex::nn::Result<Tensor<2>> {
        let [b, c, h, w] = images.dims();
        let rows = normalize(images, &self.normalization)
            .swap_dims(1, 2)
            .reshape([b, h, c * w]);
        self.recurrent.forward(rows)
    }
}
