//! Spoken-word classification: log-mel (or MFCC) frames → a bidirectional GRU (or, with
//! `--model cnn`, a 1-D CNN over time) → the word.
//!
//! Default task: the bundled spoken digits (zero … nine, synthesized with eSpeak NG; the test
//! clips speak with voice variants the training clips never use). Any folder of labelled WAV
//! clips with `--data DIR`: `DIR/train/<label>/*.wav` and `DIR/test/<label>/*.wav`, or a
//! single `DIR/<label>/*.wav` tree (the Speech Commands layout), split 80/20, seeded and
//! stratified. The sample rate is the clips' own (one rate per folder); every clip is cut or
//! padded with silence to `--seconds` (default: the length 99% of the training clips do not
//! exceed). The features are normalised with the training clips' statistics; with
//! `--out DIR` the run writes a run card (`run.json`: model, features, class names) for
//! `predict`.

use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::{Arg, Command, value_parser};
use cortex::data::{
    AudioBatch, AudioConfig, AudioFeatures, AudioFolder, ClipSurvey, Dataset, SpectrogramConfig,
    SplitConfig, Subset, bundled, split,
};
use cortex::train::{Metric, Output};
use cortex_examples::run_card::RunCard;
use cortex_examples::speech_model::{SpeechClassifier, SpeechModelConfig, SpeechNetwork};
use cortex_examples::{
    BoxError, Recipe, common, fit_and_test, report_classification, run, with_common_args,
};

/// Where the clips are: a training and a test folder, or one folder to split.
enum Layout {
    TrainTest(PathBuf, PathBuf),
    Single(PathBuf),
}

fn layout(data: Option<&PathBuf>) -> Result<Layout, BoxError> {
    let Some(dir) = data else {
        let digits = bundled::speech_digits()?;
        return Ok(Layout::TrainTest(digits.train, digits.test));
    };
    let (train, test) = (dir.join("train"), dir.join("test"));
    Ok(if train.is_dir() && test.is_dir() {
        Layout::TrainTest(train, test)
    } else {
        Layout::Single(dir.clone())
    })
}

/// Training, validation and test clip indices of the folder(s) read.
struct Parts {
    train: Vec<usize>,
    validation: Vec<usize>,
    test: Vec<usize>,
}

/// Splits the training clips 90/10 for validation (and, for a single folder, the whole 80/20
/// for test first), stratified and seeded; keeps at most `limit` training clips.
fn parts(
    survey: &ClipSurvey,
    single: bool,
    seed: u64,
    limit: Option<usize>,
) -> Result<Parts, BoxError> {
    let (pool, test) = if single {
        let config = SplitConfig::new(0.8, 0.0, 0.2).with_seed(seed).stratified();
        let all = split(survey.labels.len(), &config, Some(&survey.labels))?;
        (all.train, all.test)
    } else {
        ((0..survey.labels.len()).collect(), Vec::new())
    };
    let labels: Vec<usize> = pool.iter().map(|&i| survey.labels[i]).collect();
    let config = SplitConfig::new(0.9, 0.1, 0.0).with_seed(seed).stratified();
    let inner = split(pool.len(), &config, Some(&labels))?;
    let mut train: Vec<usize> = inner.train.iter().map(|&i| pool[i]).collect();
    if let Some(limit) = limit {
        train.truncate(limit);
    }
    let validation = inner.validation.iter().map(|&i| pool[i]).collect();
    Ok(Parts {
        train,
        validation,
        test,
    })
}

fn subset(folder: &AudioFolder, indices: Vec<usize>) -> Result<Subset<AudioFolder>, BoxError> {
    Ok(folder.clone().subset(indices)?)
}

fn main() -> std::process::ExitCode {
    run(|| {
        let started = Instant::now();
        let matches = with_common_args(
            Command::new("speech")
                .about("a spoken-word classifier (GRU or CNN over log-mel frames)"),
        )
        .arg(
            Arg::new("data")
                .long("data")
                .value_name("DIR")
                .value_parser(value_parser!(PathBuf))
                .help(
                    "labelled WAV clips: DIR/train/<label>/*.wav + DIR/test/<label>/*.wav, or \
                     DIR/<label>/*.wav (default: the bundled spoken digits)",
                ),
        )
        .arg(
            Arg::new("model")
                .long("model")
                .value_parser(["gru", "cnn"])
                .default_value("gru"),
        )
        .arg(
            Arg::new("features")
                .long("features")
                .value_parser(["logmel", "mfcc"])
                .default_value("logmel")
                .help("40 log-mel bands, or 13 MFCCs, per 10 ms frame"),
        )
        .arg(
            Arg::new("seconds")
                .long("seconds")
                .value_parser(value_parser!(f64))
                .help("clip length (default: enough for 99% of the training clips)"),
        )
        .get_matches();
        let common = common(&matches)?;
        let layout = layout(matches.get_one::<PathBuf>("data"))?;
        let train_dir: &Path = match &layout {
            Layout::TrainTest(train, _) | Layout::Single(train) => train,
        };
        // Headers only: the rate, the lengths and the classes choose the split and the clip.
        let survey = ClipSurvey::read(train_dir)?;
        let single = matches!(layout, Layout::Single(_));
        let parts = parts(&survey, single, common.seed, common.limit)?;
        let clip_samples = match matches.get_one::<f64>("seconds") {
            Some(&s) if s.is_finite() && s > 0.0 => {
                (s * f64::from(survey.sample_rate)).round() as usize
            }
            Some(s) => return Err(format!("--seconds must be positive, got {s}").into()),
            None => survey.quantile(&parts.train, 0.99),
        };
        let features = match matches.get_one::<String>("features").map(String::as_str) {
            Some("mfcc") => AudioFeatures::Mfcc(13),
            _ => AudioFeatures::LogMel,
        };
        let audio = AudioConfig {
            spectrogram: SpectrogramConfig::speech(survey.sample_rate),
            clip_samples: clip_samples.max(1),
            features,
        };
        println!(
            "clips: {} Hz, {:.2} s ({} frames of {} features); classes: {}",
            survey.sample_rate,
            audio.clip_samples as f64 / f64::from(survey.sample_rate),
            audio.frames(),
            audio.width(),
            survey.classes.join(" ")
        );
        let folder = AudioFolder::read(train_dir, &audio)?;
        let (train, validation, test) = match &layout {
            Layout::TrainTest(_, test_dir) => {
                let test =
                    AudioFolder::read_with_classes(test_dir, &audio, Some(folder.classes()))?;
                let all_test = (0..test.len()).collect();
                (
                    subset(&folder, parts.train.clone())?,
                    subset(&folder, parts.validation.clone())?,
                    test.subset(all_test)?,
                )
            }
            Layout::Single(_) => (
                subset(&folder, parts.train.clone())?,
                subset(&folder, parts.validation.clone())?,
                subset(&folder, parts.test.clone())?,
            ),
        };
        println!(
            "train {} clips, validation {}, test {}",
            train.len(),
            validation.len(),
            test.len()
        );
        let network = match matches.get_one::<String>("model").map(String::as_str) {
            Some("cnn") => SpeechNetwork::Cnn,
            _ => SpeechNetwork::Gru,
        };
        let model = SpeechModelConfig {
            width: audio.width(),
            classes: folder.classes().len(),
            hidden: 128,
            network,
            normalization: folder.feature_statistics(&parts.train),
        };
        if let Some(out) = &common.out {
            // Everything `predict` needs besides the weights (best.bpk, written by the run).
            let card = RunCard::Speech {
                model: model.clone(),
                audio: audio.clone(),
                classes: folder.classes().to_vec(),
            };
            card.save(out)?;
        }
        let recipe = Recipe::adam_cosine(&common, (30, 32), 2e-3, 1e-4, Metric::Accuracy);
        let (fitted, metrics) = fit_and_test(
            &common,
            &recipe,
            |device| SpeechClassifier::new(&model, device),
            (&train, &validation, &test),
            |model: &SpeechClassifier, batch: AudioBatch| {
                Output::classification(model.forward(batch.features)?, batch.labels)
            },
        )?;
        report_classification(&metrics, fitted.history.epochs.len(), started);
        Ok(())
    })
}
