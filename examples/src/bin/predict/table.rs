//! Table runs (`mlp --csv`, `linear_regression`): rows of CSV files (or CSV on stdin)
//! against the run's feature columns, or the test rows of the run's own CSV.

use std::path::{Path, PathBuf};

use clap::ArgMatches;
use cortex::burn::tensor::{Device, Tensor, TensorData};
use cortex::data::{
    CsvOptions, Dataset, FeatureColumns, MissingPolicy, Pipeline, Standardizer, TabularDataset,
    TargetKind, Targets, bundled, parse_feature_rows, read_csv, read_feature_rows, split,
};
use cortex::nn::{Linear, Mlp};
use cortex_examples::{BoxError, Common, regression_test_rows, table_split_config};

use crate::{Outcome, print_top, softmax_rows};

/// What a table run was trained on.
pub struct TableRun<'a> {
    /// The feature columns a row must have.
    pub columns: &'a FeatureColumns,
    /// The preprocessing fitted on the training rows.
    pub pipeline: &'a Pipeline,
    /// The target column.
    pub target: &'a str,
    /// Class names by id.
    pub classes: &'a [String],
}

/// Classifies the rows of the CSV files named on the command line (or of CSV text on stdin),
/// or with `evaluate` the test rows of `--csv PATH` (the run's file, split with its `--seed`).
///
/// # Errors
/// The readers' and the pipeline's errors; a missing cell where the run has no imputer.
pub fn classify(
    model: &Mlp,
    run: &TableRun,
    (matches, common): (&ArgMatches, &Common),
    evaluate: bool,
    top: usize,
) -> Result<Outcome, BoxError> {
    let device = &common.backend.device;
    if evaluate {
        let Some(path) = matches.get_one::<PathBuf>("csv") else {
            return Err("--evaluate on a table run needs --csv PATH: the run's CSV file".into());
        };
        let categorical = run
            .columns
            .categories
            .iter()
            .map(|(c, _)| run.columns.names[*c].clone())
            .collect();
        let options = CsvOptions::new(run.target)
            .with_target_kind(TargetKind::Classes)
            .with_missing(MissingPolicy::Keep)
            .with_categorical(categorical);
        let data = read_csv(path, &options)?;
        if data.feature_columns() != *run.columns {
            return Err(format!(
                "{}: its feature columns or categories are not the run's (is it the file the \
                 run was trained on?)",
                path.display()
            )
            .into());
        }
        let parts = split(
            data.len(),
            &table_split_config(common.seed),
            data.class_ids(),
        )?;
        let test = data.select(&parts.test)?;
        let expected = match test.targets() {
            // Ids are looked up by class name: the file's names must be the run's.
            Targets::Classes { ids, names } => ids
                .iter()
                .map(|&id| run.classes.iter().position(|c| *c == names[id]))
                .collect(),
            Targets::Values(values) => vec![None; values.len()],
        };
        let rows = probabilities((model, device), run, test, path)?;
        Ok(Outcome::Classes(rows, Some(expected)))
    } else {
        let files: Vec<String> = matches
            .get_many::<String>("inputs")
            .map(|given| given.cloned().collect())
            .unwrap_or_default();
        let (mut names, mut rows) = (Vec::new(), Vec::new());
        if files.is_empty() {
            let stdin = Path::new("<stdin>");
            let data = parse_feature_rows(std::io::stdin().lock(), stdin, run.columns)?;
            names.extend((1..=data.len()).map(|r| format!("row {r}")));
            rows.extend(probabilities((model, device), run, data, stdin)?);
        }
        for file in &files {
            let data = read_feature_rows(file, run.columns)?;
            names.extend((1..=data.len()).map(|r| format!("{file} row {r}")));
            rows.extend(probabilities((model, device), run, data, Path::new(file))?);
        }
        print_top(&names, &rows, run.classes, top);
        Ok(Outcome::Classes(rows, None))
    }
}

/// Class probabilities of `data`'s rows (as read), through the run's preprocessing.
fn probabilities(
    (model, device): (&Mlp, &Device),
    run: &TableRun,
    mut data: TabularDataset,
    path: &Path,
) -> Result<Vec<Vec<f32>>, BoxError> {
    let imputes = run
        .pipeline
        .steps
        .iter()
        .any(|s| matches!(s, cortex::data::Preprocessor::Impute(_)));
    if !imputes {
        reject_missing(&data, path)?;
    }
    run.pipeline.transform(&mut data)?;
    softmax_rows(model.forward(features(&data, device))?)
}

/// A run without an imputer cannot take missing cells: a message naming the first.
fn reject_missing(data: &TabularDataset, path: &Path) -> Result<(), BoxError> {
    let width = data.num_features();
    match data.features().iter().position(|v| v.is_nan()) {
        Some(i) => Err(format!(
            "{}: row {}, column `{}` is missing, and the run was trained without missing \
             values (it has no imputer): fill the cell",
            path.display(),
            i / width + 1,
            data.feature_names()[i % width]
        )
        .into()),
        None => Ok(()),
    }
}

/// `data`'s features as a `[rows, features]` tensor on `device`.
fn features(data: &TabularDataset, device: &Device) -> Tensor<2> {
    let values: Vec<f32> = data.features().iter().map(|&v| v as f32).collect();
    let shape = [data.len(), data.num_features()];
    Tensor::<2>::from_data(TensorData::new(values, shape), device)
}

/// What a linear regression run was trained on.
pub struct RegressionRun<'a> {
    /// The feature columns a row must have.
    pub columns: &'a FeatureColumns,
    /// The feature standardization fitted on the training rows.
    pub scaler: &'a Standardizer,
    /// The target column.
    pub target: &'a str,
    /// `(mean, standard deviation)` of the training targets.
    pub scale: (f64, f64),
}

/// Predicts the target of the rows of the CSV files named on the command line (or of CSV
/// text on stdin), or with `evaluate` of the test rows of `--csv PATH` (the run's file) or
/// of the bundled diabetes data: every fifth row, as the run split them.
///
/// # Errors
/// The readers' errors; a missing cell; a file whose columns are not the run's.
pub fn regress(
    model: &Linear,
    run: &RegressionRun,
    (matches, common): (&ArgMatches, &Common),
    evaluate: bool,
) -> Result<Outcome, BoxError> {
    let device = &common.backend.device;
    let predict = |mut data: TabularDataset, path: &Path| -> Result<Vec<f64>, BoxError> {
        reject_missing(&data, path)?;
        run.scaler.transform(&mut data)?;
        let scores = model.forward(features(&data, device))?;
        let (mean, std) = run.scale;
        Ok(scores
            .into_data()
            .iter::<f32>()
            .map(|v| f64::from(v) * std + mean)
            .collect())
    };
    if evaluate {
        let (data, path) = match matches.get_one::<PathBuf>("csv") {
            Some(path) => {
                let options = CsvOptions::new(run.target).with_target_kind(TargetKind::Values);
                (read_csv(path, &options)?, path.clone())
            }
            None => (
                bundled::diabetes()?,
                PathBuf::from("the bundled diabetes data"),
            ),
        };
        if data.feature_columns() != *run.columns {
            return Err(format!(
                "{}: its feature columns are not the run's (is it the file the run was \
                 trained on?)",
                path.display()
            )
            .into());
        }
        let test = data.select(&regression_test_rows(data.len()))?;
        let Targets::Values(expected) = test.targets().clone() else {
            return Err(format!("{}: the target is not numeric", path.display()).into());
        };
        let predicted = predict(test, &path)?;
        Ok(Outcome::Values(predicted, Some(expected)))
    } else {
        let files: Vec<String> = matches
            .get_many::<String>("inputs")
            .map(|given| given.cloned().collect())
            .unwrap_or_default();
        let mut named = Vec::new();
        if files.is_empty() {
            let stdin = Path::new("<stdin>");
            let data = parse_feature_rows(std::io::stdin().lock(), stdin, run.columns)?;
            let rows = data.len();
            named.extend(
                (1..=rows)
                    .map(|r| format!("row {r}"))
                    .zip(predict(data, stdin)?),
            );
        }
        for file in &files {
            let data = read_feature_rows(file, run.columns)?;
            let rows = data.len();
            let values = predict(data, Path::new(file))?;
            named.extend((1..=rows).map(|r| format!("{file} row {r}")).zip(values));
        }
        for (name, value) in &named {
            println!("{name}\t{}={value:.4}", run.target);
        }
        Ok(Outcome::Values(
            named.into_iter().map(|(_, v)| v).collect(),
            None,
        ))
    }
}
