//! Dense algebra: `matmul`, broadcasting `add`, and `linear` with PyTorch's weight layout.

use burn::tensor::Tensor;

use crate::check;
use crate::error::{Error, Result};

/// Shape of `a` and `b` broadcast together (numpy rules on equal ranks: each pair of sizes
/// is equal or one of them is 1).
fn broadcast_shape(op: &'static str, a: &[usize], b: &[usize]) -> Result<Vec<usize>> {
    a.iter()
        .zip(b)
        .map(|(&x, &y)| match (x, y) {
            _ if x == y => Ok(x),
            (1, _) => Ok(y),
            (_, 1) => Ok(x),
            _ => Err(Error::ShapeMismatch {
                op,
                arg: "b",
                expected: format!("a shape broadcastable with {a:?}"),
                got: b.to_vec(),
            }),
        })
        .collect()
}

/// Elementwise `a + b` with broadcasting over size-1 dimensions; the gradient of a broadcast
/// operand is summed back to its shape. (Lower-rank operands: `unsqueeze` them first.)
///
/// # Errors
/// `ShapeMismatch` when the shapes do not broadcast; `DTypeMismatch` when precisions differ;
/// `DeviceMismatch` when devices differ.
///
/// # Shapes
/// a `[d…]`, b `[e…]` with `d_i == e_i` or one of them 1; output `[max(d_i, e_i)…]`.
pub fn add<const D: usize>(a: Tensor<D>, b: Tensor<D>) -> Result<Tensor<D>> {
    broadcast_shape("add", &a.dims(), &b.dims())?;
    check::same_kind("add", "b", &a, &b)?;
    Ok(a.add(b))
}

/// Matrix product over the last two dimensions, batch dimensions broadcast as in
/// `torch.matmul` (the gradient of a broadcast operand is summed over the broadcast batch).
///
/// # Errors
/// `ShapeMismatch` when the inner sizes differ or the batch dimensions do not broadcast;
/// `DTypeMismatch` when the precisions differ; `DeviceMismatch` when the devices differ.
///
/// # Shapes
/// a `[…, m, k]`, b `[…, k, n]`; output `[…, m, n]`.
pub fn matmul<const D: usize>(a: Tensor<D>, b: Tensor<D>) -> Result<Tensor<D>> {
    const OP: &str = "matmul";
    if D < 2 {
        return Err(Error::RankMismatch {
            op: OP,
            arg: "a",
            expected: ">= 2".to_string(),
            got: D,
            shape: a.dims().to_vec(),
        });
    }
    let (ad, bd) = (a.dims(), b.dims());
    if ad[D - 1] != bd[D - 2] {
        let mut expected = vec![None; D];
        expected[D - 2] = Some(ad[D - 1]);
        return Err(Error::ShapeMismatch {
            op: OP,
            arg: "b",
            expected: check::pattern(&expected),
            got: bd.to_vec(),
        });
    }
    let batch = broadcast_shape(OP, &ad[..D - 2], &bd[..D - 2])?;
    check::same_kind(OP, "b", &a, &b)?;
    if ad.contains(&0) || bd.contains(&0) {
        // An empty product (or a sum over k = 0): zeros of the output shape, as in PyTorch
        // (burn's kernels divide by the matrix sizes).
        let mut shape = batch;
        shape.extend([ad[D - 2], bd[D - 1]]);
        let shape: [usize; D] = std::array::from_fn(|i| shape[i]);
        return Ok(Tensor::zeros(shape, (&a.device(), a.dtype())));
    }
    Ok(a.matmul(b))
}

/// Affine map with PyTorch's layout and semantics: `y = x Wᵀ + b`.
///
/// `weight` is `[out_features, in_features]` as in `torch.nn.Linear` (burn's own `Linear`
/// stores the transpose, `[in, out]`); weights exported from PyTorch load unchanged.
///
/// # Errors
/// `RankMismatch` for a rank-0 input, `ShapeMismatch` when `x`'s last dimension is not
/// `in_features` or `bias` is not `[out_features]`, `EmptyInput` for an empty weight,
/// `DTypeMismatch` when precisions differ, `DeviceMismatch` when devices differ.
///
/// # Shapes
/// x `[…, in]`, weight `[out, in]`, bias `[out]`; output `[…, out]`.
///
/// ```
/// # use burn::tensor::{Device, Tensor};
/// let device = Device::flex();
/// let x = Tensor::<2>::from_floats([[1.0, 2.0]], &device);
/// let w = Tensor::<2>::from_floats([[1.0, 1.0], [0.0, 1.0], [2.0, 0.0]], &device);
/// let y = cortex_ops::linear(x, w, None).unwrap();
/// assert_eq!(y.into_data().to_vec::<f32>().unwrap(), vec![3.0, 2.0, 2.0]);
/// ```
pub fn linear<const D: usize>(
    x: Tensor<D>,
    weight: Tensor<2>,
    bias: Option<Tensor<1>>,
) -> Result<Tensor<D>> {
    check_linear(&x, &weight, bias.as_ref())?;
    Ok(burn::tensor::module::linear(x, weight.transpose(), bias))
}

/// The checks [`linear`] makes of its arguments, for the ops that compute the same product
/// another way (the fused linear of `cortex-autodiff`): the same errors in the same order.
///
/// # Errors
/// As [`linear`].
pub fn check_linear<const D: usize>(
    x: &Tensor<D>,
    weight: &Tensor<2>,
    bias: Option<&Tensor<1>>,
) -> Result<()> {
    const OP: &str = "linear";
    let [out_features, in_features] = weight.dims();
    check::non_empty(OP, "weight", &[out_features, in_features])?;
    let dims = x.dims();
    if D == 0 {
        return Err(Error::RankMismatch {
            op: OP,
            arg: "x",
            expected: ">= 1".to_string(),
            got: D,
            shape: dims.to_vec(),
        });
    }
    check::non_empty(OP, "x", &dims)?;
    if dims[D - 1] != in_features {
        let mut expected = vec![None; D];
        expected[D - 1] = Some(in_features);
        return Err(Error::ShapeMismatch {
            op: OP,
            arg: "x",
            expected: check::pattern(&expected),
            got: dims.to_vec(),
        });
    }
    check::same_kind(OP, "weight", x, weight)?;
    check::channel_vector(OP, "bias", bias, out_features, x)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{assert_close, devices, tensor, values};

    #[test]
    fn linear_uses_the_pytorch_layout() {
        for device in devices() {
            let x = tensor(&[1.0, 2.0, 3.0, 4.0], [2, 2], &device);
            // weight [out=3, in=2]
            let w = tensor(&[1.0, 0.0, 0.0, 1.0, 1.0, 1.0], [3, 2], &device);
            let b = tensor(&[0.5, 0.0, -1.0], [3], &device);
            let y = linear(x, w, Some(b)).unwrap();
            assert_eq!(y.dims(), [2, 3]);
            assert_close(&values(&y), &[1.5, 2.0, 2.0, 3.5, 4.0, 6.0], 1e-12);
        }
    }

    #[test]
    fn shape_errors_name_what_was_expected() {
        let device = devices().remove(0);
        let x = tensor(&[0.0; 6], [2, 3], &device);
        let w = tensor(&[0.0; 8], [2, 4], &device);
        let err = linear(x.clone(), w, None).unwrap_err();
        assert_eq!(
            err,
            Error::ShapeMismatch {
                op: "linear",
                arg: "x",
                expected: "[*, 4]".to_string(),
                got: vec![2, 3],
            }
        );
        assert_eq!(
            err.to_string(),
            "linear: `x` must have shape [*, 4], got [2, 3]"
        );
        let w = tensor(&[0.0; 6], [2, 3], &device);
        let bias = tensor(&[0.0; 3], [3], &device);
        assert!(matches!(
            linear(x.clone(), w.clone(), Some(bias)),
            Err(Error::ShapeMismatch { arg: "bias", .. })
        ));
        assert!(matches!(
            linear(tensor(&[], [0, 3], &device), w, None),
            Err(Error::EmptyInput {
                op: "linear",
                arg: "x",
                ..
            })
        ));
        let a = tensor(&[0.0; 6], [2, 3], &device);
        assert!(matches!(
            matmul(a.clone(), a.clone()),
            Err(Error::ShapeMismatch { op: "matmul", .. })
        ));
        let b = tensor(&[0.0; 4], [1, 4], &device);
        assert!(matches!(
            add(a, b),
            Err(Error::ShapeMismatch { op: "add", .. })
        ));
    }

    #[test]
    fn broadcast_add_reduces_gradients() {
        for device in devices() {
            let a = tensor(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], [2, 3], &device).require_grad();
            let b = tensor(&[10.0, 20.0, 30.0], [1, 3], &device).require_grad();
            let y = add(a.clone(), b.clone()).unwrap();
            assert_close(&values(&y), &[11.0, 22.0, 33.0, 14.0, 25.0, 36.0], 1e-12);
            let grads = y.sum().backward();
            assert_close(&values(&b.grad(&grads).unwrap()), &[2.0, 2.0, 2.0], 1e-12);
        }
    }
}
