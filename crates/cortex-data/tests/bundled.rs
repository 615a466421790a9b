//! Every bundled file: checksum against the data README, shapes and class counts.

use std::path::Path;

use cortex_data::{Dataset, bundled};
use sha2::{Digest, Sha256};

#[test]
fn bundled_files_match_the_readme_checksums() {
    let dir = bundled::data_dir();
    let readme = std::fs::read_to_string(dir.join("README.md")).unwrap();
    let listed: Vec<(&str, &str)> = readme
        .lines()
        .filter_map(|l| {
            let (hash, file) = l.split_once("  ")?;
            (hash.len() == 64 && hash.chars().all(|c| c.is_ascii_hexdigit()))
                .then_some((hash, file.trim()))
        })
        .collect();
    assert_eq!(listed.len(), 16, "the README lists 16 files");
    for (hash, file) in listed {
        assert_eq!(sha256(&Path::new(&dir).join(file)), hash, "{file}");
    }
}

fn sha256(path: &Path) -> String {
    let bytes = std::fs::read(path).unwrap();
    Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn the_spoken_digits_match_their_checksums_and_read_as_documented() {
    let parts = bundled::speech_digits().unwrap();
    let root = parts.train.parent().unwrap().to_path_buf();
    let sums = std::fs::read_to_string(root.join("SHA256SUMS")).unwrap();
    let listed: Vec<(&str, &str)> = sums.lines().filter_map(|l| l.split_once("  ")).collect();
    assert_eq!(listed.len(), 1300);
    for (hash, file) in listed {
        assert_eq!(sha256(&root.join(file)), hash, "{file}");
    }
    let survey = cortex_data::ClipSurvey::read(&parts.train).unwrap();
    assert_eq!(survey.sample_rate, 8000);
    assert_eq!(survey.lengths.len(), 1000);
    let words = "eight five four nine one seven six three two zero";
    assert_eq!(survey.classes.join(" "), words);
    for class in 0..10 {
        assert_eq!(survey.labels.iter().filter(|&&l| l == class).count(), 100);
    }
    let test = cortex_data::ClipSurvey::read(&parts.test).unwrap();
    assert_eq!((test.sample_rate, test.lengths.len()), (8000, 300));
    // Trimmed clips: 0.09 s (743 samples) to 1.16 s (9,256).
    let all: Vec<usize> = (0..1000).collect();
    assert_eq!(
        (survey.quantile(&all, 0.0), survey.quantile(&all, 1.0)),
        (743, 9256)
    );
}

#[test]
fn image_sets_have_the_documented_shapes_and_class_counts() {
    let mnist = bundled::mnist_subset().unwrap();
    assert_eq!((mnist.train.len(), mnist.test.len()), (7996, 2004));
    assert_eq!((mnist.train.height(), mnist.train.width()), (28, 28));
    assert_eq!(
        mnist.train.class_counts(),
        [800, 901, 792, 825, 784, 690, 811, 856, 755, 782]
    );
    assert_eq!(
        mnist.test.class_counts(),
        [201, 226, 199, 207, 196, 173, 203, 214, 189, 196]
    );
    let sample = mnist.train.get(0).unwrap();
    assert_eq!(sample.pixels.len(), 784);
    assert!(sample.pixels.iter().all(|p| (0.0..=1.0).contains(p)));
    assert!(sample.pixels.contains(&1.0), "255 maps to 1.0");
    let digits = bundled::digits8x8().unwrap();
    assert_eq!((digits.train.len(), digits.test.len()), (1437, 360));
    assert_eq!((digits.train.height(), digits.train.width()), (8, 8));
    assert_eq!(
        digits.train.class_counts(),
        [143, 146, 142, 146, 144, 145, 144, 143, 141, 143]
    );
    assert_eq!(
        digits.test.class_counts(),
        [35, 36, 35, 37, 37, 37, 37, 36, 33, 37]
    );
    assert_eq!(digits.train.max_value(), 16);
}

#[test]
fn tables_and_series_have_the_documented_shapes() {
    let counts = |ids: &[usize], k: usize| {
        (0..k)
            .map(|c| ids.iter().filter(|&&i| i == c).count())
            .collect::<Vec<_>>()
    };
    let iris = bundled::iris().unwrap();
    assert_eq!((iris.len(), iris.num_features()), (150, 4));
    assert_eq!(counts(iris.class_ids().unwrap(), 3), [50, 50, 50]);
    let wine = bundled::wine().unwrap();
    assert_eq!((wine.len(), wine.num_features()), (178, 13));
    assert_eq!(counts(wine.class_ids().unwrap(), 3), [59, 71, 48]);
    let cancer = bundled::breast_cancer().unwrap();
    assert_eq!((cancer.len(), cancer.num_features()), (569, 30));
    assert_eq!(counts(cancer.class_ids().unwrap(), 2), [212, 357]);
    let diabetes = bundled::diabetes().unwrap();
    assert_eq!((diabetes.len(), diabetes.num_features()), (442, 10));
    let cortex_data::Targets::Values(y) = diabetes.targets() else {
        panic!("regression")
    };
    assert_eq!(y.iter().copied().fold(f64::INFINITY, f64::min), 25.0);
    assert_eq!(y.iter().copied().fold(0.0, f64::max), 346.0);
    let monthly = bundled::sunspots_monthly().unwrap();
    assert_eq!(monthly.len(), 3120);
    assert_eq!(
        (monthly.labels[0].as_str(), monthly.labels[3119].as_str()),
        ("1749-01", "2008-12")
    );
    let mean = monthly.values.iter().sum::<f64>() / 3120.0;
    assert!((mean - 52.24).abs() < 0.005, "{mean}");
    let yearly = bundled::sunspots_yearly().unwrap();
    assert_eq!(yearly.len(), 309);
    let words = bundled::words().unwrap();
    assert_eq!((words.train.len(), words.test.len()), (40000, 10000));
    let languages = ["da", "de", "en", "es", "fr", "it", "nl", "pl", "pt", "sv"];
    assert_eq!(words.train.classes(), languages);
    assert_eq!(counts(words.train.labels(), 10), [4000; 10]);
    assert_eq!(counts(words.test.labels(), 10), [1000; 10]);
    // Lower-cased, alphabetic, at least three letters, no word in two languages.
    let mut seen = std::collections::HashMap::new();
    for part in [&words.train, &words.test] {
        for i in 0..part.len() {
            let word = part.text(i).unwrap();
            assert!(
                word.chars().count() >= 3 && word.chars().all(char::is_alphabetic),
                "{word}"
            );
            assert_eq!(word.to_lowercase(), word);
            let label = part.labels()[i];
            assert_eq!(
                *seen.entry(word.to_string()).or_insert(label),
                label,
                "{word}"
            );
        }
    }
    for name in bundled::NAMES.iter().filter(|n| **n != "fashion_mnist") {
        bundled::load(name).unwrap();
    }
    assert!(bundled::load("cifar").is_err());
}

#[test]
fn fashion_mnist_is_loaded_or_named_as_a_missing_package() {
    match bundled::fashion_mnist() {
        Ok(parts) => assert_eq!((parts.train.len(), parts.test.len()), (60000, 10000)),
        Err(cortex_data::Error::Unavailable { hint, .. }) => {
            assert!(hint.contains("dataset-fashion-mnist"))
        }
        Err(other) => panic!("unexpected error: {other}"),
    }
}
