//! Recurrent networks on real data:
//! - `--task mnist` (default): an LSTM or GRU (`--cell lstm|gru`) reads each image row by
//!   row (28 steps of 28 pixels, normalised with the training split's mean and deviation)
//!   and classifies it from its last hidden state;
//! - `--task sunspots`: forecasts next month's sunspot number from the previous 24 months,
//!   trained on 1749–1969 and tested on 1970–2008, against the persistence baseline
//!   (next month = this month).
//!
//! With `--out DIR` either task writes a run card for `predict`.

use std::time::Instant;

use clap::{Arg, Command};
use cortex::data::{
    Dataset, ImageBatch, SequenceBatch, ShiftedImages, WindowConfig, bundled, windows,
};
use cortex::optim::{AdamConfig, GradClipping, LrSchedule};
use cortex::train::{Metric, Metrics, Output};
use cortex_examples::rnn_model::{Cell, Recurrent, RecurrentConfig, RowReader, RowReaderConfig};
use cortex_examples::run_card::RunCard;
use cortex_examples::{
    BoxError, Common, Recipe, class_names, common, fit_and_test, image_train_validation,
    picture_card, print_final, report_classification, run, with_common_args,
};

fn mnist(common: &Common, cell: Cell, started: Instant) -> Result<(), BoxError> {
    let data = bundled::mnist_subset()?;
    let (train, validation) = image_train_validation(&data.train, common.limit, common.seed)?;
    let config = RowReaderConfig {
        shape: [train.channels(), train.height(), train.width()],
        normalization: train.channel_statistics(),
        recurrent: RecurrentConfig {
            cell,
            inputs: train.channels() * train.width(),
            hidden: 128,
            outputs: train.num_classes(),
        },
    };
    if let Some(out) = &common.out {
        // What `predict` needs besides the weights (best.bpk, written by the run).
        RunCard::RnnImages {
            model: config.clone(),
            pictures: picture_card(&train),
            classes: class_names(&train, config.recurrent.outputs),
        }
        .save(out)?;
    }
    // Training images move by up to 2 pixels each time they are drawn (augmentation: these
    // are centred digits).
    let (train, validation, test) = (
        ShiftedImages::new(train, 2, common.seed),
        ShiftedImages::new(validation, 0, 0),
        ShiftedImages::new(data.test, 0, 0),
    );
    let recipe = Recipe::adam_cosine(common, (10, 64), 2e-3, 1e-4, Metric::Accuracy)
        .with_clipping(GradClipping::Norm { max_norm: 1.0 });
    let (fitted, metrics) = fit_and_test(
        common,
        &recipe,
        |device| RowReader::new(&config, device),
        (&train, &validation, &test),
        |model: &RowReader, batch: ImageBatch| {
            Output::classification(model.forward(batch.images)?, batch.labels)
        },
    )?;
    report_classification(&metrics, fitted.history.epochs.len(), started);
    Ok(())
}

fn sunspots(common: &Common, cell: Cell, started: Instant) -> Result<(), BoxError> {
    const WINDOW: usize = 24;
    const TRAIN_MONTHS: usize = 2652; // 1749-01 .. 1969-12
    let series = bundled::sunspots_monthly()?;
    let train_values = &series.values[..TRAIN_MONTHS];
    let mean = train_values.iter().sum::<f64>() / TRAIN_MONTHS as f64;
    let std =
        (train_values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / TRAIN_MONTHS as f64).sqrt();
    let scaled: Vec<f64> = series.values.iter().map(|v| (v - mean) / std).collect();
    let config = WindowConfig {
        window: WINDOW,
        horizon: 1,
        stride: 1,
    };
    let all_train = windows(&scaled[..TRAIN_MONTHS], config)?;
    // Validation: the last 10% of the training windows (the most recent years before 1970).
    let cut = all_train.len() * 9 / 10;
    let mut train_end = cut;
    if let Some(limit) = common.limit {
        train_end = train_end.min(limit.max(1));
    }
    let train = windows(&scaled[..train_end + WINDOW], config)?;
    let validation = windows(&scaled[cut..TRAIN_MONTHS], config)?;
    // Test: every month of 1970–2008, each predicted from the 24 months before it.
    let test = windows(&scaled[TRAIN_MONTHS - WINDOW..], config)?;
    let recipe = Recipe {
        default_epochs: 12,
        batch_size: 64,
        optimizer: AdamConfig::new().with_lr(3e-3).into(),
        schedule: Some(LrSchedule::Step {
            lr: 3e-3,
            step_size: 5,
            gamma: 0.5,
        }),
        clipping: Some(GradClipping::Norm { max_norm: 1.0 }),
        monitor: Metric::Rmse,
    };
    let model = RecurrentConfig {
        cell,
        inputs: 1,
        hidden: 32,
        outputs: 1,
    };
    if let Some(out) = &common.out {
        // What `predict` needs besides the weights (best.bpk, written by the run).
        RunCard::Forecast {
            model: model.clone(),
            window: WINDOW,
            scale: (mean, std),
            train_months: TRAIN_MONTHS,
        }
        .save(out)?;
    }
    let (fitted, metrics) = fit_and_test(
        common,
        &recipe,
        |device| Recurrent::new(&model, device),
        (&train, &validation, &test),
        |model: &Recurrent, batch: SequenceBatch| {
            Output::regression(model.forward(batch.inputs)?, batch.targets)
        },
    )?;
    let Metrics::Regression(m) = metrics else {
        return Err("expected regression metrics".into());
    };
    let rmse = m.rmse() * std;
    let test_values = &series.values[TRAIN_MONTHS..];
    let persistence = (test_values
        .iter()
        .zip(&series.values[TRAIN_MONTHS - 1..])
        .map(|(now, before)| (now - before).powi(2))
        .sum::<f64>()
        / test_values.len() as f64)
        .sqrt();
    println!(
        "test RMSE {rmse:.2} vs persistence {persistence:.2} ({:.1}% lower) over {} months",
        100.0 * (1.0 - rmse / persistence),
        test.len()
    );
    print_final(&[
        ("test_rmse", format!("{rmse:.3}")),
        ("persistence_rmse", format!("{persistence:.3}")),
        ("test_r2", format!("{:.4}", m.r2())),
        ("epochs", fitted.history.epochs.len().to_string()),
        ("seconds", format!("{:.1}", started.elapsed().as_secs_f64())),
    ]);
    Ok(())
}

fn main() -> std::process::ExitCode {
    run(|| {
        let started = Instant::now();
        let matches = with_common_args(
            Command::new("rnn").about("LSTM/GRU on MNIST rows or the sunspot series"),
        )
        .arg(
            Arg::new("task")
                .long("task")
                .default_value("mnist")
                .help("mnist or sunspots"),
        )
        .arg(
            Arg::new("cell")
                .long("cell")
                .default_value("lstm")
                .help("lstm or gru"),
        )
        .get_matches();
        let common = common(&matches)?;
        let cell: Cell = matches
            .get_one::<String>("cell")
            .map_or("lstm", String::as_str)
            .parse()?;
        match matches
            .get_one::<String>("task")
            .map_or("mnist", String::as_str)
        {
            "mnist" => mnist(&common, cell, started),
            "sunspots" => sunspots(&common, cell, started),
            other => Err(format!("--task must be mnist or sunspots, got `{other}`").into()),
        }
    })
}
