//! The history of a run — one record per epoch — saved as CSV and JSON and drawn as SVG
//! curves (loss, and accuracy or RMSE), each file written atomically.

use std::collections::BTreeMap;
use std::path::Path;

use plotters::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Cause, Result, file};

/// What happened in one epoch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// 1-based epoch.
    pub epoch: usize,
    /// Learning rate used.
    pub lr: f64,
    /// Wall-clock seconds of the epoch (training and validation).
    pub seconds: f64,
    /// Training metrics (`loss`, `accuracy`, ...).
    pub train: BTreeMap<String, f64>,
    /// Validation metrics.
    pub validation: BTreeMap<String, f64>,
}

/// Every epoch of a run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct History {
    /// The records, in order.
    pub epochs: Vec<EpochRecord>,
}

impl History {
    /// The metric names of the training and validation columns, in a stable order.
    fn columns(&self) -> (Vec<String>, Vec<String>) {
        let mut train: Vec<String> = Vec::new();
        let mut validation: Vec<String> = Vec::new();
        for record in &self.epochs {
            for k in record.train.keys() {
                if !train.contains(k) {
                    train.push(k.clone());
                }
            }
            for k in record.validation.keys() {
                if !validation.contains(k) {
                    validation.push(k.clone());
                }
            }
        }
        (train, validation)
    }

    /// The history as CSV: `epoch,lr,seconds,train_<metric>…,validation_<metric>…`.
    pub fn to_csv(&self) -> String {
        let (train, validation) = self.columns();
        let mut out = String::from("epoch,lr,seconds");
        for k in &train {
            out.push_str(&format!(",train_{k}"));
        }
        for k in &validation {
            out.push_str(&format!(",validation_{k}"));
        }
        out.push('\n');
        for r in &self.epochs {
            out.push_str(&format!("{},{},{:.3}", r.epoch, r.lr, r.seconds));
            for k in &train {
                out.push_str(&r.train.get(k).map_or(",".to_string(), |v| format!(",{v}")));
            }
            for k in &validation {
                out.push_str(
                    &r.validation
                        .get(k)
                        .map_or(",".to_string(), |v| format!(",{v}")),
                );
            }
            out.push('\n');
        }
        out
    }

    /// Writes `history.csv`, `history.json` and `curves.svg` into the existing directory `dir`
    /// (not created here: a run directory that vanished is an error, not a new directory).
    ///
    /// # Errors
    /// [`crate::Error::File`] when a file cannot be written (earlier files stay intact).
    pub fn save(&self, dir: &Path) -> Result<()> {
        require_dir(dir)?;
        let write = |name: &str, bytes: &[u8]| {
            let path = dir.join(name);
            cortex_core::write_atomically(&path, bytes).map_err(|e| file(&path, e))
        };
        write("history.csv", self.to_csv().as_bytes())?;
        let json = serde_json::to_string_pretty(self)
            .map_err(|e| file(&dir.join("history.json"), Cause::new(e)))?;
        write("history.json", json.as_bytes())?;
        write("curves.svg", self.plot()?.as_bytes())
    }

    /// SVG of the loss curves (training and validation) beside accuracy (classification)
    /// or RMSE (regression).
    ///
    /// # Errors
    /// [`crate::Error::File`] when plotting fails.
    pub fn plot(&self) -> Result<String> {
        let mut svg = String::new();
        let second = if self
            .epochs
            .iter()
            .any(|r| r.validation.contains_key("accuracy") || r.train.contains_key("accuracy"))
        {
            "accuracy"
        } else {
            "rmse"
        };
        {
            let root = SVGBackend::with_string(&mut svg, (1000, 420)).into_drawing_area();
            fn fail(e: impl std::error::Error + Send + Sync + 'static) -> crate::Error {
                file(Path::new("curves.svg"), Cause::new(e))
            }
            root.fill(&WHITE).map_err(fail)?;
            let (left, right) = root.split_horizontally(500);
            for (area, metric) in [(left, "loss"), (right, second)] {
                self.panel(&area, metric)
                    .map_err(|e| file(Path::new("curves.svg"), Cause::from_boxed(e)))?;
            }
            root.present().map_err(fail)?;
        }
        Ok(svg)
    }

    fn panel(
        &self,
        area: &DrawingArea<SVGBackend<'_>, plotters::coord::Shift>,
        metric: &str,
    ) -> std::result::Result<(), Box<dyn std::error::Error + Send + Sync>> {
        let series = |pick: fn(&EpochRecord) -> &BTreeMap<String, f64>| -> Vec<(f64, f64)> {
            self.epochs
                .iter()
                .filter_map(|r| {
                    pick(r)
                        .get(metric)
                        .filter(|v| v.is_finite())
                        .map(|v| (r.epoch as f64, *v))
                })
                .collect()
        };
        let train = series(|r| &r.train);
        let validation = series(|r| &r.validation);
        let values = train.iter().chain(&validation).map(|p| p.1);
        let (mut low, mut high) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| {
            (l.min(v), h.max(v))
        });
        if !low.is_finite() {
            (low, high) = (0.0, 1.0);
        }
        let pad = ((high - low) * 0.05).max(1e-6);
        let epochs = self.epochs.len().max(2) as f64;
        let mut chart = ChartBuilder::on(area)
            .caption(metric, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(30)
            .y_label_area_size(50)
            .build_cartesian_2d(1.0..epochs, (low - pad)..(high + pad))?;
        chart.configure_mesh().x_desc("epoch").draw()?;
        chart
            .draw_series(LineSeries::new(train, &BLUE))?
            .label("train")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 15, y)], BLUE));
        chart
            .draw_series(LineSeries::new(validation, &RED))?
            .label("validation")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 15, y)], RED));
        chart
            .configure_series_labels()
            .border_style(BLACK)
            .background_style(WHITE)
            .draw()?;
        Ok(())
    }
}

/// Fails with [`crate::Error::File`] unless `dir` is an existing directory.
pub(crate) fn require_dir(dir: &Path) -> Result<()> {
    if dir.is_dir() {
        Ok(())
    } else {
        Err(file(
            dir,
            Cause::message(
                "the run directory does not exist (removed while the run trained?); nothing \
                 more is written",
            ),
        ))
    }
}
