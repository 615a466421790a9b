//! Embedding lookup: rows of a weight table selected by integer indices.

use burn::tensor::{Int, Tensor, TensorData};

use crate::check;
use crate::error::{Error, Result};

/// Looks up `weight[indices]`; gradients of repeated indices accumulate, unused rows get 0,
/// and the row `padding_idx` (if any) receives no gradient, as in `torch.nn.Embedding`.
///
/// `D2` must be `D + 1` (Rust cannot yet write `D + 1` in a signature): the result appends
/// the embedding dimension to the indices' shape.
///
/// # Errors
/// `RankMismatch` when `D2 != D + 1`; `EmptyInput` for an empty table or no indices;
/// `DeviceMismatch` when the indices are not on the table's device;
/// `IndexOutOfRange` for an index outside `[0, num_embeddings)`; `InvalidArgument` for a
/// `padding_idx` outside the table.
///
/// # Shapes
/// weight `[num_embeddings, dim]`, indices `[…]`; output `[…, dim]`.
///
/// ```
/// # use burn::tensor::{Device, Int, Tensor};
/// let device = Device::flex();
/// let table = Tensor::<2>::from_floats([[0.0, 0.0], [1.0, 2.0]], &device);
/// let ids = Tensor::<1, Int>::from_ints([1, 1, 0], &device);
/// let out: Tensor<2> = cortex_ops::embedding(table, ids, None).unwrap();
/// assert_eq!(out.dims(), [3, 2]);
/// ```
pub fn embedding<const D: usize, const D2: usize>(
    weight: Tensor<2>,
    indices: Tensor<D, Int>,
    padding_idx: Option<usize>,
) -> Result<Tensor<D2>> {
    const OP: &str = "embedding";
    let index_dims = indices.dims();
    if D2 != D + 1 {
        return Err(Error::RankMismatch {
            op: OP,
            arg: "output",
            expected: format!("{} (the indices' rank + 1)", D + 1),
            got: D2,
            shape: index_dims.to_vec(),
        });
    }
    let [num_embeddings, dim] = weight.dims();
    check::non_empty(OP, "weight", &[num_embeddings, dim])?;
    check::non_empty(OP, "indices", &index_dims)?;
    check::same_device(OP, "indices", &weight.device(), &indices.device())?;
    if let Some(pad) = padding_idx
        && pad >= num_embeddings
    {
        return Err(check::invalid(
            OP,
            "padding_idx",
            &format!("< num_embeddings = {num_embeddings}"),
            pad,
        ));
    }
    let values = check::indices_in_range(OP, "indices", &indices, num_embeddings, None)?;
    let count = values.len();
    let rows = weight.select(0, indices.reshape([count]));
    let rows = match padding_idx {
        None => rows,
        Some(pad) => {
            let keep: Vec<f64> = values
                .iter()
                .map(|&v| if v as usize == pad { 0.0 } else { 1.0 })
                .collect();
            let keep = Tensor::<1>::from_data(
                TensorData::new(keep, [count]),
                (&rows.device(), rows.dtype()),
            )
            .reshape([count, 1]);
            let frozen = rows
                .clone()
                .detach()
                .mul(keep.clone().neg().add_scalar(1.0));
            rows.mul(keep).add(frozen)
        }
    };
    let mut out_shape = [dim; D2];
    out_shape[..D].copy_from_slice(&index_dims);
    Ok(rows.reshape(out_shape))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::InvalidValue;
    use crate::testing::{assert_close, devices, ints, tensor, values};

    #[test]
    fn padding_row_gets_no_gradient() {
        for device in devices() {
            let table = tensor(&[0.0, 0.0, 1.0, 2.0, 3.0, 4.0], [3, 2], &device).require_grad();
            let ids = ints(&[1, 0, 1, 2], [2, 2], &device);
            let out: Tensor<3> = embedding(table.clone(), ids, Some(0)).unwrap();
            assert_eq!(out.dims(), [2, 2, 2]);
            assert_close(
                &values(&out),
                &[1.0, 2.0, 0.0, 0.0, 1.0, 2.0, 3.0, 4.0],
                0.0,
            );
            let grad = values(&table.grad(&out.sum().backward()).unwrap());
            assert_close(&grad, &[0.0, 0.0, 2.0, 2.0, 1.0, 1.0], 0.0);
        }
    }

    #[test]
    fn bad_indices_are_errors() {
        let device = devices().remove(0);
        let table = tensor(&[0.0; 6], [3, 2], &device);
        let ids = ints(&[0, 3], [2], &device);
        assert_eq!(
            embedding::<1, 2>(table.clone(), ids, None).unwrap_err(),
            Error::IndexOutOfRange {
                op: "embedding",
                arg: "indices",
                position: 1,
                value: 3,
                bound: 3,
            }
        );
        let ids = ints(&[0, 1], [2], &device);
        assert!(matches!(
            embedding::<1, 3>(table.clone(), ids.clone(), None),
            Err(Error::RankMismatch { .. })
        ));
        assert!(matches!(
            embedding::<1, 2>(table, ids, Some(3)),
            Err(Error::InvalidArgument(InvalidValue {
                argument: "padding_idx",
                ..
            }))
        ));
    }
}
