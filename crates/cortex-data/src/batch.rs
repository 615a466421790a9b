//! Batching: a seeded shuffling batcher over indices (per-epoch reshuffle, `drop_last`), and
//! the conversion of a batch of samples into tensors on a device.

use burn::tensor::{Device, Int, Tensor, TensorData};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

use crate::dataset::{Dataset, ImageDataset, TabularDataset, Targets};
use crate::error::{Error, Result, invalid};

/// Configuration of a [`BatchSampler`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchSamplerConfig {
    /// Samples per batch (> 0).
    pub batch_size: usize,
    /// Reshuffle every epoch (seeded by `(seed, epoch)`).
    pub shuffle: bool,
    /// Drop a last, smaller batch.
    pub drop_last: bool,
    /// Seed of the shuffles.
    pub seed: u64,
}

impl BatchSamplerConfig {
    /// Batches of `batch_size`, shuffled, keeping the last partial batch, seed 0.
    pub fn new(batch_size: usize) -> Self {
        Self {
            batch_size,
            shuffle: true,
            drop_last: false,
            seed: 0,
        }
    }

    /// Sets shuffling.
    pub fn with_shuffle(mut self, shuffle: bool) -> Self {
        self.shuffle = shuffle;
        self
    }

    /// Sets `drop_last`.
    pub fn with_drop_last(mut self, drop_last: bool) -> Self {
        self.drop_last = drop_last;
        self
    }

    /// Sets the seed.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
}

/// Splits a set of sample indices into batches of indices, epoch by epoch (PyTorch's
/// `BatchSampler`; burn's `Batcher` is something else: it turns items into a batch, the job
/// of [`ToBatch`] here).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchSampler {
    indices: Vec<usize>,
    config: BatchSamplerConfig,
}

impl BatchSampler {
    /// A batcher over `indices` (e.g. the training split).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for batch size 0; [`Error::Empty`] for no indices.
    pub fn new(indices: Vec<usize>, config: BatchSamplerConfig) -> Result<Self> {
        if config.batch_size == 0 {
            return Err(invalid("BatchSampler", "batch_size", "> 0", 0));
        }
        if indices.is_empty() {
            return Err(Error::Empty {
                what: "BatchSampler".to_string(),
                reason: "no sample indices".to_string(),
            });
        }
        Ok(Self { indices, config })
    }

    /// Batches per epoch.
    pub fn batches_per_epoch(&self) -> usize {
        let (n, b) = (self.indices.len(), self.config.batch_size);
        if self.config.drop_last {
            n / b
        } else {
            n.div_ceil(b)
        }
    }

    /// The batches of epoch `epoch`: the same for the same seed and epoch, reshuffled for
    /// each epoch when shuffling.
    pub fn epoch(&self, epoch: u64) -> Vec<Vec<usize>> {
        let mut order = self.indices.clone();
        if self.config.shuffle {
            let seed = self.config.seed ^ epoch.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
            order.shuffle(&mut StdRng::seed_from_u64(seed));
        }
        let mut batches: Vec<Vec<usize>> = order
            .chunks(self.config.batch_size)
            .map(<[usize]>::to_vec)
            .collect();
        if self.config.drop_last
            && batches
                .last()
                .is_some_and(|b| b.len() < self.config.batch_size)
        {
            batches.pop();
        }
        batches
    }
}

/// A dataset that turns a list of its indices into tensors.
pub trait ToBatch {
    /// The tensors of a batch.
    type Batch;

    /// The samples at `indices` as tensors on `device`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for an index past the end or no indices.
    fn batch(&self, indices: &[usize], device: &Device) -> Result<Self::Batch>;
}

pub(crate) fn check_indices(what: &'static str, indices: &[usize], len: usize) -> Result<()> {
    if indices.is_empty() {
        return Err(invalid(what, "indices", "at least one", 0));
    }
    if let Some(&bad) = indices.iter().find(|&&i| i >= len) {
        return Err(invalid(what, "indices", &format!("< {len}"), bad));
    }
    Ok(())
}

/// Images `[B, 1, H, W]` in `[0, 1]` and their labels `[B]`.
#[derive(Debug, Clone)]
pub struct ImageBatch {
    /// The images.
    pub images: Tensor<4>,
    /// The class ids.
    pub labels: Tensor<1, Int>,
}

impl ToBatch for ImageDataset {
    type Batch = ImageBatch;

    fn batch(&self, indices: &[usize], device: &Device) -> Result<ImageBatch> {
        check_indices("ImageDataset::batch", indices, self.len())?;
        let (h, w) = (self.height(), self.width());
        let scale = 1.0 / f32::from(self.max_value());
        let mut pixels = Vec::with_capacity(indices.len() * h * w);
        let mut labels = Vec::with_capacity(indices.len());
        for &i in indices {
            pixels.extend(
                self.raw_pixels(i)
                    .unwrap_or_default()
                    .iter()
                    .map(|&p| f32::from(p) * scale),
            );
            labels.push(self.label(i).unwrap_or_default() as i64);
        }
        Ok(ImageBatch {
            images: Tensor::from_data(TensorData::new(pixels, [indices.len(), 1, h, w]), device),
            labels: Tensor::from_data(TensorData::new(labels, [indices.len()]), device),
        })
    }
}

/// Features `[B, F]` and the targets: class ids `[B]` or values `[B, 1]`.
#[derive(Debug, Clone)]
pub struct TabularBatch {
    /// The features.
    pub features: Tensor<2>,
    /// Class ids, for classification data.
    pub classes: Option<Tensor<1, Int>>,
    /// Target values, for regression data.
    pub values: Option<Tensor<2>>,
}

/// A subset batches through its dataset: positions in the subset map to the dataset's
/// indices, so `data.subset(indices)` feeds a trainer like the dataset itself.
impl<D: Dataset + ToBatch> ToBatch for crate::dataset::Subset<D> {
    type Batch = D::Batch;

    fn batch(&self, indices: &[usize], device: &Device) -> Result<D::Batch> {
        check_indices("Subset::batch", indices, self.len())?;
        let inner: Vec<usize> = indices.iter().map(|&i| self.indices()[i]).collect();
        self.inner().batch(&inner, device)
    }
}

impl TabularBatch {
    /// The class ids `[B]` of a classification batch.
    ///
    /// # Errors
    /// [`crate::Error::InvalidArgument`] for a batch of regression values.
    pub fn class_ids(&self) -> Result<Tensor<1, Int>> {
        self.classes.clone().ok_or_else(|| {
            invalid(
                "TabularBatch",
                "targets",
                "class ids (a dataset read with TargetKind::Classes)",
                "real values",
            )
        })
    }

    /// The features and class ids of a classification batch, taken apart without copies.
    ///
    /// # Errors
    /// [`crate::Error::InvalidArgument`] for a batch of regression values.
    pub fn into_classes(self) -> Result<(Tensor<2>, Tensor<1, Int>)> {
        let ids = self.class_ids()?;
        Ok((self.features, ids))
    }

    /// The features and target values of a regression batch, taken apart without copies.
    ///
    /// # Errors
    /// [`crate::Error::InvalidArgument`] for a batch of class ids.
    pub fn into_values(self) -> Result<(Tensor<2>, Tensor<2>)> {
        let values = self.target_values()?;
        Ok((self.features, values))
    }

    /// The target values `[B, 1]` of a regression batch.
    ///
    /// # Errors
    /// [`crate::Error::InvalidArgument`] for a batch of class ids.
    pub fn target_values(&self) -> Result<Tensor<2>> {
        self.values.clone().ok_or_else(|| {
            invalid(
                "TabularBatch",
                "targets",
                "real values (a dataset read with TargetKind::Values)",
                "class ids",
            )
        })
    }
}

impl ToBatch for TabularDataset {
    type Batch = TabularBatch;

    fn batch(&self, indices: &[usize], device: &Device) -> Result<TabularBatch> {
        check_indices("TabularDataset::batch", indices, self.len())?;
        let cols = self.num_features();
        let features: Vec<f32> = indices
            .iter()
            .flat_map(|&i| {
                self.features()[i * cols..(i + 1) * cols]
                    .iter()
                    .map(|&v| v as f32)
            })
            .collect();
        let features = Tensor::from_data(TensorData::new(features, [indices.len(), cols]), device);
        let (classes, values) = match self.targets() {
            Targets::Classes { ids, .. } => {
                let ids: Vec<i64> = indices.iter().map(|&i| ids[i] as i64).collect();
                (
                    Some(Tensor::from_data(
                        TensorData::new(ids, [indices.len()]),
                        device,
                    )),
                    None,
                )
            }
            Targets::Values(v) => {
                let v: Vec<f32> = indices.iter().map(|&i| v[i] as f32).collect();
                (
                    None,
                    Some(Tensor::from_data(
                        TensorData::new(v, [indices.len(), 1]),
                        device,
                    )),
                )
            }
        };
        Ok(TabularBatch {
            features,
            classes,
            values,
        })
    }
}
