//! The case-file schema of `oracle/README.md` and the conversions between its tensors and
//! burn tensors.

use std::collections::BTreeMap;

use cortex::burn::tensor::{DType, Device, Int, Tensor, TensorData};
use serde::Deserialize;

/// `{"shape": [...], "data": [...], "dtype"?: "int64"}`, data flat in row-major order.
#[derive(Debug, Clone, Deserialize)]
pub struct JsonTensor {
    pub shape: Vec<usize>,
    pub data: Vec<f64>,
    #[serde(default)]
    pub dtype: Option<String>,
}

impl JsonTensor {
    /// The shape left-padded with 1s to rank `D` (a scalar `[]` becomes `[1; D]`).
    pub fn padded_shape<const D: usize>(&self) -> Result<[usize; D], String> {
        if self.shape.len() > D {
            return Err(format!("shape {:?} has rank > {D}", self.shape));
        }
        let mut shape = [1usize; D];
        shape[D - self.shape.len()..].copy_from_slice(&self.shape);
        Ok(shape)
    }

    pub fn float<const D: usize>(&self, device: &Device) -> Result<Tensor<D>, String> {
        let shape = self.padded_shape::<D>()?;
        Ok(Tensor::from_data(
            TensorData::new(self.data.clone(), shape),
            (device, DType::F64),
        ))
    }

    pub fn int<const D: usize>(&self, device: &Device) -> Result<Tensor<D, Int>, String> {
        if self.dtype.as_deref() != Some("int64") {
            return Err("expected an int64 tensor".to_string());
        }
        let shape = self.padded_shape::<D>()?;
        let values: Vec<i64> = self.data.iter().map(|v| *v as i64).collect();
        Ok(Tensor::from_data(TensorData::new(values, shape), device))
    }
}

#[derive(Debug, Deserialize)]
pub struct CaseFile {
    pub cases: Vec<Case>,
}

#[derive(Debug, Deserialize)]
pub struct Case {
    pub op: String,
    pub name: String,
    #[serde(default)]
    pub attrs: serde_json::Value,
    pub inputs: BTreeMap<String, JsonTensor>,
    #[serde(default)]
    pub differentiable: Vec<String>,
    pub outputs: BTreeMap<String, JsonTensor>,
    #[serde(default)]
    pub upstream: BTreeMap<String, JsonTensor>,
    #[serde(default)]
    pub grads: BTreeMap<String, JsonTensor>,
    #[serde(default)]
    pub running_stats: Option<BTreeMap<String, JsonTensor>>,
}

impl Case {
    pub fn input(&self, name: &str) -> Result<&JsonTensor, String> {
        self.inputs
            .get(name)
            .ok_or_else(|| format!("case has no input `{name}`"))
    }

    pub fn attr_usize(&self, key: &str) -> Result<usize, String> {
        self.attrs[key]
            .as_u64()
            .map(|v| v as usize)
            .ok_or_else(|| format!("attr `{key}` missing or not an integer"))
    }

    pub fn attr_f64(&self, key: &str) -> Result<f64, String> {
        self.attrs[key]
            .as_f64()
            .ok_or_else(|| format!("attr `{key}` missing or not a number"))
    }

    pub fn attr_pair(&self, key: &str) -> Result<[usize; 2], String> {
        match self.attrs[key].as_array().map(Vec::as_slice) {
            Some([a, b]) => match (a.as_u64(), b.as_u64()) {
                (Some(a), Some(b)) => Ok([a as usize, b as usize]),
                _ => Err(format!("attr `{key}` is not a pair of integers")),
            },
            _ => Err(format!("attr `{key}` missing or not a pair")),
        }
    }

    pub fn attr_usizes(&self, key: &str) -> Result<Vec<usize>, String> {
        self.attrs[key]
            .as_array()
            .and_then(|a| a.iter().map(|v| v.as_u64().map(|v| v as usize)).collect())
            .ok_or_else(|| format!("attr `{key}` missing or not a list of integers"))
    }
}
