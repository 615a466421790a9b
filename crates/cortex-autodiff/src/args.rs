//! Inputs of a checked function: named f64 values with a shape, handed to the function as
//! tensors of the rank it asks for.

use burn::tensor::{DType, Device, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use crate::error::{Error, InvalidValue, Result};

/// One named input: row-major f64 values and a shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Input {
    /// Name used in reports (`x`, `weight`, …).
    pub name: String,
    /// The shape.
    pub shape: Vec<usize>,
    /// Row-major values.
    pub values: Vec<f64>,
}

impl Input {
    /// An input from explicit values.
    ///
    /// # Errors
    /// `InvalidOption` when the number of values does not match the shape.
    pub fn new(name: impl Into<String>, shape: &[usize], values: Vec<f64>) -> Result<Self> {
        let count: usize = shape.iter().product();
        if count != values.len() {
            return Err(Error::InvalidOption(InvalidValue::new(
                "Input",
                "values",
                "as many values as the shape holds",
                format!("{} values for shape {shape:?}", values.len()),
            )));
        }
        Ok(Self {
            name: name.into(),
            shape: shape.to_vec(),
            values,
        })
    }

    /// An input read from an f64 tensor.
    ///
    /// # Errors
    /// `NotF64` when the tensor is not f64.
    pub fn from_tensor<const D: usize>(
        name: impl Into<String>,
        tensor: &Tensor<D>,
    ) -> Result<Self> {
        let name = name.into();
        if tensor.dtype() != DType::F64 {
            return Err(Error::NotF64 {
                input: name,
                got: format!("{:?}", tensor.dtype()),
            });
        }
        Ok(Self {
            name,
            shape: tensor.dims().to_vec(),
            values: tensor.to_data().iter::<f64>().collect(),
        })
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether the input has no elements.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

/// The arguments handed to a checked function: each input as a flat tensor (a leaf of the
/// graph, or a perturbed copy), reshaped on request.
pub struct Args {
    flat: Vec<Tensor<1>>,
    shapes: Vec<Vec<usize>>,
}

impl Args {
    pub(crate) fn new(flat: Vec<Tensor<1>>, shapes: Vec<Vec<usize>>) -> Self {
        Self { flat, shapes }
    }

    /// The inputs as tracked leaves (`require_grad`) on `device` in `dtype`: what a backward
    /// pass differentiates with respect to.
    pub(crate) fn leaves(inputs: &[Input], device: &Device, dtype: DType) -> Vec<Tensor<1>> {
        inputs
            .iter()
            .map(|i| {
                Tensor::<1>::from_data(
                    TensorData::new(i.values.clone(), [i.len()]),
                    (device, dtype),
                )
                .require_grad()
            })
            .collect()
    }

    /// Builds arguments from inputs with some values replaced (`overrides[i]`).
    pub(crate) fn from_values(
        inputs: &[Input],
        values: &[&[f64]],
        device: &Device,
        dtype: DType,
    ) -> Self {
        let flat = values
            .iter()
            .map(|v| Tensor::from_data(TensorData::new(v.to_vec(), [v.len()]), (device, dtype)))
            .collect();
        Self::new(flat, inputs.iter().map(|i| i.shape.clone()).collect())
    }

    /// Argument `index` as a rank-`D` tensor of its shape.
    ///
    /// # Errors
    /// `MissingArgument` for an index past the inputs; `ArgumentRank` when `D` is not the
    /// input's rank.
    pub fn get<const D: usize>(&self, index: usize) -> Result<Tensor<D>> {
        let (flat, shape) =
            self.flat
                .get(index)
                .zip(self.shapes.get(index))
                .ok_or(Error::MissingArgument {
                    index,
                    count: self.flat.len(),
                })?;
        let dims: [usize; D] = shape
            .as_slice()
            .try_into()
            .map_err(|_| Error::ArgumentRank {
                index,
                shape: shape.clone(),
                requested: D,
            })?;
        Ok(flat.clone().reshape(dims))
    }
}

/// A function output of any rank, flattened for the vector–Jacobian product.
pub trait Flatten {
    /// The output's values as one vector (row-major).
    fn flatten_output(self) -> Tensor<1>;
}

impl<const D: usize> Flatten for Tensor<D> {
    fn flatten_output(self) -> Tensor<1> {
        let count = self.dims().iter().product::<usize>();
        self.reshape([count])
    }
}
