//! The states recurrent cells carry from one step to the next: the hidden state `h` alone
//! (RNN, GRU) or [`LstmState`] `{ h, c }`, one `[B, H]` tensor each for a cell and one
//! `[L·D, B, H]` tensor each for a stack of `L` layers in `D` directions.

use burn::tensor::{DType, Device, Tensor};

use crate::check;
use crate::error::Result;

/// The state of an LSTM: hidden `h` and cell `c`, each `[B, hidden_size]` for a cell
/// (`D = 2`) or `[layers · directions, B, hidden_size]` for a stack (`D = 3`, PyTorch's
/// `(h_n, c_n)`).
#[derive(Debug, Clone)]
pub struct LstmState<const D: usize = 2> {
    /// Hidden state.
    pub h: Tensor<D>,
    /// Cell state.
    pub c: Tensor<D>,
}

/// What a recurrent cell carries between steps.
pub trait CellState: Clone + Sized + Send + 'static {
    /// The same state for every cell of a stack, each tensor `[L·D, B, H]` (cell `l·D + d`
    /// at index `l·D + d`).
    type Stacked: Clone;

    /// Zeros of `[batch, hidden]` (PyTorch's default initial state).
    fn zeros(batch: usize, hidden: usize, device: &Device, dtype: DType) -> Self;

    /// The hidden state `h`, the cell's output at this step.
    fn hidden(&self) -> Tensor<2>;

    /// Checks every tensor is `[batch, hidden]`.
    ///
    /// # Errors
    /// [`crate::Error::InputShape`] naming the tensor (`h`, `c`) and the shape required.
    fn check(&self, layer: &'static str, batch: usize, hidden: usize) -> Result<()>;

    /// Checks every tensor of a stacked state is `[slots, batch, hidden]`.
    ///
    /// # Errors
    /// [`crate::Error::InputShape`] naming the tensor (`h0`, `c0`) and the shape required.
    fn check_stacked(
        stacked: &Self::Stacked,
        layer: &'static str,
        slots: usize,
        batch: usize,
        hidden: usize,
    ) -> Result<()>;

    /// The state of cell `slot` in a stacked state.
    fn slot(stacked: &Self::Stacked, slot: usize) -> Self;

    /// Stacks the states of every cell, in slot order.
    fn stack(states: Vec<Self>) -> Self::Stacked;
}

/// Row `slot` of `[S, B, H]` as `[B, H]`.
fn row(stacked: &Tensor<3>, slot: usize) -> Tensor<2> {
    let [_, batch, hidden] = stacked.dims();
    stacked.clone().narrow(0, slot, 1).reshape([batch, hidden])
}

/// The hidden state alone (RNN and GRU cells).
impl CellState for Tensor<2> {
    type Stacked = Tensor<3>;

    fn zeros(batch: usize, hidden: usize, device: &Device, dtype: DType) -> Self {
        Tensor::zeros([batch, hidden], (device, dtype))
    }

    fn hidden(&self) -> Tensor<2> {
        self.clone()
    }

    fn check(&self, layer: &'static str, batch: usize, hidden: usize) -> Result<()> {
        check::input(layer, "h", &self.dims(), &[Some(batch), Some(hidden)])
    }

    fn check_stacked(
        stacked: &Tensor<3>,
        layer: &'static str,
        slots: usize,
        batch: usize,
        hidden: usize,
    ) -> Result<()> {
        let expected = [Some(slots), Some(batch), Some(hidden)];
        check::input(layer, "h0", &stacked.dims(), &expected)
    }

    fn slot(stacked: &Tensor<3>, slot: usize) -> Self {
        row(stacked, slot)
    }

    fn stack(states: Vec<Self>) -> Tensor<3> {
        Tensor::stack(states, 0)
    }
}

impl CellState for LstmState {
    type Stacked = LstmState<3>;

    fn zeros(batch: usize, hidden: usize, device: &Device, dtype: DType) -> Self {
        let zeros = Tensor::<2>::zeros([batch, hidden], (device, dtype));
        LstmState {
            h: zeros.clone(),
            c: zeros,
        }
    }

    fn hidden(&self) -> Tensor<2> {
        self.h.clone()
    }

    fn check(&self, layer: &'static str, batch: usize, hidden: usize) -> Result<()> {
        let expected = [Some(batch), Some(hidden)];
        check::input(layer, "h", &self.h.dims(), &expected)?;
        check::input(layer, "c", &self.c.dims(), &expected)
    }

    fn check_stacked(
        stacked: &LstmState<3>,
        layer: &'static str,
        slots: usize,
        batch: usize,
        hidden: usize,
    ) -> Result<()> {
        let expected = [Some(slots), Some(batch), Some(hidden)];
        check::input(layer, "h0", &stacked.h.dims(), &expected)?;
        check::input(layer, "c0", &stacked.c.dims(), &expected)
    }

    fn slot(stacked: &LstmState<3>, slot: usize) -> Self {
        LstmState {
            h: row(&stacked.h, slot),
            c: row(&stacked.c, slot),
        }
    }

    fn stack(states: Vec<Self>) -> LstmState<3> {
        let (h, c): (Vec<_>, Vec<_>) = states.into_iter().map(|s| (s.h, s.c)).unzip();
        LstmState {
            h: Tensor::stack(h, 0),
            c: Tensor::stack(c, 0),
        }
    }
}
