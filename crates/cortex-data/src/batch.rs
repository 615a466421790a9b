//! Batching: a seeded shuffling batch sampler over indices (per-epoch reshuffle, `drop_last`),
//! and the one conversion of samples into tensors on a device ([`Collate`]).

use burn::tensor::{Device, Int, Tensor, TensorData};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

use crate::dataset::{Dataset, ImageDataset, ImageSample, Mapped, TabularDataset, TabularSample};
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

/// Samples that stack into the tensors of a batch: the one item → batch path. The in-memory
/// datasets, [`Mapped`] (whatever its function returns, if that collates) and
/// [`crate::ShiftedImages`] batch by collating their items; [`crate::Subset`] (and so
/// [`Dataset::filter`]) batches through its dataset.
pub trait Collate: Sized {
    /// The tensors of a batch.
    type Batch;

    /// Stacks `items` into tensors on `device`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for no items; [`Error::ShapeMismatch`] for items of
    /// different sizes.
    fn collate(items: Vec<Self>, device: &Device) -> Result<Self::Batch>;
}

/// The items of `dataset` at `indices`, collated: how every [`ToBatch`] of this crate but
/// [`crate::Subset`]'s is written (`what` names it in errors).
///
/// # Errors
/// [`Error::InvalidArgument`] for no indices or one past the end; the collation's errors.
pub fn collate<D>(
    what: &'static str,
    dataset: &D,
    indices: &[usize],
    device: &Device,
) -> Result<<D::Item as Collate>::Batch>
where
    D: Dataset,
    D::Item: Collate,
{
    check_indices(what, indices, dataset.len())?;
    let items = indices
        .iter()
        .map(|&i| {
            dataset
                .get(i)
                .ok_or_else(|| invalid(what, "indices", &format!("< {}", dataset.len()), i))
        })
        .collect::<Result<Vec<_>>>()?;
    D::Item::collate(items, device)
}

/// A mapped dataset batches by collating what its function returns.
impl<D, F, T> ToBatch for Mapped<D, F>
where
    D: Dataset,
    F: Fn(D::Item) -> T,
    T: Collate,
{
    type Batch = T::Batch;

    fn batch(&self, indices: &[usize], device: &Device) -> Result<T::Batch> {
        collate("Mapped::batch", self, indices, device)
    }
}

/// Images `[B, C, H, W]` in `[0, 1]` and their labels `[B]`.
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
        collate("ImageDataset::batch", self, indices, device)
    }
}

impl Collate for ImageSample {
    type Batch = ImageBatch;

    /// Images `[B, C, H, W]` and labels `[B]`; every image must have the first one's size.
    fn collate(items: Vec<Self>, device: &Device) -> Result<ImageBatch> {
        let (c, h, w) = match items.first() {
            Some(first) => (first.channels, first.height, first.width),
            None => return Err(invalid("ImageSample::collate", "items", "at least one", 0)),
        };
        let mut pixels = Vec::with_capacity(items.len() * c * h * w);
        let mut labels = Vec::with_capacity(items.len());
        for item in &items {
            let shape = (item.channels, item.height, item.width);
            if shape != (c, h, w) || item.pixels.len() != c * h * w {
                return Err(Error::ShapeMismatch {
                    what: "ImageSample::collate",
                    expected: format!("{c}×{h}×{w} images ({} values)", c * h * w),
                    got: format!(
                        "a {}×{}×{} image of {} values",
                        item.channels,
                        item.height,
                        item.width,
                        item.pixels.len()
                    ),
                });
            }
            pixels.extend_from_slice(&item.pixels);
            labels.push(item.label as i64);
        }
        let batch = items.len();
        Ok(ImageBatch {
            images: Tensor::from_data(TensorData::new(pixels, [batch, c, h, w]), device),
            labels: Tensor::from_data(TensorData::new(labels, [batch]), device),
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
        collate("TabularDataset::batch", self, indices, device)
    }
}

impl Collate for TabularSample {
    type Batch = TabularBatch;

    /// Features `[B, F]` and the targets: class ids `[B]` when every row has a class, values
    /// `[B, 1]` when every row has a value.
    fn collate(items: Vec<Self>, device: &Device) -> Result<TabularBatch> {
        let columns = match items.first() {
            Some(first) => first.features.len(),
            None => {
                return Err(invalid(
                    "TabularSample::collate",
                    "items",
                    "at least one",
                    0,
                ));
            }
        };
        let batch = items.len();
        let mut features = Vec::with_capacity(batch * columns);
        for item in &items {
            if item.features.len() != columns {
                return Err(Error::ShapeMismatch {
                    what: "TabularSample::collate",
                    expected: format!("rows of {columns} features"),
                    got: format!("a row of {}", item.features.len()),
                });
            }
            features.extend(item.features.iter().map(|&v| v as f32));
        }
        let features = Tensor::from_data(TensorData::new(features, [batch, columns]), device);
        let classes: Option<Vec<i64>> = items.iter().map(|i| Some(i.class? as i64)).collect();
        let values: Option<Vec<f32>> = items.iter().map(|i| Some(i.value? as f32)).collect();
        let (classes, values) = match (classes, values) {
            (Some(ids), _) => (
                Some(Tensor::from_data(TensorData::new(ids, [batch]), device)),
                None,
            ),
            (None, Some(v)) => (
                None,
                Some(Tensor::from_data(TensorData::new(v, [batch, 1]), device)),
            ),
            (None, None) => {
                return Err(invalid(
                    "TabularSample::collate",
                    "items",
                    "rows that all have a class, or all a value",
                    "rows with a mix of targets, or none",
                ));
            }
        };
        Ok(TabularBatch {
            features,
            classes,
            values,
        })
    }
}
