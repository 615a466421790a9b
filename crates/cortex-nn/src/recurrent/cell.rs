//! The recurrent cells — [`RnnCell`] (tanh or relu), [`LstmCell`], [`GruCell`] — one generic
//! [`Cell`] whose step rule ([`CellStep`]) decides the gates and the state, with PyTorch's
//! parameter layout (`weight_ih [G·H, I]`, `weight_hh [G·H, H]`, `bias_ih`, `bias_hh [G·H]`,
//! gate blocks stacked in PyTorch's order) and equations, so PyTorch weights load as they are.

use std::fmt::Debug;

use burn::module::{Module, Param};
use burn::tensor::{DType, Device, Tensor};
use cortex_autodiff::{fused_gru, fused_lstm_layer, fused_recurrence_supported};
use cortex_ops::{Initializer, sigmoid, tanh};
use serde::{Deserialize, Serialize};

use super::state::{CellState, LstmState};
use crate::check;
use crate::error::{Error, Result};
use crate::param::{derive_seed, param, pytorch_uniform};

/// Nonlinearity of [`RnnCell`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RnnActivation {
    /// `tanh` (PyTorch's default).
    Tanh,
    /// `relu`.
    Relu,
}

/// The step rule of a [`Cell`]: how many gate blocks its weights stack, what state it
/// carries, and one step from the projected input. Implemented by [`ElmanStep`],
/// [`LstmStep`] and [`GruStep`].
pub trait CellStep: Clone + Debug + Send + Sync + 'static {
    /// What the cell carries from one step to the next.
    type State: CellState;
    /// The cell's name in errors (PyTorch's class name, e.g. `LstmCell`).
    const CELL: &'static str;
    /// The name of a stack of these cells in errors (e.g. `Lstm`).
    const SEQUENCE: &'static str;
    /// Gate blocks stacked in the weights' rows (1, 4, 3).
    const GATES: usize;

    /// One step from the projected input `gx = x Wᵢₕᵀ + bᵢₕ` `[B, G·H]` and the state.
    ///
    /// # Errors
    /// An op error where a tensor does not fit the cell.
    fn step(&self, cell: &Cell<Self>, gx: Tensor<2>, state: Self::State) -> Result<Self::State>;

    /// Every step of the input `x` `[B, T, I]` from `state`, last step first with `reverse`:
    /// the hidden state of every step `[B, T, H]` (indexed by time) and the final state.
    /// The default projects every step at once (`x Wᵢₕᵀ + bᵢₕ`) and runs one
    /// [`CellStep::step`] per time step (any backend); a rule with a fused kernel overrides it
    /// where the device has the kernel.
    ///
    /// # Errors
    /// As [`CellStep::step`].
    fn sequence(
        &self,
        cell: &Cell<Self>,
        x: Tensor<3>,
        state: Self::State,
        reverse: bool,
    ) -> Result<(Tensor<3>, Self::State)> {
        cell.composed_sequence(cell.project(x)?, state, reverse)
    }
}

/// Tensors of one cell as given by a user or PyTorch (`bias_*` both present or both absent).
#[derive(Debug, Clone)]
pub struct CellTensors {
    /// `weight_ih`, `[G·H, I]`.
    pub weight_ih: Tensor<2>,
    /// `weight_hh`, `[G·H, H]`.
    pub weight_hh: Tensor<2>,
    /// `bias_ih`, `[G·H]`.
    pub bias_ih: Option<Tensor<1>>,
    /// `bias_hh`, `[G·H]`.
    pub bias_hh: Option<Tensor<1>>,
}

/// A recurrent cell: PyTorch's four parameters and a step rule `S`. Use it through
/// [`RnnCell`], [`LstmCell`] and [`GruCell`].
#[derive(Module, Debug)]
pub struct Cell<S: CellStep> {
    /// `[G·H, input_size]`, gate blocks stacked in PyTorch's order.
    pub weight_ih: Param<Tensor<2>>,
    /// `[G·H, hidden_size]`.
    pub weight_hh: Param<Tensor<2>>,
    /// `[G·H]`.
    pub bias_ih: Option<Param<Tensor<1>>>,
    /// `[G·H]`.
    pub bias_hh: Option<Param<Tensor<1>>>,
    #[module(skip)]
    rule: S,
}

/// Elman cell, as `torch.nn.RNNCell`: `h' = act(x Wᵢₕᵀ + bᵢₕ + h Wₕₕᵀ + bₕₕ)`.
pub type RnnCell = Cell<ElmanStep>;
/// LSTM cell, as `torch.nn.LSTMCell`; see [`LstmStep`] for the equations.
pub type LstmCell = Cell<LstmStep>;
/// GRU cell, as `torch.nn.GRUCell`; see [`GruStep`] for the equations.
pub type GruCell = Cell<GruStep>;

/// How a cell's parameters are drawn (see the cell configurations).
pub(crate) struct CellInit<'a> {
    pub input_size: usize,
    pub hidden_size: usize,
    pub bias: bool,
    pub rule: Option<&'a Initializer>,
    pub seed: u64,
}

impl<S: CellStep> Cell<S> {
    /// Draws the parameters: PyTorch's default is every parameter `U(-1/√H, 1/√H)`.
    pub(crate) fn init(
        layer: &'static str,
        init: CellInit<'_>,
        rule: S,
        device: &Device,
        dtype: DType,
    ) -> Result<Self> {
        check::non_zero(layer, "input_size", init.input_size)?;
        check::non_zero(layer, "hidden_size", init.hidden_size)?;
        let default = pytorch_uniform(init.hidden_size);
        let values = init.rule.unwrap_or(&default);
        let rows = S::GATES * init.hidden_size;
        let draw = |shape, k| {
            param(
                layer,
                values,
                shape,
                device,
                dtype,
                derive_seed(init.seed, k),
            )
        };
        let bias = |k| {
            param(
                layer,
                values,
                [rows],
                device,
                dtype,
                derive_seed(init.seed, k),
            )
        };
        Ok(Self {
            weight_ih: draw([rows, init.input_size], 0)?,
            weight_hh: draw([rows, init.hidden_size], 1)?,
            bias_ih: init.bias.then(|| bias(2)).transpose()?,
            bias_hh: init.bias.then(|| bias(3)).transpose()?,
            rule,
        })
    }

    /// Checks given tensors against `[G·H, I]`, `[G·H, H]`, `[G·H]`; `suffix` ends the
    /// parameter names in errors (PyTorch's `_l1_reverse`).
    pub(crate) fn assemble(
        layer: &'static str,
        tensors: CellTensors,
        suffix: &str,
        rule: S,
    ) -> Result<Self> {
        let gates = S::GATES;
        let [rows, input_size] = tensors.weight_ih.dims();
        if rows == 0 || rows % gates != 0 || input_size == 0 {
            return Err(Error::ParameterShape {
                layer,
                name: format!("weight_ih{suffix}"),
                expected: format!("[{gates}·hidden_size > 0, input_size > 0]"),
                got: vec![rows, input_size],
            });
        }
        let hidden = rows / gates;
        let name = |n: &str| format!("{n}{suffix}");
        check::parameter(
            layer,
            name("weight_hh"),
            &tensors.weight_hh.dims(),
            &[rows, hidden],
        )?;
        match (&tensors.bias_ih, &tensors.bias_hh) {
            (Some(a), Some(b)) => {
                check::parameter(layer, name("bias_ih"), &a.dims(), &[rows])?;
                check::parameter(layer, name("bias_hh"), &b.dims(), &[rows])?;
            }
            (None, None) => {}
            (None, Some(_)) => {
                let name = name("bias_ih");
                return Err(Error::MissingParameter { layer, name });
            }
            (Some(_), None) => {
                let name = name("bias_hh");
                return Err(Error::MissingParameter { layer, name });
            }
        }
        Ok(Self {
            weight_ih: crate::param::wrap(tensors.weight_ih),
            weight_hh: crate::param::wrap(tensors.weight_hh),
            bias_ih: tensors.bias_ih.map(crate::param::wrap),
            bias_hh: tensors.bias_hh.map(crate::param::wrap),
            rule,
        })
    }

    /// Builds the cell from existing tensors (PyTorch's `weight_ih`, `weight_hh`, `bias_ih`,
    /// `bias_hh`, as they are); an [`RnnCell`] starts with tanh (see
    /// [`RnnCell::with_activation`]).
    ///
    /// # Errors
    /// [`Error::ParameterShape`] for inconsistent shapes; [`Error::MissingParameter`] when
    /// only one of the biases is given.
    pub fn from_tensors(tensors: CellTensors) -> Result<Self>
    where
        S: Default,
    {
        Self::assemble(S::CELL, tensors, "", S::default())
    }

    /// Features of the input.
    pub fn input_size(&self) -> usize {
        self.weight_ih.dims()[1]
    }

    /// Features of the hidden state.
    pub fn hidden_size(&self) -> usize {
        self.weight_hh.dims()[1]
    }

    /// The step rule.
    pub fn rule(&self) -> &S {
        &self.rule
    }

    /// `x Wᵢₕᵀ + bᵢₕ` for `x` of any rank (all steps of a sequence in one product), through
    /// the fused linear (a contiguous `∂Wᵢₕ` on the CPU backends).
    pub(crate) fn project<const D: usize>(&self, x: Tensor<D>) -> Result<Tensor<D>> {
        cortex_autodiff::fused_linear(
            x,
            self.weight_ih.val(),
            self.bias_ih.as_ref().map(Param::val),
        )
        .map_err(Error::op(S::CELL))
    }

    /// `h Wₕₕᵀ + bₕₕ` (the composed cells' step), through the fused linear as well.
    fn project_hidden(&self, h: Tensor<2>) -> Result<Tensor<2>> {
        cortex_autodiff::fused_linear(
            h,
            self.weight_hh.val(),
            self.bias_hh.as_ref().map(Param::val),
        )
        .map_err(Error::op(S::CELL))
    }

    /// One step: `x` `[B, input_size]` and the state (zeros if `None`) → the next state
    /// (the hidden state `[B, hidden_size]` for RNN and GRU cells, [`LstmState`] for the
    /// LSTM).
    ///
    /// # Errors
    /// [`Error::InputShape`] naming the mis-shaped input and the shape required.
    pub fn forward(&self, x: Tensor<2>, state: Option<S::State>) -> Result<S::State> {
        let [batch, _] = x.dims();
        check::input(S::CELL, "x", &x.dims(), &[None, Some(self.input_size())])?;
        let hidden = self.hidden_size();
        let state = match state {
            Some(state) => {
                state.check(S::CELL, batch, hidden)?;
                state
            }
            None => S::State::zeros(batch, hidden, &x.device(), x.dtype()),
        };
        let gx = self.project(x)?;
        self.rule.step(self, gx, state)
    }

    /// [`CellStep::sequence`] of this cell's rule over `x` `[B, T, I]`.
    pub(crate) fn sequence(
        &self,
        x: Tensor<3>,
        state: S::State,
        reverse: bool,
    ) -> Result<(Tensor<3>, S::State)> {
        self.rule.sequence(self, x, state, reverse)
    }

    /// [`CellStep::sequence`] as one [`CellStep::step`] per time step (any backend).
    pub fn composed_sequence(
        &self,
        projected: Tensor<3>,
        mut state: S::State,
        reverse: bool,
    ) -> Result<(Tensor<3>, S::State)> {
        let [batch, steps, width] = projected.dims();
        let mut hs = Vec::with_capacity(steps);
        for k in 0..steps {
            let t = if reverse { steps - 1 - k } else { k };
            let gx = projected.clone().narrow(1, t, 1).reshape([batch, width]);
            state = self.rule.step(self, gx, state)?;
            hs.push(state.hidden());
        }
        if reverse {
            hs.reverse();
        }
        Ok((Tensor::stack::<3>(hs, 1), state))
    }
}

impl RnnCell {
    /// The nonlinearity.
    pub fn activation(&self) -> RnnActivation {
        self.rule.activation
    }

    /// Sets the nonlinearity (tanh by default).
    pub fn with_activation(mut self, activation: RnnActivation) -> Self {
        self.rule.activation = activation;
        self
    }
}

/// Gate block `k` (columns `k·H .. (k+1)·H`) of `[B, G·H]` pre-activations.
fn block(gates: &Tensor<2>, k: usize, hidden: usize) -> Tensor<2> {
    gates.clone().narrow(1, k * hidden, hidden)
}

/// The Elman step: `h' = act(x Wᵢₕᵀ + bᵢₕ + h Wₕₕᵀ + bₕₕ)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ElmanStep {
    /// The nonlinearity `act`.
    pub activation: RnnActivation,
}

impl Default for ElmanStep {
    fn default() -> Self {
        Self {
            activation: RnnActivation::Tanh,
        }
    }
}

impl CellStep for ElmanStep {
    type State = Tensor<2>;
    const CELL: &'static str = "RnnCell";
    const SEQUENCE: &'static str = "Rnn";
    const GATES: usize = 1;

    fn step(&self, cell: &Cell<Self>, gx: Tensor<2>, h: Tensor<2>) -> Result<Tensor<2>> {
        let pre = gx + cell.project_hidden(h)?;
        Ok(match self.activation {
            RnnActivation::Tanh => tanh(pre),
            RnnActivation::Relu => cortex_ops::relu(pre),
        })
    }
}

/// The LSTM step, gate blocks `i, f, g, o`: `i = σ(·)`, `f = σ(·)`, `g = tanh(·)`,
/// `o = σ(·)` of `x Wᵢₕᵀ + bᵢₕ + h Wₕₕᵀ + bₕₕ`; `c' = f ⊙ c + i ⊙ g`, `h' = o ⊙ tanh(c')`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LstmStep;

impl CellStep for LstmStep {
    type State = LstmState;
    const CELL: &'static str = "LstmCell";
    const SEQUENCE: &'static str = "Lstm";
    const GATES: usize = 4;

    fn step(&self, cell: &Cell<Self>, gx: Tensor<2>, state: LstmState) -> Result<LstmState> {
        let gates = gx + cell.project_hidden(state.h)?;
        let hidden = cell.hidden_size();
        let i = sigmoid(block(&gates, 0, hidden));
        let f = sigmoid(block(&gates, 1, hidden));
        let g = tanh(block(&gates, 2, hidden));
        let o = sigmoid(block(&gates, 3, hidden));
        let c = f * state.c + i * g;
        let h = o * tanh(c.clone());
        Ok(LstmState { h, c })
    }

    /// On flex and ndarray: one fused op for the whole layer, its input projection included
    /// (see [`cortex_autodiff::fused_lstm_layer`]).
    fn sequence(
        &self,
        cell: &Cell<Self>,
        x: Tensor<3>,
        state: LstmState,
        reverse: bool,
    ) -> Result<(Tensor<3>, LstmState)> {
        if !fused_recurrence_supported(&x.device()) {
            return cell.composed_sequence(cell.project(x)?, state, reverse);
        }
        let seq = fused_lstm_layer(
            x,
            cell.weight_ih.val(),
            cell.bias_ih.as_ref().map(Param::val),
            cell.weight_hh.val(),
            cell.bias_hh.as_ref().map(Param::val),
            state.h,
            state.c,
            reverse,
        )
        .map_err(Error::op(Self::CELL))?;
        Ok((seq.output, LstmState { h: seq.h, c: seq.c }))
    }
}

/// The GRU step, gate blocks `r, z, n`: `r = σ(Wᵢᵣx + bᵢᵣ + Wₕᵣh + bₕᵣ)`,
/// `z = σ(Wᵢzx + bᵢz + Wₕzh + bₕz)`, `n = tanh(Wᵢₙx + bᵢₙ + r ⊙ (Wₕₙh + bₕₙ))` (the hidden
/// bias inside the reset product), `h' = (1 - z) ⊙ n + z ⊙ h`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GruStep;

impl CellStep for GruStep {
    type State = Tensor<2>;
    const CELL: &'static str = "GruCell";
    const SEQUENCE: &'static str = "Gru";
    const GATES: usize = 3;

    fn step(&self, cell: &Cell<Self>, gx: Tensor<2>, h: Tensor<2>) -> Result<Tensor<2>> {
        let gh = cell.project_hidden(h.clone())?;
        let hidden = cell.hidden_size();
        let r = sigmoid(block(&gx, 0, hidden) + block(&gh, 0, hidden));
        let z = sigmoid(block(&gx, 1, hidden) + block(&gh, 1, hidden));
        let n = tanh(block(&gx, 2, hidden) + r * block(&gh, 2, hidden));
        // (1 - z) ⊙ n + z ⊙ h, written with one product fewer.
        Ok(n.clone() + z * (h - n))
    }

    /// On flex and ndarray: one fused op for the whole sequence (see
    /// [`cortex_autodiff::fused_gru`]).
    fn sequence(
        &self,
        cell: &Cell<Self>,
        x: Tensor<3>,
        h: Tensor<2>,
        reverse: bool,
    ) -> Result<(Tensor<3>, Tensor<2>)> {
        let projected = cell.project(x)?;
        if !fused_recurrence_supported(&projected.device()) {
            return cell.composed_sequence(projected, h, reverse);
        }
        let bias = cell.bias_hh.as_ref().map(Param::val);
        let seq = fused_gru(projected, cell.weight_hh.val(), bias, h, reverse)
            .map_err(Error::op(Self::CELL))?;
        Ok((seq.output, seq.h))
    }
}
