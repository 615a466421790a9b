//! Recurrent networks on real data:
//! - `--task mnist` (default): an LSTM or GRU (`--cell lstm|gru`) reads each image row by
//!   row (28 steps of 28 pixels) and classifies it from its last hidden state;
//! - `--task sunspots`: forecasts next month's sunspot number from the previous 24 months,
//!   trained on 1749–1969 and tested on 1970–2008, against the persistence baseline
//!   (next month = this month).

use std::time::Instant;

use clap::{Arg, Command};
use cortex::burn;
use cortex::burn::module::Module;
use cortex::burn::tensor::{Device, Tensor};
use cortex::data::{
    Dataset, ImageBatch, SequenceBatch, ShiftedImages, WindowConfig, bundled, windows,
};
use cortex::nn::{Gru, GruConfig, InvalidValue, Linear, LinearConfig, Lstm, LstmConfig};
use cortex::optim::{AdamConfig, GradClipping, LrSchedule};
use cortex::train::{Metric, Metrics, Output};
use cortex_examples::{
    BoxError, Common, Recipe, common, fit_and_test, image_train_validation, print_final,
    report_classification, run, with_common_args,
};

/// An LSTM or GRU stack with a linear head on the last layer's final hidden state.
#[derive(Module, Debug)]
struct Recurrent {
    lstm: Option<Lstm>,
    gru: Option<Gru>,
    head: Linear,
}

impl Recurrent {
    fn new(
        cell: &str,
        inputs: usize,
        hidden: usize,
        outputs: usize,
        device: &Device,
    ) -> Result<Self, BoxError> {
        let (lstm, gru) = match cell {
            "lstm" => (Some(LstmConfig::new(inputs, hidden).init(device)?), None),
            "gru" => (None, Some(GruConfig::new(inputs, hidden).init(device)?)),
            other => return Err(format!("--cell must be lstm or gru, got `{other}`").into()),
        };
        Ok(Self {
            lstm,
            gru,
            head: LinearConfig::new(hidden, outputs).init(device)?,
        })
    }

    /// `x` `[B, T, F]` → `[B, outputs]`.
    fn forward(&self, x: Tensor<3>) -> cortex::nn::Result<Tensor<2>> {
        let h_n = match (&self.lstm, &self.gru) {
            (Some(lstm), _) => lstm.forward(x, None)?.state.h,
            (None, Some(gru)) => gru.forward(x, None)?.state,
            (None, None) => {
                let invalid = InvalidValue::new("Recurrent", "cell", "an LSTM or a GRU", "neither");
                return Err(cortex::nn::Error::InvalidConfig(invalid));
            }
        };
        let [layers, batch, hidden] = h_n.dims();
        self.head
            .forward(h_n.narrow(0, layers - 1, 1).reshape([batch, hidden]))
    }
}

fn mnist(common: &Common, cell: &str, started: Instant) -> Result<(), BoxError> {
    let data = bundled::mnist_subset()?;
    let (train, validation) = image_train_validation(&data.train, common.limit, common.seed)?;
    let (rows, cols) = (train.height(), train.width());
    // Training images move by up to 2 pixels each time they are drawn (augmentation).
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
        |device| Recurrent::new(cell, cols, 128, 10, device),
        (&train, &validation, &test),
        |model: &Recurrent, batch: ImageBatch| {
            let b = batch.images.dims()[0];
            // Rows as steps; pixels centred and scaled with MNIST's mean and deviation.
            let rows_as_steps = batch
                .images
                .reshape([b, rows, cols])
                .sub_scalar(0.1307)
                .mul_scalar(1.0 / 0.3081);
            Output::classification(model.forward(rows_as_steps)?, batch.labels)
        },
    )?;
    report_classification(&metrics, fitted.history.epochs.len(), started);
    Ok(())
}

fn sunspots(common: &Common, cell: &str, started: Instant) -> Result<(), BoxError> {
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
    let (fitted, metrics) = fit_and_test(
        common,
        &recipe,
        |device| Recurrent::new(cell, 1, 32, 1, device),
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
        let cell = matches
            .get_one::<String>("cell")
            .map_or("lstm", String::as_str)
            .to_string();
        if cell != "lstm" && cell != "gru" {
            return Err(format!("--cell must be lstm or gru, got `{cell}`").into());
        }
        match matches
            .get_one::<String>("task")
            .map_or("mnist", String::as_str)
        {
            "mnist" => mnist(&common, &cell, started),
            "sunspots" => sunspots(&common, &cell, started),
            other => Err(format!("--task must be mnist or sunspots, got `{other}`").into()),
        }
    })
}
