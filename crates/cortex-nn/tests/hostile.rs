//! Hostile inputs to the layers: random configurations (zero sizes, zero strides, bad
//! probabilities and epsilons, groups that do not divide) and random inputs (ranks, zero-sized
//! dimensions, NaN/inf values, out-of-range indices, states of the wrong shape), on both CPU
//! backends — every `init` and `forward` returns a typed error or a result, never a panic.

use burn::module::Module;
use burn::tensor::{DType, Device, Int, Tensor, TensorData};
use cortex_core::Backend;
use cortex_nn::*;
use proptest::prelude::*;

/// Inputs per property.
const CASES: u32 = 1000;

#[derive(Debug, Clone)]
struct Draw {
    /// Configuration sizes (0 included).
    sizes: Vec<usize>,
    /// Input dimensions (0 included).
    dims: Vec<usize>,
    /// Input values, cycled.
    values: Vec<f64>,
    /// Integer inputs, cycled.
    ints: Vec<i64>,
    /// Real hyper-parameters.
    reals: Vec<f64>,
    /// Flags.
    flags: Vec<bool>,
}

fn draw() -> impl Strategy<Value = Draw> {
    (
        // Mostly sizes that fit, sometimes zero.
        prop::collection::vec(prop_oneof![9 => 1usize..5, 1 => Just(0)], 6),
        prop::collection::vec(prop_oneof![9 => 1usize..6, 1 => Just(0)], 4),
        prop::collection::vec(
            prop_oneof![
                6 => -3.0f64..3.0,
                1 => Just(f64::NAN),
                1 => Just(f64::INFINITY),
                1 => Just(-1e300),
            ],
            1..16,
        ),
        prop::collection::vec(-2i64..7, 1..8),
        prop::collection::vec(
            prop_oneof![
                4 => -0.5f64..1.5,
                1 => Just(f64::NAN),
                1 => Just(f64::INFINITY),
                1 => Just(0.0),
            ],
            3,
        ),
        prop::collection::vec(any::<bool>(), 4),
    )
        .prop_map(|(sizes, dims, values, ints, reals, flags)| Draw {
            sizes,
            dims,
            values,
            ints,
            reals,
            flags,
        })
}

fn float<const D: usize>(shape: [usize; D], values: &[f64], device: &Device) -> Tensor<D> {
    let n: usize = shape.iter().product();
    let data: Vec<f64> = values.iter().copied().cycle().take(n).collect();
    let t: Tensor<D> = Tensor::from_data(TensorData::new(data, shape), (device, DType::F64));
    t.cast(DType::F32)
}

fn dims<const D: usize>(d: &Draw) -> [usize; D] {
    std::array::from_fn(|i| d.dims[i])
}

/// The drawn dimensions with dimension `at` set to `size` (what the layer expects) when
/// `fit`: half the inputs get past the shape checks into the computation.
fn fitting<const D: usize>(d: &Draw, at: usize, size: usize, fit: bool) -> [usize; D] {
    let mut shape = dims::<D>(d);
    if fit {
        shape[at] = size;
    }
    shape
}

/// A result is fine when it is an error with a message, or a tensor whose values can be read.
fn fine<T>(result: Result<T>, read: impl FnOnce(T)) -> std::result::Result<(), TestCaseError> {
    match result {
        Ok(value) => read(value),
        Err(e) => prop_assert!(!e.to_string().is_empty()),
    }
    Ok(())
}

fn read<const D: usize>(t: Tensor<D>) {
    let _ = t.into_data();
}

fn call(layer: usize, d: &Draw, device: &Device) -> std::result::Result<(), TestCaseError> {
    let [a, b, c, e, f, g] = std::array::from_fn::<usize, 6, _>(|i| d.sizes[i]);
    let [r0, r1, r2] = std::array::from_fn::<f64, 3, _>(|i| d.reals[i]);
    let flag = |i: usize| d.flags[i];
    let v = &d.values;
    match layer {
        0 => fine(
            LinearConfig::new(a, b).with_bias(flag(0)).init(device),
            |l| {
                let _ = l.forward(float::<2>(dims(d), v, device)).map(read);
                let _ = l.forward(float::<3>(dims(d), v, device)).map(read);
            },
        ),
        1 => {
            let mut config = Conv2dConfig::new(a, b, [c, e]);
            config.stride = [f, 1];
            config.groups = g;
            config.dilation = [1 + usize::from(flag(0)), 1];
            config.padding = if flag(1) {
                Padding::Same
            } else {
                Padding::Explicit([g, 0])
            };
            fine(config.init(device), |l| {
                let _ = l
                    .forward(float::<4>(fitting(d, 1, a, flag(2)), v, device))
                    .map(read);
            })
        }
        2 => {
            let mut config = Conv1dConfig::new(a, b, c);
            config.stride = e;
            config.groups = f;
            config.padding = if flag(1) {
                Padding::Same
            } else {
                Padding::Explicit(g)
            };
            fine(config.init(device), |l| {
                let _ = l
                    .forward(float::<3>(fitting(d, 1, a, flag(2)), v, device))
                    .map(read);
            })
        }
        3 => {
            let mut config = BatchNormConfig::new(a);
            config.eps = r0;
            config.momentum = r1;
            config.affine = flag(0);
            config.track_running_stats = flag(1);
            fine(config.init(device), |l| {
                let l = if flag(2) { l } else { l.valid() };
                let _ = l
                    .forward(float::<3>(fitting(d, 1, a, flag(3)), v, device))
                    .map(read);
                let _ = l
                    .forward(float::<2>(fitting(d, 1, a, true), v, device))
                    .map(read);
            })
        }
        4 => {
            let mut config = LayerNormConfig::new(vec![a, b][..1 + usize::from(flag(0))].to_vec());
            config.eps = r2;
            fine(config.init(device), |l| {
                let _ = l.forward(float::<3>(dims(d), v, device)).map(read);
            })
        }
        5 => {
            let mut config = EmbeddingConfig::new(a, b);
            config.padding_idx = flag(0).then_some(c);
            fine(config.init(device), |l| {
                let n: usize = d.dims[..2].iter().product();
                let ids: Vec<i64> = d.ints.iter().copied().cycle().take(n).collect();
                let ids: Tensor<2, Int> =
                    Tensor::from_data(TensorData::new(ids, [d.dims[0], d.dims[1]]), device);
                let out: Result<Tensor<3>> = l.forward(ids);
                let _ = out.map(read);
            })
        }
        6 => fine(DropoutConfig::new(r0).init(), |l| {
            let _ = l.forward(float::<2>(dims(d), v, device)).map(read);
        }),
        7..=9 => {
            let h0 = flag(2).then(|| float::<3>([c, d.dims[0], b], v, device));
            let x = float::<3>(fitting(d, 2, a, flag(3)), v, device);
            match layer {
                7 => fine(
                    LstmConfig::new(a, b)
                        .with_num_layers(c)
                        .with_bidirectional(flag(0))
                        .with_dropout(r0)
                        .init(device),
                    |l| {
                        let state = h0.map(|h| LstmState { h: h.clone(), c: h });
                        let _ = l.forward(x, state).map(|o| read(o.output));
                    },
                ),
                8 => fine(
                    GruConfig::new(a, b)
                        .with_num_layers(c)
                        .with_bidirectional(flag(0))
                        .with_dropout(r0)
                        .init(device),
                    |l| {
                        let _ = l.forward(x, h0).map(|o| read(o.output));
                    },
                ),
                _ => fine(RnnConfig::new(a, b).with_num_layers(c).init(device), |l| {
                    let _ = l.forward(x, h0).map(|o| read(o.output));
                }),
            }
        }
        10 => fine(
            MlpConfig::new(a, vec![b, c][..usize::from(flag(0)) * 2].to_vec(), e)
                .with_dropout(r0)
                .init(device),
            |m| {
                let _ = m
                    .forward(float::<2>(fitting(d, 1, a, flag(1)), v, device))
                    .map(read);
            },
        ),
        _ => unreachable!("layer index out of the table"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    /// Any layer, any configuration and input drawn above, on each CPU backend.
    #[test]
    fn every_layer_returns_a_typed_error_or_a_result(layer in 0usize..11, d in draw()) {
        for backend in Backend::ALL {
            call(layer, &d, &backend.autodiff_device())?;
        }
    }
}
