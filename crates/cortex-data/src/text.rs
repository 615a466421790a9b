//! Text: tokenizers, a [`Vocabulary`] fitted on the training split, fixed-length encoding
//! ([`TextEncoder`]), and labelled texts read from CSV ([`read_text_csv`]) that become a
//! [`TextDataset`] batched as token ids `[B, T]` with their lengths.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use burn::tensor::{Device, Int, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use crate::batch::{Collate, ToBatch, collate};
use crate::csv::{Table, cell_error};
use crate::dataset::Dataset;
use crate::error::{Cause, Error, Result, invalid, io};

/// How a text is cut into tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tokenizer {
    /// Every character (Unicode scalar value) is a token, whitespace included.
    Characters,
    /// Words: runs of letters and digits (an apostrophe between two of them stays inside the
    /// word, as in "don't"); every other non-space character is a token of its own;
    /// whitespace separates.
    Words,
}

impl Tokenizer {
    /// The tokens of `text`, lower-cased first when `lowercase`.
    ///
    /// ```
    /// use cortex_data::Tokenizer;
    ///
    /// assert_eq!(Tokenizer::Words.tokenize("Don't stop, Émile!", true), ["don't", "stop", ",", "émile", "!"]);
    /// assert_eq!(Tokenizer::Characters.tokenize("Ab c", false), ["A", "b", " ", "c"]);
    /// ```
    pub fn tokenize(self, text: &str, lowercase: bool) -> Vec<String> {
        let text = if lowercase {
            text.to_lowercase()
        } else {
            text.to_string()
        };
        match self {
            Tokenizer::Characters => text.chars().map(String::from).collect(),
            Tokenizer::Words => words(&text),
        }
    }
}

/// [`Tokenizer::Words`].
fn words(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut word = String::new();
    for (i, &c) in chars.iter().enumerate() {
        let inner_apostrophe = matches!(c, '\'' | '’')
            && !word.is_empty()
            && chars.get(i + 1).is_some_and(|n| n.is_alphanumeric());
        if c.is_alphanumeric() || inner_apostrophe {
            word.push(c);
            continue;
        }
        if !word.is_empty() {
            tokens.push(std::mem::take(&mut word));
        }
        if !c.is_whitespace() {
            tokens.push(c.to_string());
        }
    }
    if !word.is_empty() {
        tokens.push(word);
    }
    tokens
}

/// How a [`Vocabulary`] is fitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct VocabularyConfig {
    /// Tokens seen fewer times than this in the training texts map to the unknown id (≥ 1).
    pub min_count: usize,
    /// At most this many ids in all, the two special ones included (≥ 3); the most frequent
    /// tokens are kept. `None`: no limit.
    pub max_size: Option<usize>,
}

impl Default for VocabularyConfig {
    fn default() -> Self {
        Self::new()
    }
}

impl VocabularyConfig {
    /// Every token seen at least once, no size limit.
    pub fn new() -> Self {
        Self {
            min_count: 1,
            max_size: None,
        }
    }

    /// Sets the minimum count.
    pub fn with_min_count(mut self, min_count: usize) -> Self {
        self.min_count = min_count;
        self
    }

    /// Sets the maximum size.
    pub fn with_max_size(mut self, max_size: usize) -> Self {
        self.max_size = Some(max_size);
        self
    }
}

/// Token ↔ id, fitted on the training texts: id [`Vocabulary::PAD`] pads a sequence, id
/// [`Vocabulary::UNKNOWN`] stands for every token the training texts did not have (or had too
/// rarely); the others are numbered by descending count, ties in token order, so the same
/// texts always give the same ids. Saved with a run (serde, JSON) to encode new inputs the
/// same way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "VocabularyFile", into = "VocabularyFile")]
pub struct Vocabulary {
    tokens: Vec<String>,
    ids: HashMap<String, usize>,
}

/// A vocabulary as stored: its tokens in id order.
#[derive(Serialize, Deserialize)]
struct VocabularyFile {
    tokens: Vec<String>,
}

impl From<Vocabulary> for VocabularyFile {
    fn from(vocabulary: Vocabulary) -> Self {
        Self {
            tokens: vocabulary.tokens,
        }
    }
}

impl TryFrom<VocabularyFile> for Vocabulary {
    type Error = String;

    fn try_from(file: VocabularyFile) -> std::result::Result<Self, String> {
        let specials = [Vocabulary::PAD_TOKEN, Vocabulary::UNKNOWN_TOKEN];
        if file.tokens.len() < 2 || file.tokens[..2] != specials {
            return Err(format!("a vocabulary starts with the tokens {specials:?}"));
        }
        let vocabulary = Vocabulary::indexed(file.tokens);
        if vocabulary.ids.len() != vocabulary.tokens.len() {
            return Err("a vocabulary lists each token once".to_string());
        }
        Ok(vocabulary)
    }
}

impl Vocabulary {
    /// The id that pads a sequence to its length.
    pub const PAD: usize = 0;
    /// The id of every token outside the vocabulary.
    pub const UNKNOWN: usize = 1;
    /// The token of [`Vocabulary::PAD`].
    pub const PAD_TOKEN: &'static str = "<pad>";
    /// The token of [`Vocabulary::UNKNOWN`].
    pub const UNKNOWN_TOKEN: &'static str = "<unk>";

    /// Fits the vocabulary on tokenized training texts.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for `min_count` 0 or `max_size` < 3; [`Error::Empty`] when
    /// no token is frequent enough.
    pub fn fit<I, T>(texts: I, config: &VocabularyConfig) -> Result<Self>
    where
        I: IntoIterator<Item = T>,
        T: IntoIterator<Item = String>,
    {
        const W: &str = "Vocabulary::fit";
        if config.min_count == 0 {
            return Err(invalid(W, "min_count", ">= 1", 0));
        }
        if let Some(max) = config.max_size.filter(|&m| m < 3) {
            return Err(invalid(
                W,
                "max_size",
                ">= 3 (the two special ids and a token)",
                max,
            ));
        }
        let mut counts: HashMap<String, usize> = HashMap::new();
        for text in texts {
            for token in text {
                *counts.entry(token).or_default() += 1;
            }
        }
        let specials = [Self::PAD_TOKEN, Self::UNKNOWN_TOKEN];
        let mut kept: Vec<(String, usize)> = counts
            .into_iter()
            .filter(|(t, c)| *c >= config.min_count && !specials.contains(&t.as_str()))
            .collect();
        if kept.is_empty() {
            return Err(Error::Empty {
                what: "the vocabulary".to_string(),
                reason: format!(
                    "no token occurs at least {} times in the training texts",
                    config.min_count
                ),
            });
        }
        kept.sort_by(|(a, ca), (b, cb)| cb.cmp(ca).then_with(|| a.cmp(b)));
        if let Some(max) = config.max_size {
            kept.truncate(max - specials.len());
        }
        let tokens = specials
            .iter()
            .map(|s| s.to_string())
            .chain(kept.into_iter().map(|(t, _)| t))
            .collect();
        // Distinct tokens (counted in a map), the specials excluded: nothing to validate.
        Ok(Self::indexed(tokens))
    }

    /// `tokens` with the id of each (its position).
    fn indexed(tokens: Vec<String>) -> Self {
        let ids = tokens
            .iter()
            .enumerate()
            .map(|(id, token)| (token.clone(), id))
            .collect();
        Self { tokens, ids }
    }

    /// Number of ids, the two special ones included.
    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    /// Whether there are only the special ids (never, for a fitted vocabulary).
    pub fn is_empty(&self) -> bool {
        self.tokens.len() <= 2
    }

    /// The id of `token` ([`Vocabulary::UNKNOWN`] if it is not in the vocabulary).
    pub fn id(&self, token: &str) -> usize {
        self.ids.get(token).copied().unwrap_or(Self::UNKNOWN)
    }

    /// The token of `id`.
    pub fn token(&self, id: usize) -> Option<&str> {
        self.tokens.get(id).map(String::as_str)
    }

    /// Writes the vocabulary as JSON, atomically.
    ///
    /// # Errors
    /// [`Error::Io`] when the file cannot be written (an earlier file stays intact).
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let json = serde_json::to_vec_pretty(self).map_err(|e| io(path, Cause::new(e)))?;
        cortex_core::write_atomically(path, &json).map_err(|e| io(path, e))
    }

    /// Reads a vocabulary written by [`Vocabulary::save`].
    ///
    /// # Errors
    /// [`Error::Io`] for a missing, unreadable or corrupt file.
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|e| io(path, e))?;
        serde_json::from_slice(&bytes).map_err(|e| io(path, Cause::new(e)))
    }
}

/// Turns texts into fixed-length id sequences: tokenize, look up, truncate or pad with
/// [`Vocabulary::PAD`] to `length`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TextEncoder {
    /// The tokenizer.
    pub tokenizer: Tokenizer,
    /// Lower-case before tokenizing.
    pub lowercase: bool,
    /// The vocabulary (fitted on the training split).
    pub vocabulary: Vocabulary,
    /// Tokens per sequence (> 0): longer texts are cut, shorter ones padded.
    pub length: usize,
}

impl TextEncoder {
    /// An encoder to `length` ids per text.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for `length` 0.
    pub fn new(
        tokenizer: Tokenizer,
        lowercase: bool,
        vocabulary: Vocabulary,
        length: usize,
    ) -> Result<Self> {
        if length == 0 {
            return Err(invalid("TextEncoder", "length", "> 0", 0));
        }
        Ok(Self {
            tokenizer,
            lowercase,
            vocabulary,
            length,
        })
    }

    /// The tokens of `text` as this encoder cuts them.
    pub fn tokens(&self, text: &str) -> Vec<String> {
        self.tokenizer.tokenize(text, self.lowercase)
    }

    /// The ids of `text`, cut or padded to `length`, and how many of them are real tokens.
    pub fn encode(&self, text: &str) -> (Vec<usize>, usize) {
        let mut ids: Vec<usize> = self
            .tokens(text)
            .iter()
            .take(self.length)
            .map(|t| self.vocabulary.id(t))
            .collect();
        let real = ids.len();
        ids.resize(self.length, Vocabulary::PAD);
        (ids, real)
    }

    /// The texts at `indices` of `texts`, encoded, as a dataset.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for an index past the end.
    pub fn dataset(&self, texts: &LabelledTexts, indices: &[usize]) -> Result<TextDataset> {
        let mut ids = Vec::with_capacity(indices.len() * self.length);
        let (mut lengths, mut labels) = (Vec::new(), Vec::new());
        for &i in indices {
            let Some((text, label)) = texts.get(i) else {
                let expected = format!("< {}", texts.len());
                return Err(invalid("TextEncoder::dataset", "indices", &expected, i));
            };
            let (encoded, real) = self.encode(&text);
            ids.extend(encoded);
            lengths.push(real);
            labels.push(label);
        }
        Ok(TextDataset {
            ids,
            lengths,
            labels,
            length: self.length,
            classes: texts.classes.clone(),
        })
    }
}

/// Which columns of a CSV file hold the text and the label.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TextCsvOptions {
    /// The text column.
    pub text: String,
    /// The label column (class names; they become ids in sorted order).
    pub target: String,
    /// Field delimiter.
    pub delimiter: u8,
}

impl TextCsvOptions {
    /// Comma-separated, text in column `text`, label in column `target`.
    pub fn new(text: impl Into<String>, target: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            target: target.into(),
            delimiter: b',',
        }
    }

    /// Sets the delimiter.
    pub fn with_delimiter(mut self, delimiter: u8) -> Self {
        self.delimiter = delimiter;
        self
    }
}

/// Texts with class labels, as read: split these, fit a vocabulary on the training texts,
/// then encode every part with one [`TextEncoder`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabelledTexts {
    texts: Vec<String>,
    labels: Vec<usize>,
    classes: Vec<String>,
}

impl LabelledTexts {
    /// Texts and their class ids `0..classes.len()`.
    ///
    /// # Errors
    /// [`Error::CountMismatch`] when the counts differ; [`Error::InvalidArgument`] for a
    /// label outside the classes; [`Error::Empty`] for no texts.
    pub fn new(texts: Vec<String>, labels: Vec<usize>, classes: Vec<String>) -> Result<Self> {
        if texts.len() != labels.len() {
            return Err(Error::CountMismatch {
                what: "LabelledTexts".to_string(),
                left_name: "texts".to_string(),
                left: texts.len(),
                right_name: "labels".to_string(),
                right: labels.len(),
            });
        }
        if texts.is_empty() {
            return Err(Error::Empty {
                what: "LabelledTexts".to_string(),
                reason: "no texts".to_string(),
            });
        }
        if let Some(&bad) = labels.iter().find(|&&l| l >= classes.len()) {
            let expected = format!("a class id < {}", classes.len());
            return Err(invalid("LabelledTexts", "labels", &expected, bad));
        }
        Ok(Self {
            texts,
            labels,
            classes,
        })
    }

    /// The class ids, one per text (for a stratified [`crate::split`]).
    pub fn labels(&self) -> &[usize] {
        &self.labels
    }

    /// The class names, by id.
    pub fn classes(&self) -> &[String] {
        &self.classes
    }

    /// The text at `index`.
    pub fn text(&self, index: usize) -> Option<&str> {
        self.texts.get(index).map(String::as_str)
    }
}

impl Dataset for LabelledTexts {
    /// `(text, class id)`.
    type Item = (String, usize);

    fn len(&self) -> usize {
        self.texts.len()
    }

    fn get(&self, index: usize) -> Option<(String, usize)> {
        Some((self.texts.get(index)?.clone(), *self.labels.get(index)?))
    }
}

/// Reads labelled texts from a CSV file with a header.
///
/// # Errors
/// [`Error::Io`]; [`Error::Empty`] for no header or rows; [`Error::MissingColumn`] for an
/// unknown column; [`Error::Csv`] (line, column) for a ragged row or an empty label.
pub fn read_text_csv(path: impl AsRef<Path>, options: &TextCsvOptions) -> Result<LabelledTexts> {
    let path = path.as_ref();
    let file = std::fs::File::open(path).map_err(|e| io(path, e))?;
    let table = Table::read(file, path, options.delimiter)?;
    let (text, target) = (table.column(&options.text)?, table.column(&options.target)?);
    let mut texts = Vec::with_capacity(table.records.len());
    let mut names = Vec::with_capacity(table.records.len());
    for (line, record) in &table.records {
        let label = record[target].trim();
        if label.is_empty() {
            let expected = "a label (rows without one cannot be used)";
            return Err(cell_error(path, *line, &options.target, expected, label));
        }
        texts.push(record[text].to_string());
        names.push(label.to_string());
    }
    let classes: Vec<String> = names
        .iter()
        .cloned()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let labels = names
        .iter()
        .map(|n| classes.binary_search(n).unwrap_or_default())
        .collect();
    LabelledTexts::new(texts, labels, classes)
}

/// One encoded text: `length` ids (padded), how many are real tokens, and its class.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextSample {
    /// Token ids, padded with [`Vocabulary::PAD`].
    pub ids: Vec<usize>,
    /// Real tokens before the padding.
    pub length: usize,
    /// Class id.
    pub label: usize,
}

/// Encoded texts of one length with their labels (see [`TextEncoder::dataset`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TextDataset {
    ids: Vec<usize>,
    lengths: Vec<usize>,
    labels: Vec<usize>,
    length: usize,
    classes: Vec<String>,
}

impl TextDataset {
    /// Ids per text.
    pub fn length(&self) -> usize {
        self.length
    }

    /// The class names, by id.
    pub fn classes(&self) -> &[String] {
        &self.classes
    }

    /// The class ids.
    pub fn labels(&self) -> &[usize] {
        &self.labels
    }
}

impl Dataset for TextDataset {
    type Item = TextSample;

    fn len(&self) -> usize {
        self.labels.len()
    }

    fn get(&self, index: usize) -> Option<TextSample> {
        let ids = self
            .ids
            .get(index * self.length..(index + 1) * self.length)?;
        Some(TextSample {
            ids: ids.to_vec(),
            length: *self.lengths.get(index)?,
            label: *self.labels.get(index)?,
        })
    }
}

/// Token ids `[B, T]`, real lengths `[B]` and class ids `[B]`.
#[derive(Debug, Clone)]
pub struct TextBatch {
    /// Token ids, padded with [`Vocabulary::PAD`].
    pub tokens: Tensor<2, Int>,
    /// Real tokens per text (before the padding).
    pub lengths: Tensor<1, Int>,
    /// Class ids.
    pub labels: Tensor<1, Int>,
}

impl Collate for TextSample {
    type Batch = TextBatch;

    /// Every sample must have the first one's length.
    fn collate(items: Vec<Self>, device: &Device) -> Result<TextBatch> {
        let length = match items.first() {
            Some(first) => first.ids.len(),
            None => return Err(invalid("TextSample::collate", "items", "at least one", 0)),
        };
        let batch = items.len();
        let mut ids = Vec::with_capacity(batch * length);
        for item in &items {
            if item.ids.len() != length {
                return Err(Error::ShapeMismatch {
                    what: "TextSample::collate",
                    expected: format!("texts of {length} ids"),
                    got: format!("a text of {}", item.ids.len()),
                });
            }
            ids.extend(item.ids.iter().map(|&i| i as i64));
        }
        let column = |f: fn(&TextSample) -> usize| -> Vec<i64> {
            items.iter().map(|i| f(i) as i64).collect()
        };
        Ok(TextBatch {
            tokens: Tensor::from_data(TensorData::new(ids, [batch, length]), device),
            lengths: Tensor::from_data(TensorData::new(column(|i| i.length), [batch]), device),
            labels: Tensor::from_data(TensorData::new(column(|i| i.label), [batch]), device),
        })
    }
}

impl ToBatch for TextDataset {
    type Batch = TextBatch;

    fn batch(&self, indices: &[usize], device: &Device) -> Result<TextBatch> {
        collate("TextDataset::batch", self, indices, device)
    }
}
