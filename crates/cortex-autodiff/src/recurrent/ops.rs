//! The fused recurrences as a burn backend extension: the CPU backends run the kernels of
//! [`super::kernel`] on the tensors' data; burn-autodiff records one node per sequence whose
//! backward is the hand-written backward through time.

use std::sync::Arc;

use burn::backend::autodiff::Autodiff;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, Flex, NdArray, TensorMetadata, backend_extension};
use burn::tensor::DType;

use cortex_kernels::gru::{self, GruForward};
use cortex_kernels::lstm::{self, LstmForward, LstmInput};
use cortex_kernels::{Buffer, Dims, Real};

use crate::kernels::{from_data, host_values, tensor};

/// Fused LSTM and GRU sequences, implemented for the CPU backends and for burn-autodiff.
#[backend_extension(Flex, NdArray, Autodiff)]
pub trait FusedRecurrentOps: Backend {
    /// LSTM over `xw [B, T, 4H]` (input projection plus `b_ih`), `w_hh [4H, H]`, `b_hh [4H]`,
    /// `h0`, `c0 [B, H]`; returns `[B, T+1, H]`: the hidden state of every step, then the final
    /// cell state.
    fn lstm_sequence(
        xw: FloatTensor<Self>,
        w_hh: FloatTensor<Self>,
        b_hh: FloatTensor<Self>,
        h0: FloatTensor<Self>,
        c0: FloatTensor<Self>,
        reverse: bool,
    ) -> FloatTensor<Self>;

    /// A whole LSTM layer: [`FusedRecurrentOps::lstm_sequence`] with the input projection
    /// inside, over `x [B, T, I]`, `w_ih [4H, I]`, `b_ih [4H]` (each step's product is
    /// `[x_t | h_{t-1}] · [W_ih | W_hh]ᵀ`); returns `[B, T+1, H]` as it does.
    #[allow(clippy::too_many_arguments)]
    fn lstm_layer(
        x: FloatTensor<Self>,
        w_ih: FloatTensor<Self>,
        b_ih: FloatTensor<Self>,
        w_hh: FloatTensor<Self>,
        b_hh: FloatTensor<Self>,
        h0: FloatTensor<Self>,
        c0: FloatTensor<Self>,
        reverse: bool,
    ) -> FloatTensor<Self>;

    /// GRU over `xw [B, T, 3H]` (input projection plus `b_ih`), `w_hh [3H, H]`, `b_hh [3H]`,
    /// `h0 [B, H]`; returns the hidden state of every step, `[B, T, H]`.
    fn gru_sequence(
        xw: FloatTensor<Self>,
        w_hh: FloatTensor<Self>,
        b_hh: FloatTensor<Self>,
        h0: FloatTensor<Self>,
        reverse: bool,
    ) -> FloatTensor<Self>;
}

/// What the backward pass of one sequence needs, in the precision the kernel ran in.
#[derive(Debug, Clone)]
pub(crate) struct Saved<T, F> {
    dims: Dims,
    /// The forward's tape (its `out` moved into the output tensor).
    tape: F,
    /// The LSTM layer's input weights (empty for a projected input and for the GRU).
    w_ih: Buffer<T>,
    w_hh: Buffer<T>,
    /// The LSTM's initial cell state (empty for the GRU).
    c0: Buffer<T>,
}

/// [`Saved`] in either kernel precision, with the dtype and device the gradients go back to.
#[derive(Debug, Clone)]
pub(crate) struct Tape<D> {
    device: D,
    dtype: DType,
    saved: Precision,
}

type SavedLstm<T> = Saved<T, LstmForward<T>>;
type SavedGru<T> = Saved<T, GruForward<T>>;

#[derive(Debug, Clone)]
enum Precision {
    LstmF32(Arc<SavedLstm<f32>>),
    LstmF64(Arc<SavedLstm<f64>>),
    GruF32(Arc<SavedGru<f32>>),
    GruF64(Arc<SavedGru<f64>>),
}

/// Ownership of a saved tape: moved out when the graph holds the only reference (the
/// backward then reuses its buffers in place), cloned otherwise.
fn own<S: Clone>(saved: Arc<S>) -> S {
    Arc::try_unwrap(saved).unwrap_or_else(|shared| (*shared).clone())
}

/// A kernel precision: f64 runs in f64, every other float dtype in f32.
trait Kernel: Real {
    fn lstm(saved: SavedLstm<Self>) -> Precision;
    fn gru(saved: SavedGru<Self>) -> Precision;
}

impl Kernel for f32 {
    fn lstm(saved: SavedLstm<Self>) -> Precision {
        Precision::LstmF32(Arc::new(saved))
    }
    fn gru(saved: SavedGru<Self>) -> Precision {
        Precision::GruF32(Arc::new(saved))
    }
}

impl Kernel for f64 {
    fn lstm(saved: SavedLstm<Self>) -> Precision {
        Precision::LstmF64(Arc::new(saved))
    }
    fn gru(saved: SavedGru<Self>) -> Precision {
        Precision::GruF64(Arc::new(saved))
    }
}

/// The sizes of a recurrence over `x [B, T, ·]` with `w_hh [·, H]`.
fn dims<B: Backend>(x: &FloatTensor<B>, w_hh: &FloatTensor<B>, reverse: bool) -> Dims {
    let shape = x.shape();
    Dims {
        batch: shape[0],
        steps: shape[1],
        hidden: w_hh.shape()[1],
        reverse,
    }
}

/// Runs the LSTM kernel over a projected input; returns its output and the tape of its
/// backward (filled with `save`).
fn lstm_run<B: Backend, T: Kernel>(
    [xw, w_hh, b_hh, h0, c0]: [FloatTensor<B>; 5],
    reverse: bool,
    save: bool,
) -> (FloatTensor<B>, Tape<B::Device>) {
    let (dims, dtype, device) = (dims::<B>(&xw, &w_hh, reverse), xw.dtype(), xw.device());
    let [xw, w_hh, b_hh, h0, c0] = [xw, w_hh, b_hh, h0, c0].map(host_values::<B, T>);
    let (w, b, h, c) = (
        w_hh.as_slice(),
        b_hh.as_slice(),
        h0.as_slice(),
        c0.as_slice(),
    );
    let run = lstm::lstm_forward(dims, LstmInput::Projected(xw), w, b, h, c, save);
    lstm_outputs::<B, T>((dims, dtype, device), run, [Buffer::empty(), w_hh, c0])
}

/// Runs the LSTM kernel over a raw input (the projection inside); returns its output and the
/// tape of its backward (filled with `save`).
fn lstm_layer_run<B: Backend, T: Kernel>(
    [x, w_ih, b_ih, w_hh, b_hh, h0, c0]: [FloatTensor<B>; 7],
    reverse: bool,
    save: bool,
) -> (FloatTensor<B>, Tape<B::Device>) {
    let (dims, dtype, device) = (dims::<B>(&x, &w_hh, reverse), x.dtype(), x.device());
    let inputs = x.shape()[2];
    let [x, w_ih, b_ih, w_hh, b_hh, h0, c0] =
        [x, w_ih, b_ih, w_hh, b_hh, h0, c0].map(host_values::<B, T>);
    let bias: Vec<T> = b_ih
        .as_slice()
        .iter()
        .zip(b_hh.as_slice())
        .map(|(&a, &b)| a + b)
        .collect();
    let input = LstmInput::Raw {
        x: x.as_slice(),
        w_ih: w_ih.as_slice(),
        inputs,
    };
    let (w, h, c) = (w_hh.as_slice(), h0.as_slice(), c0.as_slice());
    let run = lstm::lstm_forward(dims, input, w, &bias, h, c, save);
    lstm_outputs::<B, T>((dims, dtype, device), run, [w_ih, w_hh, c0])
}

/// The output tensor of an LSTM run and its tape.
fn lstm_outputs<B: Backend, T: Kernel>(
    (dims, dtype, device): (Dims, DType, B::Device),
    mut run: LstmForward<T>,
    [w_ih, w_hh, c0]: [Buffer<T>; 3],
) -> (FloatTensor<B>, Tape<B::Device>) {
    let shape = [dims.batch, dims.steps + 1, dims.hidden];
    let out = tensor::<B, T>(std::mem::take(&mut run.out), shape, dtype, &device);
    let tape = Tape {
        device,
        dtype,
        saved: T::lstm(Saved {
            dims,
            tape: run,
            w_ih,
            w_hh,
            c0,
        }),
    };
    (out, tape)
}

/// Runs the GRU kernel; returns its output and the tape of its backward (filled with `save`).
fn gru_run<B: Backend, T: Kernel>(
    [xw, w_hh, b_hh, h0]: [FloatTensor<B>; 4],
    reverse: bool,
    save: bool,
) -> (FloatTensor<B>, Tape<B::Device>) {
    let (dims, dtype, device) = (dims::<B>(&xw, &w_hh, reverse), xw.dtype(), xw.device());
    let [xw, w_hh, b_hh, h0] = [xw, w_hh, b_hh, h0].map(host_values::<B, T>);
    let (w, b, h) = (w_hh.as_slice(), b_hh.as_slice(), h0.as_slice());
    let mut run = gru::gru_forward(dims, xw, w, b, h, save);
    let shape = [dims.batch, dims.steps, dims.hidden];
    let out = tensor::<B, T>(std::mem::take(&mut run.out), shape, dtype, &device);
    let tape = Tape {
        device,
        dtype,
        saved: T::gru(Saved {
            dims,
            tape: run,
            w_ih: Buffer::empty(),
            w_hh,
            c0: Buffer::empty(),
        }),
    };
    (out, tape)
}

fn lstm<B: Backend>(
    inputs: [FloatTensor<B>; 5],
    reverse: bool,
    save: bool,
) -> (FloatTensor<B>, Tape<B::Device>) {
    match inputs[0].dtype() {
        DType::F64 => lstm_run::<B, f64>(inputs, reverse, save),
        _ => lstm_run::<B, f32>(inputs, reverse, save),
    }
}

fn lstm_layer<B: Backend>(
    inputs: [FloatTensor<B>; 7],
    reverse: bool,
    save: bool,
) -> (FloatTensor<B>, Tape<B::Device>) {
    match inputs[0].dtype() {
        DType::F64 => lstm_layer_run::<B, f64>(inputs, reverse, save),
        _ => lstm_layer_run::<B, f32>(inputs, reverse, save),
    }
}

fn gru<B: Backend>(
    inputs: [FloatTensor<B>; 4],
    reverse: bool,
    save: bool,
) -> (FloatTensor<B>, Tape<B::Device>) {
    match inputs[0].dtype() {
        DType::F64 => gru_run::<B, f64>(inputs, reverse, save),
        _ => gru_run::<B, f32>(inputs, reverse, save),
    }
}

/// The LSTM's input gradients from the gradient of its output, in the order of its inputs:
/// `[∂xw, ∂W_hh, ∂b_hh, ∂h0, ∂c0]` over a projected input, `[∂x, ∂W_ih, ∂b_ih, ∂W_hh, ∂b_hh,
/// ∂h0, ∂c0]` for a layer (`∂x` only with `input_grad`).
fn lstm_grads<B: Backend, T: Kernel>(
    (device, dtype): (&B::Device, DType),
    saved: SavedLstm<T>,
    grad: FloatTensor<B>,
    input_grad: bool,
) -> Vec<Option<FloatTensor<B>>> {
    let (d, inputs) = (saved.dims, saved.tape.inputs);
    let grad = host_values::<B, T>(grad);
    let weights = [saved.w_ih.as_slice(), saved.w_hh.as_slice()];
    let c0 = saved.c0.as_slice();
    let grads = lstm::lstm_backward(d, grad.as_slice(), saved.tape, weights, c0, input_grad);
    let (g4, h) = (4 * d.hidden, d.hidden);
    let to = |values: Vec<T>, shape: Vec<usize>| Some(tensor::<B, T>(values, shape, dtype, device));
    let d_input = grads
        .d_input
        .map(|buffer| from_data::<B>(buffer.into_data(), dtype, device));
    let recurrent = [
        to(grads.d_w_hh, vec![g4, h]),
        to(grads.d_b.clone(), vec![g4]),
        to(grads.d_h0, vec![d.batch, h]),
        to(grads.d_c0, vec![d.batch, h]),
    ];
    let input = if inputs > 0 {
        vec![
            d_input,
            to(grads.d_w_ih, vec![g4, inputs]),
            to(grads.d_b, vec![g4]),
        ]
    } else {
        vec![d_input]
    };
    input.into_iter().chain(recurrent).collect()
}

/// `d_xw` (already shaped) followed by the other gradients with their shapes, as tensors.
fn gradient_tensors<B: Backend, T: Real>(
    (device, dtype): (&B::Device, DType),
    d_xw: Buffer<T>,
    rest: impl Iterator<Item = (Vec<T>, Vec<usize>)>,
) -> Vec<Option<FloatTensor<B>>> {
    let d_xw = from_data::<B>(d_xw.into_data(), dtype, device);
    let rest = rest.map(|(values, shape)| tensor::<B, T>(values, shape, dtype, device));
    std::iter::once(d_xw).chain(rest).map(Some).collect()
}

/// The GRU's input gradients `[d_xw, d_w_hh, d_b_hh, d_h0]` from the gradient of its output.
fn gru_grads<B: Backend, T: Kernel>(
    (device, dtype): (&B::Device, DType),
    saved: SavedGru<T>,
    grad: FloatTensor<B>,
) -> Vec<Option<FloatTensor<B>>> {
    let d = saved.dims;
    let grad = host_values::<B, T>(grad);
    let (d_xw, grads) = gru::gru_backward(d, grad.as_slice(), saved.tape, saved.w_hh.as_slice());
    let shapes = [
        vec![3 * d.hidden, d.hidden],
        vec![3 * d.hidden],
        vec![d.batch, d.hidden],
    ];
    gradient_tensors::<B, T>((device, dtype), d_xw, grads.into_iter().zip(shapes))
}

macro_rules! plain_backend {
    ($backend:ty) => {
        impl FusedRecurrentOps for $backend {
            fn lstm_sequence(
                xw: FloatTensor<Self>,
                w_hh: FloatTensor<Self>,
                b_hh: FloatTensor<Self>,
                h0: FloatTensor<Self>,
                c0: FloatTensor<Self>,
                reverse: bool,
            ) -> FloatTensor<Self> {
                lstm::<Self>([xw, w_hh, b_hh, h0, c0], reverse, false).0
            }

            fn lstm_layer(
                x: FloatTensor<Self>,
                w_ih: FloatTensor<Self>,
                b_ih: FloatTensor<Self>,
                w_hh: FloatTensor<Self>,
                b_hh: FloatTensor<Self>,
                h0: FloatTensor<Self>,
                c0: FloatTensor<Self>,
                reverse: bool,
            ) -> FloatTensor<Self> {
                let inputs = [x, w_ih, b_ih, w_hh, b_hh, h0, c0];
                lstm_layer::<Self>(inputs, reverse, false).0
            }

            fn gru_sequence(
                xw: FloatTensor<Self>,
                w_hh: FloatTensor<Self>,
                b_hh: FloatTensor<Self>,
                h0: FloatTensor<Self>,
                reverse: bool,
            ) -> FloatTensor<Self> {
                gru::<Self>([xw, w_hh, b_hh, h0], reverse, false).0
            }
        }
    };
}
plain_backend!(Flex);
plain_backend!(NdArray);

/// Registers each gradient with its parent, when that parent needs one.
fn register<B: Backend, const N: usize>(
    parents: [Option<burn::backend::autodiff::NodeId>; N],
    grads: &mut Gradients,
    values: Vec<Option<FloatTensor<B>>>,
) {
    for (parent, value) in parents.into_iter().zip(values) {
        if let (Some(id), Some(value)) = (parent, value) {
            grads.register::<B>(id, value);
        }
    }
}

/// The backward step of one fused sequence: gradients from its tape.
#[derive(Debug)]
struct SequenceBackward<const N: usize>;

impl<B: Backend, const N: usize> Backward<B, N> for SequenceBackward<N> {
    type State = Tape<B::Device>;

    fn backward(self, ops: Ops<Self::State, N>, grads: &mut Gradients, _: &mut Checkpointer) {
        let grad = grads.consume::<B>(&ops.node);
        let Tape {
            device,
            dtype,
            saved,
        } = ops.state;
        let to = (&device, dtype);
        // The first input (x, or the projected input) may not need its gradient: a layer's
        // `∂x` is a GEMM of its own, skipped then.
        let input_grad = ops.parents[0].is_some();
        let values = match saved {
            Precision::LstmF32(s) => lstm_grads::<B, f32>(to, own(s), grad, input_grad),
            Precision::LstmF64(s) => lstm_grads::<B, f64>(to, own(s), grad, input_grad),
            Precision::GruF32(s) => gru_grads::<B, f32>(to, own(s), grad),
            Precision::GruF64(s) => gru_grads::<B, f64>(to, own(s), grad),
        };
        register::<B, N>(ops.parents.map(|p| p.map(|node| node.id)), grads, values);
    }
}

/// Runs a fused sequence on the inner backend and records it as one autodiff node; `run`
/// saves its tape (`true`) only when some input needs a gradient.
fn record<B: Backend, C: CheckpointStrategy, const N: usize>(
    inputs: [FloatTensor<Autodiff<B, C>>; N],
    run: impl FnOnce([FloatTensor<B>; N], bool) -> (FloatTensor<B>, Tape<B::Device>),
) -> FloatTensor<Autodiff<B, C>> {
    let guards = inputs.each_ref().map(|t| t.node());
    let inputs = inputs.map(|t| t.into_primitive());
    match SequenceBackward::<N>
        .prepare::<C>(guards)
        .compute_bound()
        .stateful()
    {
        OpsKind::Tracked(prep) => {
            let (out, tape) = run(inputs, true);
            prep.finish(tape, out)
        }
        OpsKind::UnTracked(prep) => prep.finish(run(inputs, false).0),
    }
}

impl<B: Backend + FusedRecurrentOps, C: CheckpointStrategy> FusedRecurrentOps for Autodiff<B, C> {
    fn lstm_sequence(
        xw: FloatTensor<Self>,
        w_hh: FloatTensor<Self>,
        b_hh: FloatTensor<Self>,
        h0: FloatTensor<Self>,
        c0: FloatTensor<Self>,
        reverse: bool,
    ) -> FloatTensor<Self> {
        record::<B, C, 5>([xw, w_hh, b_hh, h0, c0], |inputs, save| {
            lstm::<B>(inputs, reverse, save)
        })
    }

    fn lstm_layer(
        x: FloatTensor<Self>,
        w_ih: FloatTensor<Self>,
        b_ih: FloatTensor<Self>,
        w_hh: FloatTensor<Self>,
        b_hh: FloatTensor<Self>,
        h0: FloatTensor<Self>,
        c0: FloatTensor<Self>,
        reverse: bool,
    ) -> FloatTensor<Self> {
        record::<B, C, 7>([x, w_ih, b_ih, w_hh, b_hh, h0, c0], |inputs, save| {
            lstm_layer::<B>(inputs, reverse, save)
        })
    }

    fn gru_sequence(
        xw: FloatTensor<Self>,
        w_hh: FloatTensor<Self>,
        b_hh: FloatTensor<Self>,
        h0: FloatTensor<Self>,
        reverse: bool,
    ) -> FloatTensor<Self> {
        record::<B, C, 4>([xw, w_hh, b_hh, h0], |inputs, save| {
            gru::<B>(inputs, reverse, save)
        })
    }
}
