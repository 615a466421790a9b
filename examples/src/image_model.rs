//! The image models of the `cnn` and `mlp` examples, shared with `predict`, both on images
//! normalised per channel with the training split's statistics:
//! - [`Cnn`]: conv 5×5 → batch norm → ReLU → max-pool, twice, → linear → ReLU → dropout → linear;
//! - [`ImageMlp`]: the flattened pixels through an [`Mlp`].

use cortex::burn;
use cortex::burn::module::Module;
use cortex::burn::tensor::{Device, Tensor, TensorData};
use cortex::nn::{
    BatchNorm, BatchNormConfig, Conv2d, Conv2dConfig, Dropout, DropoutConfig, Flatten, Linear,
    LinearConfig, MaxPool2d, MaxPool2dConfig, Mlp, MlpConfig, Padding,
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
    /// Images too small for two poolings, a statistic per channel missing; the layers'
    /// configuration errors.
    pub fn new(config: &CnnConfig, device: &Device) -> Result<Self, BoxError> {
        let [channels, height, width] = config.shape;
        let (classes, normalization) = (config.classes, config.normalization.clone());
        if normalization.len() != channels {
            return Err(format!(
                "{} normalisation statistics for {channels}-channel images",
                normalization.len()
            )
            .into());
        }
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
        let images = normalize(images, &self.normalization);
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

/// Pixels `[B, C, H, W]` in `[0, 1]`, centred and scaled per channel: `(x - mean_c) / std_c`
/// with one `(mean, std)` per channel (the training split's statistics).
pub(crate) fn normalize(images: Tensor<4>, statistics: &[(f64, f64)]) -> Tensor<4> {
    let channels = statistics.len();
    let column = |f: fn(&(f64, f64)) -> f32| {
        let values: Vec<f32> = statistics.iter().map(f).collect();
        let data = TensorData::new(values, [1, channels, 1, 1]);
        Tensor::<4>::from_data(data, (&images.device(), images.dtype()))
    };
    let (mean, scale) = (column(|s| s.0 as f32), column(|s| 1.0 / s.1 as f32));
    (images - mean) * scale
}

/// The `mlp` example's image model: what rebuilds it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageMlpConfig {
    /// `[channels, height, width]` of the images.
    pub shape: [usize; 3],
    /// Per channel: the training split's pixel mean and standard deviation.
    pub normalization: Vec<(f64, f64)>,
    /// The perceptron; its input size is `channels × height × width`.
    pub mlp: MlpConfig,
}

/// A perceptron on images: normalised per channel, flattened, then [`Mlp`].
#[derive(Module, Debug)]
pub struct ImageMlp {
    /// Per channel: the training split's pixel mean and standard deviation.
    #[module(skip)]
    normalization: Vec<(f64, f64)>,
    mlp: Mlp,
}

impl ImageMlp {
    /// A fresh perceptron of `config`'s sizes.
    ///
    /// # Errors
    /// An input size that is not the images' pixel count, a statistic per channel missing,
    /// or the perceptron's configuration errors.
    pub fn new(config: &ImageMlpConfig, device: &Device) -> Result<Self, BoxError> {
        let [channels, height, width] = config.shape;
        if config.mlp.input_size != channels * height * width {
            return Err(format!(
                "the perceptron takes {} inputs, but {channels}x{height}x{width} images have {}",
                config.mlp.input_size,
                channels * height * width
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
            mlp: config.mlp.init(device)?,
        })
    }

    /// The perceptron behind the normalisation (its layers hold every trained weight).
    pub fn mlp(&self) -> &Mlp {
        &self.mlp
    }

    /// Images `[B, C, H, W]` in `[0, 1]` → class scores `[B, classes]`.
    ///
    /// # Errors
    /// The layers' shape errors.
    pub fn forward(&self, images: Tensor<4>) -> cortex::nn::Result<Tensor<2>> {
        let [b, c, h, w] = images.dims();
        let images = normalize(images, &self.normalization);
        self.mlp.forward(images.reshape([b, c * h * w]))
    }
}
