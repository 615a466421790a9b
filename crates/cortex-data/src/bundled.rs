//! The real datasets bundled with the crate (`data/`, see its README for sources, licences
//! and checksums), loaders for any IDX folder, and Fashion-MNIST where Debian's
//! `dataset-fashion-mnist` package installed it.

use std::path::{Path, PathBuf};

use crate::csv::{CsvOptions, Table, TargetKind, read_csv};
use crate::dataset::{ImageDataset, TabularDataset, Targets};
use crate::error::{Cause, Error, Result};
use crate::series::Series;
use crate::text::LabelledTexts;

/// Names accepted by [`load`].
pub const NAMES: &[&str] = &[
    "mnist_subset",
    "digits8x8",
    "iris",
    "wine",
    "breast_cancer",
    "diabetes",
    "sunspots_monthly",
    "sunspots_yearly",
    "words",
    "fashion_mnist",
];

/// Where Debian's `dataset-fashion-mnist` installs its files.
pub const FASHION_MNIST_DIR: &str = "/usr/share/datasets/fashion-mnist";

/// The directory of the bundled data: `CORTEX_DATA_DIR` if set, else the crate's `data/`.
pub fn data_dir() -> PathBuf {
    std::env::var_os("CORTEX_DATA_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data"))
}

/// A dataset's training and test parts.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainTest<D> {
    /// Training part.
    pub train: D,
    /// Test part.
    pub test: D,
}

/// `{dir}/{stem}` or `{dir}/{stem}.gz`, whichever exists.
fn idx_file(dir: &Path, stem: &str) -> Result<PathBuf> {
    let plain = dir.join(stem);
    let gz = dir.join(format!("{stem}.gz"));
    [gz.clone(), plain.clone()]
        .into_iter()
        .find(|p| p.is_file())
        .ok_or_else(|| Error::Io {
            path: plain,
            source: Cause::message(format!("neither it nor {} exists", gz.display())),
        })
}

/// Reads an MNIST-style folder: `train-images-idx3-ubyte[.gz]`, `train-labels-idx1-ubyte[.gz]`,
/// `t10k-…` or `test-…` likewise; pixels scaled by `max_value`.
///
/// # Errors
/// [`Error::Io`] for a missing file; the IDX reader's errors.
pub fn idx_folder(dir: impl AsRef<Path>, max_value: u8) -> Result<TrainTest<ImageDataset>> {
    let dir = dir.as_ref();
    let part = |prefix: &str| -> Result<ImageDataset> {
        ImageDataset::from_idx(
            idx_file(dir, &format!("{prefix}-images-idx3-ubyte"))?,
            idx_file(dir, &format!("{prefix}-labels-idx1-ubyte"))?,
            max_value,
        )
    };
    let test_prefix = if idx_file(dir, "t10k-images-idx3-ubyte").is_ok() {
        "t10k"
    } else {
        "test"
    };
    Ok(TrainTest {
        train: part("train")?,
        test: part(test_prefix)?,
    })
}

/// 10,000 real MNIST digits (7,996 train / 2,004 test), 28x28, pixels 0..255.
///
/// # Errors
/// As [`idx_folder`].
pub fn mnist_subset() -> Result<TrainTest<ImageDataset>> {
    idx_folder(data_dir().join("mnist_subset"), 255)
}

/// The UCI 8x8 digits (1,437 train / 360 test), pixels 0..16.
///
/// # Errors
/// As [`idx_folder`].
pub fn digits8x8() -> Result<TrainTest<ImageDataset>> {
    idx_folder(data_dir().join("digits8x8"), 16)
}

/// Full Fashion-MNIST (60,000 / 10,000) from [`FASHION_MNIST_DIR`] (or
/// `CORTEX_FASHION_MNIST_DIR`).
///
/// # Errors
/// [`Error::Unavailable`] naming the Debian package when the folder is absent.
pub fn fashion_mnist() -> Result<TrainTest<ImageDataset>> {
    let dir = std::env::var_os("CORTEX_FASHION_MNIST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(FASHION_MNIST_DIR));
    if !dir.is_dir() {
        return Err(Error::Unavailable {
            name: "fashion_mnist".to_string(),
            path: dir,
            hint: "install Debian's package `dataset-fashion-mnist` (apt-get install dataset-fashion-mnist), \
                   or point CORTEX_FASHION_MNIST_DIR at a folder of its IDX files"
                .to_string(),
        });
    }
    idx_folder(dir, 255)
}

fn classes(file: &str, names: &[&str]) -> Result<TabularDataset> {
    let path = data_dir().join("tabular").join(file);
    let data = read_csv(
        &path,
        &CsvOptions::new("target").with_target_kind(TargetKind::Classes),
    )?;
    let Targets::Classes { ids, names: found } = data.targets().clone() else {
        return Err(Error::ShapeMismatch {
            what: "bundled classes",
            expected: "class targets".to_string(),
            got: "values".to_string(),
        });
    };
    if found.len() != names.len() {
        return Err(Error::ShapeMismatch {
            what: "bundled classes",
            expected: format!("{} classes", names.len()),
            got: found.len().to_string(),
        });
    }
    let names = names.iter().map(|n| n.to_string()).collect();
    TabularDataset::new(
        data.features().to_vec(),
        data.feature_names().to_vec(),
        Targets::Classes { ids, names },
    )
}

/// Fisher's iris: 150 rows, 4 features, 3 classes (setosa, versicolor, virginica).
///
/// # Errors
/// The CSV reader's errors.
pub fn iris() -> Result<TabularDataset> {
    classes("iris.csv", &["setosa", "versicolor", "virginica"])
}

/// UCI wine: 178 rows, 13 features, 3 classes.
///
/// # Errors
/// The CSV reader's errors.
pub fn wine() -> Result<TabularDataset> {
    classes("wine.csv", &["class_0", "class_1", "class_2"])
}

/// Breast Cancer Wisconsin (diagnostic): 569 rows, 30 features, malignant (0) / benign (1).
///
/// # Errors
/// The CSV reader's errors.
pub fn breast_cancer() -> Result<TabularDataset> {
    classes("breast_cancer.csv", &["malignant", "benign"])
}

/// Diabetes (Efron et al. 2004): 442 rows, 10 raw features, disease progression target.
///
/// # Errors
/// The CSV reader's errors.
pub fn diabetes() -> Result<TabularDataset> {
    read_csv(
        data_dir().join("tabular/diabetes.csv"),
        &CsvOptions::new("target").with_target_kind(TargetKind::Values),
    )
}

/// Monthly sunspot numbers, 1749-01 .. 2008-12 (3,120 points).
///
/// # Errors
/// The CSV reader's errors.
pub fn sunspots_monthly() -> Result<Series> {
    Series::read_csv(
        data_dir().join("timeseries/sunspots_monthly.csv"),
        "sunspots",
    )
}

/// Yearly sunspot numbers, 1700 .. 2008 (309 points).
///
/// # Errors
/// The CSV reader's errors.
pub fn sunspots_yearly() -> Result<Series> {
    Series::read_csv(
        data_dir().join("timeseries/sunspots_yearly.csv"),
        "sunspots",
    )
}

/// The folders of the bundled spoken digits: `train/` and `test/`, each `<word>/*.wav` for
/// the words zero … nine (130 clips a word, 8 kHz, 8-bit), synthesized with eSpeak NG over
/// English accents, voice variants, rates and pitches (`data/speech/make_digits.py`); `test/`
/// speaks only with voice variants that `train/` never uses. Read them with
/// [`crate::AudioFolder`].
///
/// # Errors
/// [`Error::Unavailable`] when the folders are missing (a data directory without them).
pub fn speech_digits() -> Result<TrainTest<PathBuf>> {
    let dir = data_dir().join("speech/digits");
    let parts = TrainTest {
        train: dir.join("train"),
        test: dir.join("test"),
    };
    if !(parts.train.is_dir() && parts.test.is_dir()) {
        return Err(Error::Unavailable {
            name: "speech_digits".to_string(),
            path: dir,
            hint: "run data/speech/make_digits.py DIR to synthesize the clips (Debian's espeak-ng and sox), \
                   or point CORTEX_DATA_DIR at a data folder that has speech/digits"
                .to_string(),
        });
    }
    Ok(parts)
}

/// Single words of ten languages (da, de, en, es, fr, it, nl, pl, pt, sv), 4,000 training and
/// 1,000 test words each, from Debian's word-list packages (lower-cased, alphabetic, at least
/// 3 letters, no word in two lists; `data/text/make_words.py`): language identification.
///
/// # Errors
/// The CSV reader's errors; [`Error::Csv`] for a `split` cell other than `train`/`test`.
pub fn words() -> Result<TrainTest<LabelledTexts>> {
    let path = data_dir().join("text/words.csv");
    let file = std::fs::File::open(&path).map_err(|e| crate::error::io(&path, e))?;
    let table = Table::read(file, &path, b',')?;
    let (word, language, part) = (
        table.column("word")?,
        table.column("language")?,
        table.column("split")?,
    );
    let mut classes: Vec<String> = table
        .records
        .iter()
        .map(|(_, r)| r[language].to_string())
        .collect();
    classes.sort();
    classes.dedup();
    let mut parts: [(Vec<String>, Vec<usize>); 2] = Default::default();
    for (line, record) in &table.records {
        let index = match &record[part] {
            "train" => 0,
            "test" => 1,
            other => {
                let expected = "`train` or `test`";
                return Err(crate::csv::cell_error(
                    &path, *line, "split", expected, other,
                ));
            }
        };
        let label = classes
            .binary_search(&record[language].to_string())
            .unwrap_or(0);
        parts[index].0.push(record[word].to_string());
        parts[index].1.push(label);
    }
    let [(train, train_labels), (test, test_labels)] = parts;
    Ok(TrainTest {
        train: LabelledTexts::new(train, train_labels, classes.clone())?,
        test: LabelledTexts::new(test, test_labels, classes)?,
    })
}

/// A dataset loaded by name.
#[derive(Debug, Clone, PartialEq)]
pub enum Bundled {
    /// Image classification, train and test.
    Images(TrainTest<ImageDataset>),
    /// A table.
    Table(TabularDataset),
    /// A time series.
    Series(Series),
    /// Text classification, train and test.
    Texts(TrainTest<LabelledTexts>),
}

/// Loads a dataset by name (one of [`NAMES`]).
///
/// # Errors
/// [`Error::InvalidArgument`] for an unknown name; the loader's errors.
pub fn load(name: &str) -> Result<Bundled> {
    Ok(match name {
        "mnist_subset" => Bundled::Images(mnist_subset()?),
        "digits8x8" => Bundled::Images(digits8x8()?),
        "fashion_mnist" => Bundled::Images(fashion_mnist()?),
        "iris" => Bundled::Table(iris()?),
        "wine" => Bundled::Table(wine()?),
        "breast_cancer" => Bundled::Table(breast_cancer()?),
        "diabetes" => Bundled::Table(diabetes()?),
        "sunspots_monthly" => Bundled::Series(sunspots_monthly()?),
        "sunspots_yearly" => Bundled::Series(sunspots_yearly()?),
        "words" => Bundled::Texts(words()?),
        other => {
            return Err(crate::error::invalid(
                "bundled::load",
                "name",
                &format!("one of {NAMES:?}"),
                other,
            ));
        }
    })
}
