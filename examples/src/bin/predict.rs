//! Uses a trained run: loads what an example wrote with `--out DIR` (the run card `run.json`:
//! model sizes, fitted preprocessing, class names; the weights `best.bpk`) and classifies new
//! inputs, printing the top classes with their probabilities.
//!
//! ```text
//! predict --run DIR [--top K] TEXT…          # or one text per line on stdin
//! predict --run DIR --csv PATH --text COL --target COL   # accuracy on labelled texts
//! predict --run DIR --words-test             # accuracy on the bundled words' test split
//! ```
//!
//! Today the card describes `text` runs; the other examples' runs follow the same card.

use std::io::BufRead;
use std::path::PathBuf;
use std::time::Instant;

use clap::{Arg, ArgAction, Command, value_parser};
use cortex::burn::module::Module;
use cortex::burn::tensor::{Int, Tensor, TensorData};
use cortex::data::{Dataset, LabelledTexts, TextCsvOptions, TextEncoder, bundled, read_text_csv};
use cortex_examples::text_model::{RunCard, TextClassifier};
use cortex_examples::{BoxError, common, print_final, run, with_common_args};

/// Class probabilities `[B, classes]` of `texts`, in batches.
fn probabilities(
    model: &TextClassifier,
    encoder: &TextEncoder,
    texts: &[String],
    device: &cortex::burn::tensor::Device,
) -> Result<Vec<Vec<f32>>, BoxError> {
    let mut rows = Vec::with_capacity(texts.len());
    for chunk in texts.chunks(256) {
        let ids: Vec<i64> = chunk
            .iter()
            .flat_map(|t| encoder.encode(t).0.into_iter().map(|i| i as i64))
            .collect();
        let tokens = Tensor::<2, Int>::from_data(
            TensorData::new(ids, [chunk.len(), encoder.length]),
            device,
        );
        let p = cortex::ops::softmax(model.forward(tokens)?, -1)?;
        let classes = p.dims()[1];
        let values: Vec<f32> = p.into_data().iter().collect();
        rows.extend(values.chunks(classes).map(<[f32]>::to_vec));
    }
    Ok(rows)
}

/// The labelled texts `--csv`/`--words-test` name, if any.
fn labelled(matches: &clap::ArgMatches) -> Result<Option<LabelledTexts>, BoxError> {
    if matches.get_flag("words-test") {
        return Ok(Some(bundled::words()?.test));
    }
    let Some(csv) = matches.get_one::<PathBuf>("csv") else {
        return Ok(None);
    };
    let (Some(text), Some(target)) = (
        matches.get_one::<String>("text"),
        matches.get_one::<String>("target"),
    ) else {
        return Err("--csv needs --text COL and --target COL".into());
    };
    Ok(Some(read_text_csv(
        csv,
        &TextCsvOptions::new(text, target),
    )?))
}

fn main() -> std::process::ExitCode {
    run(|| {
        let started = Instant::now();
        let matches = with_common_args(
            Command::new("predict").about("classifies new inputs with a trained run"),
        )
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
            Arg::new("csv")
                .long("csv")
                .value_name("PATH")
                .value_parser(value_parser!(PathBuf))
                .help("labelled texts to measure the accuracy on"),
        )
        .arg(Arg::new("text").long("text").value_name("COL"))
        .arg(Arg::new("target").long("target").value_name("COL"))
        .arg(
            Arg::new("words-test")
                .long("words-test")
                .action(ArgAction::SetTrue)
                .help("measure on the bundled words' test split"),
        )
        .arg(
            Arg::new("inputs")
                .num_args(0..)
                .help("texts to classify (default: one per line on stdin)"),
        )
        .get_matches();
        let common = common(&matches)?;
        let dir = matches
            .get_one::<PathBuf>("run")
            .ok_or("--run DIR is required")?;
        let RunCard::Text {
            model: config,
            encoder,
            classes,
        } = RunCard::load(dir)?;
        let device = &common.backend.device;
        let weights = dir.join("best.bpk");
        let model = cortex::nn::load(TextClassifier::new(&config, device)?, &weights)?.valid();
        if let Some(data) = labelled(&matches)? {
            // The names of the file's classes must be the run's: ids are looked up by name.
            let texts: Vec<String> = (0..data.len())
                .map(|i| data.text(i).unwrap_or_default().to_string())
                .collect();
            let expected: Vec<Option<usize>> = data
                .labels()
                .iter()
                .map(|&l| classes.iter().position(|c| *c == data.classes()[l]))
                .collect();
            let rows = probabilities(&model, &encoder, &texts, device)?;
            let correct = rows
                .iter()
                .zip(&expected)
                .filter(|(p, e)| {
                    let best = (0..p.len()).max_by(|&a, &b| p[a].total_cmp(&p[b]));
                    best.is_some() && best == **e
                })
                .count();
            let accuracy = correct as f64 / rows.len().max(1) as f64;
            print_final(&[
                ("test_accuracy", format!("{accuracy:.4}")),
                ("samples", rows.len().to_string()),
                ("seconds", format!("{:.1}", started.elapsed().as_secs_f64())),
            ]);
            return Ok(());
        }
        let inputs: Vec<String> = match matches.get_many::<String>("inputs") {
            Some(given) => given.cloned().collect(),
            None => std::io::stdin().lock().lines().collect::<Result<_, _>>()?,
        };
        let top = matches.get_one::<usize>("top").copied().unwrap_or(3).max(1);
        let rows = probabilities(&model, &encoder, &inputs, device)?;
        for (text, p) in inputs.iter().zip(&rows) {
            let mut order: Vec<usize> = (0..p.len()).collect();
            order.sort_by(|&a, &b| p[b].total_cmp(&p[a]));
            let best: Vec<String> = order
                .iter()
                .take(top)
                .map(|&c| format!("{} {:.3}", classes[c], p[c]))
                .collect();
            println!("{text}\t{}", best.join("  "));
        }
        print_final(&[
            ("inputs", inputs.len().to_string()),
            ("seconds", format!("{:.1}", started.elapsed().as_secs_f64())),
        ]);
        Ok(())
    })
}
