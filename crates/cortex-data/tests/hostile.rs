//! Hostile inputs to the datasets and transforms: random sizes (zero included), counts that
//! disagree, class ids and indices out of range, NaN/inf values, zero batch sizes, windows
//! longer than the series — on both CPU backends every constructor, `select`, `get`, `batch`
//! and transform returns a typed error or a consistent result, never a panic.

use burn::tensor::Device;
use cortex_core::Backend;
use cortex_data::*;
use proptest::prelude::*;

/// Inputs per property.
const CASES: u32 = 1000;

#[derive(Debug, Clone)]
struct Draw {
    sizes: Vec<usize>,
    values: Vec<f64>,
    ids: Vec<usize>,
    indices: Vec<usize>,
    bytes: Vec<u8>,
    flags: Vec<bool>,
}

fn draw() -> impl Strategy<Value = Draw> {
    (
        // Mostly sizes that fit, sometimes zero.
        prop::collection::vec(prop_oneof![9 => 1usize..6, 1 => Just(0)], 6),
        prop::collection::vec(
            prop_oneof![
                6 => -3.0f64..3.0,
                1 => Just(f64::NAN),
                1 => Just(f64::INFINITY),
            ],
            1..30,
        ),
        prop::collection::vec(prop_oneof![9 => 0usize..3, 1 => 3usize..300], 1..10),
        prop::collection::vec(0usize..12, 0..8),
        prop::collection::vec(any::<u8>(), 1..40),
        // Flag 0 (a count off by one) is rare; the others are even.
        (prop::bool::weighted(0.1), any::<bool>(), any::<bool>())
            .prop_map(|(a, b, c)| vec![a, b, c]),
    )
        .prop_map(|(sizes, values, ids, indices, bytes, flags)| Draw {
            sizes,
            values,
            ids,
            indices,
            bytes,
            flags,
        })
}

/// `batch` on `indices` and `get` on each: an error or a batch, never a panic.
fn exercise<D: Dataset + ToBatch>(data: &D, indices: &[usize], device: &Device) {
    for &i in indices {
        let _ = data.get(i);
    }
    let _ = data.batch(indices, device);
}

fn tabular(d: &Draw, device: &Device) -> std::result::Result<(), TestCaseError> {
    let [rows, cols, classes, ..] = std::array::from_fn::<usize, 6, _>(|i| d.sizes[i]);
    let features: Vec<f64> = d
        .values
        .iter()
        .copied()
        .cycle()
        .take(rows * cols + usize::from(d.flags[0]))
        .collect();
    let names: Vec<String> = (0..cols).map(|c| format!("x{c}")).collect();
    let targets = if d.flags[1] {
        Targets::Classes {
            ids: d.ids.iter().copied().cycle().take(rows).collect(),
            names: (0..classes.max(3)).map(|c| format!("c{c}")).collect(),
        }
    } else {
        Targets::Values(d.values.iter().copied().cycle().take(rows).collect())
    };
    let Ok(data) = TabularDataset::new(features, names, targets) else {
        return Ok(());
    };
    prop_assert_eq!(data.features().len(), data.len() * data.num_features());
    exercise(&data, &d.indices, device);
    let _ = data.value(d.sizes[3], d.sizes[4]);
    if let Ok(part) = data.select(&d.indices) {
        prop_assert_eq!(part.len(), d.indices.len());
    }
    let _ = drop_missing(&data);
    for strategy in [
        ImputeStrategy::Mean,
        ImputeStrategy::Median,
        ImputeStrategy::Constant {
            value: d.values.first().copied().unwrap_or(0.0),
        },
    ] {
        if let Ok(imputer) = Imputer::fit(&data, strategy) {
            let _ = imputer.transform(&mut data.clone());
        }
    }
    if let Ok(s) = Standardizer::fit(&data) {
        let _ = s.transform(&mut data.clone());
        let _ = s.inverse(d.sizes[5], 1.0);
    }
    if let Ok(m) = MinMaxScaler::fit(&data, [0.0, 1.0]) {
        let _ = m.transform(&mut data.clone());
    }
    if let Ok(e) = OneHotEncoder::fit(&data) {
        let _ = e.transform(&mut data.clone());
    }
    let mut fitted = data.clone();
    if Pipeline::fit_standard(&mut fitted).is_ok() {
        prop_assert_eq!(
            fitted.features().len(),
            fitted.len() * fitted.num_features()
        );
    }
    Ok(())
}

fn images(d: &Draw, device: &Device) -> std::result::Result<(), TestCaseError> {
    let [count, height, width, max, shift, _] = std::array::from_fn::<usize, 6, _>(|i| d.sizes[i]);
    let pixels: Vec<u8> = d
        .bytes
        .iter()
        .copied()
        .cycle()
        .take(count * height * width)
        .collect();
    let labels: Vec<u8> = d
        .ids
        .iter()
        .map(|&i| i as u8)
        .cycle()
        .take(count + usize::from(d.flags[0]))
        .collect();
    let data = match ImageDataset::new(
        pixels,
        labels,
        height,
        width,
        if max > 1 { 255 } else { 16 * max as u8 },
    ) {
        Ok(data) => data,
        Err(_) => return Ok(()),
    };
    exercise(&data, &d.indices, device);
    let _ = data.raw_pixels(d.sizes[4]);
    let _ = data.label(d.sizes[5]);
    let _ = data.select(&d.indices);
    let shifted = ShiftedImages::new(data, shift, 3);
    exercise(&shifted, &d.indices, device);
    Ok(())
}

fn series(d: &Draw, device: &Device) -> std::result::Result<(), TestCaseError> {
    let [window, horizon, stride, ..] = std::array::from_fn::<usize, 6, _>(|i| d.sizes[i]);
    if let Ok(data) = windows(
        &d.values,
        WindowConfig {
            window,
            horizon,
            stride,
        },
    ) {
        exercise(&data, &d.indices, device);
    }
    let config = BatchSamplerConfig::new(d.sizes[3])
        .with_shuffle(d.flags[1])
        .with_drop_last(d.flags[2]);
    if let Ok(batcher) = BatchSampler::new(d.indices.clone(), config) {
        let batches = batcher.epoch(d.sizes[4] as u64);
        prop_assert_eq!(batches.len(), batcher.batches_per_epoch());
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    /// Any data structure and transform, any input drawn above, on each CPU backend.
    #[test]
    fn every_dataset_and_transform_returns_a_typed_error_or_a_result(kind in 0usize..3, d in draw()) {
        for backend in Backend::ALL {
            let device = backend.device();
            match kind {
                0 => tabular(&d, &device)?,
                1 => images(&d, &device)?,
                _ => series(&d, &device)?,
            }
        }
    }
}
