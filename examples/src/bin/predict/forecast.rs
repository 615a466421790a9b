//! Forecast runs (`rnn --task sunspots`): the next value of a series from its last `window`
//! values, or the run's test period again.

use clap::ArgMatches;
use cortex::burn::tensor::{Tensor, TensorData};
use cortex::data::bundled;
use cortex_examples::rnn_model::Recurrent;
use cortex_examples::{BoxError, Common};

use crate::{Outcome, inputs};

/// With `evaluate`, forecasts every month of the bundled series after the `train_months`
/// the run trained on, each from the `window` months before it; otherwise the month after
/// the series given as numbers on the command line (or on stdin, separated by spaces,
/// commas or lines).
///
/// # Errors
/// Fewer values than the window, a value that is not a finite number, a card that does not
/// fit the bundled series.
pub fn predict(
    model: &Recurrent,
    (window, (mean, std), train_months): (usize, (f64, f64), usize),
    (matches, common): (&ArgMatches, &Common),
    evaluate: bool,
) -> Result<Outcome, BoxError> {
    let device = &common.backend.device;
    let forecast = |histories: &[&[f64]]| -> Result<Vec<f64>, BoxError> {
        let scaled: Vec<f32> = histories
            .iter()
            .flat_map(|h| h.iter().map(|v| ((v - mean) / std) as f32))
            .collect();
        let data = TensorData::new(scaled, [histories.len(), window, 1]);
        let outputs = model.forward(Tensor::<3>::from_data(data, device))?;
        Ok(outputs
            .into_data()
            .iter::<f32>()
            .map(|v| f64::from(v) * std + mean)
            .collect())
    };
    if window == 0 || !(std.is_finite() && std > 0.0 && mean.is_finite()) {
        return Err("the run card's window or scale is invalid (a damaged run.json?)".into());
    }
    if evaluate {
        let values = bundled::sunspots_monthly()?.values;
        if train_months < window || train_months >= values.len() {
            return Err(format!(
                "the run trained on {train_months} months with windows of {window}; the \
                 bundled series has {} months",
                values.len()
            )
            .into());
        }
        let histories: Vec<&[f64]> = (train_months..values.len())
            .map(|t| &values[t - window..t])
            .collect();
        let mut predicted = Vec::with_capacity(histories.len());
        for chunk in histories.chunks(512) {
            predicted.extend(forecast(chunk)?);
        }
        Ok(Outcome::Values(
            predicted,
            Some(values[train_months..].to_vec()),
        ))
    } else {
        let mut series = Vec::new();
        for text in inputs(matches)? {
            for cell in text
                .split([',', ' ', '\t'])
                .filter(|c| !c.trim().is_empty())
            {
                match cell.trim().parse::<f64>() {
                    Ok(v) if v.is_finite() => series.push(v),
                    _ => {
                        return Err(format!(
                            "`{cell}` is not a number: give the series so far, at least \
                             {window} values"
                        )
                        .into());
                    }
                }
            }
        }
        if series.len() < window {
            return Err(format!(
                "the run forecasts from the last {window} values; {} given",
                series.len()
            )
            .into());
        }
        let next = forecast(&[&series[series.len() - window..]])?;
        println!("next\t{:.3}", next[0]);
        Ok(Outcome::Values(next, None))
    }
}
