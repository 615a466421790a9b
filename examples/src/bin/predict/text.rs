//! Text runs: lines of text, or labelled texts (the bundled words' test split or `--csv`).

use std::path::PathBuf;

use clap::ArgMatches;
use cortex::burn::tensor::{Device, Int, Tensor, TensorData};
use cortex::data::{Dataset, LabelledTexts, TextCsvOptions, TextEncoder, bundled, read_text_csv};
use cortex_examples::text_model::TextClassifier;
use cortex_examples::{BoxError, Common};

use crate::{Outcome, inputs, print_top, softmax_rows};

/// Classifies the texts given on the command line (or one per line on stdin), or with
/// `evaluate` labelled texts: `--csv PATH --text COL --target COL`, or the bundled words'
/// test split.
///
/// # Errors
/// The readers' errors.
pub fn classify(
    model: &TextClassifier,
    (encoder, classes): (&TextEncoder, &[String]),
    (matches, common): (&ArgMatches, &Common),
    evaluate: bool,
    top: usize,
) -> Result<Outcome, BoxError> {
    let device = &common.backend.device;
    if evaluate {
        let data = labelled(matches)?;
        let texts: Vec<String> = (0..data.len())
            .map(|i| data.text(i).unwrap_or_default().to_string())
            .collect();
        // Ids are looked up by class name: the file's names must be the run's.
        let expected: Vec<Option<usize>> = data
            .labels()
            .iter()
            .map(|&l| classes.iter().position(|c| *c == data.classes()[l]))
            .collect();
        let rows = probabilities(model, encoder, &texts, device)?;
        Ok(Outcome::Classes(rows, Some(expected)))
    } else {
        let texts = inputs(matches)?;
        let rows = probabilities(model, encoder, &texts, device)?;
        print_top(&texts, &rows, classes, top);
        Ok(Outcome::Classes(rows, None))
    }
}

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
