//! Gradient clipping over a whole module: by global norm (all gradients scaled together, as
//! `torch.nn.utils.clip_grad_norm_`) or by value (each element clamped).

use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result, positive};

/// How to clip gradients before a step.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum GradClipping {
    /// Scale every gradient by `max_norm / (‖g‖ + 1e-6)` when the global L2 norm `‖g‖`
    /// exceeds `max_norm`.
    Norm {
        /// The bound (finite, > 0).
        max_norm: f64,
    },
    /// Clamp every element to `[-max, max]`.
    Value {
        /// The bound (finite, > 0).
        max: f64,
    },
}

impl GradClipping {
    /// Checks the bound.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for a bound that is not finite and positive.
    pub fn validate(&self) -> Result<()> {
        match *self {
            GradClipping::Norm { max_norm } => positive("GradClipping::Norm", "max_norm", max_norm),
            GradClipping::Value { max } => positive("GradClipping::Value", "max", max),
        }
    }

    /// Clips the gradients of `module`'s parameters; returns them with the global norm
    /// measured before clipping.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for a bad bound; [`Error::NonFiniteGradient`] when a gradient
    /// holds NaN or inf (norm clipping only: a value clamp cannot repair it either, but leaves
    /// the NaN for the caller's loss check).
    pub fn clip<M: Module>(
        &self,
        module: &M,
        grads: GradientsParams,
    ) -> Result<(GradientsParams, f64)> {
        self.validate()?;
        let norm = global_norm(module, &grads);
        match *self {
            GradClipping::Norm { max_norm } => {
                if !norm.is_finite() {
                    return Err(Error::NonFiniteGradient { norm });
                }
                let coefficient = max_norm / (norm + 1e-6);
                if coefficient < 1.0 {
                    return Ok((
                        transform(module, grads, |g| g.mul_scalar(coefficient)),
                        norm,
                    ));
                }
                Ok((grads, norm))
            }
            GradClipping::Value { max } => {
                Ok((transform(module, grads, |g| g.clamp(-max, max)), norm))
            }
        }
    }
}

impl GradClipping {
    /// As [`GradClipping::clip`] without reading anything back to the host: the global norm
    /// and the coefficient `min(1, max_norm / (‖g‖ + 1e-6))` stay tensors on the gradients'
    /// device (what `torch.nn.utils.clip_grad_norm_` computes), so a step on a GPU needs no
    /// synchronisation. A NaN/inf gradient is not reported here: it reaches the parameters
    /// and the next loss, where the training loop's check names the step.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for a bad bound.
    pub fn clip_on_device<M: Module>(
        &self,
        module: &M,
        grads: GradientsParams,
    ) -> Result<GradientsParams> {
        self.validate()?;
        match *self {
            GradClipping::Norm { max_norm } => {
                let Some(norm) = global_norm_tensor(module, &grads) else {
                    return Ok(grads);
                };
                let coefficient = norm
                    .add_scalar(1e-6)
                    .recip()
                    .mul_scalar(max_norm)
                    .clamp_max(1.0);
                Ok(transform(module, grads, |g| {
                    let (n, dtype) = (g.dims()[0], g.dtype());
                    g.mul(coefficient.clone().cast(dtype).expand([n]))
                }))
            }
            GradClipping::Value { max } => Ok(transform(module, grads, |g| g.clamp(-max, max))),
        }
    }
}

/// `‖g‖` over all of `module`'s gradients as a `[1]` tensor on their device (f32 sums);
/// `None` when no parameter has a gradient.
fn global_norm_tensor<M: Module>(module: &M, grads: &GradientsParams) -> Option<Tensor<1>> {
    let mut total: Option<Tensor<1>> = None;
    each_sum_of_squares(module, grads, |squares| {
        let squares = squares.cast(burn::tensor::DType::F32);
        total = Some(match total.take() {
            Some(total) => total.add(squares),
            None => squares,
        });
    });
    total.map(Tensor::sqrt)
}

/// The L2 norm of all of `module`'s gradients together, `√Σ g²` (accumulated in f64).
pub fn global_norm<M: Module>(module: &M, grads: &GradientsParams) -> f64 {
    let mut total = 0.0;
    each_sum_of_squares(module, grads, |squares| {
        total += squares.into_scalar::<f64>();
    });
    total.sqrt()
}

/// Calls `f` with `Σ g²` (a `[1]` tensor) of each of `module`'s gradients.
fn each_sum_of_squares<M: Module>(module: &M, grads: &GradientsParams, f: impl FnMut(Tensor<1>)) {
    struct SumOfSquares<'a, F> {
        grads: &'a GradientsParams,
        f: F,
    }
    impl<F: FnMut(Tensor<1>)> ModuleVisitor for SumOfSquares<'_, F> {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            if let Some(g) = self.grads.get::<D>(param.id) {
                (self.f)((g.clone() * g).sum());
            }
        }
    }
    module.visit(&mut SumOfSquares { grads, f });
}

/// Applies `f` to every gradient of `module`'s parameters.
fn transform<M: Module>(
    module: &M,
    mut grads: GradientsParams,
    f: impl Fn(Tensor<1>) -> Tensor<1>,
) -> GradientsParams {
    struct Apply<'a, F> {
        grads: &'a mut GradientsParams,
        f: F,
    }
    impl<F: Fn(Tensor<1>) -> Tensor<1>> ModuleVisitor for Apply<'_, F> {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            if let Some(g) = self.grads.remove::<D>(param.id) {
                let dims = g.dims();
                let flat: Tensor<1> = g.reshape([dims.iter().product::<usize>()]);
                self.grads.register(param.id, (self.f)(flat).reshape(dims));
            }
        }
    }
    module.visit(&mut Apply {
        grads: &mut grads,
        f,
    });
    grads
}
