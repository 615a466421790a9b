//! Speech runs: WAV files, or the test clips of the run's data.

use std::path::PathBuf;

use clap::ArgMatches;
use cortex::burn::tensor::{Device, Tensor, TensorData};
use cortex::data::{
    AudioConfig, AudioFolder, ClipSurvey, Dataset, SplitConfig, bundled, read_wav, split,
};
use cortex_examples::speech_model::SpeechClassifier;
use cortex_examples::{BoxError, Common};

use crate::{Outcome, inputs, print_top, softmax_rows};

/// Classifies the WAV files named on the command line (or stdin), or with `evaluate` the
/// test clips of the run's data.
///
/// # Errors
/// The readers' errors.
pub fn classify(
    model: &SpeechClassifier,
    (audio, classes): (&AudioConfig, &[String]),
    (matches, common): (&ArgMatches, &Common),
    evaluate: bool,
    top: usize,
) -> Result<Outcome, BoxError> {
    let device = &common.backend.device;
    if evaluate {
        let (clips, expected) = test_clips(matches, common, audio, classes)?;
        let rows = clip_probabilities(model, &clips, audio, device)?;
        Ok(Outcome::Classes(rows, Some(expected)))
    } else {
        let files = inputs(matches)?;
        let clips = files
            .iter()
            .map(|f| {
                let waveform = read_wav(f)?;
                audio.features(&waveform, f.as_ref())
            })
            .collect::<Result<Vec<_>, _>>()?;
        let rows = clip_probabilities(model, &clips, audio, device)?;
        print_top(&files, &rows, classes, top);
        Ok(Outcome::Classes(rows, None))
    }
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
