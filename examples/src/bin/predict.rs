//! Uses a trained run: loads what an example wrote with `--out DIR` (the run card `run.json`:
//! model sizes, fitted preprocessing, class names; the weights `best.bpk`) and classifies new
//! inputs, printing the top classes with their probabilities.
//!
//! ```text
//! predict --run DIR [--top K] INPUT…        # texts for a text run, picture files for a cnn
//!                                           # run, WAV files for a speech run
//!                                           # (no inputs: one per line on stdin)
//! predict --run DIR --evaluate              # the test accuracy on the run's data: the bundled
//!                                           # words, or --csv PATH --text COL --target COL; the
//!                                           # bundled images, or --dataset NAME / --data DIR
//!                                           # (with the run's --seed); the bundled
//!                                           # spoken digits, or --data DIR
//! ```

use std::io::BufRead;
use std::path::PathBuf;
use std::time::Instant;

use clap::{Arg, ArgAction, ArgMatches, Command, value_parser};
use cortex::burn::module::Module;
use cortex::burn::tensor::{Device, Int, Tensor, TensorData};
use cortex::data::{
    AudioConfig, AudioFolder, ClipSurvey, Dataset, ImageDataset, ImageFolderConfig, LabelledTexts,
    SplitConfig, TextCsvOptions, TextEncoder, bundled, read_picture, read_text_csv, read_wav,
    split,
};
use cortex_examples::image_model::Cnn;
use cortex_examples::run_card::RunCard;
use cortex_examples::speech_model::SpeechClassifier;
use cortex_examples::text_model::TextClassifier;
use cortex_examples::{
    BoxError, Common, common, load_images, print_final, run, with_common_args, with_image_args,
};

/// Class probabilities `[B, classes]` of `texts`, in batches.
fn probabilities(
    model: &TextClassifier,
    encoder: &TextEncoder,
    texts: &[String],
    device: &Device,
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
        rows.extend(softmax_rows(model.forward(tokens)?)?);
    }
    Ok(rows)
}

/// Class probabilities of `pictures` (bytes `[C, H, W]` each, of `max_value` full scale).
fn picture_probabilities(
    model: &Cnn,
    pictures: &[Vec<u8>],
    [c, h, w]: [usize; 3],
    max_value: u8,
    device: &Device,
) -> Result<Vec<Vec<f32>>, BoxError> {
    let mut rows = Vec::with_capacity(pictures.len());
    let scale = 1.0 / f32::from(max_value);
    for chunk in pictures.chunks(256) {
        let pixels: Vec<f32> = chunk
            .iter()
            .flatten()
            .map(|&p| f32::from(p) * scale)
            .collect();
        let data = TensorData::new(pixels, [chunk.len(), c, h, w]);
        rows.extend(softmax_rows(
            model.forward(Tensor::<4>::from_data(data, device))?,
        )?);
    }
    Ok(rows)
}

/// Class probabilities of clips' features (`[frames · width]` each).
fn clip_probabilities(
    model: &SpeechClassifier,
    clips: &[Vec<f32>],
    audio: &AudioConfig,
    device: &Device,
) -> Result<Vec<Vec<f32>>, BoxError> {
    let mut rows = Vec::with_capacity(clips.len());
    for chunk in clips.chunks(128) {
        let features: Vec<f32> = chunk.iter().flatten().copied().collect();
        let data = TensorData::new(features, [chunk.len(), audio.frames(), audio.width()]);
        rows.extend(softmax_rows(
            model.forward(Tensor::<3>::from_data(data, device))?,
        )?);
    }
    Ok(rows)
}

/// Clips' features and their expected class ids (`None`: a class the run does not know).
type LabelledClips = (Vec<Vec<f32>>, Vec<Option<usize>>);

/// The test clips of a speech run's data, with their expected class ids under `classes`:
/// the bundled digits' `test/`, `--data DIR`'s `test/`, or the test part of a single
/// `DIR/<label>/` tree (the speech example's seeded 80/20 split, the run's `--seed`).
fn test_clips(
    matches: &ArgMatches,
    common: &Common,
    audio: &AudioConfig,
    classes: &[String],
) -> Result<LabelledClips, BoxError> {
    let (folder, indices) = match matches.get_one::<PathBuf>("data") {
        Some(dir) if !dir.join("test").is_dir() => {
            let survey = ClipSurvey::read(dir)?;
            let config = SplitConfig::new(0.8, 0.0, 0.2)
                .with_seed(common.seed)
                .stratified();
            let test = split(survey.labels.len(), &config, Some(&survey.labels))?.test;
            (AudioFolder::read(dir, audio)?, test)
        }
        data => {
            let dir = match data {
                Some(dir) => dir.join("test"),
                None => bundled::speech_digits()?.test,
            };
            let folder = AudioFolder::read(&dir, audio)?;
            let all = (0..folder.len()).collect();
            (folder, all)
        }
    };
    let mut clips = Vec::with_capacity(indices.len());
    let mut expected = Vec::with_capacity(indices.len());
    for i in indices {
        let clip = folder.get(i).ok_or("a test clip index past the end")?;
        // Ids are looked up by class name: the folder's names must be the run's.
        let name = &folder.classes()[clip.label];
        expected.push(classes.iter().position(|c| c == name));
        clips.push(clip.features);
    }
    Ok((clips, expected))
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

/// The test images of the run's data (`--dataset`/`--data`, the run's `--seed`).
fn test_images(
    matches: &ArgMatches,
    common: &Common,
    pictures: &ImageFolderConfig,
) -> Result<ImageDataset, BoxError> {
    let name = matches
        .get_one::<String>("dataset")
        .map_or("mnist_subset", String::as_str);
    let data = load_images(
        name,
        matches.get_one::<PathBuf>("data"),
        pictures,
        common.seed,
    )?;
    Ok(data.test)
}

/// The labelled texts to measure: `--csv`, or the bundled words' test split.
fn labelled(matches: &ArgMatches) -> Result<LabelledTexts, BoxError> {
    let Some(csv) = matches.get_one::<PathBuf>("csv") else {
        return Ok(bundled::words()?.test);
    };
    let (Some(text), Some(target)) = (
        matches.get_one::<String>("text"),
        matches.get_one::<String>("target"),
    ) else {
        return Err("--csv needs --text COL and --target COL".into());
    };
    Ok(read_text_csv(csv, &TextCsvOptions::new(text, target))?)
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
                .help("text runs: labelled texts to measure with --evaluate"),
        )
        .arg(Arg::new("text").long("text").value_name("COL"))
        .arg(Arg::new("target").long("target").value_name("COL"))
        .arg(
            Arg::new("inputs")
                .num_args(0..)
                .help("texts, picture files or WAV files (default: one per line on stdin)"),
        )
        .get_matches();
        let common = common(&matches)?;
        let dir = matches
            .get_one::<PathBuf>("run")
            .ok_or("--run DIR is required")?;
        let device = &common.backend.device;
        let weights = dir.join("best.bpk");
        let top = matches.get_one::<usize>("top").copied().unwrap_or(3).max(1);
        let evaluate = matches.get_flag("evaluate");
        let (rows, expected, count) = match RunCard::load(dir)? {
            RunCard::Text {
                model: config,
                encoder,
                classes,
            } => {
                let model =
                    cortex::nn::load(TextClassifier::new(&config, device)?, &weights)?.valid();
                if evaluate {
                    let data = labelled(&matches)?;
                    let texts: Vec<String> = (0..data.len())
                        .map(|i| data.text(i).unwrap_or_default().to_string())
                        .collect();
                    // Ids are looked up by class name: the file's names must be the run's.
                    let expected: Vec<Option<usize>> = data
                        .labels()
                        .iter()
                        .map(|&l| classes.iter().position(|c| *c == data.classes()[l]))
                        .collect();
                    let rows = probabilities(&model, &encoder, &texts, device)?;
                    (rows, Some(expected), texts.len())
                } else {
                    let texts = inputs(&matches)?;
                    let rows = probabilities(&model, &encoder, &texts, device)?;
                    print_top(&texts, &rows, &classes, top);
                    (rows, None, texts.len())
                }
            }
            RunCard::Cnn {
                model: config,
                pictures,
                classes,
            } => {
                let model = cortex::nn::load(Cnn::new(&config, device)?, &weights)?.valid();
                if evaluate {
                    let test = test_images(&matches, &common, &pictures)?;
                    if [test.channels(), test.height(), test.width()] != config.shape {
                        return Err(format!(
                            "the test images are {}x{}x{}, the run was trained on {:?}",
                            test.channels(),
                            test.height(),
                            test.width(),
                            config.shape
                        )
                        .into());
                    }
                    let images: Vec<Vec<u8>> = (0..test.len())
                        .map(|i| test.raw_pixels(i).unwrap_or_default().to_vec())
                        .collect();
                    let rows = picture_probabilities(
                        &model,
                        &images,
                        config.shape,
                        test.max_value(),
                        device,
                    )?;
                    let expected = test.labels().into_iter().map(Some).collect();
                    (rows, Some(expected), images.len())
                } else {
                    let files = inputs(&matches)?;
                    let images = files
                        .iter()
                        .map(|f| read_picture(f, &pictures))
                        .collect::<Result<Vec<_>, _>>()?;
                    let rows = picture_probabilities(&model, &images, config.shape, 255, device)?;
                    print_top(&files, &rows, &classes, top);
                    (rows, None, files.len())
                }
            }
            RunCard::Speech {
                model: config,
                audio,
                classes,
            } => {
                let model =
                    cortex::nn::load(SpeechClassifier::new(&config, device)?, &weights)?.valid();
                if evaluate {
                    let (clips, expected) = test_clips(&matches, &common, &audio, &classes)?;
                    let rows = clip_probabilities(&model, &clips, &audio, device)?;
                    (rows, Some(expected), clips.len())
                } else {
                    let files = inputs(&matches)?;
                    let clips = files
                        .iter()
                        .map(|f| {
                            let waveform = read_wav(f)?;
                            audio.features(&waveform, f.as_ref())
                        })
                        .collect::<Result<Vec<_>, _>>()?;
                    let rows = clip_probabilities(&model, &clips, &audio, device)?;
                    print_top(&files, &rows, &classes, top);
                    (rows, None, files.len())
                }
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
