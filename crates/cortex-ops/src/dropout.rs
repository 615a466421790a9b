//! Dropout with a seeded mask and inverted scaling.

use std::sync::Mutex;

use burn::tensor::{Distribution, Tensor, TensorData};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use crate::check;
use crate::error::Result;
use cortex_core::is_host_device;

/// Serialises "seed the device, draw" pairs: burn's device generators are global, so two
/// threads drawing at once could otherwise interleave and take each other's sequence.
static DEVICE_DRAW: Mutex<()> = Mutex::new(());

/// Zeroes each element with probability `p` and scales the survivors by `1 / (1 - p)`, so the
/// expected value is unchanged; the identity when `training` is false or `p` is 0.
///
/// The mask is a function of `seed`: callers advance the seed between steps (a training loop
/// derives it from its run context, [`crate::random::step_draw`]). On the CPU backends (flex,
/// ndarray) it is drawn from a `StdRng` on the host — the same seed gives the same mask on
/// both; on any other device it is drawn on the device by burn's generator seeded with `seed`
/// (no host-to-device copy per step), reproducible on that device.
///
/// # Errors
/// `InvalidArgument` when `p` is outside `[0, 1)`.
///
/// # Shapes
/// Any shape; the output has the input's shape.
///
/// ```
/// # use burn::tensor::{Device, Tensor};
/// let x = Tensor::<1>::ones([1000], &Device::flex());
/// let y = cortex_ops::dropout(x, 0.5, true, 7).unwrap();
/// let kept = y.into_data().iter::<f32>().filter(|v| *v == 2.0).count();
/// assert!((400..600).contains(&kept));
/// ```
pub fn dropout<const D: usize>(
    x: Tensor<D>,
    p: f64,
    training: bool,
    seed: u64,
) -> Result<Tensor<D>> {
    if !(0.0..1.0).contains(&p) {
        return Err(check::invalid("dropout", "p", "in [0, 1)", p));
    }
    if !training || p == 0.0 {
        return Ok(x);
    }
    let scale = 1.0 / (1.0 - p);
    if !is_host_device(&x.device()) {
        let mask = {
            // A poisoned lock only means another draw panicked; the guard protects no data.
            let _draw = DEVICE_DRAW.lock().unwrap_or_else(|e| e.into_inner());
            x.device().seed(seed);
            x.random_like(Distribution::Bernoulli(1.0 - p))
        };
        return Ok(x.mul(mask.mul_scalar(scale)));
    }
    let dims = x.dims();
    let mask = host_mask(seed, dims.iter().product(), p, scale);
    let mask = Tensor::<D>::from_data(TensorData::new(mask, dims), (&x.device(), x.dtype()));
    Ok(x.mul(mask))
}

/// `count` mask values from `StdRng` seeded with `seed`: 0 with probability `p`, `scale`
/// otherwise. Not generic, so that the generator is compiled here, in this crate's profile,
/// rather than unoptimised in each caller's (42% of a dev-profile `mlp` example's time).
fn host_mask(seed: u64, count: usize, p: f64, scale: f64) -> Vec<f64> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..count)
        .map(|_| if rng.random::<f64>() < p { 0.0 } else { scale })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Error;
    use crate::error::InvalidValue;
    use crate::testing::{devices, tensor, values};

    #[test]
    fn seeded_inverted_dropout() {
        for device in devices() {
            let x = tensor(&[1.0; 10_000], [100, 100], &device);
            let a = values(&dropout(x.clone(), 0.25, true, 3).unwrap());
            let b = values(&dropout(x.clone(), 0.25, true, 3).unwrap());
            let c = values(&dropout(x.clone(), 0.25, true, 4).unwrap());
            assert_eq!(a, b, "same seed, same mask");
            assert_ne!(a, c, "another seed, another mask");
            assert!(
                a.iter()
                    .all(|v| *v == 0.0 || (*v - 4.0 / 3.0).abs() < 1e-12)
            );
            let dropped = a.iter().filter(|v| **v == 0.0).count();
            // Binomial(10000, 0.25): mean 2500, sd 43; 5 sd either side.
            assert!((2285..=2715).contains(&dropped), "{dropped}");
            assert_eq!(
                values(&dropout(x.clone(), 0.25, false, 3).unwrap()),
                values(&x)
            );
            assert_eq!(
                values(&dropout(x.clone(), 0.0, true, 3).unwrap()),
                values(&x)
            );
        }
    }

    #[test]
    fn probability_outside_zero_one_is_an_error() {
        let device = devices().remove(0);
        let x = tensor(&[1.0], [1], &device);
        for p in [1.0, -0.1, f64::NAN] {
            assert!(matches!(
                dropout(x.clone(), p, true, 0),
                Err(Error::InvalidArgument(InvalidValue {
                    owner: "dropout",
                    argument: "p",
                    ..
                }))
            ));
        }
    }
}
