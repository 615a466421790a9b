//! The recurrent cells — `RnnCell` (tanh or relu), `LstmCell`, `GruCell` — with PyTorch's
//! parameter layout (`weight_ih [G·H, I]`, `weight_hh [G·H, H]`, `bias_ih`, `bias_hh [G·H]`,
//! gate blocks stacked in PyTorch's order) and equations, so PyTorch weights load as they are.

use burn::config::Config;
use burn::module::{Module, Param};
use burn::tensor::{DType, Device, Tensor};
use cortex_autodiff::{fused_gru, fused_lstm, fused_recurrence_supported};
use cortex_ops::{Initializer, sigmoid, tanh};
use serde::{Deserialize, Serialize};

use crate::check;
use crate::error::{Error, Result};
use crate::param::{derive_seed, param, pytorch_uniform};
use crate::seed::layer_seed;

/// Nonlinearity of [`RnnCell`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RnnActivation {
    /// `tanh` (PyTorch's default).
    Tanh,
    /// `relu`.
    Relu,
}

/// The four parameters every cell has, drawn or checked the same way.
pub(crate) struct CellParams {
    pub weight_ih: Param<Tensor<2>>,
    pub weight_hh: Param<Tensor<2>>,
    pub bias_ih: Option<Param<Tensor<1>>>,
    pub bias_hh: Option<Param<Tensor<1>>>,
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

impl CellParams {
    /// PyTorch's default: every parameter `U(-1/√H, 1/√H)`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn init(
        layer: &'static str,
        gates: usize,
        input_size: usize,
        hidden_size: usize,
        bias: bool,
        rule: Option<&Initializer>,
        seed: u64,
        device: &Device,
        dtype: DType,
    ) -> Result<Self> {
        check::non_zero(layer, "input_size", input_size)?;
        check::non_zero(layer, "hidden_size", hidden_size)?;
        let default = pytorch_uniform(hidden_size);
        let rule = rule.unwrap_or(&default);
        let rows = gates * hidden_size;
        let draw1 = |k| param(layer, rule, [rows], device, dtype, derive_seed(seed, k));
        Ok(Self {
            weight_ih: param(
                layer,
                rule,
                [rows, input_size],
                device,
                dtype,
                derive_seed(seed, 0),
            )?,
            weight_hh: param(
                layer,
                rule,
                [rows, hidden_size],
                device,
                dtype,
                derive_seed(seed, 1),
            )?,
            bias_ih: bias.then(|| draw1(2)).transpose()?,
            bias_hh: bias.then(|| draw1(3)).transpose()?,
        })
    }

    /// Checks given tensors against `[G·H, I]`, `[G·H, H]`, `[G·H]`.
    pub(crate) fn from_tensors(
        layer: &'static str,
        gates: usize,
        tensors: CellTensors,
        suffix: &str,
    ) -> Result<Self> {
        let [rows, input_size] = tensors.weight_ih.dims();
        check::non_zero(layer, "input_size", input_size)?;
        if rows == 0 || rows % gates != 0 {
            return Err(Error::ParameterShape {
                layer,
                name: format!("weight_ih{suffix}"),
                expected: vec![gates, input_size],
                got: vec![rows, input_size],
            });
        }
        let hidden = rows / gates;
        check::parameter(
            layer,
            format!("weight_hh{suffix}"),
            &tensors.weight_hh.dims(),
            &[rows, hidden],
        )?;
        match (&tensors.bias_ih, &tensors.bias_hh) {
            (Some(a), Some(b)) => {
                check::parameter(layer, format!("bias_ih{suffix}"), &a.dims(), &[rows])?;
                check::parameter(layer, format!("bias_hh{suffix}"), &b.dims(), &[rows])?;
            }
            (None, None) => {}
            (None, Some(_)) => {
                return Err(Error::MissingParameter {
                    layer,
                    name: format!("bias_ih{suffix}"),
                });
            }
            (Some(_), None) => {
                return Err(Error::MissingParameter {
                    layer,
                    name: format!("bias_hh{suffix}"),
                });
            }
        }
        Ok(Self {
            weight_ih: crate::param::wrap(tensors.weight_ih),
            weight_hh: crate::param::wrap(tensors.weight_hh),
            bias_ih: tensors.bias_ih.map(crate::param::wrap),
            bias_hh: tensors.bias_hh.map(crate::param::wrap),
        })
    }
}

/// Gate block `k` (columns `k·H .. (k+1)·H`) of `[B, G·H]` pre-activations.
fn block(gates: &Tensor<2>, k: usize, hidden: usize) -> Tensor<2> {
    gates.clone().narrow(1, k * hidden, hidden)
}

/// What the sequence layers need of a cell: the input projection of every step at once,
/// then one step at a time. A state is `[h]` or, for the LSTM, `[h, c]`, each `[B, H]`.
pub(crate) trait Recurrent: Module + Sized {
    /// PyTorch's class name, for errors.
    const LAYER: &'static str;
    /// Gate blocks in the weights (1, 4, 3).
    const GATES: usize;
    /// Tensors in the state (1, or 2 for the LSTM).
    const STATES: usize;

    fn build(params: CellParams, activation: RnnActivation) -> Self;
    fn weight_ih(&self) -> &Param<Tensor<2>>;
    fn weight_hh(&self) -> &Param<Tensor<2>>;
    fn bias_ih(&self) -> Option<&Param<Tensor<1>>>;
    fn bias_hh(&self) -> Option<&Param<Tensor<1>>>;

    /// `x Wᵢₕᵀ + bᵢₕ` for `x` of any rank (all steps of a sequence in one product).
    fn project<const D: usize>(&self, x: Tensor<D>) -> Result<Tensor<D>> {
        cortex_ops::linear(x, self.weight_ih().val(), self.bias_ih().map(Param::val))
            .map_err(Error::op(Self::LAYER))
    }

    /// `h Wₕₕᵀ + bₕₕ`.
    fn project_hidden(&self, h: Tensor<2>) -> Result<Tensor<2>> {
        cortex_ops::linear(h, self.weight_hh().val(), self.bias_hh().map(Param::val))
            .map_err(Error::op(Self::LAYER))
    }

    /// One step from the projected input `gx` `[B, G·H]` and the state.
    fn step(&self, gx: Tensor<2>, state: Vec<Tensor<2>>) -> Result<Vec<Tensor<2>>>;

    /// Runs the cell over every step of `projected` `[B, T, G·H]` (the input projection, see
    /// [`Recurrent::project`]) from `state`, last step first with `reverse`; returns the hidden
    /// state of every step `[B, T, H]` (indexed by time) and the final state.
    fn sequence(
        &self,
        projected: Tensor<3>,
        state: Vec<Tensor<2>>,
        reverse: bool,
    ) -> Result<(Tensor<3>, Vec<Tensor<2>>)> {
        self.composed_sequence(projected, state, reverse)
    }

    /// [`Recurrent::sequence`] as one [`Recurrent::step`] per time step (any backend).
    fn composed_sequence(
        &self,
        projected: Tensor<3>,
        mut state: Vec<Tensor<2>>,
        reverse: bool,
    ) -> Result<(Tensor<3>, Vec<Tensor<2>>)> {
        let [batch, steps, width] = projected.dims();
        let mut hs = Vec::with_capacity(steps);
        for k in 0..steps {
            let t = if reverse { steps - 1 - k } else { k };
            let gx = projected.clone().narrow(1, t, 1).reshape([batch, width]);
            state = self.step(gx, state)?;
            hs.push(state[0].clone());
        }
        if reverse {
            hs.reverse();
        }
        Ok((Tensor::stack::<3>(hs, 1), state))
    }

    fn input_size(&self) -> usize {
        self.weight_ih().dims()[1]
    }

    fn hidden_size(&self) -> usize {
        self.weight_hh().dims()[1]
    }

    /// Validates a single-step input and state, filling a missing state with zeros.
    fn check_step(&self, x: &Tensor<2>, state: Option<Vec<Tensor<2>>>) -> Result<Vec<Tensor<2>>> {
        let [batch, _] = x.dims();
        check::input(
            Self::LAYER,
            "x",
            &x.dims(),
            &[None, Some(self.input_size())],
        )?;
        let hidden = self.hidden_size();
        match state {
            None => Ok((0..Self::STATES)
                .map(|_| Tensor::zeros([batch, hidden], (&x.device(), x.dtype())))
                .collect()),
            Some(state) => {
                for (tensor, name) in state.iter().zip(["h", "c"]) {
                    check::input(
                        Self::LAYER,
                        name,
                        &tensor.dims(),
                        &[Some(batch), Some(hidden)],
                    )?;
                }
                Ok(state)
            }
        }
    }
}

macro_rules! cell {
    ($(#[$doc:meta])* $cell:ident, $config:ident, $name:literal, gates = $gates:literal) => {
        #[doc = concat!("Configuration of [`", stringify!($cell), "`].")]
        #[derive(Config, Debug, PartialEq)]
        pub struct $config {
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
        }

        $(#[$doc])*
        #[derive(Module, Debug)]
        pub struct $cell {
            /// `[G·H, input_size]`, gate blocks stacked in PyTorch's order.
            pub weight_ih: Param<Tensor<2>>,
            /// `[G·H, hidden_size]`.
            pub weight_hh: Param<Tensor<2>>,
            /// `[G·H]`.
            pub bias_ih: Option<Param<Tensor<1>>>,
            /// `[G·H]`.
            pub bias_hh: Option<Param<Tensor<1>>>,
            #[module(skip)]
            activation: RnnActivation,
        }

        impl $cell {
            /// Builds the cell from existing tensors (PyTorch's `weight_ih`, `weight_hh`,
            /// `bias_ih`, `bias_hh`, as they are).
            ///
            /// # Errors
            /// [`Error::ParameterShape`] for inconsistent shapes; [`Error::MissingParameter`]
            /// when only one of the biases is given.
            pub fn from_tensors(tensors: CellTensors) -> Result<Self> {
                let params = CellParams::from_tensors($name, $gates, tensors, "")?;
                Ok(<Self as Recurrent>::build(params, RnnActivation::Tanh))
            }
        }

        impl $config {
            /// Validates the configuration and initializes the cell in f32.
            ///
            /// # Errors
            /// [`Error::InvalidConfig`] for a zero size or an invalid initializer.
            pub fn init(&self, device: &Device) -> Result<$cell> {
                self.init_with_dtype(device, DType::F32)
            }

            #[doc = concat!("As [`", stringify!($config), "::init`], with parameters of `dtype`.")]
            ///
            /// # Errors
            /// As `init`.
            pub fn init_with_dtype(&self, device: &Device, dtype: DType) -> Result<$cell> {
                let params = CellParams::init(
                    $name, $gates, self.input_size, self.hidden_size, self.bias,
                    self.init.as_ref(), layer_seed(self.seed), device, dtype,
                )?;
                Ok(<$cell as Recurrent>::build(params, RnnActivation::Tanh))
            }
        }

        impl $cell {
            fn assemble(params: CellParams, activation: RnnActivation) -> Self {
                Self {
                    weight_ih: params.weight_ih,
                    weight_hh: params.weight_hh,
                    bias_ih: params.bias_ih,
                    bias_hh: params.bias_hh,
                    activation,
                }
            }
        }
    };
}

macro_rules! recurrent_accessors {
    () => {
        fn weight_ih(&self) -> &Param<Tensor<2>> {
            &self.weight_ih
        }
        fn weight_hh(&self) -> &Param<Tensor<2>> {
            &self.weight_hh
        }
        fn bias_ih(&self) -> Option<&Param<Tensor<1>>> {
            self.bias_ih.as_ref()
        }
        fn bias_hh(&self) -> Option<&Param<Tensor<1>>> {
            self.bias_hh.as_ref()
        }
        fn build(params: CellParams, activation: RnnActivation) -> Self {
            Self::assemble(params, activation)
        }
    };
}

cell!(
    /// Elman cell, as `torch.nn.RNNCell`: `h' = act(x Wᵢₕᵀ + bᵢₕ + h Wₕₕᵀ + bₕₕ)`.
    RnnCell, RnnCellConfig, "RnnCell", gates = 1
);
cell!(
    /// LSTM cell, as `torch.nn.LSTMCell`; gate blocks `i, f, g, o`:
    /// `i = σ(·)`, `f = σ(·)`, `g = tanh(·)`, `o = σ(·)` of `x Wᵢₕᵀ + bᵢₕ + h Wₕₕᵀ + bₕₕ`;
    /// `c' = f ⊙ c + i ⊙ g`, `h' = o ⊙ tanh(c')`.
    LstmCell, LstmCellConfig, "LstmCell", gates = 4
);
cell!(
    /// GRU cell, as `torch.nn.GRUCell`; gate blocks `r, z, n`:
    /// `r = σ(Wᵢᵣx + bᵢᵣ + Wₕᵣh + bₕᵣ)`, `z = σ(Wᵢzx + bᵢz + Wₕzh + bₕz)`,
    /// `n = tanh(Wᵢₙx + bᵢₙ + r ⊙ (Wₕₙh + bₕₙ))` (the hidden bias inside the reset product),
    /// `h' = (1 - z) ⊙ n + z ⊙ h`.
    GruCell, GruCellConfig, "GruCell", gates = 3
);

impl RnnCell {
    /// The nonlinearity.
    pub fn activation(&self) -> RnnActivation {
        self.activation
    }

    /// Sets the nonlinearity (tanh by default).
    pub fn with_activation(mut self, activation: RnnActivation) -> Self {
        self.activation = activation;
        self
    }

    /// One step: `x` `[B, input_size]`, `h` `[B, hidden_size]` (zeros if `None`) → `h'`.
    ///
    /// # Errors
    /// [`Error::InputShape`] for mis-shaped inputs.
    pub fn forward(&self, x: Tensor<2>, h: Option<Tensor<2>>) -> Result<Tensor<2>> {
        let state = self.check_step(&x, h.map(|h| vec![h]))?;
        let gx = self.project(x)?;
        Ok(self.step(gx, state)?.remove(0))
    }
}

impl Recurrent for RnnCell {
    const LAYER: &'static str = "RnnCell";
    const GATES: usize = 1;
    const STATES: usize = 1;
    recurrent_accessors!();

    fn step(&self, gx: Tensor<2>, mut state: Vec<Tensor<2>>) -> Result<Vec<Tensor<2>>> {
        let pre = gx + self.project_hidden(state.remove(0))?;
        Ok(vec![match self.activation {
            RnnActivation::Tanh => tanh(pre),
            RnnActivation::Relu => cortex_ops::relu(pre),
        }])
    }
}

/// The state of an LSTM cell: hidden `h` and cell `c`, each `[B, hidden_size]`.
#[derive(Debug, Clone)]
pub struct LstmState {
    /// Hidden state.
    pub h: Tensor<2>,
    /// Cell state.
    pub c: Tensor<2>,
}

impl LstmCell {
    /// One step: `x` `[B, input_size]` and the state (zeros if `None`) → the next state.
    ///
    /// # Errors
    /// [`Error::InputShape`] for mis-shaped inputs.
    pub fn forward(&self, x: Tensor<2>, state: Option<LstmState>) -> Result<LstmState> {
        let state = self.check_step(&x, state.map(|s| vec![s.h, s.c]))?;
        let gx = self.project(x)?;
        let mut next = self.step(gx, state)?;
        let c = next.remove(1);
        Ok(LstmState {
            h: next.remove(0),
            c,
        })
    }
}

impl Recurrent for LstmCell {
    const LAYER: &'static str = "LstmCell";
    const GATES: usize = 4;
    const STATES: usize = 2;
    recurrent_accessors!();

    /// On flex and ndarray: one fused op for the whole sequence (see
    /// [`cortex_autodiff::fused_lstm`]).
    fn sequence(
        &self,
        projected: Tensor<3>,
        mut state: Vec<Tensor<2>>,
        reverse: bool,
    ) -> Result<(Tensor<3>, Vec<Tensor<2>>)> {
        if !fused_recurrence_supported(&projected.device()) || state.len() != 2 {
            return self.composed_sequence(projected, state, reverse);
        }
        let bias = self.bias_hh.as_ref().map(Param::val);
        let c0 = state.remove(1);
        let h0 = state.remove(0);
        let seq = fused_lstm(projected, self.weight_hh.val(), bias, h0, c0, reverse)
            .map_err(Error::op(Self::LAYER))?;
        Ok((seq.output, vec![seq.h, seq.c]))
    }

    fn step(&self, gx: Tensor<2>, mut state: Vec<Tensor<2>>) -> Result<Vec<Tensor<2>>> {
        let c = state.remove(1);
        let gates = gx + self.project_hidden(state.remove(0))?;
        let hidden = self.hidden_size();
        let (i, f) = (
            sigmoid(block(&gates, 0, hidden)),
            sigmoid(block(&gates, 1, hidden)),
        );
        let (g, o) = (
            tanh(block(&gates, 2, hidden)),
            sigmoid(block(&gates, 3, hidden)),
        );
        let c = f * c + i * g;
        let h = o * tanh(c.clone());
        Ok(vec![h, c])
    }
}

impl GruCell {
    /// One step: `x` `[B, input_size]`, `h` `[B, hidden_size]` (zeros if `None`) → `h'`.
    ///
    /// # Errors
    /// [`Error::InputShape`] for mis-shaped inputs.
    pub fn forward(&self, x: Tensor<2>, h: Option<Tensor<2>>) -> Result<Tensor<2>> {
        let state = self.check_step(&x, h.map(|h| vec![h]))?;
        let gx = self.project(x)?;
        Ok(self.step(gx, state)?.remove(0))
    }
}

impl Recurrent for GruCell {
    const LAYER: &'static str = "GruCell";
    const GATES: usize = 3;
    const STATES: usize = 1;
    recurrent_accessors!();

    /// On flex and ndarray: one fused op for the whole sequence (see
    /// [`cortex_autodiff::fused_gru`]).
    fn sequence(
        &self,
        projected: Tensor<3>,
        mut state: Vec<Tensor<2>>,
        reverse: bool,
    ) -> Result<(Tensor<3>, Vec<Tensor<2>>)> {
        if !fused_recurrence_supported(&projected.device()) || state.len() != 1 {
            return self.composed_sequence(projected, state, reverse);
        }
        let bias = self.bias_hh.as_ref().map(Param::val);
        let seq = fused_gru(
            projected,
            self.weight_hh.val(),
            bias,
            state.remove(0),
            reverse,
        )
        .map_err(Error::op(Self::LAYER))?;
        Ok((seq.output, vec![seq.h]))
    }

    fn step(&self, gx: Tensor<2>, mut state: Vec<Tensor<2>>) -> Result<Vec<Tensor<2>>> {
        let h = state.remove(0);
        let gh = self.project_hidden(h.clone())?;
        let hidden = self.hidden_size();
        let r = sigmoid(block(&gx, 0, hidden) + block(&gh, 0, hidden));
        let z = sigmoid(block(&gx, 1, hidden) + block(&gh, 1, hidden));
        let n = tanh(block(&gx, 2, hidden) + r * block(&gh, 2, hidden));
        // (1 - z) ⊙ n + z ⊙ h, written with one product fewer.
        Ok(vec![n.clone() + z * (h - n)])
    }
}
