//! Property tests: the readers never panic on random or mutated bytes (fuzzing), splits and
//! batches never lose or duplicate a sample, fitted transforms use the training statistics.

use std::io::Write;
use std::path::Path;

use cortex_data::*;
use proptest::prelude::*;

/// Inputs per fuzz property (five properties: 5 × this many inputs per run).
const FUZZ_CASES: u32 = 1000;

fn valid_idx() -> Vec<u8> {
    let mut bytes = vec![0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 2];
    bytes.extend(0..12u8);
    bytes
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

const VALID_CSV: &str = "a,b,kind,y\n1.5,2,red,0\n-3,4e2,blue,1\n,7,red,2\n";

/// Applies byte edits (position, value, operation) to `bytes`.
fn mutate(mut bytes: Vec<u8>, edits: &[(usize, u8, u8)]) -> Vec<u8> {
    for &(at, value, op) in edits {
        let at = if bytes.is_empty() {
            0
        } else {
            at % (bytes.len() + 1)
        };
        match op % 3 {
            0 if at < bytes.len() => bytes[at] = value,
            1 => bytes.insert(at, value),
            _ if at < bytes.len() => {
                bytes.remove(at);
            }
            _ => {}
        }
    }
    bytes
}

/// The part sizes the split's documented rule gives groups of `counts` samples: per group
/// `round(c·train)`, `round(c·validation)` (capped by what is left), the rest; summed.
fn part_sizes(counts: &[usize], [train, validation, _]: [f64; 3]) -> [usize; 3] {
    let mut sizes = [0; 3];
    for &c in counts {
        let t = ((c as f64 * train).round() as usize).min(c);
        let v = ((c as f64 * validation).round() as usize).min(c - t);
        sizes[0] += t;
        sizes[1] += v;
        sizes[2] += c - t - v;
    }
    sizes
}

fn csv_options() -> CsvOptions {
    CsvOptions::new("y")
        .with_categorical(vec!["kind".into()])
        .with_missing(MissingPolicy::Keep)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(FUZZ_CASES))]

    #[test]
    fn idx_reader_never_panics_on_random_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        let _ = parse_idx(&bytes, Path::new("fuzz"));
    }

    #[test]
    fn idx_reader_never_panics_on_mutated_files(
        edits in proptest::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 1..6),
        compressed in any::<bool>(),
    ) {
        let base = if compressed { gzip(&valid_idx()) } else { valid_idx() };
        let bytes = mutate(base, &edits);
        if let Ok(array) = parse_idx(&bytes, Path::new("fuzz")) {
            // Whatever parses is self-consistent.
            prop_assert_eq!(array.dims.iter().product::<usize>(), array.data.len());
        }
    }

    #[test]
    fn csv_reader_never_panics_on_random_text(bytes in proptest::collection::vec(any::<u8>(), 0..96)) {
        let _ = parse_csv(bytes.as_slice(), Path::new("fuzz"), &csv_options());
    }

    #[test]
    fn csv_reader_never_panics_on_mutated_files(
        edits in proptest::collection::vec((any::<usize>(), prop::sample::select(b",\n\"ab1.-eNA ".to_vec()), any::<u8>()), 1..8),
    ) {
        let bytes = mutate(VALID_CSV.as_bytes().to_vec(), &edits);
        if let Ok(data) = parse_csv(bytes.as_slice(), Path::new("fuzz"), &csv_options()) {
            prop_assert_eq!(data.features().len(), data.len() * data.num_features());
        }
    }

    /// A saved pipeline (JSON), edited anyhow — digits, signs, brackets, quotes — either
    /// fails to parse or, applied to data, gives a consistent dataset or a typed error: never
    /// a panic.
    #[test]
    fn a_mutated_saved_pipeline_never_panics(
        edits in proptest::collection::vec((any::<usize>(), prop::sample::select(b"0123456789-.e,[]{}\"a ".to_vec()), any::<u8>()), 1..6),
    ) {
        let data = parse_csv(VALID_CSV.as_bytes(), Path::new("fitted"), &csv_options()).unwrap();
        let mut train = data.clone();
        let pipeline = Pipeline::fit_standard(&mut train).unwrap();
        let saved = serde_json::to_vec(&pipeline).unwrap();
        let bytes = mutate(saved, &edits);
        if let Ok(loaded) = serde_json::from_slice::<Pipeline>(&bytes) {
            let mut fresh = data.clone();
            if loaded.transform(&mut fresh).is_ok() {
                prop_assert_eq!(fresh.features().len(), fresh.len() * fresh.num_features());
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn splits_are_disjoint_covering_and_deterministic(
        n in 1usize..300, train in 0.0f64..1.0, share in 0.0f64..1.0, seed in any::<u64>(),
    ) {
        let validation = (1.0 - train) * share;
        let config = SplitConfig::new(train, validation, 1.0 - train - validation).with_seed(seed);
        let fractions = [config.train, config.validation, config.test];
        let parts = match split(n, &config, None) {
            Ok(parts) => parts,
            Err(Error::Empty { .. }) => {
                // Only when a part asked for gets no sample.
                let sizes = part_sizes(&[n], fractions);
                prop_assert!((0..3).any(|k| fractions[k] > 0.0 && sizes[k] == 0), "{:?}", sizes);
                return Ok(());
            }
            Err(e) => return Err(TestCaseError::fail(e.to_string())),
        };
        let mut all: Vec<usize> = parts.train.iter().chain(&parts.validation).chain(&parts.test).copied().collect();
        all.sort_unstable();
        prop_assert_eq!(all, (0..n).collect::<Vec<_>>());
        prop_assert_eq!(split(n, &config, None).unwrap(), parts);
    }

    #[test]
    fn stratified_splits_keep_class_shares_within_one_sample(
        labels in proptest::collection::vec(0usize..4, 1..300), seed in any::<u64>(),
    ) {
        let (train, validation, test) = (0.6, 0.25, 0.15);
        let config = SplitConfig::new(train, validation, test).with_seed(seed).stratified();
        let counts: Vec<usize> = (0..4).map(|c| labels.iter().filter(|&&l| l == c).count()).collect();
        let sizes = part_sizes(&counts, [train, validation, test]);
        let parts = match split(labels.len(), &config, Some(&labels)) {
            Ok(parts) => parts,
            Err(Error::Empty { .. }) => {
                prop_assert!(sizes.contains(&0), "{:?}", sizes);
                return Ok(());
            }
            Err(e) => return Err(TestCaseError::fail(e.to_string())),
        };
        prop_assert!(!sizes.contains(&0));
        for class in 0..4 {
            let total = labels.iter().filter(|&&l| l == class).count() as f64;
            for (part, fraction) in [(&parts.train, train), (&parts.validation, validation), (&parts.test, test)] {
                let count = part.iter().filter(|&&i| labels[i] == class).count() as f64;
                prop_assert!((count - total * fraction).abs() <= 1.0, "class {} {} vs {}", class, count, total * fraction);
            }
        }
    }

    #[test]
    fn every_epoch_visits_each_sample_once(
        n in 1usize..200, batch_size in 1usize..40, seed in any::<u64>(), epoch in 0u64..5,
    ) {
        let batcher = BatchSampler::new((0..n).collect(), BatchSamplerConfig::new(batch_size).with_seed(seed)).unwrap();
        let batches = batcher.epoch(epoch);
        prop_assert_eq!(batches.len(), batcher.batches_per_epoch());
        prop_assert!(batches.iter().all(|b| b.len() <= batch_size));
        let mut seen: Vec<usize> = batches.concat();
        prop_assert_eq!(&batcher.epoch(epoch).concat(), &seen, "same seed, same order");
        seen.sort_unstable();
        prop_assert_eq!(seen, (0..n).collect::<Vec<_>>());
        let dropping = BatchSampler::new((0..n).collect(), BatchSamplerConfig::new(batch_size).with_drop_last(true)).unwrap();
        let kept: usize = dropping.epoch(epoch).iter().map(Vec::len).sum();
        prop_assert_eq!(kept, n / batch_size * batch_size);
    }
}

#[test]
fn epochs_are_reshuffled_and_windows_slide() {
    let batcher =
        BatchSampler::new((0..100).collect(), BatchSamplerConfig::new(10).with_seed(3)).unwrap();
    assert_ne!(batcher.epoch(0), batcher.epoch(1));
    let fixed = BatchSampler::new(
        (0..5).collect(),
        BatchSamplerConfig::new(2).with_shuffle(false),
    )
    .unwrap();
    assert_eq!(fixed.epoch(4), vec![vec![0, 1], vec![2, 3], vec![4]]);
    let series: Vec<f64> = (0..10).map(f64::from).collect();
    let w = windows(
        &series,
        WindowConfig {
            window: 3,
            horizon: 2,
            stride: 2,
        },
    )
    .unwrap();
    assert_eq!(w.len(), 3);
    let second = w.get(1).unwrap();
    assert_eq!(
        (second.inputs, second.targets),
        (vec![2.0, 3.0, 4.0], vec![5.0, 6.0])
    );
    let batch = w.batch(&[2, 0], &burn::tensor::Device::flex()).unwrap();
    assert_eq!(batch.inputs.dims(), [2, 3, 1]);
    assert_eq!(
        batch.targets.into_data().iter::<f32>().collect::<Vec<_>>(),
        vec![7.0, 8.0, 3.0, 4.0]
    );
}

#[test]
fn fitted_transforms_use_training_statistics_only() {
    let data = bundled::wine().unwrap();
    let parts = split(
        data.len(),
        &SplitConfig::new(0.7, 0.0, 0.3).with_seed(1).stratified(),
        data.class_ids(),
    )
    .unwrap();
    let (mut train, mut test) = (
        data.select(&parts.train).unwrap(),
        data.select(&parts.test).unwrap(),
    );
    let raw_test = test.clone();
    let standardizer = Standardizer::fit(&train).unwrap();
    standardizer.transform(&mut train).unwrap();
    standardizer.transform(&mut test).unwrap();
    for c in 0..train.num_features() {
        let column: Vec<f64> = (0..train.len())
            .map(|r| train.value(r, c).unwrap())
            .collect();
        let mean = column.iter().sum::<f64>() / column.len() as f64;
        let std =
            (column.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / column.len() as f64).sqrt();
        assert!(
            mean.abs() < 1e-6 && (std - 1.0).abs() < 1e-6,
            "column {c}: mean {mean}, std {std}"
        );
        // The test split is shifted and scaled by the training statistics.
        let expected =
            (raw_test.value(0, c).unwrap() - standardizer.mean[c]) / standardizer.scale[c];
        assert!((test.value(0, c).unwrap() - expected).abs() < 1e-12);
    }
    // Serde round trip: a model can ship with its preprocessing.
    let json = serde_json::to_string(&Pipeline {
        steps: vec![Preprocessor::Standardize(standardizer.clone())],
    })
    .unwrap();
    let back: Pipeline = serde_json::from_str(&json).unwrap();
    assert_eq!(back.steps, vec![Preprocessor::Standardize(standardizer)]);
}

#[test]
fn a_categorical_column_with_missing_cells_takes_its_most_frequent_category() {
    // The Palmer penguins case: `sex` has NA cells. A mean of the category codes (0.4957…)
    // is no category, and one-hot encoding rejected it.
    let text = "island,sex,mass,species\nBiscoe,male,3750,0\nDream,NA,3800,1\nBiscoe,female,3250,0\nDream,female,4000,1\nTorgersen,female,3450,0\n";
    let options = CsvOptions::new("species")
        .with_categorical(vec!["island".into(), "sex".into()])
        .with_missing(MissingPolicy::Keep);
    let mut data = parse_csv(text.as_bytes(), Path::new("penguins.csv"), &options).unwrap();
    for strategy in [ImputeStrategy::Mean, ImputeStrategy::Median] {
        let imputer = Imputer::fit(&data, strategy).unwrap();
        // sex: female (code 0) three times, male once → female.
        assert_eq!(imputer.fill[1], 0.0, "{strategy:?}");
        // mass, numeric: the mean (3650) or the median (3750).
        let numeric = if strategy == ImputeStrategy::Mean {
            3650.0
        } else {
            3750.0
        };
        assert_eq!(imputer.fill[2], numeric);
    }
    assert!(matches!(
        Imputer::fit(&data, ImputeStrategy::Constant { value: 0.5 }),
        Err(Error::InvalidArgument(InvalidValue {
            argument: "value",
            ..
        }))
    ));
    Pipeline::fit_standard(&mut data).unwrap();
    let names = data.feature_names();
    let female = names.iter().position(|n| n == "sex=female").unwrap();
    assert!(
        data.value(1, female).unwrap() > 0.0,
        "the NA row is one-hot female"
    );
    assert!(data.features().iter().all(|v| v.is_finite()));
}

#[test]
fn constant_columns_missing_values_and_one_hot() {
    let text = "c,x,kind,y\n5,1,red,0\n5,NA,blue,1\n5,3,red,0\n5,5,green,1\n";
    let options = CsvOptions::new("y")
        .with_categorical(vec!["kind".into()])
        .with_missing(MissingPolicy::Keep);
    let mut data = parse_csv(text.as_bytes(), Path::new("mem.csv"), &options).unwrap();
    assert!(matches!(
        Standardizer::fit(&data),
        Err(Error::MissingValue { row: 1, .. })
    ));
    let (dropped, count) = drop_missing(&data).unwrap();
    assert_eq!((dropped.len(), count), (3, 1));
    let median = Imputer::fit(&data, ImputeStrategy::Median).unwrap();
    assert_eq!(median.fill[1], 3.0);
    let pipeline = Pipeline::fit_standard(&mut data).unwrap();
    assert_eq!(pipeline.steps.len(), 3, "impute, one-hot, standardize");
    assert_eq!(
        data.feature_names(),
        ["c", "x", "kind=blue", "kind=green", "kind=red"]
    );
    // The constant column is centred, not divided by zero.
    assert!((0..4).all(|r| data.value(r, 0) == Some(0.0)));
    assert!(data.features().iter().all(|v| v.is_finite()));
    let scaler = MinMaxScaler::fit(&data, [-1.0, 1.0]).unwrap();
    scaler.transform(&mut data).unwrap();
    assert!(
        (0..4).all(|r| data.value(r, 0) == Some(-1.0)),
        "constant column maps to the low end"
    );
    assert!(data.features().iter().all(|v| (-1.0..=1.0).contains(v)));
    assert!(matches!(
        MinMaxScaler::fit(&data, [1.0, 1.0]),
        Err(Error::InvalidArgument(InvalidValue { .. }))
    ));
}

/// A subset batches through its dataset: batch `[0, 2]` of `subset([5, 9, 1])` is the
/// dataset's batch `[5, 1]`, so a subset can feed a trainer directly.
#[test]
fn a_subset_batches_through_its_dataset() {
    let device = burn::tensor::Device::flex();
    let iris = bundled::iris().unwrap();
    let expected = iris.batch(&[5, 1], &device).unwrap();
    let subset = iris.clone().subset(vec![5, 9, 1]).unwrap();
    let got = subset.batch(&[0, 2], &device).unwrap();
    assert_eq!(got.features.to_data(), expected.features.to_data());
    assert_eq!(
        got.class_ids().unwrap().to_data(),
        expected.class_ids().unwrap().to_data()
    );
    assert!(matches!(
        subset.batch(&[3], &device),
        Err(Error::InvalidArgument(InvalidValue { .. }))
    ));
}
