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
use cortex_kernels::lstm::{self, LstmForward};
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

/// The sizes of a recurrence over `xw [B, T, gates·H]`.
fn dims<B: Backend>(xw: &FloatTensor<B>, gates: usize, reverse: bool) -> Dims {
    let shape = xw.shape();
    Dims {
        batch: shape[0],
        steps: shape[1],
        hidden: shape[2] / gates,
        reverse,
    }
}

/// Runs the LSTM kernel; returns its output and the tape of its backward (filled with `save`).
fn lstm_run<B: Backend, T: Kernel>(
    [xw, w_hh, b_hh, h0, c0]: [FloatTensor<B>; 5],
    reverse: bool,
    save: bool,
) -> (FloatTensor<B>, Tape<B::Device>) {
    let (dims, dtype, device) = (dims::<B>(&xw, 4, reverse), xw.dtype(), xw.device());
    let [xw, w_hh, b_hh, h0, c0] = [xw, w_hh, b_hh, h0, c0].map(host_values::<B, T>);
    let (w, b, h, c) = (
        w_hh.as_slice(),
        b_hh.as_slice(),
        h0.as_slice(),
        c0.as_slice(),
    );
    let mut run = lstm::lstm_forward(dims, xw, w, b, h, c, save);
    let shape = [dims.batch, dims.steps + 1, dims.hidden];
    let out = tensor::<B, T>(std::mem::take(&mut run.out), shape, dtype, &device);
    let tape = Tape {
        device,
        dtype,
        saved: T::lstm(Saved {
            dims,
            tape: run,
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
    let (dims, dtype, device) = (dims::<B>(&xw, 3, reverse), xw.dtype(), xw.device());
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

/// The LSTM's input gradients `[d_xw, d_w_hh, d_b_hh, d_h0, d_c0]` from the gradient of its
/// output.
fn lstm_grads<B: Backend, T: Kernel>(
    (device, dtype): (&B::Device, DType),
    saved: SavedLstm<T>,
    grad: FloatTensor<B>,
) -> Vec<FloatTensor<B>> {
    let d = saved.dims;
    let grad = host_values::<B, T>(grad);
    let (w_hh, c0) = (saved.w_hh.as_slice(), saved.c0.as_slice());
    let (d_xw, grads) = lstm::lstm_backward(d, grad.as_slice(), saved.tape, w_hh, c0);
    let shapes = [
        vec![4 * d.hidden, d.hidden],
        vec![4 * d.hidden],
        vec![d.batch, d.hidden],
        vec![d.batch, d.hidden],
    ];
    gradient_tensors::<B, T>((device, dtype), d_xw, grads.into_iter().zip(shapes))
}

/// `d_xw` (already shaped) followed by the other gradients with their shapes, as tensors.
fn gradient_tensors<B: Backend, T: Real>(
    (device, dtype): (&B::Device, DType),
    d_xw: Buffer<T>,
    rest: impl Iterator<Item = (Vec<T>, Vec<usize>)>,
) -> Vec<FloatTensor<B>> {
    let d_xw = from_data::<B>(d_xw.into_data(), dtype, device);
    let rest = rest.map(|(values, shape)| tensor::<B, T>(values, shape, dtype, device));
    std::iter::once(d_xw).chain(rest).collect()
}

/// The GRU's input gradients `[d_xw, d_w_hh, d_b_hh, d_h0]` from the gradient of its output.
fn gru_grads<B: Backend, T: Kernel>(
    (device, dtype): (&B::Device, DType),
    saved: SavedGru<T>,
    grad: FloatTensor<B>,
) -> Vec<FloatTensor<B>> {
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
    values: Vec<FloatTensor<B>>,
) {
    for (parent, value) in parents.into_iter().zip(values) {
        if let Some(id) = parent {
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
        let values = match saved {
            Precision::LstmF32(s) => lstm_grads::<B, f32>(to, own(s), grad),
            Precision::LstmF64(s) => lstm_grads::<B, f64>(to, own(s), grad),
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
