//! The sequence layers `Rnn`, `Lstm`, `Gru`: stacks of cells over batch-first sequences
//! `[batch, seq, features]`, multi-layer and optionally bidirectional, as PyTorch's
//! `nn.RNN`/`nn.LSTM`/`nn.GRU(batch_first=True)`.

use std::collections::HashMap;

use burn::config::Config;
use burn::module::Module;
use burn::tensor::{DType, Device, Tensor, TensorData};
use cortex_ops::Initializer;

use super::cell::{CellParams, CellTensors, GruCell, LstmCell, Recurrent, RnnActivation, RnnCell};
use crate::check;
use crate::dropout::{Dropout, DropoutConfig};
use crate::error::{Error, Result};
use crate::param::derive_seed;
use crate::seed::layer_seed;

/// The layout of a stack: what `forward` checks against.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Stack {
    input_size: usize,
    hidden_size: usize,
    num_layers: usize,
    directions: usize,
}

impl Stack {
    fn layer_input(&self, layer: usize) -> usize {
        if layer == 0 {
            self.input_size
        } else {
            self.directions * self.hidden_size
        }
    }
}

/// Runs a stack of cells (`cells[l · D + d]`) over `x` `[B, T, I]`; returns the outputs
/// `[B, T, D·H]` and the final states, each `[L·D, B, H]`.
fn run<C: Recurrent>(
    layer_name: &'static str,
    cells: &[C],
    dropout: &Dropout,
    stack: Stack,
    x: Tensor<3>,
    initial: Option<Vec<Tensor<3>>>,
) -> Result<(Tensor<3>, Vec<Tensor<3>>)> {
    let dims = x.dims();
    check::input(
        layer_name,
        "x",
        &dims,
        &[None, None, Some(stack.input_size)],
    )?;
    let [batch, steps, _] = dims;
    if batch == 0 || steps == 0 {
        return Err(Error::InputShape {
            layer: layer_name,
            arg: "x",
            expected: format!("[B > 0, T > 0, {}]", stack.input_size),
            got: dims.to_vec(),
        });
    }
    let (hidden, dirs) = (stack.hidden_size, stack.directions);
    let slots = stack.num_layers * dirs;
    if cells.len() != slots || slots == 0 {
        // The cells are public: a stack edited by hand no longer matches its configuration.
        return Err(Error::InvalidConfig {
            layer: layer_name,
            field: "cells",
            expected: format!(
                "{slots} cells ({} layers × {dirs} directions)",
                stack.num_layers
            ),
            got: cells.len().to_string(),
        });
    }
    if let Some(states) = &initial {
        for (state, name) in states.iter().zip(["h0", "c0"]) {
            check::input(
                layer_name,
                name,
                &state.dims(),
                &[Some(slots), Some(batch), Some(hidden)],
            )?;
        }
    }
    let (device, dtype) = (x.device(), x.dtype());
    let mut input = x; // [B, T, features]
    let mut finals: Vec<Vec<Tensor<2>>> = Vec::with_capacity(slots);
    for layer in 0..stack.num_layers {
        let mut outputs = Vec::with_capacity(dirs);
        for direction in 0..dirs {
            let slot = layer * dirs + direction;
            let cell = &cells[slot];
            let state: Vec<Tensor<2>> = match &initial {
                Some(states) => states
                    .iter()
                    .map(|s| s.clone().narrow(0, slot, 1).reshape([batch, hidden]))
                    .collect(),
                None => (0..C::STATES)
                    .map(|_| Tensor::zeros([batch, hidden], (&device, dtype)))
                    .collect(),
            };
            let projected = cell.project(input.clone())?; // [B, T, G·H]
            let (hs, state) = cell.sequence(projected, state, direction == 1)?;
            outputs.push(hs);
            finals.push(state);
        }
        input = if dirs == 1 {
            outputs.remove(0)
        } else {
            Tensor::cat(outputs, 2)
        };
        if layer + 1 < stack.num_layers {
            input = dropout.forward(input)?;
        }
    }
    let final_states = (0..C::STATES)
        .map(|k| Tensor::stack::<3>(finals.iter().map(|s| s[k].clone()).collect(), 0))
        .collect();
    Ok((input, final_states))
}

/// Outputs of [`Rnn`] and [`Gru`].
#[derive(Debug, Clone)]
pub struct SequenceOutput {
    /// The last layer's hidden state at every step, `[B, T, D·H]` (directions concatenated,
    /// forward first).
    pub output: Tensor<3>,
    /// The final hidden state of every layer and direction, `[L·D, B, H]`.
    pub h_n: Tensor<3>,
}

/// Outputs of [`Lstm`].
#[derive(Debug, Clone)]
pub struct LstmOutput {
    /// The last layer's hidden state at every step, `[B, T, D·H]`.
    pub output: Tensor<3>,
    /// Final hidden states, `[L·D, B, H]`.
    pub h_n: Tensor<3>,
    /// Final cell states, `[L·D, B, H]`.
    pub c_n: Tensor<3>,
}

/// Reads one tensor of a PyTorch `state_dict` of rank `D`.
fn state_tensor<const D: usize>(
    layer: &'static str,
    state: &HashMap<String, TensorData>,
    name: &str,
    device: &Device,
) -> Result<Option<Tensor<D>>> {
    let Some(data) = state.get(name) else {
        return Ok(None);
    };
    if data.shape().len() != D {
        return Err(Error::ParameterShape {
            layer,
            name: name.to_string(),
            expected: vec![0; D],
            got: data.shape().to_vec(),
        });
    }
    Ok(Some(Tensor::from_data(
        data.clone(),
        (device, data.dtype()),
    )))
}

macro_rules! sequence_layer {
    (
        $(#[$doc:meta])* $layer:ident, $config:ident, $cell:ident, $name:literal,
        activation = $activation:expr, { $($extra:tt)* }
    ) => {
        #[doc = concat!("Configuration of [`", stringify!($layer), "`].")]
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

        $(#[$doc])*
        #[derive(Module, Debug)]
        pub struct $layer {
            /// The cells, layer-major: `cells[l · D + d]` (PyTorch's `…_l{l}` and
            /// `…_l{l}_reverse`).
            pub cells: Vec<$cell>,
            /// Dropout between layers.
            pub dropout: Dropout,
            #[module(skip)]
            stack: Stack,
        }

        impl $config {
            fn stack(&self) -> Result<Stack> {
                check::non_zero($name, "input_size", self.input_size)?;
                check::non_zero($name, "hidden_size", self.hidden_size)?;
                check::non_zero($name, "num_layers", self.num_layers)?;
                check::probability($name, "dropout", self.dropout)?;
                Ok(Stack {
                    input_size: self.input_size,
                    hidden_size: self.hidden_size,
                    num_layers: self.num_layers,
                    directions: if self.bidirectional { 2 } else { 1 },
                })
            }

            fn dropout_layer(&self, seed: u64) -> Result<Dropout> {
                DropoutConfig::new(self.dropout)
                    .with_seed(Some(derive_seed(seed, u64::MAX)))
                    .init()
            }

            /// Validates the configuration and initializes the layer in f32.
            ///
            /// # Errors
            /// [`Error::InvalidConfig`] for zero sizes, dropout outside `[0, 1)` or an
            /// invalid initializer.
            pub fn init(&self, device: &Device) -> Result<$layer> {
                self.init_with_dtype(device, DType::F32)
            }

            #[doc = concat!("As [`", stringify!($config), "::init`], with parameters of `dtype`.")]
            ///
            /// # Errors
            /// As `init`.
            pub fn init_with_dtype(&self, device: &Device, dtype: DType) -> Result<$layer> {
                let stack = self.stack()?;
                let seed = layer_seed(self.seed);
                let mut cells = Vec::new();
                for slot in 0..stack.num_layers * stack.directions {
                    let params = CellParams::init(
                        $name,
                        <$cell as Recurrent>::GATES,
                        stack.layer_input(slot / stack.directions),
                        stack.hidden_size,
                        self.bias,
                        self.init.as_ref(),
                        derive_seed(seed, slot as u64),
                        device,
                        dtype,
                    )?;
                    cells.push(<$cell as Recurrent>::build(params, $activation(self)));
                }
                Ok($layer { cells, dropout: self.dropout_layer(seed)?, stack })
            }
        }

        impl $layer {
            const NAME: &'static str = $name;

            /// Builds the layer from the tensors of every cell, layer-major
            /// (`[l0, l0_reverse, l1, …]`), e.g. imported from PyTorch.
            ///
            /// # Errors
            /// Configuration errors as `init`; [`Error::ParameterShape`] when a tensor does
            /// not fit the configuration; [`Error::InvalidConfig`] for the wrong number of
            /// cells.
            pub fn from_tensors(config: &$config, cells: Vec<CellTensors>) -> Result<Self> {
                let stack = config.stack()?;
                let slots = stack.num_layers * stack.directions;
                if cells.len() != slots {
                    return Err(check::invalid(
                        $name,
                        "num_layers",
                        &format!("matched by {slots} cells (layers × directions)"),
                        format!("{} cells", cells.len()),
                    ));
                }
                let gates = <$cell as Recurrent>::GATES;
                let mut built = Vec::with_capacity(slots);
                for (slot, tensors) in cells.into_iter().enumerate() {
                    let suffix = format!(
                        "_l{}{}",
                        slot / stack.directions,
                        if slot % stack.directions == 1 { "_reverse" } else { "" }
                    );
                    let rows = gates * stack.hidden_size;
                    let cols = stack.layer_input(slot / stack.directions);
                    check::parameter($name, format!("weight_ih{suffix}"), &tensors.weight_ih.dims(), &[rows, cols])?;
                    if tensors.bias_ih.is_some() != config.bias {
                        return Err(check::invalid($name, "bias", "matched by the tensors given", config.bias));
                    }
                    let params = CellParams::from_tensors($name, gates, tensors, &suffix)?;
                    built.push(<$cell as Recurrent>::build(params, $activation(config)));
                }
                Ok(Self { cells: built, dropout: config.dropout_layer(layer_seed(config.seed))?, stack })
            }

            /// Builds the layer from a PyTorch `state_dict` (`weight_ih_l0`, `bias_hh_l1_reverse`,
            /// …, as `torch.nn` names them), read into `TensorData` by the caller.
            ///
            /// # Errors
            /// [`Error::MissingParameter`] for an absent weight; otherwise as
            /// `from_tensors`.
            pub fn from_pytorch(
                config: &$config,
                state: &HashMap<String, TensorData>,
                device: &Device,
            ) -> Result<Self> {
                let stack = config.stack()?;
                let mut cells = Vec::new();
                for slot in 0..stack.num_layers * stack.directions {
                    let suffix = format!(
                        "_l{}{}",
                        slot / stack.directions,
                        if slot % stack.directions == 1 { "_reverse" } else { "" }
                    );
                    let required = |name: String| -> Result<Tensor<2>> {
                        state_tensor::<2>($name, state, &name, device)?
                            .ok_or(Error::MissingParameter { layer: $name, name })
                    };
                    cells.push(CellTensors {
                        weight_ih: required(format!("weight_ih{suffix}"))?,
                        weight_hh: required(format!("weight_hh{suffix}"))?,
                        bias_ih: state_tensor::<1>($name, state, &format!("bias_ih{suffix}"), device)?,
                        bias_hh: state_tensor::<1>($name, state, &format!("bias_hh{suffix}"), device)?,
                    });
                }
                Self::from_tensors(config, cells)
            }
        }
    };
}

fn tanh_activation<T>(_: &T) -> RnnActivation {
    RnnActivation::Tanh
}

sequence_layer!(
    /// Elman RNN over batch-first sequences, as `torch.nn.RNN(batch_first=True)`.
    Rnn, RnnConfig, RnnCell, "Rnn",
    activation = |c: &RnnConfig| c.activation,
    {
        /// Nonlinearity of every cell.
        #[config(default = "RnnActivation::Tanh")]
        pub activation: RnnActivation,
    }
);
sequence_layer!(
    /// LSTM over batch-first sequences, as `torch.nn.LSTM(batch_first=True)`.
    Lstm, LstmConfig, LstmCell, "Lstm", activation = tanh_activation, {}
);
sequence_layer!(
    /// GRU over batch-first sequences, as `torch.nn.GRU(batch_first=True)`.
    Gru, GruConfig, GruCell, "Gru", activation = tanh_activation, {}
);

/// `forward` of the stacks whose state is the hidden state alone.
macro_rules! hidden_state_forward {
    ($($layer:ident),*) => {$(
        impl $layer {
            /// Runs the stack over `x` `[B, T, input_size]` from `h0` `[L·D, B, H]` (zeros if
            /// `None`).
            ///
            /// # Errors
            /// [`Error::InputShape`] for mis-shaped inputs.
            pub fn forward(&self, x: Tensor<3>, h0: Option<Tensor<3>>) -> Result<SequenceOutput> {
                let initial = h0.map(|h| vec![h]);
                let (output, mut states) = run(Self::NAME, &self.cells, &self.dropout, self.stack, x, initial)?;
                Ok(SequenceOutput { output, h_n: states.remove(0) })
            }
        }
    )*};
}

hidden_state_forward!(Rnn, Gru);

impl Lstm {
    /// Runs the stack over `x` `[B, T, input_size]` from `(h0, c0)`, each `[L·D, B, H]`
    /// (zeros if `None`).
    ///
    /// # Errors
    /// [`Error::InputShape`] for mis-shaped inputs.
    pub fn forward(
        &self,
        x: Tensor<3>,
        state: Option<(Tensor<3>, Tensor<3>)>,
    ) -> Result<LstmOutput> {
        let (output, mut states) = run(
            Self::NAME,
            &self.cells,
            &self.dropout,
            self.stack,
            x,
            state.map(|(h, c)| vec![h, c]),
        )?;
        let c_n = states.remove(1);
        Ok(LstmOutput {
            output,
            h_n: states.remove(0),
            c_n,
        })
    }
}
