//! Text classification, Kim (2014)'s sentence CNN: embedding → conv1d of widths 3, 4 and 5 →
//! ReLU → max over time → dropout → linear; or, with `--model lstm`, a (bidirectional with
//! `--bidirectional`) LSTM whose final hidden states feed the linear layer.
//!
//! Default task: language identification of single words (the bundled `words`: ten
//! languages from Debian's word lists), over characters. Any CSV of labelled texts with
//! `--csv PATH --text COL --target COL` (split 80/20, stratified), over characters or words
//! (`--tokens chars|words`). The vocabulary is fitted on the training texts only and saved
//! beside the run (`--out DIR`: `vocabulary.json`).

use std::path::PathBuf;
use std::time::Instant;

use clap::{Arg, ArgAction, Command, value_parser};
use cortex::burn;
use cortex::burn::module::Module;
use cortex::burn::tensor::{Device, Int, Tensor};
use cortex::data::{
    Dataset, LabelledTexts, SplitConfig, TextBatch, TextCsvOptions, TextDataset, TextEncoder,
    Tokenizer, Vocabulary, VocabularyConfig, bundled, read_text_csv, split,
};
use cortex::nn::{
    Conv1d, Conv1dConfig, Dropout, DropoutConfig, Embedding, EmbeddingConfig, Linear, LinearConfig,
    Lstm, LstmConfig,
};
use cortex::optim::{AdamConfig, LrSchedule};
use cortex::train::{Metric, Output};
use cortex_examples::{
    BoxError, Recipe, common, fit_and_test, report_classification, run, with_common_args,
};

/// Kernel widths of the CNN.
const WIDTHS: [usize; 3] = [3, 4, 5];

#[derive(Module, Debug)]
struct TextClassifier {
    embedding: Embedding,
    /// The CNN's convolutions (empty for the LSTM).
    convs: Vec<Conv1d>,
    /// The LSTM (absent for the CNN).
    lstm: Option<Lstm>,
    dropout: Dropout,
    head: Linear,
}

/// What `--model` and its sizes ask for.
struct Shape {
    vocabulary: usize,
    classes: usize,
    embedding: usize,
    /// Filters per width (CNN) or hidden size (LSTM).
    width: usize,
    lstm: bool,
    bidirectional: bool,
}

impl TextClassifier {
    fn new(shape: &Shape, device: &Device) -> Result<Self, BoxError> {
        let embedding = EmbeddingConfig::new(shape.vocabulary, shape.embedding)
            .with_padding_idx(Some(Vocabulary::PAD))
            .init(device)?;
        let (convs, lstm, features) = if shape.lstm {
            let lstm = LstmConfig::new(shape.embedding, shape.width)
                .with_bidirectional(shape.bidirectional)
                .init(device)?;
            let directions = if shape.bidirectional { 2 } else { 1 };
            (Vec::new(), Some(lstm), directions * shape.width)
        } else {
            let convs = WIDTHS
                .iter()
                .map(|&k| Conv1dConfig::new(shape.embedding, shape.width, k).init(device))
                .collect::<Result<Vec<_>, _>>()?;
            (convs, None, WIDTHS.len() * shape.width)
        };
        Ok(Self {
            embedding,
            convs,
            lstm,
            dropout: DropoutConfig::new(0.5).init()?,
            head: LinearConfig::new(features, shape.classes).init(device)?,
        })
    }

    /// Token ids `[B, T]` → class scores `[B, classes]`.
    fn forward(&self, tokens: Tensor<2, Int>) -> cortex::nn::Result<Tensor<2>> {
        let x: Tensor<3> = self.embedding.forward(tokens)?; // [B, T, E]
        let features = match &self.lstm {
            Some(lstm) => {
                // The last layer's final hidden state of each direction, side by side.
                let h = lstm.forward(x, None)?.state.h; // [D, B, H]
                let [directions, batch, hidden] = h.dims();
                h.swap_dims(0, 1).reshape([batch, directions * hidden])
            }
            None => {
                let x = x.swap_dims(1, 2); // [B, E, T]
                let pooled = self
                    .convs
                    .iter()
                    .map(|conv| {
                        let y = cortex::ops::relu(conv.forward(x.clone())?); // [B, F, T-k+1]
                        let [batch, filters, _] = y.dims();
                        Ok(y.max_dim(2).reshape([batch, filters]))
                    })
                    .collect::<cortex::nn::Result<Vec<_>>>()?;
                Tensor::cat(pooled, 1)
            }
        };
        self.head.forward(self.dropout.forward(features)?)
    }
}

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
        let tokens = |i: &usize| tokenizer.tokenize(train_texts.text(*i).unwrap_or_default(), true);
        let vocabulary = Vocabulary::fit(train_ids.iter().map(tokens), &VocabularyConfig::new())?;
        let length = match matches.get_one::<usize>("length") {
            Some(&n) => n,
            None => {
                let mut counts: Vec<usize> = train_ids.iter().map(|i| tokens(i).len()).collect();
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
        let shape = Shape {
            vocabulary: encoder.vocabulary.len(),
            classes: train_texts.classes().len(),
            embedding: 64,
            width: if lstm { 128 } else { 256 },
            lstm,
            bidirectional: matches.get_flag("bidirectional"),
        };
        let epochs = common.epochs.unwrap_or(12);
        let recipe = Recipe {
            default_epochs: 12,
            batch_size: 64,
            optimizer: AdamConfig::new().with_lr(2e-3).into(),
            schedule: Some(LrSchedule::CosineAnnealing {
                lr: 2e-3,
                t_max: epochs,
                eta_min: 1e-4,
                restart_mult: None,
            }),
            clipping: None,
            monitor: Metric::Accuracy,
        };
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
