//! Input validation shared by every op: run once at the public boundary so burn's own asserts
//! never fire on user input.

use burn::tensor::{DType, Int, Tensor};

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
    op: &'static str,
    arg: &'static str,
    expected: &str,
    got: impl std::fmt::Display,
) -> Error {
    Error::InvalidArgument {
        op,
        arg,
        expected: expected.to_string(),
        got: got.to_string(),
    }
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

/// Fails with `ShapeMismatch` unless an optional per-channel tensor has shape `[channels]`.
pub(crate) fn channel_vector(
    op: &'static str,
    arg: &'static str,
    tensor: Option<&Tensor<1>>,
    channels: usize,
    dtype: DType,
) -> Result<()> {
    if let Some(t) = tensor {
        same_shape(op, arg, &[channels], &t.dims())?;
        same_dtype(op, arg, dtype, t.dtype())?;
    }
    Ok(())
}
