//! Text classification, Kim (2014)'s sentence CNN: embedding → conv1d of widths 3, 4 and 5 →
//! ReLU → max over time → dropout → linear; or, with `--model lstm`, a (bidirectional with
//! `--bidirectional`) LSTM whose final hidden states feed the linear layer.
//!
//! Default task: language identification of single words (the bundled `words`: ten
//! languages from Debian's word lists), over characters. Any CSV of labelled texts with
//! `--csv PATH --text COL --target COL` (split 80/20, stratified), over characters or words
//! (`--tokens chars|words`). The vocabulary is fitted on the training texts only; with
//! `--out DIR` the run saves it (`vocabulary.json`) and a run card (`run.json`: model sizes,
//! encoder, class names) beside the weights, for `predict`.

use std::path::PathBuf;
use std::time::Instant;

use clap::{Arg, ArgAction, Command, value_parser};
use cortex::data::{
    Dataset, LabelledTexts, SplitConfig, TextBatch, TextCsvOptions, TextDataset, TextEncoder,
    Tokenizer, Vocabulary, VocabularyConfig, bundled, read_text_csv, split,
};
use cortex::train::{Metric, Output};
use cortex_examples::run_card::RunCard;
use cortex_examples::text_model::{TextClassifier, TextModelConfig, WIDTHS};
use cortex_examples::{
    BoxError, Recipe, common, fit_and_test, report_classification, run, with_common_args,
};

/// The labelled texts: the bundled words, or a CSV split 80/20 (stratified, seeded).
fn texts(
    matches: &clap::ArgMatches,
    seed: u64,
) -> Result<(LabelledTexts, LabelledTexts), BoxError> {
    let Some(csv) = matches.get_one::<PathBuf>("csv") else {
        let words = bundled::words()?;
        return Ok((words.train, words.test));
    };
    let (Some(text), Some(target)) = (
        matches.get_one::<String>("text"),
        matches.get_one::<String>("target"),
    ) else {
        return Err("--csv needs --text COL and --target COL".into());
    };
    let all = read_text_csv(csv, &TextCsvOptions::new(text, target))?;
    let config = SplitConfig::new(0.8, 0.0, 0.2).with_seed(seed).stratified();
    let parts = split(all.len(), &config, Some(all.labels()))?;
    let pick = |indices: &[usize]| -> Result<LabelledTexts, BoxError> {
        let texts = indices
            .iter()
            .map(|&i| all.text(i).unwrap_or_default().to_string());
        let labels = indices.iter().map(|&i| all.labels()[i]).collect();
        Ok(LabelledTexts::new(
            texts.collect(),
            labels,
            all.classes().to_vec(),
        )?)
    };
    Ok((pick(&parts.train)?, pick(&parts.test)?))
}

fn main() -> std::process::ExitCode {
    run(|| {
        let started = Instant::now();
        let matches =
            with_common_args(Command::new("text").about("a text classifier (CNN or LSTM)"))
                .arg(
                    Arg::new("csv")
                        .long("csv")
                        .value_name("PATH")
                        .value_parser(value_parser!(PathBuf))
                        .help("a CSV of labelled texts (default: the bundled words)"),
                )
                .arg(
                    Arg::new("text")
                        .long("text")
                        .value_name("COL")
                        .help("the CSV's text column"),
                )
                .arg(
                    Arg::new("target")
                        .long("target")
                        .value_name("COL")
                        .help("the CSV's label column"),
                )
                .arg(
                    Arg::new("model")
                        .long("model")
                        .value_parser(["cnn", "lstm"])
                        .default_value("cnn"),
                )
                .arg(
                    Arg::new("bidirectional")
                        .long("bidirectional")
                        .action(ArgAction::SetTrue)
                        .help("a bidirectional LSTM"),
                )
                .arg(
                    Arg::new("tokens")
                        .long("tokens")
                        .value_parser(["chars", "words"])
                        .default_value("chars"),
                )
                .arg(
                    Arg::new("length")
                        .long("length")
                        .value_name("N")
                        .value_parser(value_parser!(usize))
                        .help("tokens per text (default: enough for 99% of the training texts)"),
                )
                .get_matches();
        let common = common(&matches)?;
        let (train_texts, test_texts) = texts(&matches, common.seed)?;
        let tokenizer = match matches.get_one::<String>("tokens").map(String::as_str) {
            Some("words") => Tokenizer::Words,
            _ => Tokenizer::Characters,
        };
        // Validation: 10% of the training texts, stratified; the vocabulary sees the rest only.
        let config = SplitConfig::new(0.9, 0.1, 0.0)
            .with_seed(common.seed)
            .stratified();
        let parts = split(train_texts.len(), &config, Some(train_texts.labels()))?;
        let mut train_ids = parts.train;
        if let Some(limit) = common.limit {
            train_ids.truncate(limit);
        }
        // The training texts' tokens, cut once: the vocabulary and the default length use them.
        let tokens: Vec<Vec<String>> = train_ids
            .iter()
            .map(|&i| tokenizer.tokenize(train_texts.text(i).unwrap_or_default(), true))
            .collect();
        let mut counts: Vec<usize> = tokens.iter().map(Vec::len).collect();
        let vocabulary = Vocabulary::fit(tokens, &VocabularyConfig::new())?;
        let length = match matches.get_one::<usize>("length") {
            Some(&n) => n,
            None => {
                counts.sort_unstable();
                counts[(counts.len() * 99 / 100).min(counts.len() - 1)].clamp(WIDTHS[2], 400)
            }
        };
        if let Some(out) = &common.out {
            std::fs::create_dir_all(out)?;
            vocabulary.save(out.join("vocabulary.json"))?;
        }
        let encoder = TextEncoder::new(tokenizer, true, vocabulary, length)?;
        let all_test: Vec<usize> = (0..test_texts.len()).collect();
        let (train, validation, test): (TextDataset, TextDataset, TextDataset) = (
            encoder.dataset(&train_texts, &train_ids)?,
            encoder.dataset(&train_texts, &parts.validation)?,
            encoder.dataset(&test_texts, &all_test)?,
        );
        let lstm = matches.get_one::<String>("model").map(String::as_str) == Some("lstm");
        let shape = TextModelConfig {
            vocabulary: encoder.vocabulary.len(),
            classes: train_texts.classes().len(),
            embedding: 64,
            width: if lstm { 128 } else { 256 },
            lstm,
            bidirectional: matches.get_flag("bidirectional"),
        };
        if let Some(out) = &common.out {
            // Everything `predict` needs besides the weights (best.bpk, written by the run).
            let card = RunCard::Text {
                model: shape.clone(),
                encoder: encoder.clone(),
                classes: train_texts.classes().to_vec(),
            };
            card.save(out)?;
        }
        let recipe = Recipe::adam_cosine(&common, (12, 64), 2e-3, 1e-4, Metric::Accuracy);
        let (fitted, metrics) = fit_and_test(
            &common,
            &recipe,
            |device| TextClassifier::new(&shape, device),
            (&train, &validation, &test),
            |model: &TextClassifier, batch: TextBatch| {
                Output::classification(model.forward(batch.tokens)?, batch.labels)
            },
        )?;
        report_classification(&metrics, fitted.history.epochs.len(), started);
        Ok(())
    })
}
