//! `Mlp`: a stack of `Linear` layers with a nonlinearity (and optional dropout) between them;
//! the last layer is linear, giving logits or regression outputs.

use burn::config::Config;
use burn::module::Module;
use burn::tensor::{DType, Device, Tensor};

use crate::activation::Activation;
use crate::check;
use crate::dropout::{Dropout, DropoutConfig};
use crate::error::Result;
use crate::linear::{Linear, LinearConfig};
use crate::param::derive_seed;
use crate::seed::layer_seed;

/// Configuration of [`Mlp`]. The classic sigmoid MLP for MNIST, 784-128-64-10, is
/// `MlpConfig::new(784, vec![128, 64], 10).with_activation(Activation::Sigmoid)`.
#[derive(Config, Debug, PartialEq)]
pub struct MlpConfig {
    /// Input features (> 0).
    pub input_size: usize,
    /// Width of each hidden layer (each > 0); empty: a single linear layer.
    pub hidden_sizes: Vec<usize>,
    /// Output features (> 0).
    pub output_size: usize,
    /// Nonlinearity after every hidden layer.
    #[config(default = "Activation::Relu")]
    pub activation: Activation,
    /// Dropout after every hidden activation (training only), in `[0, 1)`.
    #[config(default = 0.0)]
    pub dropout: f64,
    /// Whether the layers have biases.
    #[config(default = true)]
    pub bias: bool,
    /// Seed of the initial values (PyTorch's default initialization) and dropout masks.
    /// `None` (the default) takes the next seed of the model seed ([`crate::seeded`]).
    pub seed: Option<u64>,
}

/// A multilayer perceptron: `Linear → activation → [dropout] → … → Linear`.
#[derive(Module, Debug)]
pub struct Mlp {
    /// The linear layers, input to output (never empty, each one's input the previous one's
    /// output: private so that no caller can break either).
    layers: Vec<Linear>,
    /// Dropout after each hidden activation.
    pub dropout: Dropout,
    #[module(skip)]
    activation: Activation,
}

impl MlpConfig {
    /// Validates the configuration and initializes the network in f32.
    ///
    /// # Errors
    /// [`crate::Error::InvalidConfig`] for a zero size or dropout outside `[0, 1)`.
    pub fn init(&self, device: &Device) -> Result<Mlp> {
        self.init_with_dtype(device, DType::F32)
    }

    /// As [`MlpConfig::init`], with parameters of `dtype`.
    ///
    /// # Errors
    /// As [`MlpConfig::init`].
    pub fn init_with_dtype(&self, device: &Device, dtype: DType) -> Result<Mlp> {
        check::non_zero("Mlp", "input_size", self.input_size)?;
        check::non_zero("Mlp", "output_size", self.output_size)?;
        check::non_zero_all("Mlp", "hidden_sizes", &self.hidden_sizes)?;
        let mut sizes = vec![self.input_size];
        sizes.extend_from_slice(&self.hidden_sizes);
        sizes.push(self.output_size);
        let seed = layer_seed(self.seed);
        let layers = sizes
            .windows(2)
            .enumerate()
            .map(|(k, pair)| {
                LinearConfig::new(pair[0], pair[1])
                    .with_bias(self.bias)
                    .with_seed(Some(derive_seed(seed, k as u64)))
                    .init_with_dtype(device, dtype)
            })
            .collect::<Result<Vec<_>>>()?;
        let dropout = DropoutConfig::new(self.dropout)
            .with_seed(Some(derive_seed(seed, u64::MAX)))
            .init()?;
        Ok(Mlp {
            layers,
            dropout,
            activation: self.activation,
        })
    }
}

impl Mlp {
    /// Builds the network from existing linear layers (e.g. imported from PyTorch).
    ///
    /// # Errors
    /// [`crate::Error::ParameterShape`] when consecutive layers do not chain;
    /// [`crate::Error::InvalidConfig`] for no layers or a bad dropout probability.
    pub fn from_layers(layers: Vec<Linear>, activation: Activation, dropout: f64) -> Result<Self> {
        if layers.is_empty() {
            return Err(check::invalid("Mlp", "layers", "at least one", 0));
        }
        for (k, pair) in layers.windows(2).enumerate() {
            check::parameter(
                "Mlp",
                format!("layers.{}.weight", k + 1),
                &pair[1].weight.dims(),
                &[pair[1].out_features(), pair[0].out_features()],
            )?;
        }
        Ok(Self {
            layers,
            dropout: DropoutConfig::new(dropout).init()?,
            activation,
        })
    }

    /// The linear layers, input to output.
    pub fn layers(&self) -> &[Linear] {
        &self.layers
    }

    /// Maps `x` `[…, input_size]` to `[…, output_size]`.
    ///
    /// # Errors
    /// [`crate::Error::InputShape`] when the last dimension is not `input_size`;
    /// [`crate::Error::InvalidConfig`] for a network without layers (a record loaded from a
    /// file that had none).
    pub fn forward<const D: usize>(&self, x: Tensor<D>) -> Result<Tensor<D>> {
        let Some(last) = self.layers.len().checked_sub(1) else {
            return Err(check::invalid("Mlp", "layers", "at least one", 0));
        };
        let mut x = x;
        for (k, layer) in self.layers.iter().enumerate() {
            x = layer.forward(x)?;
            if k < last {
                x = self.dropout.forward(self.activation.forward(x)?)?;
            }
        }
        Ok(x)
    }
}
