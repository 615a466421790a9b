//! Test helpers: run a check on every selected CPU backend, build f64 tensors, read values.

use burn::tensor::{DType, Device, Int, Tensor, TensorData};

use cortex_core::Backend;

/// Devices of the backends selected by `CORTEX_BACKEND` (all when unset), with autodiff.
pub(crate) fn devices() -> Vec<Device> {
    Backend::selected_from_env()
        .expect("CORTEX_BACKEND must be flex, ndarray or all")
        .into_iter()
        .map(Backend::autodiff_device)
        .collect()
}

/// An f64 tensor from row-major values.
pub(crate) fn tensor<const D: usize>(
    values: &[f64],
    shape: [usize; D],
    device: &Device,
) -> Tensor<D> {
    Tensor::from_data(
        TensorData::new(values.to_vec(), shape),
        (device, DType::F64),
    )
}

/// An integer tensor from values.
pub(crate) fn ints<const D: usize>(
    values: &[i64],
    shape: [usize; D],
    device: &Device,
) -> Tensor<D, Int> {
    Tensor::from_data(TensorData::new(values.to_vec(), shape), device)
}

/// A tensor's values as f64, row-major.
pub(crate) fn values<const D: usize>(t: &Tensor<D>) -> Vec<f64> {
    t.to_data().iter::<f64>().collect()
}

/// Asserts `got` and `expected` agree elementwise within `tol` (absolute).
pub(crate) fn assert_close(got: &[f64], expected: &[f64], tol: f64) {
    assert_eq!(
        got.len(),
        expected.len(),
        "lengths differ: {got:?} vs {expected:?}"
    );
    for (i, (g, e)) in got.iter().zip(expected).enumerate() {
        assert!(
            (g - e).abs() <= tol,
            "element {i}: got {g}, expected {e} (tol {tol})\n{got:?}"
        );
    }
}
