//! Uses a trained run: loads what an example wrote with `--out DIR` (the run card `run.json`:
//! model sizes, fitted preprocessing, class names; the weights `best.bpk`) and classifies new
//! inputs, printing the top classes with their probabilities.
//!
//! ```text
//! predict --run DIR [--top K] INPUT…        # texts for a text run, picture files for a cnn
//!                                           # or mlp image run, CSV files for an mlp table
//!                                           # run, WAV files for a speech run (no inputs:
//!                                           # one per line on stdin; CSV text for a table)
//! predict --run DIR --evaluate              # the test accuracy on the run's data: the bundled
//!                                           # words, or --csv PATH --text COL --target COL; the
//!                                           # bundled images, or --dataset NAME / --data DIR
//!                                           # (with the run's --seed); the run's CSV file
//!                                           # (--csv PATH, the run's --seed); the bundled
//!                                           # spoken digits, or --data DIR
//! ```

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
use cortex_examples::run_card::RunCard;
use cortex_examples::speech_model::SpeechClassifier;
use cortex_examples::text_model::TextClassifier;
use cortex_examples::{BoxError, common, print_final, run, with_common_args, with_image_args};

use images::ImageRun;
use table::TableRun;

/// Class probabilities of each input, their expected class ids when known (`None` inside:
/// a class the run does not know), and how many inputs there were.
pub type Outcome = (Vec<Vec<f32>>, Option<Vec<Option<usize>>>, usize);

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
        let weights = dir.join("best.bpk");
        let top = matches.get_one::<usize>("top").copied().unwrap_or(3).max(1);
        let evaluate = matches.get_flag("evaluate");
        let context = (&matches, &common);
        let (rows, expected, count) = match RunCard::load(dir)? {
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
        match expected {
            Some(expected) => print_final(&[
                (
                    "test_accuracy",
                    format!("{:.4}", accuracy(&rows, &expected)),
                ),
                ("samples", count.to_string()),
                ("seconds", seconds),
            ]),
            None => print_final(&[("inputs", count.to_string()), ("seconds", seconds)]),
        }
        Ok(())
    })
}
