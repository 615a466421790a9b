//! One case's run: inputs become leaves on an autodiff device, outputs are traced with their
//! upstream gradients, and the results are compared with the oracle.

use cortex::burn::tensor::Gradients;
use cortex::burn::tensor::{DType, Device, Int, Tensor, TensorData};

use super::schema::{Case, JsonTensor};

/// A float input leaf of any rank the cases use.
pub enum Leaf {
    R1(Tensor<1>),
    R2(Tensor<2>),
    R3(Tensor<3>),
    R4(Tensor<4>),
}

impl Leaf {
    fn grad(&self, grads: &Gradients) -> Option<Vec<f64>> {
        let data = match self {
            Leaf::R1(t) => t.grad(grads)?.into_data(),
            Leaf::R2(t) => t.grad(grads)?.into_data(),
            Leaf::R3(t) => t.grad(grads)?.into_data(),
            Leaf::R4(t) => t.grad(grads)?.into_data(),
        };
        Some(data.iter::<f64>().collect())
    }
}

pub trait IntoLeaf {
    fn into_leaf(self) -> Leaf;
}
macro_rules! into_leaf {
    ($rank:literal, $variant:ident) => {
        impl IntoLeaf for Tensor<$rank> {
            fn into_leaf(self) -> Leaf {
                Leaf::$variant(self)
            }
        }
    };
}
into_leaf!(1, R1);
into_leaf!(2, R2);
into_leaf!(3, R3);
into_leaf!(4, R4);

/// An output: its values and shape, and `sum(output * upstream)` for the backward pass.
pub struct Traced {
    pub values: Vec<f64>,
    pub dims: Vec<usize>,
    pub objective: Tensor<1>,
}

/// The state of one case on one device.
pub struct CaseRun<'a> {
    pub case: &'a Case,
    pub device: Device,
    /// Run the op's alternate implementation (fused custom backward, or the layer of
    /// `cortex-nn`) instead of the functional one.
    pub alternate: bool,
    leaves: Vec<(String, Leaf)>,
    outputs: Vec<(String, Traced)>,
}

impl<'a> CaseRun<'a> {
    pub fn new(case: &'a Case, device: Device, alternate: bool) -> Self {
        Self {
            case,
            device,
            alternate,
            leaves: Vec::new(),
            outputs: Vec::new(),
        }
    }

    /// A float input at rank `D` (left-padded with 1s); a leaf requiring grad when the case
    /// lists it as differentiable.
    pub fn float<const D: usize>(&mut self, name: &str) -> Result<Tensor<D>, String>
    where
        Tensor<D>: IntoLeaf,
    {
        let mut t = self.case.input(name)?.float::<D>(&self.device)?;
        if self.case.differentiable.iter().any(|d| d == name) {
            t = t.require_grad();
            self.leaves.push((name.to_string(), t.clone().into_leaf()));
        }
        Ok(t)
    }

    /// An optional float input (e.g. a bias the case may omit).
    pub fn opt_float<const D: usize>(&mut self, name: &str) -> Result<Option<Tensor<D>>, String>
    where
        Tensor<D>: IntoLeaf,
    {
        if self.case.inputs.contains_key(name) {
            self.float(name).map(Some)
        } else {
            Ok(None)
        }
    }

    pub fn int<const D: usize>(&self, name: &str) -> Result<Tensor<D, Int>, String> {
        self.case.input(name)?.int::<D>(&self.device)
    }

    /// Records an output under `name`, multiplied by its upstream gradient for the backward.
    pub fn output<const D: usize>(&mut self, name: &str, out: Tensor<D>) -> Result<(), String> {
        let dims = out.dims();
        let count: usize = dims.iter().product();
        let upstream = self
            .case
            .upstream
            .get(name)
            .ok_or_else(|| format!("no upstream for output `{name}`"))?;
        if upstream.data.len() != count {
            return Err(format!(
                "output `{name}` has {count} elements, upstream {}",
                upstream.data.len()
            ));
        }
        let up = Tensor::<D>::from_data(
            TensorData::new(upstream.data.clone(), dims),
            (&self.device, DType::F64),
        );
        let values = out.to_data().iter::<f64>().collect();
        let objective = out.mul(up).sum();
        self.outputs.push((
            name.to_string(),
            Traced {
                values,
                dims: dims.to_vec(),
                objective,
            },
        ));
        Ok(())
    }

    /// Runs the backward pass and compares outputs and gradients with the oracle.
    /// Returns the largest scaled error seen, or the list of mismatches.
    pub fn finish(self, tolerance: f64) -> Result<f64, String> {
        let mut problems = Vec::new();
        let mut worst = 0.0f64;
        let mut objective: Option<Tensor<1>> = None;
        for (name, traced) in &self.outputs {
            let Some(expected) = self.case.outputs.get(name) else {
                problems.push(format!("output `{name}` is not in the oracle"));
                continue;
            };
            compare(
                &format!("output `{name}`"),
                &traced.values,
                &traced.dims,
                expected,
                tolerance,
                &mut worst,
                &mut problems,
            );
            objective = Some(match objective {
                None => traced.objective.clone(),
                Some(acc) => acc.add(traced.objective.clone()),
            });
        }
        for name in self.case.outputs.keys() {
            if !self.outputs.iter().any(|(n, _)| n == name) {
                problems.push(format!("oracle output `{name}` was not produced"));
            }
        }
        if let Some(objective) = objective
            && !self.leaves.is_empty()
        {
            let grads = objective.backward();
            for (name, leaf) in &self.leaves {
                let Some(expected) = self.case.grads.get(name) else {
                    problems.push(format!("oracle has no gradient for `{name}`"));
                    continue;
                };
                match leaf.grad(&grads) {
                    Some(values) => compare(
                        &format!("grad `{name}`"),
                        &values,
                        &self.case.input(name).map(|t| t.shape.clone())?,
                        expected,
                        tolerance,
                        &mut worst,
                        &mut problems,
                    ),
                    None => problems.push(format!("no gradient reached `{name}`")),
                }
            }
        }
        if problems.is_empty() {
            Ok(worst)
        } else {
            Err(problems.join("; "))
        }
    }
}

/// Compares values elementwise: `|got - expected| <= tolerance * max(1, |expected|)`; shapes
/// must agree up to leading 1s (a scalar `[]` matches any all-ones shape).
pub fn compare(
    what: &str,
    got: &[f64],
    got_dims: &[usize],
    expected: &JsonTensor,
    tolerance: f64,
    worst: &mut f64,
    problems: &mut Vec<String>,
) {
    let strip = |dims: &[usize]| -> Vec<usize> {
        let first = dims.iter().position(|&d| d != 1).unwrap_or(dims.len());
        dims[first..].to_vec()
    };
    if strip(got_dims) != strip(&expected.shape) || got.len() != expected.data.len() {
        problems.push(format!(
            "{what}: shape {got_dims:?}, expected {:?}",
            expected.shape
        ));
        return;
    }
    for (i, (g, e)) in got.iter().zip(&expected.data).enumerate() {
        let scaled = (g - e).abs() / e.abs().max(1.0);
        if scaled.is_nan() || scaled > tolerance {
            problems.push(format!(
                "{what}[{i}]: got {g:e}, expected {e:e} (scaled error {scaled:.3e})"
            ));
            return;
        }
        *worst = worst.max(scaled);
    }
}
