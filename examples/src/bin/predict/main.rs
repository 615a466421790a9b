//! Uses a trained run: loads what an example wrote with `--out DIR` (the run card `run.json`:
//! model sizes, fitted preprocessing, class names; the weights the run was tested with) and
//! classifies new inputs, printing the top classes with their probabilities, or predicts
//! values (a linear regression, a forecast).
//!
//! ```text
//! predict --run DIR [--top K] INPUT…   # text run: texts; cnn, mlp (images) and rnn (mnist)
//!                                      # runs: picture files; mlp (table) and linear
//!                                      # regression runs: CSV files; speech run: WAV files;
//!                                      # rnn sunspots run: the series so far (numbers)
//!                                      # no inputs: one per line on stdin (CSV text for a
//!                                      # table, numbers for a series)
//! predict --run DIR --evaluate         # the run's test figure again, on its data: the
//!                                      # bundled set, or what the run was given (--dataset,
//!                                      # --data DIR, --csv PATH [--text COL --target COL]),
//!                                      # split with the run's --seed
//! ```

mod forecast;
mod images;
mod speech;
mod table;
mod text;

use std::io::BufRead;
use std::path::PathBuf;
use std::time::Instant;

use clap::{Arg, ArgAction, ArgMatches, Command, value_parser};
use cortex::burn::module::Module;
use cortex::burn::tensor::Tensor;
use cortex_examples::image_model::{Cnn, ImageMlp};
use cortex_examples::rnn_model::{Recurrent, RowReader};
use cortex_examples::run_card::RunCard;
use cortex_examples::speech_model::SpeechClassifier;
use cortex_examples::text_model::TextClassifier;
use cortex_examples::{BoxError, common, print_final, run, with_common_args, with_image_args};

use images::ImageRun;
use table::TableRun;

/// What a run made of its inputs.
pub enum Outcome {
    /// Class probabilities of each input and, measuring, the expected class ids (`None`
    /// inside: a class the run does not know).
    Classes(Vec<Vec<f32>>, Option<Vec<Option<usize>>>),
    /// A predicted value for each input and, measuring, the true values.
    Values(Vec<f64>, Option<Vec<f64>>),
}

/// Softmax of class scores `[B, classes]`, row by row.
fn softmax_rows(scores: Tensor<2>) -> Result<Vec<Vec<f32>>, BoxError> {
    let p = cortex::ops::softmax(scores, -1)?;
    let classes = p.dims()[1];
    let values: Vec<f32> = p.into_data().iter().collect();
    Ok(values.chunks(classes).map(<[f32]>::to_vec).collect())
}

/// The fraction of rows whose most probable class is the expected one.
fn accuracy(rows: &[Vec<f32>], expected: &[Option<usize>]) -> f64 {
    let correct = rows
        .iter()
        .zip(expected)
        .filter(|(p, e)| {
            let best = (0..p.len()).max_by(|&a, &b| p[a].total_cmp(&p[b]));
            best.is_some() && best == **e
        })
        .count();
    correct as f64 / rows.len().max(1) as f64
}

/// The root mean squared difference of `predicted` and `expected`.
fn rmse(predicted: &[f64], expected: &[f64]) -> f64 {
    let squares: f64 = predicted
        .iter()
        .zip(expected)
        .map(|(p, e)| (p - e).powi(2))
        .sum();
    (squares / predicted.len().max(1) as f64).sqrt()
}

/// Prints each input's top `top` classes.
fn print_top(inputs: &[String], rows: &[Vec<f32>], classes: &[String], top: usize) {
    for (input, p) in inputs.iter().zip(rows) {
        let mut order: Vec<usize> = (0..p.len()).collect();
        order.sort_by(|&a, &b| p[b].total_cmp(&p[a]));
        let best: Vec<String> = order
            .iter()
            .take(top)
            .map(|&c| format!("{} {:.3}", classes.get(c).map_or("?", String::as_str), p[c]))
            .collect();
        println!("{input}\t{}", best.join("  "));
    }
}

/// The inputs given, or one per line on stdin.
fn inputs(matches: &ArgMatches) -> Result<Vec<String>, BoxError> {
    Ok(match matches.get_many::<String>("inputs") {
        Some(given) => given.cloned().collect(),
        None => std::io::stdin().lock().lines().collect::<Result<_, _>>()?,
    })
}

fn main() -> std::process::ExitCode {
    run(|| {
        let started = Instant::now();
        let matches = with_image_args(with_common_args(
            Command::new("predict").about("classifies new inputs with a trained run"),
        ))
        .arg(
            Arg::new("run")
                .long("run")
                .value_name("DIR")
                .required(true)
                .value_parser(value_parser!(PathBuf))
                .help("a run directory written with --out DIR"),
        )
        .arg(
            Arg::new("top")
                .long("top")
                .value_name("K")
                .default_value("3")
                .value_parser(value_parser!(usize)),
        )
        .arg(
            Arg::new("evaluate")
                .long("evaluate")
                .action(ArgAction::SetTrue)
                .help("measure the test accuracy on the run's kind of data"),
        )
        .arg(
            Arg::new("csv")
                .long("csv")
                .value_name("PATH")
                .value_parser(value_parser!(PathBuf))
                .help(
                    "with --evaluate: a text run's labelled texts (with --text and --target), \
                     or a table run's CSV file",
                ),
        )
        .arg(Arg::new("text").long("text").value_name("COL"))
        .arg(Arg::new("target").long("target").value_name("COL"))
        .arg(Arg::new("inputs").num_args(0..).help(
            "texts, picture files, CSV files or WAV files (default: one per line on \
                     stdin; CSV text for a table run)",
        ))
        .get_matches();
        let common = common(&matches)?;
        let dir = matches
            .get_one::<PathBuf>("run")
            .ok_or("--run DIR is required")?;
        let device = &common.backend.device;
        let top = matches.get_one::<usize>("top").copied().unwrap_or(3).max(1);
        let evaluate = matches.get_flag("evaluate");
        let context = (&matches, &common);
        let card = RunCard::load(dir)?;
        let weights = dir.join(card.weights());
        let outcome = match card {
            RunCard::Text {
                model,
                encoder,
                classes,
            } => {
                let model =
                    cortex::nn::load(TextClassifier::new(&model, device)?, &weights)?.valid();
                text::classify(&model, (&encoder, &classes), context, evaluate, top)?
            }
            RunCard::Cnn {
                model: config,
                pictures,
                classes,
            } => {
                let model = cortex::nn::load(Cnn::new(&config, device)?, &weights)?.valid();
                let run = ImageRun {
                    shape: config.shape,
                    pictures: &pictures,
                    classes: &classes,
                };
                images::classify(&model, &run, context, evaluate, top)?
            }
            RunCard::MlpImages {
                model: config,
                pictures,
                classes,
            } => {
                let model = cortex::nn::load(ImageMlp::new(&config, device)?, &weights)?.valid();
                let run = ImageRun {
                    shape: config.shape,
                    pictures: &pictures,
                    classes: &classes,
                };
                images::classify(&model, &run, context, evaluate, top)?
            }
            RunCard::MlpTable {
                model,
                columns,
                pipeline,
                target,
                classes,
            } => {
                let model = cortex::nn::load(model.init(device)?, &weights)?.valid();
                let run = TableRun {
                    columns: &columns,
                    pipeline: &pipeline,
                    target: &target,
                    classes: &classes,
                };
                table::classify(&model, &run, context, evaluate, top)?
            }
            RunCard::RnnImages {
                model: config,
                pictures,
                classes,
            } => {
                let model = cortex::nn::load(RowReader::new(&config, device)?, &weights)?.valid();
                let run = ImageRun {
                    shape: config.shape,
                    pictures: &pictures,
                    classes: &classes,
                };
                images::classify(&model, &run, context, evaluate, top)?
            }
            RunCard::Forecast {
                model,
                window,
                scale,
                train_months,
            } => {
                let model = cortex::nn::load(Recurrent::new(&model, device)?, &weights)?.valid();
                forecast::predict(&model, (window, scale, train_months), context, evaluate)?
            }
            RunCard::Regression {
                model,
                columns,
                scaler,
                target,
                scale,
            } => {
                let model = cortex::nn::load(model.init(device)?, &weights)?.valid();
                let run = table::RegressionRun {
                    columns: &columns,
                    scaler: &scaler,
                    target: &target,
                    scale,
                };
                table::regress(&model, &run, context, evaluate)?
            }
            RunCard::Speech {
                model,
                audio,
                classes,
            } => {
                let model =
                    cortex::nn::load(SpeechClassifier::new(&model, device)?, &weights)?.valid();
                speech::classify(&model, (&audio, &classes), context, evaluate, top)?
            }
        };
        let seconds = format!("{:.1}", started.elapsed().as_secs_f64());
        let (count, measured) = match &outcome {
            Outcome::Classes(rows, expected) => (
                rows.len(),
                expected
                    .as_ref()
                    .map(|e| ("test_accuracy", format!("{:.4}", accuracy(rows, e)))),
            ),
            Outcome::Values(predicted, expected) => (
                predicted.len(),
                expected
                    .as_ref()
                    .map(|e| ("test_rmse", format!("{:.4}", rmse(predicted, e)))),
            ),
        };
        match measured {
            Some(figure) => {
                print_final(&[figure, ("samples", count.to_string()), ("seconds", seconds)])
            }
            None => print_final(&[("inputs", count.to_string()), ("seconds", seconds)]),
        }
        Ok(())
    })
}
