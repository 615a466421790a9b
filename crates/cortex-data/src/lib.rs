//! # cortex-data
//!
//! Real data in, tensors out, nothing lost or corrupted on the way:
//!
//! - the [`Dataset`] trait with in-memory [`ImageDataset`] and [`TabularDataset`], and the
//!   `subset`/`map`/`filter` adapters;
//! - readers with typed errors naming the file and the place in it: [`read_idx`] (MNIST's
//!   IDX, plain or gzip), [`read_csv`] (header, numeric columns, target by name, class
//!   names mapped to ids, categorical columns, missing-cell policy), [`read_feature_rows`]
//!   (new rows for a trained model, against its [`FeatureColumns`]: the training category
//!   codes, columns in any order) and [`read_text_csv`] (a text column and a label column);
//! - text: [`Tokenizer`]s (characters, words), a [`Vocabulary`] fitted on the training split
//!   (minimum count, maximum size, padding and unknown ids, saved with a run), and a
//!   [`TextEncoder`] to fixed-length ids: a [`TextDataset`] batched as `[B, T]` ids with
//!   lengths;
//! - audio: [`read_wav`] (mono, any PCM or float WAV), log-mel spectrograms and MFCCs
//!   ([`SpectrogramConfig`]), and labelled clips from `DIR/<class>/*.wav` ([`AudioFolder`])
//!   batched as `[B, frames, features]`;
//! - your own pictures: [`read_image_folder`] (`DIR/<class>/*.png|jpg`, grayscale or RGB,
//!   resized to one size) into an [`ImageDataset`] with the folder names as class names;
//! - preprocessing fitted on the training split only ([`Imputer`], [`drop_missing`],
//!   [`Standardizer`], [`MinMaxScaler`], [`OneHotEncoder`], a serde [`Pipeline`]);
//! - seeded, optionally stratified [`split`]s; a shuffling [`BatchSampler`] and [`ToBatch`] for
//!   tensors on a device; sliding [`windows`] over a [`Series`];
//! - the bundled datasets ([`bundled`]): `mnist_subset`, `digits8x8`, iris, wine,
//!   breast cancer, diabetes, sunspots, and Fashion-MNIST from Debian's package.
//!
//! ```
//! use burn::tensor::Device;
//! use cortex_data::{BatchSampler, BatchSamplerConfig, Dataset, SplitConfig, Standardizer, ToBatch, bundled, split};
//!
//! let iris = bundled::iris()?;
//! let parts = split(iris.len(), &SplitConfig::new(0.6, 0.2, 0.2).stratified(), iris.class_ids())?;
//! let mut train = iris.select(&parts.train)?;
//! let mut test = iris.select(&parts.test)?;
//! let standardizer = Standardizer::fit(&train)?; // training statistics only
//! standardizer.transform(&mut train)?;
//! standardizer.transform(&mut test)?;
//! let batcher = BatchSampler::new((0..train.len()).collect(), BatchSamplerConfig::new(32).with_seed(7))?;
//! let first = &batcher.epoch(0)[0];
//! let batch = train.batch(first, &Device::flex())?;
//! assert_eq!(batch.features.dims(), [32, 4]);
//! # Ok::<(), cortex_data::Error>(())
//! ```

#![warn(missing_docs)]

mod audio;
mod augment;
mod batch;
pub mod bundled;
mod csv;
mod dataset;
mod error;
mod feature_rows;
mod folders;
mod idx;
mod image_folder;
mod series;
mod split;
mod text;
mod transform;

pub use audio::{
    AudioBatch, AudioConfig, AudioFeatures, AudioFolder, AudioSample, ClipSurvey,
    SpectrogramConfig, Waveform, read_wav,
};
pub use augment::ShiftedImages;
pub use batch::{
    BatchSampler, BatchSamplerConfig, Collate, ImageBatch, TabularBatch, ToBatch, collate,
};
pub use csv::{CsvOptions, MissingPolicy, TargetKind, parse_csv, read_csv};
pub use dataset::{
    Dataset, ImageDataset, ImageSample, Mapped, Subset, TabularDataset, TabularSample, Targets,
};
pub use error::{Cause, Error, InvalidValue, Result};
pub use feature_rows::{FeatureColumns, parse_feature_rows, read_feature_rows};
pub use idx::{IdxArray, parse_idx, read_idx};
pub use image_folder::{
    ColorMode, ImageFolderConfig, read_image_folder, read_image_folder_with_classes, read_picture,
};
pub use series::{SequenceBatch, Series, WindowConfig, WindowDataset, WindowSample, windows};
pub use split::{Split, SplitConfig, split};
pub use text::{
    LabelledTexts, TextBatch, TextCsvOptions, TextDataset, TextEncoder, TextSample, Tokenizer,
    Vocabulary, VocabularyConfig, read_text_csv,
};
pub use transform::{
    ImputeStrategy, Imputer, MinMaxScaler, OneHotEncoder, Pipeline, Preprocessor, Standardizer,
    drop_missing,
};
