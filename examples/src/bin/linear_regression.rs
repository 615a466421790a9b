//! Linear regression `y = W x + b` by gradient descent, on the bundled diabetes data (or any
//! numeric CSV with `--csv PATH --target COLUMN`), features standardized on the training
//! split; its test RMSE is compared with the closed-form least-squares solution.

use std::path::PathBuf;
use std::time::Instant;

use clap::{Arg, Command, value_parser};
use cortex::data::{CsvOptions, Dataset, SplitConfig, Standardizer, TabularBatch, TabularDataset, TargetKind, Targets, bundled, read_csv, split};
use cortex::nn::{Linear, LinearConfig};
use cortex::optim::{OptimizerConfig, SgdConfig};
use cortex::train::{Metrics, Output, Trainer, TrainerConfig};
use cortex_examples::{BoxError, common, print_final, run, with_common_args};

/// Solves the normal equations `(XᵀX) β = Xᵀy` over `[x, 1]` (partial pivoting).
fn least_squares(data: &TabularDataset, y: &[f64]) -> Result<Vec<f64>, BoxError> {
    let f = data.num_features();
    let mut a = vec![vec![0.0; f + 1]; f + 1];
    let mut b = vec![0.0; f + 1];
    for (r, &target) in y.iter().enumerate() {
        let x: Vec<f64> = (0..f).map(|c| data.value(r, c)).chain([1.0]).collect();
        for i in 0..=f {
            b[i] += x[i] * target;
            for j in 0..=f {
                a[i][j] += x[i] * x[j];
            }
        }
    }
    for col in 0..=f {
        let pivot = (col..=f).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs())).unwrap_or(col);
        a.swap(col, pivot);
        b.swap(col, pivot);
        if a[col][col].abs() < 1e-12 {
            return Err("the features are linearly dependent: the least-squares solution is not unique".into());
        }
        for row in col + 1..=f {
            let factor = a[row][col] / a[col][col];
            for k in col..=f {
                a[row][k] -= factor * a[col][k];
            }
            b[row] -= factor * b[col];
        }
    }
    let mut beta = vec![0.0; f + 1];
    for row in (0..=f).rev() {
        let s: f64 = (row + 1..=f).map(|k| a[row][k] * beta[k]).sum();
        beta[row] = (b[row] - s) / a[row][row];
    }
    Ok(beta)
}

fn values(data: &TabularDataset) -> Result<Vec<f64>, BoxError> {
    match data.targets() {
        Targets::Values(v) => Ok(v.clone()),
        Targets::Classes { .. } => Err("the target column must be numeric for regression".into()),
    }
}

fn with_targets(data: &TabularDataset, y: Vec<f64>) -> Result<TabularDataset, BoxError> {
    Ok(TabularDataset::new(data.features().to_vec(), data.feature_names().to_vec(), Targets::Values(y))?)
}

fn forward(model: &Linear, batch: &TabularBatch) -> cortex::train::Result<Output> {
    let targets = batch.values.clone().ok_or_else(|| cortex::train::Error::InvalidConfig {
        what: "linear_regression",
        field: "target",
        expected: "numeric targets".into(),
        got: "classes".into(),
    })?;
    Output::regression(model.forward(batch.features.clone())?, targets)
}

fn main() -> std::process::ExitCode {
    run(|| {
        let started = Instant::now();
        let matches = with_common_args(Command::new("linear_regression").about("y = Wx + b by gradient descent"))
            .arg(Arg::new("csv").long("csv").value_name("PATH").value_parser(value_parser!(PathBuf)).help("any numeric CSV instead of the bundled diabetes data"))
            .arg(Arg::new("target").long("target").value_name("COLUMN").default_value("target").help("the CSV's target column"))
            .get_matches();
        let common = common(&matches)?;
        let data = match matches.get_one::<PathBuf>("csv") {
            Some(path) => {
                let target = matches.get_one::<String>("target").map_or("target", String::as_str);
                read_csv(path, &CsvOptions::new(target).with_target_kind(TargetKind::Values))?
            }
            None => bundled::diabetes()?,
        };
        // Fixed split: every fifth row is test data; 10% of the rest validates.
        let test_rows: Vec<usize> = (0..data.len()).filter(|i| i % 5 == 4).collect();
        let rest: Vec<usize> = (0..data.len()).filter(|i| i % 5 != 4).collect();
        let parts = split(rest.len(), &SplitConfig::new(0.9, 0.1, 0.0).with_seed(common.seed), None)?;
        let mut train_rows: Vec<usize> = parts.train.iter().map(|&i| rest[i]).collect();
        if let Some(limit) = common.limit {
            train_rows.truncate(limit.max(2));
        }
        let valid_rows: Vec<usize> = parts.validation.iter().map(|&i| rest[i]).collect();
        let (mut train, mut valid, mut test) = (data.select(&train_rows)?, data.select(&valid_rows)?, data.select(&test_rows)?);
        let scaler = Standardizer::fit(&train)?;
        for part in [&mut train, &mut valid, &mut test] {
            scaler.transform(part)?;
        }
        // The target is standardized for the optimizer and mapped back for the RMSE.
        let y_train = values(&train)?;
        let mean = y_train.iter().sum::<f64>() / y_train.len() as f64;
        let std = (y_train.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / y_train.len() as f64).sqrt().max(1e-12);
        let scaled = |d: &TabularDataset| -> Result<TabularDataset, BoxError> { with_targets(d, values(d)?.iter().map(|v| (v - mean) / std).collect()) };
        let (train_s, valid_s, test_s) = (scaled(&train)?, scaled(&valid)?, scaled(&test)?);

        let beta = least_squares(&train, &y_train)?;
        let y_test = values(&test)?;
        let f = test.num_features();
        let closed_form_rmse = (y_test
            .iter()
            .enumerate()
            .map(|(r, y)| ((0..f).map(|c| test.value(r, c) * beta[c]).sum::<f64>() + beta[f] - y).powi(2))
            .sum::<f64>()
            / y_test.len() as f64)
            .sqrt();

        let epochs = common.epochs.unwrap_or(500);
        let mut config = TrainerConfig::new(OptimizerConfig::Sgd(SgdConfig::new().with_lr(0.05).with_momentum(0.9)))
            .with_epochs(epochs)
            .with_batch_size(train_s.len())
            .with_seed(common.seed)
            .with_quiet(common.quiet);
        if let Some(out) = &common.out {
            config = config.with_out_dir(out);
        }
        let trainer = Trainer::new(config, common.backend)?;
        let model = LinearConfig::new(f, 1).with_seed(common.seed).init(&trainer.device())?;
        let fitted = trainer.fit(model, &train_s, &valid_s, forward)?;
        // The objective is convex: the last model is the converged one (the closed form's
        // counterpart); the validation split only reports.
        let Metrics::Regression(metrics) = trainer.evaluate(&fitted.last, &test_s, forward)? else {
            return Err("expected regression metrics".into());
        };
        let rmse = metrics.rmse() * std;
        println!(
            "test RMSE {rmse:.3} (gradient descent) vs {closed_form_rmse:.3} (closed form): {:+.2}%",
            100.0 * (rmse / closed_form_rmse - 1.0)
        );
        print_final(&[
            ("test_rmse", format!("{rmse:.4}")),
            ("test_r2", format!("{:.4}", metrics.r2())),
            ("closed_form_rmse", format!("{closed_form_rmse:.4}")),
            ("epochs", fitted.history.epochs.len().to_string()),
            ("seconds", format!("{:.1}", started.elapsed().as_secs_f64())),
        ]);
        Ok(())
    })
}
