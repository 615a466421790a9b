//! A multilayer perceptron — `Linear → activation → … → Linear`, softmax cross-entropy — on the
//! bundled MNIST subset or 8x8 digits, any IDX folder (`--data DIR`), or any tabular
//! classification CSV (`--csv PATH --target COLUMN`).
//!
//! CSV policy: missing feature cells (empty, NA, NaN, ?) are imputed with the training
//! split's column mean (a categorical column's most frequent category); text feature columns
//! must be declared with `--categorical a,b` (they are one-hot encoded) or the run stops with
//! an error naming the first such cell; features are standardized on the training split.
//! Images are normalised per channel with the training split's mean and standard deviation.
//! With `--out DIR` the run writes a run card for `predict` (images or CSV rows).

use std::path::PathBuf;
use std::time::Instant;

use clap::{Arg, Command, value_parser};
use cortex::data::{
    CsvOptions, Dataset, ImageBatch, MissingPolicy, Pipeline, TabularBatch, TargetKind, Targets,
    read_csv, split,
};
use cortex::nn::{Activation, Mlp, MlpConfig};
use cortex::train::{Metric, Output};
use cortex_examples::image_model::{ImageMlp, ImageMlpConfig};
use cortex_examples::run_card::RunCard;
use cortex_examples::{
    BoxError, Recipe, class_names, common, fit_and_test, image_splits, picture_card,
    report_classification, run, table_split_config, with_common_args, with_image_args,
};

fn activation(name: &str) -> Result<Activation, BoxError> {
    Ok(match name {
        "relu" => Activation::Relu,
        "sigmoid" => Activation::Sigmoid,
        "tanh" => Activation::Tanh,
        "gelu" => Activation::Gelu,
        other => {
            return Err(
                format!("--activation must be relu, sigmoid, tanh or gelu, got `{other}`").into(),
            );
        }
    })
}

fn hidden_sizes(text: &str) -> Result<Vec<usize>, BoxError> {
    text.split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|s| {
            s.trim()
                .parse::<usize>()
                .map_err(|_| format!("--hidden must be sizes like 256,128, got `{text}`").into())
        })
        .collect()
}

fn main() -> std::process::ExitCode {
    run(|| {
        let started = Instant::now();
        let matches = with_image_args(with_common_args(
            Command::new("mlp").about("a multilayer perceptron on images or a CSV"),
        ))
        .arg(
            Arg::new("csv")
                .long("csv")
                .value_name("PATH")
                .value_parser(value_parser!(PathBuf))
                .help("a tabular classification CSV"),
        )
        .arg(
            Arg::new("target")
                .long("target")
                .value_name("COLUMN")
                .default_value("target"),
        )
        .arg(
            Arg::new("categorical")
                .long("categorical")
                .value_name("A,B")
                .help("text feature columns to one-hot encode"),
        )
        .arg(
            Arg::new("activation")
                .long("activation")
                .default_value("relu")
                .help("relu, sigmoid, tanh or gelu"),
        )
        .arg(
            Arg::new("hidden")
                .long("hidden")
                .default_value("256,128")
                .help("hidden layer sizes"),
        )
        .arg(
            Arg::new("lr")
                .long("lr")
                .value_parser(value_parser!(f64))
                .help("learning rate (Adam)"),
        )
        .get_matches();
        let common = common(&matches)?;
        let activation = activation(
            matches
                .get_one::<String>("activation")
                .map_or("relu", String::as_str),
        )?;
        let hidden = hidden_sizes(
            matches
                .get_one::<String>("hidden")
                .map_or("", String::as_str),
        )?;
        let lr =
            matches
                .get_one::<f64>("lr")
                .copied()
                .unwrap_or(if activation == Activation::Sigmoid {
                    3e-3
                } else {
                    1e-3
                });
        let recipe = Recipe::adam_cosine(&common, (30, 64), lr, lr / 20.0, Metric::Accuracy);
        let mlp = |inputs: usize, classes: usize| {
            MlpConfig::new(inputs, hidden.clone(), classes).with_activation(activation)
        };
        let (epochs, metrics) = if let Some(path) = matches.get_one::<PathBuf>("csv") {
            let target = matches
                .get_one::<String>("target")
                .map_or("target", String::as_str);
            let categorical: Vec<String> = matches
                .get_one::<String>("categorical")
                .map(|s| {
                    s.split(',')
                        .map(|c| c.trim().to_string())
                        .filter(|c| !c.is_empty())
                        .collect()
                })
                .unwrap_or_default();
            let options = CsvOptions::new(target)
                .with_target_kind(TargetKind::Classes)
                .with_missing(MissingPolicy::Keep)
                .with_categorical(categorical);
            let data = read_csv(path, &options)?;
            if data.num_classes() < 2 {
                return Err(format!(
                    "{}: the target column `{target}` holds {} class{}; a classifier needs at \
                     least two (is --target the right column?)",
                    path.display(),
                    data.num_classes(),
                    if data.num_classes() == 1 { "" } else { "es" }
                )
                .into());
            }
            let parts = split(
                data.len(),
                &table_split_config(common.seed),
                data.class_ids(),
            )?;
            let (mut train, mut valid, mut test) = (
                data.select(&parts.train)?,
                data.select(&parts.validation)?,
                data.select(&parts.test)?,
            );
            let pipeline = Pipeline::fit_standard(&mut train)?;
            pipeline.transform(&mut valid)?;
            pipeline.transform(&mut test)?;
            let (inputs, classes) = (train.num_features(), data.num_classes());
            if let Some(out) = &common.out {
                // What `predict` needs besides the weights (best.bpk, written by the run).
                let names = match data.targets() {
                    Targets::Classes { names, .. } => names.clone(),
                    Targets::Values(_) => (0..classes).map(|c| c.to_string()).collect(),
                };
                RunCard::MlpTable {
                    model: mlp(inputs, classes),
                    columns: data.feature_columns(),
                    pipeline: pipeline.clone(),
                    target: target.to_string(),
                    classes: names,
                }
                .save(out)?;
            }
            fit_and_test(
                &common,
                &recipe,
                |device| Ok(mlp(inputs, classes).init(device)?),
                (&train, &valid, &test),
                |model: &Mlp, batch: TabularBatch| {
                    let (features, classes) = batch.into_classes()?;
                    Output::classification(model.forward(features)?, classes)
                },
            )
            .map(|(fitted, metrics)| (fitted.history.epochs.len(), metrics))?
        } else {
            // Training images move by up to `--shift` pixels each time they are drawn (off by
            // default).
            let (train, validation, test) = image_splits(&matches, &common)?;
            let images = train.images();
            let shape = [images.channels(), images.height(), images.width()];
            let classes = images.num_classes().max(validation.images().num_classes());
            let config = ImageMlpConfig {
                shape,
                normalization: images.channel_statistics(),
                mlp: mlp(shape.iter().product(), classes).with_dropout(0.2),
            };
            if let Some(out) = &common.out {
                // What `predict` needs besides the weights (best.bpk, written by the run).
                RunCard::MlpImages {
                    model: config.clone(),
                    pictures: picture_card(images),
                    classes: class_names(images, classes),
                }
                .save(out)?;
            }
            fit_and_test(
                &common,
                &recipe,
                |device| ImageMlp::new(&config, device),
                (&train, &validation, &test),
                |model: &ImageMlp, batch: ImageBatch| {
                    Output::classification(model.forward(batch.images)?, batch.labels)
                },
            )
            .map(|(fitted, metrics)| (fitted.history.epochs.len(), metrics))?
        };
        report_classification(&metrics, epochs, started);
        Ok(())
    })
}
