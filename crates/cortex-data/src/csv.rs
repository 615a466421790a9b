//! CSV reading (with the `csv` crate): a header row, numeric feature columns, a target column
//! chosen by name (numeric, or class names mapped to ids), optional categorical feature
//! columns, and a policy for missing cells. Every bad cell is reported with its line and
//! column.

use std::collections::BTreeSet;
use std::io::Read;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::dataset::{TabularDataset, Targets};
use crate::error::{Error, Result, io};

/// How the target column is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetKind {
    /// Numeric → regression values; any non-numeric cell → class names.
    Auto,
    /// Classes: non-negative integers are class ids as they are; text is mapped to ids in
    /// sorted order of the names.
    Classes,
    /// Real values (regression).
    Values,
}

/// What to do with missing feature cells (empty, `NA`, `N/A`, `NaN`, `null`, `?`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MissingPolicy {
    /// A missing cell is an error naming its line and column.
    Reject,
    /// Missing cells become NaN, for an `Imputer` or `drop_missing` to handle.
    Keep,
}

/// Options of [`read_csv`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CsvOptions {
    /// Name of the target column.
    pub target: String,
    /// How the target is read.
    pub target_kind: TargetKind,
    /// Missing feature cells.
    pub missing: MissingPolicy,
    /// Text feature columns whose values are mapped to category codes 0, 1, … (sorted names),
    /// for one-hot encoding.
    pub categorical: Vec<String>,
    /// Columns to leave out (identifiers, dates).
    pub ignore: Vec<String>,
    /// Field separator.
    pub delimiter: u8,
}

impl CsvOptions {
    /// Target column `target` read as [`TargetKind::Auto`], missing cells rejected, `,`.
    pub fn new(target: impl Into<String>) -> Self {
        Self {
            target: target.into(),
            target_kind: TargetKind::Auto,
            missing: MissingPolicy::Reject,
            categorical: Vec::new(),
            ignore: Vec::new(),
            delimiter: b',',
        }
    }

    /// Sets how the target is read.
    pub fn with_target_kind(mut self, kind: TargetKind) -> Self {
        self.target_kind = kind;
        self
    }

    /// Sets the missing-cell policy.
    pub fn with_missing(mut self, missing: MissingPolicy) -> Self {
        self.missing = missing;
        self
    }

    /// Declares categorical feature columns.
    pub fn with_categorical(mut self, columns: Vec<String>) -> Self {
        self.categorical = columns;
        self
    }

    /// Declares columns to leave out.
    pub fn with_ignore(mut self, columns: Vec<String>) -> Self {
        self.ignore = columns;
        self
    }
}

/// A CSV file's header and records (with their 1-based lines), read whole: what the tabular
/// and the text readers share.
pub(crate) struct Table {
    /// The trimmed header names.
    pub header: Vec<String>,
    /// Every record and the line it starts on.
    pub records: Vec<(u64, csv::StringRecord)>,
    path: std::path::PathBuf,
}

impl Table {
    /// Reads a header and at least one record.
    ///
    /// # Errors
    /// [`Error::Empty`] without a header or records; [`Error::Csv`] for a ragged or non-UTF-8
    /// record (its line).
    pub(crate) fn read(reader: impl Read, path: &Path, delimiter: u8) -> Result<Self> {
        let mut csv = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .has_headers(true)
            .flexible(false)
            .from_reader(reader);
        let header: Vec<String> = csv
            .headers()
            .map_err(|e| cell_error(path, 1, "header", "a UTF-8 header row", &e.to_string()))?
            .iter()
            .map(|h| h.trim().to_string())
            .collect();
        if header.iter().all(String::is_empty) {
            return Err(Error::Empty {
                what: path.display().to_string(),
                reason: "no header row".to_string(),
            });
        }
        let mut records = Vec::new();
        for record in csv.records() {
            let record = record.map_err(|e| {
                let line = e.position().map_or(0, |p| p.line());
                match e.kind() {
                    csv::ErrorKind::UnequalLengths {
                        expected_len, len, ..
                    } => cell_error(
                        path,
                        line,
                        "row",
                        &format!("{expected_len} fields (as the header)"),
                        &format!("{len} fields"),
                    ),
                    _ => cell_error(
                        path,
                        line,
                        "row",
                        "a valid UTF-8 CSV record",
                        &e.to_string(),
                    ),
                }
            })?;
            let line = record.position().map_or(0, |p| p.line());
            records.push((line, record));
        }
        if records.is_empty() {
            return Err(Error::Empty {
                what: path.display().to_string(),
                reason: "a header but no data rows".to_string(),
            });
        }
        Ok(Self {
            header,
            records,
            path: path.to_path_buf(),
        })
    }

    /// The position of column `name`.
    ///
    /// # Errors
    /// [`Error::MissingColumn`] listing the columns there are.
    pub(crate) fn column(&self, name: &str) -> Result<usize> {
        self.header
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| Error::MissingColumn {
                path: self.path.clone(),
                column: name.to_string(),
                available: self.header.clone(),
            })
    }
}

/// An [`Error::Csv`] at `line`, column `column`.
pub(crate) fn cell_error(path: &Path, line: u64, column: &str, expected: &str, got: &str) -> Error {
    Error::Csv {
        path: path.to_path_buf(),
        line,
        column: column.to_string(),
        expected: expected.to_string(),
        got: got.to_string(),
    }
}

/// Whether a trimmed cell denotes a missing value.
pub(crate) fn is_missing(cell: &str) -> bool {
    matches!(cell, "" | "NA" | "N/A" | "NaN" | "nan" | "null" | "?")
}

/// Reads a CSV file into a tabular dataset.
///
/// # Errors
/// [`Error::Io`]; [`Error::Empty`] for a file without header or rows;
/// [`Error::MissingColumn`] for an unknown target, categorical or ignored column;
/// [`Error::Csv`] (line and column) for a ragged row, a non-numeric or non-finite feature
/// cell, a missing cell under [`MissingPolicy::Reject`], or a missing or invalid target.
pub fn read_csv(path: impl AsRef<Path>, options: &CsvOptions) -> Result<TabularDataset> {
    let path = path.as_ref();
    let file = std::fs::File::open(path).map_err(|e| io(path, e))?;
    parse_csv(file, path, options)
}

/// Parses CSV text from `reader`; `path` names the source in errors.
///
/// # Errors
/// As [`read_csv`].
pub fn parse_csv(reader: impl Read, path: &Path, options: &CsvOptions) -> Result<TabularDataset> {
    let cell_error = |line: u64, column: &str, expected: &str, got: &str| {
        cell_error(path, line, column, expected, got)
    };
    let table = Table::read(reader, path, options.delimiter)?;
    let (header, records) = (&table.header, &table.records);
    let position = |name: &str| table.column(name);
    let target = position(&options.target)?;
    let ignored = options
        .ignore
        .iter()
        .map(|c| position(c))
        .collect::<Result<BTreeSet<_>>>()?;
    let categorical = options
        .categorical
        .iter()
        .map(|c| position(c))
        .collect::<Result<BTreeSet<_>>>()?;
    let feature_columns: Vec<usize> = (0..header.len())
        .filter(|c| *c != target && !ignored.contains(c))
        .collect();
    if feature_columns.is_empty() {
        return Err(Error::Empty {
            what: path.display().to_string(),
            reason: "no feature columns besides the target".to_string(),
        });
    }
    // Category codes: sorted distinct names per categorical column.
    let mut categories: Vec<(usize, Vec<String>)> = Vec::new();
    for (k, &column) in feature_columns.iter().enumerate() {
        if categorical.contains(&column) {
            let names: BTreeSet<String> = records
                .iter()
                .map(|(_, r)| r[column].trim().to_string())
                .filter(|c| !is_missing(c))
                .collect();
            categories.push((k, names.into_iter().collect()));
        }
    }
    let mut features = Vec::with_capacity(records.len() * feature_columns.len());
    for (line, record) in records {
        for (k, &column) in feature_columns.iter().enumerate() {
            let cell = record[column].trim();
            let name = &header[column];
            if is_missing(cell) {
                if options.missing == MissingPolicy::Reject {
                    return Err(cell_error(
                        *line,
                        name,
                        "a value (missing values are rejected; read with MissingPolicy::Keep to impute or drop them)",
                        cell,
                    ));
                }
                features.push(f64::NAN);
            } else if let Some((_, names)) = categories.iter().find(|(c, _)| *c == k) {
                features.push(names.iter().position(|n| n == cell).unwrap_or_default() as f64);
            } else {
                match cell.parse::<f64>() {
                    Ok(v) if v.is_finite() => features.push(v),
                    _ => {
                        return Err(cell_error(
                            *line,
                            name,
                            "a finite number (declare text columns categorical or ignored)",
                            cell,
                        ));
                    }
                }
            }
        }
    }
    let target_name = &header[target];
    let cells: Vec<(u64, &str)> = records
        .iter()
        .map(|(l, r)| (*l, r[target].trim()))
        .collect();
    if let Some((line, cell)) = cells.iter().find(|(_, c)| is_missing(c)) {
        return Err(cell_error(
            *line,
            target_name,
            "a target value (rows without a target cannot be used)",
            cell,
        ));
    }
    let numeric = cells
        .iter()
        .all(|(_, c)| c.parse::<f64>().is_ok_and(f64::is_finite));
    let targets = match (options.target_kind, numeric) {
        (TargetKind::Values, false) | (TargetKind::Auto, true) | (TargetKind::Values, true) => {
            let mut values = Vec::with_capacity(cells.len());
            for (line, cell) in &cells {
                match cell.parse::<f64>() {
                    Ok(v) if v.is_finite() => values.push(v),
                    _ => return Err(cell_error(*line, target_name, "a finite number", cell)),
                }
            }
            Targets::Values(values)
        }
        (TargetKind::Classes, true) => {
            let mut ids = Vec::with_capacity(cells.len());
            for (line, cell) in &cells {
                match cell.parse::<usize>() {
                    Ok(id) if id <= 10_000 => ids.push(id),
                    _ => {
                        return Err(cell_error(
                            *line,
                            target_name,
                            "a class id in 0..=10000 or a class name",
                            cell,
                        ));
                    }
                }
            }
            let count = ids.iter().max().map_or(0, |m| m + 1);
            Targets::Classes {
                ids,
                names: (0..count).map(|i| i.to_string()).collect(),
            }
        }
        (TargetKind::Classes | TargetKind::Auto, false) => {
            let names: Vec<String> = cells
                .iter()
                .map(|(_, c)| c.to_string())
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            let ids = cells
                .iter()
                .map(|(_, c)| names.iter().position(|n| n == c).unwrap_or_default())
                .collect();
            Targets::Classes { ids, names }
        }
    };
    let names = feature_columns.iter().map(|&c| header[c].clone()).collect();
    Ok(TabularDataset::new(features, names, targets)?.with_categories(categories))
}
