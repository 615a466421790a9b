//! Preprocessing fitted on the training split and applied unchanged to validation and test
//! data: missing values (drop or impute), z-score standardization, min-max scaling, one-hot
//! encoding of categorical columns. Every transform is serde, so a trained model ships with
//! the exact preprocessing it was trained with.

use serde::{Deserialize, Serialize};

use crate::dataset::{Dataset, TabularDataset};
use crate::error::{Error, Result, invalid};

/// Drops the rows with any missing (NaN) feature; returns the rest and how many were dropped.
///
/// # Errors
/// [`Error::Empty`] when every row has a missing value.
pub fn drop_missing(data: &TabularDataset) -> Result<(TabularDataset, usize)> {
    let cols = data.num_features();
    let keep: Vec<usize> = (0..data.len())
        .filter(|&r| {
            data.features()[r * cols..(r + 1) * cols]
                .iter()
                .all(|v| !v.is_nan())
        })
        .collect();
    if keep.is_empty() {
        return Err(Error::Empty {
            what: "drop_missing".to_string(),
            reason: "every row has a missing value".to_string(),
        });
    }
    Ok((data.select(&keep)?, data.len() - keep.len()))
}

/// Checks that `data` has the column count a transform was fitted on.
fn check_columns(what: &'static str, data: &TabularDataset, fitted: usize) -> Result<()> {
    if data.num_features() != fitted {
        return Err(Error::ShapeMismatch {
            what,
            expected: format!("{fitted} feature columns (as fitted)"),
            got: format!("{} columns", data.num_features()),
        });
    }
    Ok(())
}

/// Checks that a fitted transform's per-column vectors agree in length and hold finite
/// values (a hand-edited or corrupt saved transform is an error, not a panic).
fn check_fitted(what: &'static str, vectors: &[(&'static str, &[f64])]) -> Result<()> {
    let len = vectors.first().map_or(0, |(_, v)| v.len());
    for (field, values) in vectors {
        if values.len() != len {
            return Err(Error::ShapeMismatch {
                what,
                expected: format!("`{field}` with {len} values (one per column)"),
                got: format!("{} values", values.len()),
            });
        }
        if let Some(bad) = values.iter().find(|v| !v.is_finite()) {
            return Err(invalid(what, field, "finite numbers", bad));
        }
    }
    Ok(())
}

/// Column `c` of `data`, with the first missing value reported as an error.
fn column(what: &'static str, data: &TabularDataset, c: usize) -> Result<Vec<f64>> {
    let values: Vec<f64> = (0..data.len()).map(|r| data.at(r, c)).collect();
    if let Some(row) = values.iter().position(|v| v.is_nan()) {
        return Err(Error::MissingValue {
            what,
            column: data.feature_names()[c].clone(),
            row,
        });
    }
    Ok(values)
}

/// Applies `f(column, value)` to every feature value.
fn apply(data: &mut TabularDataset, f: impl Fn(usize, f64) -> f64) {
    let cols = data.num_features();
    for (k, v) in data.features_mut().iter_mut().enumerate() {
        *v = f(k % cols, *v);
    }
}

/// How an [`Imputer`] fills missing values of numeric columns. A categorical column always
/// takes its most frequent category (ties: the first in category order) under `Mean` and
/// `Median` — a mean of category codes is no category — and under `Constant` the value must
/// be one of its category codes.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ImputeStrategy {
    /// The column's mean over the fitted rows.
    Mean,
    /// The column's median over the fitted rows.
    Median,
    /// A fixed value.
    Constant {
        /// The value.
        value: f64,
    },
}

/// Fills missing (NaN) feature values with per-column statistics of the training data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Imputer {
    /// The strategy.
    pub strategy: ImputeStrategy,
    /// The fill value per column.
    pub fill: Vec<f64>,
}

/// The most frequent of `codes` (category codes below `categories`); ties go to the smaller.
fn most_frequent(codes: &[f64], categories: usize) -> f64 {
    let mut counts = vec![0usize; categories];
    for &code in codes {
        if let Some(count) = counts.get_mut(code as usize) {
            *count += 1;
        }
    }
    let best = (0..categories).max_by_key(|&c| (counts[c], std::cmp::Reverse(c)));
    best.unwrap_or(0) as f64
}

impl Imputer {
    /// Learns the fill values from `data` (the training split).
    ///
    /// # Errors
    /// [`Error::Empty`] for a column with no value at all under `Mean`/`Median`;
    /// [`Error::InvalidArgument`] for a non-finite constant, or one that is no category code
    /// of a categorical column.
    pub fn fit(data: &TabularDataset, strategy: ImputeStrategy) -> Result<Self> {
        let fill = (0..data.num_features())
            .map(|c| {
                let mut present: Vec<f64> = (0..data.len())
                    .map(|r| data.at(r, c))
                    .filter(|v| !v.is_nan())
                    .collect();
                let name = &data.feature_names()[c];
                let empty = || Error::Empty {
                    what: format!("Imputer column `{name}`"),
                    reason: "no value to compute a statistic from".to_string(),
                };
                let categories = data.categories(c).map_or(0, <[String]>::len);
                let is_code = |v: f64| v >= 0.0 && v < categories as f64 && v.fract() == 0.0;
                match strategy {
                    ImputeStrategy::Constant { value } if categories > 0 && !is_code(value) => {
                        let expected = format!("a category code of `{name}` (0..{categories})");
                        Err(invalid("Imputer", "value", &expected, value))
                    }
                    ImputeStrategy::Constant { value } if value.is_finite() => Ok(value),
                    ImputeStrategy::Constant { value } => {
                        Err(invalid("Imputer", "value", "finite", value))
                    }
                    _ if present.is_empty() => Err(empty()),
                    _ if categories > 0 => Ok(most_frequent(&present, categories)),
                    ImputeStrategy::Mean => Ok(present.iter().sum::<f64>() / present.len() as f64),
                    ImputeStrategy::Median => {
                        present.sort_by(f64::total_cmp);
                        let n = present.len();
                        Ok(if n % 2 == 1 {
                            present[n / 2]
                        } else {
                            (present[n / 2 - 1] + present[n / 2]) / 2.0
                        })
                    }
                }
            })
            .collect::<Result<_>>()?;
        Ok(Self { strategy, fill })
    }

    /// Fills the missing values of `data`.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] for another column count than fitted.
    pub fn transform(&self, data: &mut TabularDataset) -> Result<()> {
        check_fitted("Imputer", &[("fill", &self.fill)])?;
        check_columns("Imputer", data, self.fill.len())?;
        apply(data, |c, v| if v.is_nan() { self.fill[c] } else { v });
        Ok(())
    }
}

/// Z-score standardization `(x - mean) / std` with the training data's mean and population
/// standard deviation; a constant column (std 0) is centred and left unscaled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Standardizer {
    /// Mean per column.
    pub mean: Vec<f64>,
    /// Divisor per column (the standard deviation, or 1 for a constant column).
    pub scale: Vec<f64>,
}

impl Standardizer {
    /// Learns mean and standard deviation from `data` (the training split).
    ///
    /// # Errors
    /// [`Error::MissingValue`] when a value is missing (impute or drop first).
    pub fn fit(data: &TabularDataset) -> Result<Self> {
        let (mut mean, mut scale) = (Vec::new(), Vec::new());
        for c in 0..data.num_features() {
            let values = column("Standardizer", data, c)?;
            let n = values.len() as f64;
            let m = values.iter().sum::<f64>() / n;
            let var = values.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / n;
            mean.push(m);
            scale.push(if var.sqrt() > f64::EPSILON * m.abs().max(1.0) {
                var.sqrt()
            } else {
                1.0
            });
        }
        Ok(Self { mean, scale })
    }

    /// Standardizes `data` with the fitted statistics.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] for another column count than fitted, or fitted vectors of
    /// different lengths; [`Error::InvalidArgument`] for a non-finite statistic or a scale
    /// that is not > 0 (a corrupt saved transform).
    pub fn transform(&self, data: &mut TabularDataset) -> Result<()> {
        check_fitted(
            "Standardizer",
            &[("mean", &self.mean), ("scale", &self.scale)],
        )?;
        if let Some(bad) = self.scale.iter().find(|s| **s <= 0.0) {
            return Err(invalid("Standardizer", "scale", "> 0", bad));
        }
        check_columns("Standardizer", data, self.mean.len())?;
        apply(data, |c, v| (v - self.mean[c]) / self.scale[c]);
        Ok(())
    }

    /// Maps standardized values of column `c` back to the original units; `None` for a
    /// column the standardizer was not fitted on.
    pub fn inverse(&self, c: usize, value: f64) -> Option<f64> {
        Some(value * self.scale.get(c)? + self.mean.get(c)?)
    }
}

/// Scales each column linearly so the training data's minimum and maximum map to
/// `[low, high]`; a constant column maps to `low`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MinMaxScaler {
    /// Target range `[low, high]`.
    pub range: [f64; 2],
    /// Minimum per column.
    pub min: Vec<f64>,
    /// Maximum per column.
    pub max: Vec<f64>,
}

impl MinMaxScaler {
    /// Learns the per-column range of `data` (the training split).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] unless `low < high` (both finite); [`Error::MissingValue`].
    pub fn fit(data: &TabularDataset, range: [f64; 2]) -> Result<Self> {
        if !(range[0].is_finite() && range[1].is_finite() && range[0] < range[1]) {
            return Err(invalid(
                "MinMaxScaler",
                "range",
                "finite with low < high",
                format!("{range:?}"),
            ));
        }
        let (mut min, mut max) = (Vec::new(), Vec::new());
        for c in 0..data.num_features() {
            let values = column("MinMaxScaler", data, c)?;
            min.push(values.iter().copied().fold(f64::INFINITY, f64::min));
            max.push(values.iter().copied().fold(f64::NEG_INFINITY, f64::max));
        }
        Ok(Self { range, min, max })
    }

    /// Scales `data` with the fitted ranges (values outside them map outside `[low, high]`).
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] for another column count than fitted, or fitted vectors of
    /// different lengths; [`Error::InvalidArgument`] for non-finite fitted values or a range
    /// without low < high.
    pub fn transform(&self, data: &mut TabularDataset) -> Result<()> {
        check_fitted("MinMaxScaler", &[("min", &self.min), ("max", &self.max)])?;
        let [low, high] = self.range;
        if !(low.is_finite() && high.is_finite() && low < high) {
            return Err(invalid(
                "MinMaxScaler",
                "range",
                "finite with low < high",
                format!("{:?}", self.range),
            ));
        }
        check_columns("MinMaxScaler", data, self.min.len())?;
        apply(data, |c, v| {
            let span = self.max[c] - self.min[c];
            if span > 0.0 {
                low + (v - self.min[c]) / span * (high - low)
            } else {
                low
            }
        });
        Ok(())
    }
}

/// Replaces categorical columns (category codes) by one indicator column per category,
/// named `column=category`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OneHotEncoder {
    /// Number of input columns fitted on.
    pub input_columns: usize,
    /// The encoded columns: index and category names.
    pub encoded: Vec<(usize, String, Vec<String>)>,
}

impl OneHotEncoder {
    /// Encodes the columns the CSV reader marked categorical, with their categories.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when `data` has no categorical column.
    pub fn fit(data: &TabularDataset) -> Result<Self> {
        let encoded: Vec<_> = (0..data.num_features())
            .filter_map(|c| {
                data.categories(c)
                    .map(|names| (c, data.feature_names()[c].clone(), names.to_vec()))
            })
            .collect();
        if encoded.is_empty() {
            return Err(invalid(
                "OneHotEncoder",
                "data",
                "at least one categorical column (CsvOptions::with_categorical)",
                "none",
            ));
        }
        Ok(Self {
            input_columns: data.num_features(),
            encoded,
        })
    }

    /// Expands the encoded columns of `data` into indicator columns.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] for another column count; [`Error::InvalidArgument`] for a
    /// code outside the fitted categories (or missing).
    pub fn transform(&self, data: &mut TabularDataset) -> Result<()> {
        check_columns("OneHotEncoder", data, self.input_columns)?;
        let mut names = Vec::new();
        for (c, name) in data.feature_names().iter().enumerate() {
            match self.encoded.iter().find(|(e, _, _)| *e == c) {
                Some((_, column, categories)) => {
                    names.extend(categories.iter().map(|k| format!("{column}={k}")))
                }
                None => names.push(name.clone()),
            }
        }
        let mut features = Vec::with_capacity(data.len() * names.len());
        for r in 0..data.len() {
            for c in 0..self.input_columns {
                let v = data.at(r, c);
                match self.encoded.iter().find(|(e, _, _)| *e == c) {
                    Some((_, column, categories)) => {
                        let code = v as usize;
                        if v.is_nan() || v < 0.0 || v.fract() != 0.0 || code >= categories.len() {
                            return Err(invalid(
                                "OneHotEncoder",
                                "code",
                                &format!("a category code of `{column}` < {}", categories.len()),
                                v,
                            ));
                        }
                        features
                            .extend((0..categories.len()).map(|k| f64::from(u8::from(k == code))));
                    }
                    None => features.push(v),
                }
            }
        }
        data.set_features(features, names)
    }
}

/// One preprocessing step of a [`Pipeline`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum Preprocessor {
    /// Fill missing values.
    Impute(Imputer),
    /// One-hot encode categorical columns.
    OneHot(OneHotEncoder),
    /// Z-score standardization.
    Standardize(Standardizer),
    /// Min-max scaling.
    MinMax(MinMaxScaler),
}

impl Preprocessor {
    /// Applies the step.
    ///
    /// # Errors
    /// As the step's `transform`.
    pub fn transform(&self, data: &mut TabularDataset) -> Result<()> {
        match self {
            Preprocessor::Impute(t) => t.transform(data),
            Preprocessor::OneHot(t) => t.transform(data),
            Preprocessor::Standardize(t) => t.transform(data),
            Preprocessor::MinMax(t) => t.transform(data),
        }
    }
}

/// Fitted preprocessing steps, applied in order; serialize it next to the model.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Pipeline {
    /// The steps, in order.
    pub steps: Vec<Preprocessor>,
}

impl Pipeline {
    /// The usual tabular preprocessing, fitted on `train` and applied to it: mean imputation
    /// (when values are missing), one-hot encoding (when columns are categorical), then
    /// standardization.
    ///
    /// # Errors
    /// As the steps' `fit` and `transform`.
    pub fn fit_standard(train: &mut TabularDataset) -> Result<Self> {
        let mut steps = Vec::new();
        if train.features().iter().any(|v| v.is_nan()) {
            let imputer = Imputer::fit(train, ImputeStrategy::Mean)?;
            imputer.transform(train)?;
            steps.push(Preprocessor::Impute(imputer));
        }
        if (0..train.num_features()).any(|c| train.categories(c).is_some()) {
            let encoder = OneHotEncoder::fit(train)?;
            encoder.transform(train)?;
            steps.push(Preprocessor::OneHot(encoder));
        }
        let standardizer = Standardizer::fit(train)?;
        standardizer.transform(train)?;
        steps.push(Preprocessor::Standardize(standardizer));
        Ok(Self { steps })
    }

    /// Applies every step to `data` (validation or test data, or new inputs).
    ///
    /// # Errors
    /// As the steps' `transform`.
    pub fn transform(&self, data: &mut TabularDataset) -> Result<()> {
        self.steps.iter().try_for_each(|step| step.transform(data))
    }
}
