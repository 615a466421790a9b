//! Input validation shared by every op: run once at the public boundary so burn's own asserts
//! never fire on user input.

use burn::tensor::{DType, Device, Int, Tensor};

use crate::error::InvalidValue;
use crate::error::{Error, Result};

/// Formats a shape pattern such as `[*, 784]` for error messages.
pub(crate) fn pattern(dims: &[Option<usize>]) -> String {
    let parts: Vec<String> = dims
        .iter()
        .map(|d| d.map_or_else(|| "*".to_string(), |v| v.to_string()))
        .collect();
    format!("[{}]", parts.join(", "))
}

/// Fails with `ShapeMismatch` unless `got` equals `expected`.
pub(crate) fn same_shape(
    op: &'static str,
    arg: &'static str,
    expected: &[usize],
    got: &[usize],
) -> Result<()> {
    if expected == got {
        Ok(())
    } else {
        Err(Error::ShapeMismatch {
            op,
            arg,
            expected: format!("{expected:?}"),
            got: got.to_vec(),
        })
    }
}

/// Fails with `EmptyInput` when any dimension is zero.
pub(crate) fn non_empty(op: &'static str, arg: &'static str, dims: &[usize]) -> Result<()> {
    if dims.contains(&0) {
        Err(Error::EmptyInput {
            op,
            arg,
            shape: dims.to_vec(),
        })
    } else {
        Ok(())
    }
}

/// Fails with `DTypeMismatch` when two float tensors differ in precision.
pub(crate) fn same_dtype(
    op: &'static str,
    arg: &'static str,
    expected: DType,
    got: DType,
) -> Result<()> {
    if expected == got {
        Ok(())
    } else {
        Err(Error::DTypeMismatch {
            op,
            arg,
            expected: format!("{expected:?}"),
            got: format!("{got:?}"),
        })
    }
}

/// Fails with `DeviceMismatch` unless `got` is `expected` (with or without gradient tracking:
/// burn moves values between a backend's plain and autodiff tensors itself).
pub(crate) fn same_device(
    op: &'static str,
    arg: &'static str,
    expected: &Device,
    got: &Device,
) -> Result<()> {
    if expected.clone().inner() == got.clone().inner() {
        Ok(())
    } else {
        Err(Error::DeviceMismatch {
            op,
            arg,
            expected: format!("{expected:?}"),
            got: format!("{got:?}"),
        })
    }
}

/// Fails with `DTypeMismatch` or `DeviceMismatch` unless `other` has `first`'s float precision
/// and device.
pub(crate) fn same_kind<const D: usize, const E: usize>(
    op: &'static str,
    arg: &'static str,
    first: &Tensor<D>,
    other: &Tensor<E>,
) -> Result<()> {
    same_dtype(op, arg, first.dtype(), other.dtype())?;
    same_device(op, arg, &first.device(), &other.device())
}

/// Fails with `InvalidArgument` unless `value` is finite.
pub(crate) fn finite(op: &'static str, arg: &'static str, value: f64) -> Result<()> {
    if value.is_finite() {
        Ok(())
    } else {
        Err(invalid(op, arg, "a finite number", value))
    }
}

/// Fails with `InvalidArgument` unless `value` is finite and strictly positive.
pub(crate) fn positive(op: &'static str, arg: &'static str, value: f64) -> Result<()> {
    if value.is_finite() && value > 0.0 {
        Ok(())
    } else {
        Err(invalid(op, arg, "a finite number > 0", value))
    }
}

/// Fails with `InvalidArgument` unless every entry is non-zero.
pub(crate) fn non_zero(op: &'static str, arg: &'static str, values: &[usize]) -> Result<()> {
    if values.contains(&0) {
        Err(invalid(
            op,
            arg,
            "non-zero in every dimension",
            format!("{values:?}"),
        ))
    } else {
        Ok(())
    }
}

/// Builds an `InvalidArgument` error.
pub(crate) fn invalid(
    owner: &'static str,
    argument: &'static str,
    expected: &str,
    got: impl std::fmt::Display,
) -> Error {
    Error::InvalidArgument(InvalidValue::new(owner, argument, expected, got))
}

/// Resolves a possibly negative dimension index (`-1` = last) against `rank`.
pub(crate) fn dim_index(op: &'static str, dim: isize, rank: usize) -> Result<usize> {
    let rank_i = rank as isize;
    let resolved = if dim < 0 { dim + rank_i } else { dim };
    if (0..rank_i).contains(&resolved) {
        Ok(resolved as usize)
    } else {
        Err(invalid(
            op,
            "dim",
            &format!("in [-{rank}, {rank}) for a rank-{rank} tensor"),
            dim,
        ))
    }
}

/// Reads integer indices to the host and checks each lies in `[0, bound)`, except entries equal
/// to `ignore` (an ignore index). Returns the indices in row-major order.
pub(crate) fn indices_in_range<const D: usize>(
    op: &'static str,
    arg: &'static str,
    indices: &Tensor<D, Int>,
    bound: usize,
    ignore: Option<i64>,
) -> Result<Vec<i64>> {
    let values: Vec<i64> = indices.to_data().iter::<i64>().collect();
    for (position, &value) in values.iter().enumerate() {
        if Some(value) == ignore {
            continue;
        }
        if value < 0 || value as u64 >= bound as u64 {
            return Err(Error::IndexOutOfRange {
                op,
                arg,
                position,
                value,
                bound,
            });
        }
    }
    Ok(values)
}

/// Fails with `ShapeMismatch` unless an optional per-channel tensor has shape `[channels]`,
/// and as [`same_kind`] unless it has `first`'s precision and device.
pub(crate) fn channel_vector<const D: usize>(
    op: &'static str,
    arg: &'static str,
    tensor: Option<&Tensor<1>>,
    channels: usize,
    first: &Tensor<D>,
) -> Result<()> {
    if let Some(t) = tensor {
        same_shape(op, arg, &[channels], &t.dims())?;
        same_kind(op, arg, first, t)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use burn::tensor::{Int, Tensor};

    use crate::testing::{assert_close, ints, tensor, values};
    use crate::*;
    use cortex_core::Backend;

    /// Tensors on two backends, given to one op, are a typed error naming the argument (burn
    /// itself would panic); one backend's plain and autodiff tensors mix as burn allows.
    #[test]
    fn tensors_on_two_devices_are_an_error_naming_the_argument() {
        let flex = Backend::Flex.autodiff_device();
        let other = Backend::NdArray.autodiff_device();
        let a = || tensor(&[1.0, 2.0], [1, 2], &flex);
        let b = || tensor(&[1.0, 2.0], [1, 2], &other);
        let on_other = |result: Result<Tensor<2>>, op_name: &str, arg_name: &str| match result {
            Err(Error::DeviceMismatch { op, arg, .. }) => {
                assert_eq!((op, arg), (op_name, arg_name));
            }
            other => panic!("{op_name}: expected DeviceMismatch, got {other:?}"),
        };
        on_other(add(a(), b()), "add", "b");
        on_other(matmul(a(), b().reshape([2, 1])), "matmul", "b");
        on_other(linear(a(), b(), None), "linear", "weight");
        on_other(
            linear(a(), a(), Some(tensor(&[0.0], [1], &other))),
            "linear",
            "bias",
        );
        on_other(mse_loss(a(), b(), Reduction::Mean), "mse_loss", "target");
        let targets: Tensor<1, Int> = ints(&[1], [1], &other);
        let ce = cross_entropy(a(), targets, &CrossEntropyOptions::new());
        assert!(
            matches!(ce, Err(Error::DeviceMismatch { arg: "targets", .. })),
            "{ce:?}"
        );
        let weights = tensor(&[1.0, 1.0], [2], &other);
        let ce = cross_entropy(
            a(),
            ints(&[1], [1], &flex),
            &CrossEntropyOptions::new().with_class_weights(weights),
        );
        assert!(
            matches!(
                ce,
                Err(Error::DeviceMismatch {
                    arg: "class_weights",
                    ..
                })
            ),
            "{ce:?}"
        );
        let image = tensor(&[1.0; 9], [1, 1, 3, 3], &flex);
        let kernel = tensor(&[1.0; 4], [1, 1, 2, 2], &other);
        let conv = conv2d(image, kernel, None, &Conv2dOptions::default());
        assert!(
            matches!(conv, Err(Error::DeviceMismatch { arg: "weight", .. })),
            "{conv:?}"
        );
        let lookup: Result<Tensor<2>> =
            embedding(a().reshape([2, 1]), ints(&[0], [1], &other), None);
        assert!(
            matches!(lookup, Err(Error::DeviceMismatch { arg: "indices", .. })),
            "{lookup:?}"
        );
        let norm = batch_norm(
            tensor(&[1.0, 2.0, 3.0, 4.0], [2, 2], &flex),
            Some(tensor(&[1.0, 1.0], [2], &other)),
            None,
            None,
            &BatchNormOptions::new(true),
        );
        assert!(
            matches!(norm, Err(Error::DeviceMismatch { arg: "weight", .. })),
            "{norm:?}"
        );

        // Plain and autodiff tensors of one backend: burn handles the mix.
        let plain = tensor(&[10.0, 20.0], [1, 2], &Backend::Flex.device());
        assert_close(&values(&add(a(), plain).unwrap()), &[11.0, 22.0], 0.0);
    }
}
