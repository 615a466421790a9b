//! Validation shared by the layers: configuration domains and input shapes, checked once at
//! the layer boundary so burn never sees (and never panics on) a bad value.

use crate::error::InvalidValue;
use crate::error::{Error, Result};

/// `value > 0` for a size (features, channels, kernel extent, ...).
pub(crate) fn non_zero(layer: &'static str, field: &'static str, value: usize) -> Result<()> {
    if value == 0 {
        return Err(invalid(layer, field, "> 0", value));
    }
    Ok(())
}

/// Every entry of a size array `> 0`.
pub(crate) fn non_zero_all(
    layer: &'static str,
    field: &'static str,
    values: &[usize],
) -> Result<()> {
    if values.contains(&0) {
        return Err(invalid(
            layer,
            field,
            "> 0 in every dimension",
            format!("{values:?}"),
        ));
    }
    Ok(())
}

/// A dropout probability: finite and in `[0, 1)`.
pub(crate) fn probability(layer: &'static str, field: &'static str, p: f64) -> Result<()> {
    if !(0.0..1.0).contains(&p) {
        return Err(invalid(layer, field, "in [0, 1)", p));
    }
    Ok(())
}

/// A finite value `> 0` (epsilon).
pub(crate) fn positive(layer: &'static str, field: &'static str, value: f64) -> Result<()> {
    if !(value.is_finite() && value > 0.0) {
        return Err(invalid(layer, field, "finite and > 0", value));
    }
    Ok(())
}

/// `groups` divides both channel counts.
pub(crate) fn groups(
    layer: &'static str,
    groups: usize,
    in_ch: usize,
    out_ch: usize,
) -> Result<()> {
    non_zero(layer, "groups", groups)?;
    for (field, channels) in [("in_channels", in_ch), ("out_channels", out_ch)] {
        if channels % groups != 0 {
            let expected = format!("a divisor of {field} = {channels}");
            let invalid = InvalidValue::new(layer, "groups", expected, groups);
            return Err(Error::InvalidConfig(invalid));
        }
    }
    Ok(())
}

pub(crate) fn invalid(
    owner: &'static str,
    argument: &'static str,
    expected: &str,
    got: impl std::fmt::Display,
) -> Error {
    Error::InvalidConfig(InvalidValue::new(owner, argument, expected, got))
}

/// Renders a shape pattern: `None` is any size (`*`).
pub(crate) fn pattern(dims: &[Option<usize>]) -> String {
    let parts: Vec<String> = dims
        .iter()
        .map(|d| d.map_or_else(|| "*".to_string(), |n| n.to_string()))
        .collect();
    format!("[{}]", parts.join(", "))
}

/// The input has exactly the rank of `expected` and matches its fixed sizes; it is not empty.
pub(crate) fn input(
    layer: &'static str,
    arg: &'static str,
    got: &[usize],
    expected: &[Option<usize>],
) -> Result<()> {
    let fits = got.len() == expected.len()
        && got
            .iter()
            .zip(expected)
            .all(|(g, e)| e.is_none_or(|e| e == *g))
        && got.iter().all(|&g| g > 0);
    if !fits {
        return Err(Error::InputShape {
            layer,
            arg,
            expected: pattern(expected),
            got: got.to_vec(),
        });
    }
    Ok(())
}

/// A tensor handed to a `from_…` constructor has the required shape.
pub(crate) fn parameter(
    layer: &'static str,
    name: impl Into<String>,
    got: &[usize],
    expected: &[usize],
) -> Result<()> {
    if got != expected {
        return Err(Error::ParameterShape {
            layer,
            name: name.into(),
            expected: format!("{expected:?}"),
            got: got.to_vec(),
        });
    }
    Ok(())
}
