//! The `Dataset` trait, the in-memory datasets (images + labels, tabular features + targets)
//! and the adapters (`subset`, `map`, `filter`).

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result, invalid};
use crate::idx::read_idx;

/// A finite, indexable collection of samples.
pub trait Dataset {
    /// One sample.
    type Item;

    /// Number of samples.
    fn len(&self) -> usize;

    /// Sample `index`, or `None` past the end.
    fn get(&self, index: usize) -> Option<Self::Item>;

    /// Whether there are no samples.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The samples at `indices`, in that order.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for an index past the end.
    fn subset(self, indices: Vec<usize>) -> Result<Subset<Self>>
    where
        Self: Sized,
    {
        if let Some(&bad) = indices.iter().find(|&&i| i >= self.len()) {
            return Err(invalid(
                "Dataset::subset",
                "indices",
                &format!("< {}", self.len()),
                bad,
            ));
        }
        Ok(Subset {
            dataset: self,
            indices,
        })
    }

    /// Applies `f` to every sample when it is read.
    fn map<F, T>(self, f: F) -> Mapped<Self, F>
    where
        Self: Sized,
        F: Fn(Self::Item) -> T,
    {
        Mapped { dataset: self, f }
    }

    /// Keeps the samples for which `keep` is true (evaluated once, here).
    fn filter<F>(self, keep: F) -> Subset<Self>
    where
        Self: Sized,
        F: Fn(&Self::Item) -> bool,
    {
        let indices = (0..self.len())
            .filter(|&i| self.get(i).is_some_and(|item| keep(&item)))
            .collect();
        Subset {
            dataset: self,
            indices,
        }
    }
}

/// The mean and standard deviation of `n` values from their sum and sum of squares; a
/// (near-)constant feature reports a standard deviation of 1, so dividing by it is safe.
pub(crate) fn mean_std(sum: f64, squares: f64, n: usize) -> (f64, f64) {
    let n = n.max(1) as f64;
    let mean = sum / n;
    let variance = (squares / n - mean * mean).max(0.0);
    (
        mean,
        if variance > 1e-12 {
            variance.sqrt()
        } else {
            1.0
        },
    )
}

/// Some samples of a dataset, by index ([`Dataset::subset`], [`Dataset::filter`]).
#[derive(Debug, Clone)]
pub struct Subset<D> {
    dataset: D,
    indices: Vec<usize>,
}

impl<D> Subset<D> {
    /// The indices into the underlying dataset.
    pub fn indices(&self) -> &[usize] {
        &self.indices
    }

    /// The underlying dataset.
    pub fn inner(&self) -> &D {
        &self.dataset
    }
}

impl<D: Dataset> Dataset for Subset<D> {
    type Item = D::Item;

    fn len(&self) -> usize {
        self.indices.len()
    }

    fn get(&self, index: usize) -> Option<D::Item> {
        self.dataset.get(*self.indices.get(index)?)
    }
}

/// A dataset whose samples pass through a function ([`Dataset::map`]).
#[derive(Debug, Clone)]
pub struct Mapped<D, F> {
    dataset: D,
    f: F,
}

impl<D: Dataset, F: Fn(D::Item) -> T, T> Dataset for Mapped<D, F> {
    type Item = T;

    fn len(&self) -> usize {
        self.dataset.len()
    }

    fn get(&self, index: usize) -> Option<T> {
        self.dataset.get(index).map(&self.f)
    }
}

/// One image and its label.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageSample {
    /// Pixels scaled to `[0, 1]` (divided by the dataset's `max_value`), `[channels, height,
    /// width]` row-major.
    pub pixels: Vec<f32>,
    /// Colour channels (1: grayscale, 3: RGB).
    pub channels: usize,
    /// Rows of pixels.
    pub height: usize,
    /// Pixels per row.
    pub width: usize,
    /// Class id.
    pub label: usize,
}

/// Images `[N, channels, height, width]` of bytes (grayscale or RGB) with their class labels
/// (and class names, where the source has them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageDataset {
    pixels: Vec<u8>,
    labels: Vec<u8>,
    #[serde(default = "one")]
    channels: usize,
    height: usize,
    width: usize,
    max_value: u8,
    num_classes: usize,
    #[serde(default)]
    class_names: Vec<String>,
}

fn one() -> usize {
    1
}

impl ImageDataset {
    /// Builds a dataset of grayscale images from raw pixels (`N · height · width` bytes) and
    /// labels.
    ///
    /// # Errors
    /// [`Error::CountMismatch`] when the counts disagree; [`Error::InvalidArgument`] for zero
    /// sizes, a pixel above `max_value`, or no samples.
    pub fn new(
        pixels: Vec<u8>,
        labels: Vec<u8>,
        height: usize,
        width: usize,
        max_value: u8,
    ) -> Result<Self> {
        Self::with_channels(pixels, labels, 1, height, width, max_value)
    }

    /// As [`ImageDataset::new`], for images of `channels` planes each
    /// (`N · channels · height · width` bytes, channel-major per image).
    ///
    /// # Errors
    /// As `new`, and [`Error::InvalidArgument`] for zero channels.
    pub fn with_channels(
        pixels: Vec<u8>,
        labels: Vec<u8>,
        channels: usize,
        height: usize,
        width: usize,
        max_value: u8,
    ) -> Result<Self> {
        const W: &str = "ImageDataset";
        if channels == 0 {
            return Err(invalid(W, "channels", "> 0", 0));
        }
        if height == 0 || width == 0 {
            return Err(invalid(
                W,
                "height/width",
                "> 0",
                format!("{height}x{width}"),
            ));
        }
        if max_value == 0 {
            return Err(invalid(W, "max_value", "> 0", 0));
        }
        let size = channels
            .checked_mul(height)
            .and_then(|n| n.checked_mul(width));
        let expected = size.and_then(|size| labels.len().checked_mul(size));
        if expected != Some(pixels.len()) {
            return Err(Error::CountMismatch {
                what: W.to_string(),
                left_name: format!(
                    "pixels ({} bytes of {channels}x{height}x{width})",
                    pixels.len()
                ),
                left: pixels.len() / size.unwrap_or(usize::MAX).max(1),
                right_name: "labels".to_string(),
                right: labels.len(),
            });
        }
        if labels.is_empty() {
            return Err(Error::Empty {
                what: W.to_string(),
                reason: "no images".to_string(),
            });
        }
        if let Some(&p) = pixels.iter().find(|&&p| p > max_value) {
            return Err(invalid(
                W,
                "pixels",
                &format!("<= max_value {max_value}"),
                p,
            ));
        }
        let num_classes = usize::from(labels.iter().copied().max().unwrap_or(0)) + 1;
        Ok(Self {
            pixels,
            labels,
            channels,
            height,
            width,
            max_value,
            num_classes,
            class_names: Vec::new(),
        })
    }

    /// Names the classes (by id): at least as many names as the labels need.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for fewer names than classes.
    pub fn with_class_names(mut self, names: Vec<String>) -> Result<Self> {
        if names.len() < self.num_classes {
            let expected = format!("at least {} names (one per class)", self.num_classes);
            return Err(invalid(
                "ImageDataset",
                "class_names",
                &expected,
                names.len(),
            ));
        }
        self.num_classes = names.len();
        self.class_names = names;
        Ok(self)
    }

    /// The class names by id (empty when the source has none, e.g. IDX files).
    pub fn class_names(&self) -> &[String] {
        &self.class_names
    }

    /// Colour channels (1: grayscale, 3: RGB).
    pub fn channels(&self) -> usize {
        self.channels
    }

    /// Reads an images file (IDX rank 3) and a labels file (IDX rank 1), plain or gzip.
    ///
    /// # Errors
    /// [`Error::Io`]/[`Error::Idx`] from the reader; [`Error::Idx`] for the wrong rank;
    /// [`Error::CountMismatch`] when the files disagree in count.
    pub fn from_idx(
        images: impl AsRef<Path>,
        labels: impl AsRef<Path>,
        max_value: u8,
    ) -> Result<Self> {
        let (images, labels) = (images.as_ref(), labels.as_ref());
        let image_array = read_idx(images)?;
        let label_array = read_idx(labels)?;
        let rank_error = |path: &Path, expected: &str, dims: &[usize]| Error::Idx {
            path: path.to_path_buf(),
            offset: 3,
            expected: expected.to_string(),
            got: format!("rank {} ({dims:?})", dims.len()),
        };
        let [n, height, width] = image_array.dims[..] else {
            return Err(rank_error(
                images,
                "rank 3 ([N, rows, cols]) for images",
                &image_array.dims,
            ));
        };
        let [m] = label_array.dims[..] else {
            return Err(rank_error(
                labels,
                "rank 1 ([N]) for labels",
                &label_array.dims,
            ));
        };
        if n != m {
            return Err(Error::CountMismatch {
                what: "IDX image/label pair".to_string(),
                left_name: images.display().to_string(),
                left: n,
                right_name: labels.display().to_string(),
                right: m,
            });
        }
        Self::new(image_array.data, label_array.data, height, width, max_value)
    }

    /// Image height.
    pub fn height(&self) -> usize {
        self.height
    }

    /// Image width.
    pub fn width(&self) -> usize {
        self.width
    }

    /// The value that maps to 1.0 (255 for MNIST, 16 for the 8x8 digits).
    pub fn max_value(&self) -> u8 {
        self.max_value
    }

    /// Number of classes: the largest label + 1.
    pub fn num_classes(&self) -> usize {
        self.num_classes
    }

    /// All labels.
    pub fn labels(&self) -> Vec<usize> {
        self.labels.iter().map(|&l| usize::from(l)).collect()
    }

    /// The label of sample `index`.
    pub fn label(&self, index: usize) -> Option<usize> {
        self.labels.get(index).map(|&l| usize::from(l))
    }

    /// Samples per class.
    pub fn class_counts(&self) -> Vec<usize> {
        let mut counts = vec![0; self.num_classes];
        for &l in &self.labels {
            counts[usize::from(l)] += 1;
        }
        counts
    }

    /// A new dataset of the images at `indices` (e.g. one split).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for an index past the end; [`Error::Empty`] for no indices.
    pub fn select(&self, indices: &[usize]) -> Result<Self> {
        if let Some(&bad) = indices.iter().find(|&&i| i >= self.len()) {
            return Err(invalid(
                "ImageDataset::select",
                "indices",
                &format!("< {}", self.len()),
                bad,
            ));
        }
        let size = self.channels * self.height * self.width;
        let pixels = indices
            .iter()
            .flat_map(|&i| self.pixels[i * size..(i + 1) * size].iter().copied())
            .collect();
        let labels = indices.iter().map(|&i| self.labels[i]).collect();
        let (c, h, w, max) = (self.channels, self.height, self.width, self.max_value);
        let mut selected = Self::with_channels(pixels, labels, c, h, w, max)?;
        selected.num_classes = self.num_classes;
        selected.class_names = self.class_names.clone();
        Ok(selected)
    }

    /// The mean and standard deviation of every channel's pixels (scaled to `[0, 1]`), over
    /// all images: fit them on the training split to normalise every split the same way.
    /// A constant channel reports a standard deviation of 1, so dividing by it is safe.
    pub fn channel_statistics(&self) -> Vec<(f64, f64)> {
        let plane = self.height * self.width;
        let scale = 1.0 / f64::from(self.max_value);
        (0..self.channels)
            .map(|c| {
                let (mut sum, mut squares, mut n) = (0.0f64, 0.0f64, 0usize);
                for image in self.pixels.chunks(self.channels * plane) {
                    for &p in image.get(c * plane..(c + 1) * plane).unwrap_or_default() {
                        let v = f64::from(p) * scale;
                        sum += v;
                        squares += v * v;
                        n += 1;
                    }
                }
                mean_std(sum, squares, n)
            })
            .collect()
    }

    /// The raw bytes of image `index`, `[channels, height, width]`.
    pub fn raw_pixels(&self, index: usize) -> Option<&[u8]> {
        let size = self.channels * self.height * self.width;
        self.pixels.get(index * size..(index + 1) * size)
    }
}

impl Dataset for ImageDataset {
    type Item = ImageSample;

    fn len(&self) -> usize {
        self.labels.len()
    }

    fn get(&self, index: usize) -> Option<ImageSample> {
        let scale = 1.0 / f32::from(self.max_value);
        Some(ImageSample {
            pixels: self
                .raw_pixels(index)?
                .iter()
                .map(|&p| f32::from(p) * scale)
                .collect(),
            channels: self.channels,
            height: self.height(),
            width: self.width(),
            label: usize::from(*self.labels.get(index)?),
        })
    }
}

/// The targets of a tabular dataset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Targets {
    /// Class ids `0..names.len()`, with the class names.
    Classes {
        /// Class id per row.
        ids: Vec<usize>,
        /// Name of each class id.
        names: Vec<String>,
    },
    /// Real values (regression).
    Values(Vec<f64>),
}

impl Targets {
    fn len(&self) -> usize {
        match self {
            Targets::Classes { ids, .. } => ids.len(),
            Targets::Values(v) => v.len(),
        }
    }

    fn select(&self, indices: &[usize]) -> Targets {
        match self {
            Targets::Classes { ids, names } => Targets::Classes {
                ids: indices.iter().map(|&i| ids[i]).collect(),
                names: names.clone(),
            },
            Targets::Values(v) => Targets::Values(indices.iter().map(|&i| v[i]).collect()),
        }
    }
}

/// One row of a tabular dataset.
#[derive(Debug, Clone, PartialEq)]
pub struct TabularSample {
    /// Feature values (NaN where missing).
    pub features: Vec<f64>,
    /// The class id, for classification data.
    pub class: Option<usize>,
    /// The value, for regression data.
    pub value: Option<f64>,
}

/// Rows of numeric features (NaN where missing) with a class or real target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TabularDataset {
    features: Vec<f64>,
    feature_names: Vec<String>,
    targets: Targets,
    /// Category names of the categorical feature columns, by column index.
    categories: Vec<(usize, Vec<String>)>,
}

impl TabularDataset {
    /// Builds a dataset from row-major features.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] when the features are not `rows × names.len()`;
    /// [`Error::Empty`] without rows or columns; [`Error::InvalidArgument`] for a class id
    /// without a name.
    pub fn new(features: Vec<f64>, feature_names: Vec<String>, targets: Targets) -> Result<Self> {
        let rows = targets.len();
        if rows == 0 || feature_names.is_empty() {
            return Err(Error::Empty {
                what: "TabularDataset".to_string(),
                reason: format!("{rows} rows, {} feature columns", feature_names.len()),
            });
        }
        if features.len() != rows * feature_names.len() {
            return Err(Error::ShapeMismatch {
                what: "TabularDataset::new",
                expected: format!("{rows} x {} features", feature_names.len()),
                got: format!("{} values", features.len()),
            });
        }
        if let Targets::Classes { ids, names } = &targets
            && let Some(&bad) = ids.iter().find(|&&id| id >= names.len())
        {
            return Err(invalid(
                "TabularDataset::new",
                "targets",
                &format!("class ids < {}", names.len()),
                bad,
            ));
        }
        Ok(Self {
            features,
            feature_names,
            targets,
            categories: Vec::new(),
        })
    }

    pub(crate) fn with_categories(mut self, categories: Vec<(usize, Vec<String>)>) -> Self {
        self.categories = categories;
        self
    }

    /// Feature column names.
    pub fn feature_names(&self) -> &[String] {
        &self.feature_names
    }

    /// Number of feature columns.
    pub fn num_features(&self) -> usize {
        self.feature_names.len()
    }

    /// Row-major features.
    pub fn features(&self) -> &[f64] {
        &self.features
    }

    /// Row-major features, to transform in place.
    pub fn features_mut(&mut self) -> &mut [f64] {
        &mut self.features
    }

    /// Replaces the features (and their names), keeping the rows and targets.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] when the new features are not `rows × names.len()`.
    pub fn set_features(&mut self, features: Vec<f64>, names: Vec<String>) -> Result<()> {
        if names.is_empty() || features.len() != self.len() * names.len() {
            return Err(Error::ShapeMismatch {
                what: "TabularDataset::set_features",
                expected: format!("{} rows x {} columns", self.len(), names.len()),
                got: format!("{} values", features.len()),
            });
        }
        self.features = features;
        self.feature_names = names;
        self.categories.clear();
        Ok(())
    }

    /// The targets.
    pub fn targets(&self) -> &Targets {
        &self.targets
    }

    /// Class ids per row, for classification data.
    pub fn class_ids(&self) -> Option<&[usize]> {
        match &self.targets {
            Targets::Classes { ids, .. } => Some(ids),
            Targets::Values(_) => None,
        }
    }

    /// Number of classes (0 for regression data).
    pub fn num_classes(&self) -> usize {
        match &self.targets {
            Targets::Classes { names, .. } => names.len(),
            Targets::Values(_) => 0,
        }
    }

    /// Category names of categorical feature column `column`, if it is one.
    pub fn categories(&self, column: usize) -> Option<&[String]> {
        self.categories
            .iter()
            .find(|(c, _)| *c == column)
            .map(|(_, names)| names.as_slice())
    }

    /// Feature value at `(row, column)`, `None` when either is out of range.
    pub fn value(&self, row: usize, column: usize) -> Option<f64> {
        (row < self.len() && column < self.num_features()).then(|| self.at(row, column))
    }

    /// Feature value at an in-range `(row, column)`, for this crate's loops over
    /// `0..len()` × `0..num_features()`.
    pub(crate) fn at(&self, row: usize, column: usize) -> f64 {
        self.features[row * self.num_features() + column]
    }

    /// A new dataset of the rows at `indices` (e.g. one split).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for an index past the end; [`Error::Empty`] for no indices.
    pub fn select(&self, indices: &[usize]) -> Result<Self> {
        if let Some(&bad) = indices.iter().find(|&&i| i >= self.len()) {
            return Err(invalid(
                "TabularDataset::select",
                "indices",
                &format!("< {}", self.len()),
                bad,
            ));
        }
        let cols = self.num_features();
        let features = indices
            .iter()
            .flat_map(|&i| self.features[i * cols..(i + 1) * cols].iter().copied())
            .collect();
        Ok(Self::new(
            features,
            self.feature_names.clone(),
            self.targets.select(indices),
        )?
        .with_categories(self.categories.clone()))
    }
}

impl Dataset for TabularDataset {
    type Item = TabularSample;

    fn len(&self) -> usize {
        self.targets.len()
    }

    fn get(&self, index: usize) -> Option<TabularSample> {
        let cols = self.num_features();
        let features = self
            .features
            .get(index * cols..(index + 1) * cols)?
            .to_vec();
        let (class, value) = match &self.targets {
            Targets::Classes { ids, .. } => (Some(*ids.get(index)?), None),
            Targets::Values(v) => (None, Some(*v.get(index)?)),
        };
        Some(TabularSample {
            features,
            class,
            value,
        })
    }
}
