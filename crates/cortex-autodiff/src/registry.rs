//! The registry of gradient cases: each differentiable op declares its sample inputs once
//! (PyTorch's OpInfo idea), and the unit tests, the property tests and
//! `cargo xtask check-grads` all run the same declarations.

use burn::tensor::{DType, Device, Tensor, TensorData};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};

use crate::args::{Args, Input};
use crate::error::Result;
use crate::gradcheck::{GradCheck, GradCheckReport, normal_vector};

/// The function of a case: arguments in, a flattened output out.
pub type CaseFn = Box<dyn Fn(&Args) -> Result<Tensor<1>> + Send + Sync>;

/// One registered gradient case: an op, its sample inputs and how to call it.
pub struct GradCase {
    /// Unique name, `op/variant` (e.g. `conv2d/stride2_pad1`).
    pub name: String,
    /// The op (or layer) checked.
    pub op: &'static str,
    /// Sample inputs, all differentiated.
    pub inputs: Vec<Input>,
    function: CaseFn,
}

impl GradCase {
    /// Declares a case.
    pub fn new<F, O>(name: impl Into<String>, op: &'static str, inputs: Vec<Input>, f: F) -> Self
    where
        F: Fn(&Args) -> Result<O> + Send + Sync + 'static,
        O: crate::args::Flatten,
    {
        Self {
            name: name.into(),
            op,
            inputs,
            function: Box::new(move |args| f(args).map(crate::args::Flatten::flatten_output)),
        }
    }

    /// The shapes of the inputs, in order.
    pub fn shapes(&self) -> Vec<Vec<usize>> {
        self.inputs.iter().map(|i| i.shape.clone()).collect()
    }

    /// Runs the gradient check of this case on `device`.
    ///
    /// # Errors
    /// As [`GradCheck::check`].
    pub fn check(&self, checker: &GradCheck, device: &Device) -> Result<GradCheckReport> {
        checker.check(device, &self.inputs, &self.function)
    }
}

/// A case evaluated once on one device: its flattened output and, for the seeded upstream
/// vector `v`, the vector-Jacobian products `vᵀ ∂f/∂x_k` of every input (what a backward pass
/// computes). Compared across devices by the GPU-path suite.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseEvaluation {
    /// `f(x)`, flattened.
    pub output: Vec<f64>,
    /// `vᵀ ∂f/∂x_k` for each input `k`, in input order.
    pub gradients: Vec<Vec<f64>>,
}

impl GradCase {
    /// Runs the case forward and backward on `device` (its autodiff twin) in `dtype`, with the
    /// upstream vector drawn from `seed`.
    ///
    /// # Errors
    /// The case's own errors.
    pub fn evaluate(&self, device: &Device, dtype: DType, seed: u64) -> Result<CaseEvaluation> {
        let autodiff = device.clone().autodiff();
        let shapes = self.shapes();
        let leaves = Args::leaves(&self.inputs, &autodiff, dtype);
        let out = (self.function)(&Args::new(leaves.clone(), shapes))?;
        let upstream = normal_vector(&mut StdRng::seed_from_u64(seed), out.dims()[0]);
        let count = upstream.len();
        let up = Tensor::<1>::from_data(TensorData::new(upstream, [count]), (&autodiff, dtype));
        let output: Vec<f64> = out.to_data().convert::<f64>().iter::<f64>().collect();
        let grads = out.mul(up).sum().backward();
        let gradients = leaves
            .iter()
            .zip(&self.inputs)
            .map(|(leaf, input)| match leaf.grad(&grads) {
                Some(g) => g.to_data().convert::<f64>().iter::<f64>().collect(),
                None => vec![0.0; input.len()],
            })
            .collect();
        Ok(CaseEvaluation { output, gradients })
    }
}

impl std::fmt::Debug for GradCase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GradCase")
            .field("name", &self.name)
            .field("op", &self.op)
            .field("shapes", &self.shapes())
            .finish()
    }
}

/// Sample-input builders. Values are seeded, so every run checks the same points.
pub mod sample {
    use super::*;

    fn rng(seed: u64) -> StdRng {
        StdRng::seed_from_u64(seed)
    }

    /// Uniform values in `[low, high)`.
    pub fn uniform(name: &str, shape: &[usize], seed: u64, low: f64, high: f64) -> Input {
        let mut rng = rng(seed);
        let count = shape.iter().product();
        let values = (0..count)
            .map(|_| low + (high - low) * rng.random::<f64>())
            .collect();
        Input {
            name: name.to_string(),
            shape: shape.to_vec(),
            values,
        }
    }

    /// Uniform values in `[-1, 1)`.
    pub fn standard(name: &str, shape: &[usize], seed: u64) -> Input {
        uniform(name, shape, seed, -1.0, 1.0)
    }

    /// Values with `0.1 <= |x| < 1`: kinks at 0 (relu, abs, leaky relu, elu) lie more than
    /// `1e5 · eps` away, so central differences never straddle them.
    pub fn away_from_zero(name: &str, shape: &[usize], seed: u64) -> Input {
        let mut rng = rng(seed);
        let count = shape.iter().product();
        let values = (0..count)
            .map(|_| {
                let magnitude = 0.1 + 0.9 * rng.random::<f64>();
                if rng.random::<bool>() {
                    magnitude
                } else {
                    -magnitude
                }
            })
            .collect();
        Input {
            name: name.to_string(),
            shape: shape.to_vec(),
            values,
        }
    }

    /// Distinct values `0.1 · k` in shuffled order: no ties, so a max (pooling) has a unique
    /// arg-max that a perturbation of `eps` cannot change.
    pub fn distinct(name: &str, shape: &[usize], seed: u64) -> Input {
        let mut rng = rng(seed);
        let count: usize = shape.iter().product();
        let mut values: Vec<f64> = (0..count)
            .map(|k| 0.1 * k as f64 - 0.05 * count as f64)
            .collect();
        values.shuffle(&mut rng);
        Input {
            name: name.to_string(),
            shape: shape.to_vec(),
            values,
        }
    }
}
