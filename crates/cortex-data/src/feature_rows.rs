//! New rows for a trained tabular model: the feature columns it was trained on
//! ([`FeatureColumns`], saved with the run) and a reader that parses a CSV against them, so
//! that a categorical cell gets the code it had in training whatever else the new file holds.

use std::io::Read;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::csv::{Table, cell_error, is_missing};
use crate::dataset::{TabularDataset, Targets};
use crate::error::{Error, Result, io};

/// The feature columns of a table as [`read_csv`](crate::read_csv) read it: their names in
/// order, and for each categorical column its categories (code `k` is the `k`-th name).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeatureColumns {
    /// Feature column names, in the order of the features.
    pub names: Vec<String>,
    /// `(column index, category names)` of each categorical column.
    pub categories: Vec<(usize, Vec<String>)>,
}

impl TabularDataset {
    /// The feature columns as read (before any preprocessing): what new rows must match.
    pub fn feature_columns(&self) -> FeatureColumns {
        let categories = (0..self.num_features())
            .filter_map(|c| Some((c, self.categories(c)?.to_vec())))
            .collect();
        FeatureColumns {
            names: self.feature_names().to_vec(),
            categories,
        }
    }
}

/// Reads new rows from a CSV file for a model trained on `columns`; see [`parse_feature_rows`].
///
/// # Errors
/// [`Error::Io`], and as [`parse_feature_rows`].
pub fn read_feature_rows(
    path: impl AsRef<Path>,
    columns: &FeatureColumns,
) -> Result<TabularDataset> {
    let path = path.as_ref();
    let file = std::fs::File::open(path).map_err(|e| io(path, e))?;
    parse_feature_rows(file, path, columns)
}

/// Parses new rows (comma-separated, with a header) for a model trained on `columns`. The
/// header names every feature column, in any order; other columns (the target, an id) are
/// ignored. Numeric cells must be finite numbers, categorical cells one of the training
/// categories; missing cells (empty, `NA`, `?`, …) become NaN, for the run's imputer. The
/// rows have no targets: they are NaN values.
///
/// # Errors
/// [`Error::Empty`] without a header or rows; [`Error::MissingColumn`] for a feature column
/// the header lacks; [`Error::Csv`] (line and column) for a ragged row, a non-numeric cell or
/// an unknown category.
pub fn parse_feature_rows(
    reader: impl Read,
    path: &Path,
    columns: &FeatureColumns,
) -> Result<TabularDataset> {
    if columns.names.is_empty() {
        return Err(Error::Empty {
            what: "FeatureColumns".to_string(),
            reason: "no feature columns".to_string(),
        });
    }
    let table = Table::read(reader, path, b',')?;
    let positions = columns
        .names
        .iter()
        .map(|name| table.column(name))
        .collect::<Result<Vec<_>>>()?;
    let mut features = Vec::with_capacity(table.records.len() * positions.len());
    for (line, record) in &table.records {
        for (k, (&position, name)) in positions.iter().zip(&columns.names).enumerate() {
            let cell = record[position].trim();
            let categories = columns.categories.iter().find(|(c, _)| *c == k);
            let value = if is_missing(cell) {
                f64::NAN
            } else if let Some((_, names)) = categories {
                match names.iter().position(|n| n == cell) {
                    Some(code) => code as f64,
                    None => {
                        return Err(cell_error(
                            path,
                            *line,
                            name,
                            &format!("one of the training categories ({})", names.join(", ")),
                            cell,
                        ));
                    }
                }
            } else {
                match cell.parse::<f64>() {
                    Ok(v) if v.is_finite() => v,
                    _ => return Err(cell_error(path, *line, name, "a finite number", cell)),
                }
            };
            features.push(value);
        }
    }
    let rows = table.records.len();
    Ok(TabularDataset::new(
        features,
        columns.names.clone(),
        Targets::Values(vec![f64::NAN; rows]),
    )?
    .with_categories(columns.categories.clone()))
}
