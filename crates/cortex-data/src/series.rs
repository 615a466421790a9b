//! Time series: reading a series from CSV, and sliding windows `(window inputs, horizon
//! targets)` for sequence models.

use std::path::Path;

use burn::tensor::{Device, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use crate::batch::{Collate, ToBatch, collate};
use crate::csv::is_missing;
use crate::dataset::Dataset;
use crate::error::{Cause, Error, Result, invalid, io};

/// A univariate series with a label per point (a date).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Series {
    /// Label of each point (the first CSV column).
    pub labels: Vec<String>,
    /// The values.
    pub values: Vec<f64>,
}

impl Series {
    /// Reads column `value_column` of a CSV file; the first column gives the labels.
    ///
    /// # Errors
    /// [`Error::Io`], [`Error::MissingColumn`], [`Error::Csv`] (line, column) for a ragged
    /// row or a missing or non-numeric value, [`Error::Empty`] for no rows.
    pub fn read_csv(path: impl AsRef<Path>, value_column: &str) -> Result<Self> {
        let path = path.as_ref();
        let file = std::fs::File::open(path).map_err(|e| io(path, e))?;
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .from_reader(file);
        let header: Vec<String> = reader
            .headers()
            .map_err(|e| io(path, Cause::new(e)))?
            .iter()
            .map(|h| h.trim().to_string())
            .collect();
        let column = header
            .iter()
            .position(|h| h == value_column)
            .ok_or_else(|| Error::MissingColumn {
                path: path.to_path_buf(),
                column: value_column.to_string(),
                available: header.clone(),
            })?;
        let (mut labels, mut values) = (Vec::new(), Vec::new());
        for record in reader.records() {
            let record = record.map_err(|e| Error::Csv {
                path: path.to_path_buf(),
                line: e.position().map_or(0, |p| p.line()),
                column: "row".to_string(),
                expected: format!("{} fields (as the header)", header.len()),
                got: e.to_string(),
            })?;
            let line = record.position().map_or(0, |p| p.line());
            let cell = record[column].trim();
            match cell.parse::<f64>() {
                Ok(v) if v.is_finite() && !is_missing(cell) => values.push(v),
                _ => {
                    return Err(Error::Csv {
                        path: path.to_path_buf(),
                        line,
                        column: value_column.to_string(),
                        expected: "a finite number".to_string(),
                        got: cell.to_string(),
                    });
                }
            }
            labels.push(record[0].trim().to_string());
        }
        if values.is_empty() {
            return Err(Error::Empty {
                what: path.display().to_string(),
                reason: "no data rows".to_string(),
            });
        }
        Ok(Self { labels, values })
    }

    /// Number of points.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether the series has no points.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The points `range` (e.g. a chronological train/test split).
    pub fn slice(&self, range: std::ops::Range<usize>) -> Series {
        let range = range.start.min(self.len())..range.end.min(self.len());
        Series {
            labels: self.labels[range.clone()].to_vec(),
            values: self.values[range].to_vec(),
        }
    }
}

/// Sliding windows: `window` inputs, then `horizon` targets, starting every `stride` points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WindowConfig {
    /// Input points per sample (> 0).
    pub window: usize,
    /// Target points after the window (> 0).
    pub horizon: usize,
    /// Step between window starts (> 0).
    pub stride: usize,
}

/// Windows over a series ([`windows`]).
#[derive(Debug, Clone, PartialEq)]
pub struct WindowDataset {
    values: Vec<f64>,
    config: WindowConfig,
    count: usize,
}

/// Cuts `values` into windows: sample `k` has inputs `values[k·s .. k·s + w]` and targets
/// `values[k·s + w .. k·s + w + h]`.
///
/// # Errors
/// [`Error::InvalidArgument`] for zero sizes; [`Error::Empty`] when the series is shorter
/// than one window plus its horizon.
pub fn windows(values: &[f64], config: WindowConfig) -> Result<WindowDataset> {
    for (field, v) in [
        ("window", config.window),
        ("horizon", config.horizon),
        ("stride", config.stride),
    ] {
        if v == 0 {
            return Err(invalid("windows", field, "> 0", 0));
        }
    }
    let span = config.window + config.horizon;
    if values.len() < span {
        return Err(Error::Empty {
            what: "windows".to_string(),
            reason: format!(
                "{} points, fewer than window + horizon = {span}",
                values.len()
            ),
        });
    }
    let count = (values.len() - span) / config.stride + 1;
    Ok(WindowDataset {
        values: values.to_vec(),
        config,
        count,
    })
}

/// One window of a series: the inputs and the values that follow them.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowSample {
    /// `window` consecutive values.
    pub inputs: Vec<f64>,
    /// The `horizon` values after them.
    pub targets: Vec<f64>,
}

impl Dataset for WindowDataset {
    type Item = WindowSample;

    fn len(&self) -> usize {
        self.count
    }

    fn get(&self, index: usize) -> Option<WindowSample> {
        if index >= self.count {
            return None;
        }
        let start = index * self.config.stride;
        let split = start + self.config.window;
        Some(WindowSample {
            inputs: self.values.get(start..split)?.to_vec(),
            targets: self
                .values
                .get(split..split + self.config.horizon)?
                .to_vec(),
        })
    }
}

/// Window inputs `[B, window, 1]` and targets `[B, horizon]`.
#[derive(Debug, Clone)]
pub struct SequenceBatch {
    /// The inputs, one feature per step.
    pub inputs: Tensor<3>,
    /// The targets.
    pub targets: Tensor<2>,
}

impl ToBatch for WindowDataset {
    type Batch = SequenceBatch;

    fn batch(&self, indices: &[usize], device: &Device) -> Result<SequenceBatch> {
        collate("WindowDataset::batch", self, indices, device)
    }
}

impl Collate for WindowSample {
    type Batch = SequenceBatch;

    /// Inputs `[B, window, 1]` and targets `[B, horizon]`.
    fn collate(items: Vec<Self>, device: &Device) -> Result<SequenceBatch> {
        let (window, horizon) = match items.first() {
            Some(first) => (first.inputs.len(), first.targets.len()),
            None => return Err(invalid("WindowSample::collate", "items", "at least one", 0)),
        };
        let (mut inputs, mut targets) = (Vec::new(), Vec::new());
        for item in &items {
            if (item.inputs.len(), item.targets.len()) != (window, horizon) {
                return Err(Error::ShapeMismatch {
                    what: "WindowSample::collate",
                    expected: format!("windows of {window} inputs and {horizon} targets"),
                    got: format!(
                        "{} inputs and {} targets",
                        item.inputs.len(),
                        item.targets.len()
                    ),
                });
            }
            inputs.extend(item.inputs.iter().map(|&v| v as f32));
            targets.extend(item.targets.iter().map(|&v| v as f32));
        }
        let batch = items.len();
        Ok(SequenceBatch {
            inputs: Tensor::from_data(TensorData::new(inputs, [batch, window, 1]), device),
            targets: Tensor::from_data(TensorData::new(targets, [batch, horizon]), device),
        })
    }
}
