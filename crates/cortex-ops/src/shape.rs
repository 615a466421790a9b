//! Shape ops that can fail on user input: `flatten`.

use burn::tensor::Tensor;

use crate::check;
use crate::error::{Error, Result};

/// Merges dimensions `start_dim..=end_dim` into one (`flatten(x, 1, D-1)` turns `[N, …]` into
/// `[N, features]`). `D2` must be `D - (end_dim - start_dim)`.
///
/// # Errors
/// `InvalidArgument` when `start_dim > end_dim` or `end_dim >= D`; `RankMismatch` when `D2`
/// does not match.
///
/// # Shapes
/// x `[d_0, …, d_{D-1}]`; output `[d_0, …, d_start · … · d_end, …]`.
///
/// ```
/// # use burn::tensor::{Device, Tensor};
/// let x = Tensor::<4>::zeros([2, 3, 4, 5], &Device::flex());
/// let y: Tensor<2> = cortex_ops::flatten(x, 1, 3).unwrap();
/// assert_eq!(y.dims(), [2, 60]);
/// ```
pub fn flatten<const D: usize, const D2: usize>(
    x: Tensor<D>,
    start_dim: usize,
    end_dim: usize,
) -> Result<Tensor<D2>> {
    const OP: &str = "flatten";
    if start_dim > end_dim || end_dim >= D {
        return Err(check::invalid(
            OP,
            "start_dim..=end_dim",
            &format!("a range with start <= end < {D}"),
            format!("{start_dim}..={end_dim}"),
        ));
    }
    let expected = D - (end_dim - start_dim);
    if D2 != expected {
        return Err(Error::RankMismatch {
            op: OP,
            arg: "output",
            expected: expected.to_string(),
            got: D2,
            shape: x.dims().to_vec(),
        });
    }
    Ok(x.flatten(start_dim, end_dim))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::InvalidValue;
    use crate::testing::{devices, tensor};

    #[test]
    fn flatten_checks_its_range_and_rank() {
        let device = devices().remove(0);
        let x = tensor(&[0.0; 24], [2, 3, 4], &device);
        let y: Tensor<2> = flatten(x.clone(), 0, 1).unwrap();
        assert_eq!(y.dims(), [6, 4]);
        assert!(matches!(
            flatten::<3, 2>(x.clone(), 2, 1),
            Err(Error::InvalidArgument(InvalidValue {
                owner: "flatten",
                ..
            }))
        ));
        assert!(matches!(
            flatten::<3, 1>(x.clone(), 0, 3),
            Err(Error::InvalidArgument(InvalidValue { .. }))
        ));
        assert!(matches!(
            flatten::<3, 3>(x, 1, 2),
            Err(Error::RankMismatch { .. })
        ));
    }
}
