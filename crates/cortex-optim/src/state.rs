//! Recording optimizer states for burn's burnpack format, keeping their float precision (an
//! f64 trajectory resumes bit-identically).

use burn::optim::{StateSink, StateSource};
use burn::tensor::{Device, Tensor, TensorData};

/// Records a tensor leaf.
pub(crate) fn push<const D: usize>(
    out: &mut StateSink,
    prefix: &str,
    leaf: &str,
    tensor: &Tensor<D>,
) {
    out.push_tensor(prefix, leaf, tensor.clone().into_data());
}

/// Records an optional tensor leaf.
pub(crate) fn push_opt<const D: usize>(
    out: &mut StateSink,
    prefix: &str,
    leaf: &str,
    tensor: &Option<Tensor<D>>,
) {
    if let Some(t) = tensor {
        push(out, prefix, leaf, t);
    }
}

/// Records a step counter (as a one-element integer tensor: exact at any count).
pub(crate) fn push_count(out: &mut StateSink, prefix: &str, leaf: &str, count: u64) {
    out.push_tensor(prefix, leaf, TensorData::new(vec![count as i64], [1]));
}

/// Reads a tensor leaf in its recorded dtype; `None` when absent or of another rank.
pub(crate) fn take<const D: usize>(
    src: &mut StateSource,
    prefix: &str,
    leaf: &str,
    device: &Device,
) -> Option<Tensor<D>> {
    let data = src.take_tensor(prefix, leaf)?;
    if data.shape().len() != D {
        return None;
    }
    let dtype = data.dtype();
    Some(Tensor::from_data(data, (device, dtype)))
}

/// Reads a step counter.
pub(crate) fn take_count(src: &mut StateSource, prefix: &str, leaf: &str) -> Option<u64> {
    let data = src.take_tensor(prefix, leaf)?;
    let value = data.iter::<i64>().next()?;
    u64::try_from(value).ok()
}
