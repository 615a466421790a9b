//! The convolutional network of the `cnn` example, shared with `predict`: conv 5×5 → batch
//! norm → ReLU → max-pool, twice, → linear → ReLU → dropout → linear, on images normalised per
//! channel with the training split's statistics.

use cortex::burn;
use cortex::burn::module::Module;
use cortex::burn::tensor::{Device, Tensor, TensorData};
use cortex::nn::{
    BatchNorm, BatchNormConfig, Conv2d, Conv2dConfig, Dropout, DropoutConfig, Flatten, Linear,
    LinearConfig, MaxPool2d, MaxPool2dConfig, Padding,
};
use serde::{Deserialize, Serialize};

use crate::BoxError;

/// The network's sizes and its input normalisation: what rebuilds it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CnnConfig {
    /// `[channels, height, width]` of the images.
    pub shape: [usize; 3],
    /// Classes.
    pub classes: usize,
    /// Per channel: the training split's pixel mean and standard deviation.
    pub normalization: Vec<(f64, f64)>,
}

#[derive(Module, Debug)]
pub struct Cnn {
    /// Per channel: the training split's pixel mean and standard deviation.
    #[module(skip)]
    normalization: Vec<(f64, f64)>,
    conv1: Conv2d,
    norm1: BatchNorm,
    conv2: Conv2d,
    norm2: BatchNorm,
    pool: MaxPool2d,
    flatten: Flatten,
    dropout: Dropout,
    hidden: Linear,
    output: Linear,
}

impl Cnn {
    /// A fresh network of `config`'s sizes.
    ///
    /// # Errors
    /// Images too small for two poolings; the layers' configuration errors.
    pub fn new(config: &CnnConfig, device: &Device) -> Result<Self, BoxError> {
        let [channels, height, width] = config.shape;
        let (classes, normalization) = (config.classes, config.normalization.clone());
        let pooled = (height / 4) * (width / 4);
        if pooled == 0 {
            return Err(
                format!("images of {height}x{width} are too small for two 2x2 poolings").into(),
            );
        }
        Ok(Self {
            normalization,
            conv1: Conv2dConfig::new(channels, 16, [5, 5])
                .with_padding(Padding::Same)
                .init(device)?,
            norm1: BatchNormConfig::new(16).init(device)?,
            norm2: BatchNormConfig::new(32).init(device)?,
            conv2: Conv2dConfig::new(16, 32, [5, 5])
                .with_padding(Padding::Same)
                .init(device)?,
            pool: MaxPool2dConfig::new([2, 2]).init()?,
            flatten: Flatten::new(),
            dropout: DropoutConfig::new(0.5).init()?,
            hidden: LinearConfig::new(32 * pooled, 128).init(device)?,
            output: LinearConfig::new(128, classes).init(device)?,
        })
    }

    /// Images `[B, C, H, W]` in `[0, 1]` → class scores `[B, classes]`.
    ///
    /// # Errors
    /// The layers' shape errors.
    pub fn forward(&self, images: Tensor<4>) -> cortex::nn::Result<Tensor<2>> {
        // Pixels in [0, 1], centred and scaled per channel with the training split's statistics.
        let [_, channels, _, _] = images.dims();
        let column = |f: fn(&(f64, f64)) -> f32| {
            let values: Vec<f32> = self.normalization.iter().map(f).collect();
            let data = TensorData::new(values, [1, channels, 1, 1]);
            Tensor::<4>::from_data(data, (&images.device(), images.dtype()))
        };
        let (mean, scale) = (column(|s| s.0 as f32), column(|s| 1.0 / s.1 as f32));
        let images = (images - mean) * scale;
        let x = self.pool.forward(cortex::ops::relu(
            self.norm1.forward(self.conv1.forward(images)?)?,
        ))?;
        let x = self.pool.forward(cortex::ops::relu(
            self.norm2.forward(self.conv2.forward(x)?)?,
        ))?;
        let x = cortex::ops::relu(self.hidden.forward(self.flatten.forward(x)?)?);
        self.output.forward(self.dropout.forward(x)?)
    }
}
