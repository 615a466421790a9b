//! The sequence layers: one generic [`Sequence`] of cells over batch-first sequences
//! `[batch, seq, features]`, multi-layer and optionally bidirectional, as PyTorch's
//! `nn.RNN`/`nn.LSTM`/`nn.GRU(batch_first=True)`.

use std::collections::HashMap;

use burn::module::Module;
use burn::tensor::{DType, Device, Tensor, TensorData};

use super::cell::{Cell, CellInit, CellStep, CellTensors, ElmanStep, GruStep, LstmStep};
use super::config::{RecurrentConfig, SequenceLayout};
use super::state::{CellState, LstmState};
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
    /// Validates a configuration's sizes.
    fn new(layer: &'static str, layout: &SequenceLayout) -> Result<Self> {
        check::non_zero(layer, "input_size", layout.input_size)?;
        check::non_zero(layer, "hidden_size", layout.hidden_size)?;
        check::non_zero(layer, "num_layers", layout.num_layers)?;
        check::probability(layer, "dropout", layout.dropout)?;
        Ok(Self {
            input_size: layout.input_size,
            hidden_size: layout.hidden_size,
            num_layers: layout.num_layers,
            directions: if layout.bidirectional { 2 } else { 1 },
        })
    }

    fn slots(&self) -> usize {
        self.num_layers * self.directions
    }

    /// Features of the input of layer `layer`.
    fn layer_input(&self, layer: usize) -> usize {
        if layer == 0 {
            self.input_size
        } else {
            self.directions * self.hidden_size
        }
    }

    /// PyTorch's suffix of the parameters of cell `slot`: `_l1`, `_l1_reverse`.
    fn suffix(&self, slot: usize) -> String {
        let reverse = if slot % self.directions == 1 {
            "_reverse"
        } else {
            ""
        };
        format!("_l{}{reverse}", slot / self.directions)
    }
}

/// The output of a [`Sequence`]: the last layer's hidden state at every step, and the final
/// state of every cell (`[L·D, B, H]` per tensor: PyTorch's `h_n`, and `c_n` for the LSTM).
#[derive(Debug, Clone)]
pub struct SequenceOutput<S = Tensor<3>> {
    /// `[B, T, D·H]`, directions concatenated, forward first.
    pub output: Tensor<3>,
    /// The final state of every layer and direction.
    pub state: S,
}

/// The output of an [`Lstm`]: its final state is `{ h: h_n, c: c_n }`.
pub type LstmOutput = SequenceOutput<LstmState<3>>;

/// A stack of recurrent cells over batch-first sequences: `L` layers in `D` directions,
/// dropout between layers. Use it through [`Rnn`], [`Lstm`] and [`Gru`].
#[derive(Module, Debug)]
pub struct Sequence<C: Module> {
    /// The cells, layer-major: `cells[l · D + d]`.
    cells: Vec<C>,
    /// Dropout between layers.
    dropout: Dropout,
    #[module(skip)]
    stack: Stack,
}

/// Elman RNN over batch-first sequences, as `torch.nn.RNN(batch_first=True)`.
pub type Rnn = Sequence<Cell<ElmanStep>>;
/// LSTM over batch-first sequences, as `torch.nn.LSTM(batch_first=True)`.
pub type Lstm = Sequence<Cell<LstmStep>>;
/// GRU over batch-first sequences, as `torch.nn.GRU(batch_first=True)`.
pub type Gru = Sequence<Cell<GruStep>>;

/// The dropout between layers, seeded from the layer seed.
fn dropout_layer(layout: &SequenceLayout, seed: u64) -> Result<Dropout> {
    DropoutConfig::new(layout.dropout)
        .with_seed(Some(derive_seed(seed, u64::MAX)))
        .init()
}

impl<S: CellStep> Sequence<Cell<S>> {
    /// Validates `config` and draws every cell.
    pub(crate) fn init(
        config: &impl RecurrentConfig<Step = S>,
        device: &Device,
        dtype: DType,
    ) -> Result<Self> {
        let layout = config.layout();
        let stack = Stack::new(S::SEQUENCE, &layout)?;
        let seed = layer_seed(layout.seed);
        let cells = (0..stack.slots())
            .map(|slot| {
                let init = CellInit {
                    input_size: stack.layer_input(slot / stack.directions),
                    hidden_size: stack.hidden_size,
                    bias: layout.bias,
                    rule: layout.init.as_ref(),
                    seed: derive_seed(seed, slot as u64),
                };
                Cell::init(S::SEQUENCE, init, config.rule(), device, dtype)
            })
            .collect::<Result<_>>()?;
        let dropout = dropout_layer(&layout, seed)?;
        Ok(Self {
            cells,
            dropout,
            stack,
        })
    }

    /// Builds the layer from the tensors of every cell, layer-major
    /// (`[l0, l0_reverse, l1, …]`), e.g. imported from PyTorch.
    ///
    /// # Errors
    /// Configuration errors as `init`; [`Error::ParameterShape`] when a tensor does not fit
    /// the configuration; [`Error::InvalidConfig`] for the wrong number of cells or biases
    /// the configuration does not have.
    pub fn from_tensors(
        config: &impl RecurrentConfig<Step = S>,
        cells: Vec<CellTensors>,
    ) -> Result<Self> {
        let layout = config.layout();
        let stack = Stack::new(S::SEQUENCE, &layout)?;
        let slots = stack.slots();
        if cells.len() != slots {
            return Err(check::invalid(
                S::SEQUENCE,
                "num_layers",
                &format!("matched by {slots} cells (layers × directions)"),
                format!("{} cells", cells.len()),
            ));
        }
        let rows = S::GATES * stack.hidden_size;
        let mut built = Vec::with_capacity(slots);
        for (slot, tensors) in cells.into_iter().enumerate() {
            let suffix = stack.suffix(slot);
            let cols = stack.layer_input(slot / stack.directions);
            let name = format!("weight_ih{suffix}");
            check::parameter(S::SEQUENCE, name, &tensors.weight_ih.dims(), &[rows, cols])?;
            if tensors.bias_ih.is_some() != layout.bias {
                let expected = "matched by the tensors given";
                return Err(check::invalid(S::SEQUENCE, "bias", expected, layout.bias));
            }
            built.push(Cell::assemble(
                S::SEQUENCE,
                tensors,
                &suffix,
                config.rule(),
            )?);
        }
        Ok(Self {
            cells: built,
            dropout: dropout_layer(&layout, layer_seed(layout.seed))?,
            stack,
        })
    }

    /// Builds the layer from a PyTorch `state_dict` (`weight_ih_l0`, `bias_hh_l1_reverse`,
    /// …, as `torch.nn` names them), read into `TensorData` by the caller.
    ///
    /// # Errors
    /// [`Error::MissingParameter`] for an absent weight; [`Error::ParameterShape`] for a
    /// tensor of the wrong rank; otherwise as `from_tensors`.
    pub fn from_pytorch(
        config: &impl RecurrentConfig<Step = S>,
        state: &HashMap<String, TensorData>,
        device: &Device,
    ) -> Result<Self> {
        let stack = Stack::new(S::SEQUENCE, &config.layout())?;
        let cells = (0..stack.slots())
            .map(|slot| {
                let suffix = stack.suffix(slot);
                let layer = S::SEQUENCE;
                let weight = |name: String| -> Result<Tensor<2>> {
                    state_tensor(layer, state, &name, device)?
                        .ok_or(Error::MissingParameter { layer, name })
                };
                let bias = |name: String| state_tensor::<1>(layer, state, &name, device);
                Ok(CellTensors {
                    weight_ih: weight(format!("weight_ih{suffix}"))?,
                    weight_hh: weight(format!("weight_hh{suffix}"))?,
                    bias_ih: bias(format!("bias_ih{suffix}"))?,
                    bias_hh: bias(format!("bias_hh{suffix}"))?,
                })
            })
            .collect::<Result<_>>()?;
        Self::from_tensors(config, cells)
    }

    /// The cells, layer-major: `cells()[l · D + d]` (PyTorch's `…_l{l}` and
    /// `…_l{l}_reverse`).
    pub fn cells(&self) -> &[Cell<S>] {
        &self.cells
    }

    /// Runs the stack over `x` `[B, T, input_size]` from `initial` (each tensor
    /// `[L·D, B, H]`; zeros if `None`).
    ///
    /// # Errors
    /// [`Error::InputShape`] naming the mis-shaped input and the shape required.
    pub fn forward(
        &self,
        x: Tensor<3>,
        initial: Option<<S::State as CellState>::Stacked>,
    ) -> Result<SequenceOutput<<S::State as CellState>::Stacked>> {
        let stack = self.stack;
        let dims = x.dims();
        check::input(
            S::SEQUENCE,
            "x",
            &dims,
            &[None, None, Some(stack.input_size)],
        )?;
        let [batch, _, _] = dims;
        let (hidden, dirs) = (stack.hidden_size, stack.directions);
        if let Some(initial) = &initial {
            S::State::check_stacked(initial, S::SEQUENCE, stack.slots(), batch, hidden)?;
        }
        let (device, dtype) = (x.device(), x.dtype());
        let mut input = x; // [B, T, features]
        let mut finals = Vec::with_capacity(stack.slots());
        for layer in 0..stack.num_layers {
            let mut outputs = Vec::with_capacity(dirs);
            for direction in 0..dirs {
                let slot = layer * dirs + direction;
                // A model file holds as many cells as the stack it was saved from; one that
                // holds fewer cannot have been loaded into this stack, but stay safe.
                let cell = self.cells.get(slot).ok_or_else(|| {
                    let expected = format!("{} cells (layers × directions)", stack.slots());
                    check::invalid(S::SEQUENCE, "cells", &expected, self.cells.len())
                })?;
                let state = match &initial {
                    Some(states) => S::State::slot(states, slot),
                    None => S::State::zeros(batch, hidden, &device, dtype),
                };
                let (hs, state) = cell.sequence(input.clone(), state, direction == 1)?;
                outputs.push(hs);
                finals.push(state);
            }
            input = match outputs.len() {
                1 => outputs.remove(0),
                _ => Tensor::cat(outputs, 2),
            };
            if layer + 1 < stack.num_layers {
                input = self.dropout.forward(input)?;
            }
        }
        Ok(SequenceOutput {
            output: input,
            state: S::State::stack(finals),
        })
    }
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
            expected: format!("a tensor of rank {D}"),
            got: data.shape().to_vec(),
        });
    }
    Ok(Some(Tensor::from_data(
        data.clone(),
        (device, data.dtype()),
    )))
}
