//! Linear regression `y = W x + b` by gradient descent, on the bundled diabetes data (or any
//! numeric CSV with `--csv PATH --target COLUMN`), features standardized on the training
//! split; its test RMSE is compared with the closed-form least-squares solution. With
//! `--out DIR` the run writes its model (`last.bpk`) and a run card for `predict`.

use std::path::PathBuf;
use std::time::Instant;

use clap::{Arg, Command, value_parser};
use cortex::data::{
    CsvOptions, Dataset, SplitConfig, Standardizer, TabularBatch, TabularDataset, TargetKind,
    Targets, bundled, read_csv, split,
};
use cortex::nn::{Linear, LinearConfig};
use cortex::optim::SgdConfig;
use cortex::train::{Metrics, Output, Trainer, TrainerConfig};
use cortex_examples::run_card::RunCard;
use cortex_examples::{BoxError, common, print_final, regression_test_rows, run, with_common_args};

fn values(data: &TabularDataset) -> Result<Vec<f64>, BoxError> {
    match data.targets() {
        Targets::Values(v) => Ok(v.clone()),
        Targets::Classes { .. } => Err("the target column must be numeric for regression".into()),
    }
}

fn with_targets(data: &TabularDataset, y: Vec<f64>) -> Result<TabularDataset, BoxError> {
    Ok(TabularDataset::new(
        data.features().to_vec(),
        data.feature_names().to_vec(),
        Targets::Values(y),
    )?)
}

fn forward(model: &Linear, batch: TabularBatch) -> cortex::train::Result<Output> {
    let (features, values) = batch.into_values()?;
    Output::regression(model.forward(features)?, values)
}

fn main() -> std::process::ExitCode {
    run(|| {
        let started = Instant::now();
        let matches = with_common_args(
            Command::new("linear_regression").about("y = Wx + b by gradient descent"),
        )
        .arg(
            Arg::new("csv")
                .long("csv")
                .value_name("PATH")
                .value_parser(value_parser!(PathBuf))
                .help("any numeric CSV instead of the bundled diabetes data"),
        )
        .arg(
            Arg::new("target")
                .long("target")
                .value_name("COLUMN")
                .default_value("target")
                .help("the CSV's target column"),
        )
        .get_matches();
        let common = common(&matches)?;
        let data = match matches.get_one::<PathBuf>("csv") {
            Some(path) => {
                let target = matches
                    .get_one::<String>("target")
                    .map_or("target", String::as_str);
                read_csv(
                    path,
                    &CsvOptions::new(target).with_target_kind(TargetKind::Values),
                )?
            }
            None => bundled::diabetes()?,
        };
        // Fixed split: every fifth row is test data; 10% of the rest validates.
        let test_rows = regression_test_rows(data.len());
        let rest: Vec<usize> = (0..data.len()).filter(|i| i % 5 != 4).collect();
        let parts = split(
            rest.len(),
            &SplitConfig::new(0.9, 0.1, 0.0).with_seed(common.seed),
            None,
        )?;
        let mut train_rows: Vec<usize> = parts.train.iter().map(|&i| rest[i]).collect();
        if let Some(limit) = common.limit {
            train_rows.truncate(limit.max(2));
        }
        let valid_rows: Vec<usize> = parts.validation.iter().map(|&i| rest[i]).collect();
        let (mut train, mut valid, mut test) = (
            data.select(&train_rows)?,
            data.select(&valid_rows)?,
            data.select(&test_rows)?,
        );
        let scaler = Standardizer::fit(&train)?;
        for part in [&mut train, &mut valid, &mut test] {
            scaler.transform(part)?;
        }
        // The target is standardized for the optimizer and mapped back for the RMSE.
        let y_train = values(&train)?;
        let mean = y_train.iter().sum::<f64>() / y_train.len() as f64;
        let std = (y_train.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / y_train.len() as f64)
            .sqrt()
            .max(1e-12);
        let scaled = |d: &TabularDataset| -> Result<TabularDataset, BoxError> {
            with_targets(d, values(d)?.iter().map(|v| (v - mean) / std).collect())
        };
        let (train_s, valid_s, test_s) = (scaled(&train)?, scaled(&valid)?, scaled(&test)?);

        let beta = cortex_examples::baseline::least_squares(
            train.features(),
            train.num_features(),
            &y_train,
        )?;
        let y_test = values(&test)?;
        let f = test.num_features();
        let closed_form_rmse = (y_test
            .iter()
            .enumerate()
            .map(|(r, y)| {
                ((0..f)
                    .filter_map(|c| Some(test.value(r, c)? * beta[c]))
                    .sum::<f64>()
                    + beta[f]
                    - y)
                    .powi(2)
            })
            .sum::<f64>()
            / y_test.len() as f64)
            .sqrt();

        let epochs = common.epochs.unwrap_or(500);
        let mut config = TrainerConfig::new(SgdConfig::new().with_lr(0.05).with_momentum(0.9))
            .with_epochs(epochs)
            .with_batch_size(train_s.len())
            .with_seed(common.seed)
            .with_quiet(common.quiet);
        if let Some(out) = &common.out {
            config = config.with_out_dir(out);
        }
        let trainer = Trainer::new(config, &common.backend.device)?;
        let device = trainer.device();
        let model = cortex::nn::seeded(common.seed, || LinearConfig::new(f, 1).init(&device))?;
        let fitted = if common.resume {
            trainer.resume(model, &train_s, &valid_s, forward)?
        } else {
            trainer.fit(model, &train_s, &valid_s, forward)?
        };
        // The objective is convex: the last model is the converged one (the closed form's
        // counterpart); the validation split only reports.
        let Metrics::Regression(metrics) = trainer.evaluate(&fitted.last, &test_s, forward)? else {
            return Err("expected regression metrics".into());
        };
        if let Some(out) = &common.out {
            // The tested model and what `predict` needs to use it.
            cortex::nn::save(&fitted.last, out.join("last.bpk"))?;
            let target = match matches.get_one::<PathBuf>("csv") {
                Some(_) => matches
                    .get_one::<String>("target")
                    .map_or("target", String::as_str),
                None => "target",
            };
            RunCard::Regression {
                model: LinearConfig::new(f, 1),
                columns: data.feature_columns(),
                scaler,
                target: target.to_string(),
                scale: (mean, std),
            }
            .save(out)?;
        }
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
