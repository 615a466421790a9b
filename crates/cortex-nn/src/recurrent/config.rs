//! The configurations of the cells and the sequence layers, one pair per step rule.
//!
//! burn's `Config` derive takes no type parameters, so the pairs cannot be one generic
//! struct: [`configs!`] declares each pair, and everything they build is the generic
//! [`Cell`] and [`Sequence`].

use burn::config::Config;
use burn::tensor::{DType, Device};
use cortex_ops::Initializer;

use super::cell::{Cell, CellInit, CellStep, ElmanStep, GruStep, LstmStep, RnnActivation};
use super::sequence::Sequence;
use crate::error::Result;
use crate::seed::layer_seed;

/// What a sequence configuration says about the stack it builds.
#[derive(Debug, Clone, PartialEq)]
pub struct SequenceLayout {
    /// Features of each input step.
    pub input_size: usize,
    /// Features of the hidden state.
    pub hidden_size: usize,
    /// Stacked layers.
    pub num_layers: usize,
    /// Whether the cells have biases.
    pub bias: bool,
    /// Whether a second stack runs backwards in time.
    pub bidirectional: bool,
    /// Dropout between layers.
    pub dropout: f64,
    /// Initializer of every parameter (`None`: PyTorch's).
    pub init: Option<Initializer>,
    /// Seed of the initial values and of the dropout masks.
    pub seed: Option<u64>,
}

/// A configuration of a [`Sequence`] of cells with step rule [`RecurrentConfig::Step`].
pub trait RecurrentConfig {
    /// The cells' step rule.
    type Step: CellStep;
    /// Sizes and options of the stack.
    fn layout(&self) -> SequenceLayout;
    /// The step rule every cell gets.
    fn rule(&self) -> Self::Step;
}

macro_rules! configs {
    (
        $step:ty, $cell_config:ident, $config:ident,
        rule = $rule:expr, { $($extra:tt)* }
    ) => {
        #[doc = concat!("Configuration of a single [`Cell`] with [`", stringify!($step), "`].")]
        #[derive(Config, Debug, PartialEq)]
        pub struct $cell_config {
            /// Features of the input `x` (> 0).
            pub input_size: usize,
            /// Features of the hidden state (> 0).
            pub hidden_size: usize,
            /// Whether the cell has `bias_ih` and `bias_hh`.
            #[config(default = true)]
            pub bias: bool,
            /// Initializer of every parameter; `None`: PyTorch's `U(-1/√H, 1/√H)`.
            pub init: Option<Initializer>,
            /// Seed of the initial values; `None` (the default) takes the next seed of the
            /// model seed ([`crate::seeded`]).
            pub seed: Option<u64>,
            $($extra)*
        }

        impl $cell_config {
            /// Validates the configuration and initializes the cell in f32.
            ///
            /// # Errors
            /// [`crate::Error::InvalidConfig`] for a zero size or an invalid initializer.
            pub fn init(&self, device: &Device) -> Result<Cell<$step>> {
                self.init_with_dtype(device, DType::F32)
            }

            /// As `init`, with parameters of `dtype`.
            ///
            /// # Errors
            /// As `init`.
            pub fn init_with_dtype(&self, device: &Device, dtype: DType) -> Result<Cell<$step>> {
                let init = CellInit {
                    input_size: self.input_size,
                    hidden_size: self.hidden_size,
                    bias: self.bias,
                    rule: self.init.as_ref(),
                    seed: layer_seed(self.seed),
                };
                let rule: $step = ($rule)(self);
                Cell::init(<$step as CellStep>::CELL, init, rule, device, dtype)
            }
        }

        #[doc = concat!("Configuration of a [`Sequence`] of cells with [`", stringify!($step), "`].")]
        #[derive(Config, Debug, PartialEq)]
        pub struct $config {
            /// Features of each input step (> 0).
            pub input_size: usize,
            /// Features of the hidden state (> 0).
            pub hidden_size: usize,
            /// Stacked layers (> 0); layer `l > 0` reads the outputs of layer `l - 1`.
            #[config(default = 1)]
            pub num_layers: usize,
            /// Whether the cells have biases.
            #[config(default = true)]
            pub bias: bool,
            /// Run a second stack backwards in time and concatenate the outputs.
            #[config(default = false)]
            pub bidirectional: bool,
            /// Dropout on the outputs of every layer but the last (training only), in `[0, 1)`.
            #[config(default = 0.0)]
            pub dropout: f64,
            /// Initializer of every parameter; `None`: PyTorch's `U(-1/√H, 1/√H)`.
            pub init: Option<Initializer>,
            /// Seed of the initial values and of the dropout masks; `None` (the default)
            /// takes the next seed of the model seed ([`crate::seeded`]).
            pub seed: Option<u64>,
            $($extra)*
        }

        impl RecurrentConfig for $config {
            type Step = $step;

            fn layout(&self) -> SequenceLayout {
                SequenceLayout {
                    input_size: self.input_size,
                    hidden_size: self.hidden_size,
                    num_layers: self.num_layers,
                    bias: self.bias,
                    bidirectional: self.bidirectional,
                    dropout: self.dropout,
                    init: self.init.clone(),
                    seed: self.seed,
                }
            }

            fn rule(&self) -> $step {
                ($rule)(self)
            }
        }

        impl $config {
            /// Validates the configuration and initializes the layer in f32.
            ///
            /// # Errors
            /// [`crate::Error::InvalidConfig`] for zero sizes, dropout outside `[0, 1)` or an
            /// invalid initializer.
            pub fn init(&self, device: &Device) -> Result<Sequence<Cell<$step>>> {
                Sequence::init(self, device, DType::F32)
            }

            /// As `init`, with parameters of `dtype`.
            ///
            /// # Errors
            /// As `init`.
            pub fn init_with_dtype(
                &self,
                device: &Device,
                dtype: DType,
            ) -> Result<Sequence<Cell<$step>>> {
                Sequence::init(self, device, dtype)
            }
        }
    };
}

configs!(
    ElmanStep, RnnCellConfig, RnnConfig,
    rule = |c: &Self| ElmanStep { activation: c.activation },
    {
        /// Nonlinearity of every cell.
        #[config(default = "RnnActivation::Tanh")]
        pub activation: RnnActivation,
    }
);
configs!(
    LstmStep,
    LstmCellConfig,
    LstmConfig,
    rule = |_: &Self| LstmStep,
    {}
);
configs!(
    GruStep,
    GruCellConfig,
    GruConfig,
    rule = |_: &Self| GruStep,
    {}
);
