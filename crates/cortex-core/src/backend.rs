//! Picking a CPU backend (burn's flex or ndarray) and a float precision at run time.
//!
//! burn 0.22 tensors carry no backend type: a backend is a [`Device`]. This module names the
//! two CPU devices Cortex supports so that tests, examples, benchmarks and `xtask` choose them
//! the same way, usually from the `CORTEX_BACKEND` environment variable.

use std::fmt;
use std::str::FromStr;

use burn::tensor::{DType, Device};
use serde::{Deserialize, Serialize};

use crate::error::InvalidValue;

/// Whether `device` (plain or autodiff) is one of the CPU backends whose memory is the
/// host's (flex, ndarray): there, host-side work on tensor values costs no device
/// synchronisation, and Cortex's hand-written CPU kernels apply.
pub fn is_host_device(device: &Device) -> bool {
    let plain = device.clone().inner();
    plain == Backend::Flex.device() || plain == Backend::NdArray.device()
}

/// Environment variable naming the backend(s): `flex`, `ndarray` or `all`.
pub const BACKEND_ENV: &str = "CORTEX_BACKEND";

/// A CPU backend compiled into Cortex.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// burn's flex backend: pure Rust, SIMD and multi-threaded; the default, measured ~15x
    /// faster than ndarray for CNN training (see the shared benchmark notes).
    #[default]
    Flex,
    /// burn's ndarray backend (deprecated upstream, kept first-class here).
    NdArray,
}

impl Backend {
    /// Every CPU backend, default first.
    pub const ALL: [Backend; 2] = [Backend::Flex, Backend::NdArray];

    /// The plain (inference) device of this backend.
    pub fn device(self) -> Device {
        match self {
            Backend::Flex => Device::flex(),
            // burn marks ndarray deprecated in favour of flex; Cortex keeps it first-class
            // (the project's brief names it), so the deprecation is acknowledged here once.
            #[allow(deprecated)]
            Backend::NdArray => Device::ndarray(),
        }
    }

    /// The device with gradient tracking (burn-autodiff), for training and gradient checks.
    pub fn autodiff_device(self) -> Device {
        self.device().autodiff()
    }

    /// The lowercase name used on command lines and in `CORTEX_BACKEND`.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Flex => "flex",
            Backend::NdArray => "ndarray",
        }
    }

    /// The backends selected by `CORTEX_BACKEND` (`flex`, `ndarray` or `all`); all when unset.
    ///
    /// # Errors
    /// [`InvalidValue`] when the variable holds anything else.
    pub fn selected_from_env() -> Result<Vec<Backend>, InvalidValue> {
        match std::env::var(BACKEND_ENV) {
            Ok(value) => Backend::parse_selection(&value),
            Err(_) => Ok(Backend::ALL.to_vec()),
        }
    }

    /// Parses a backend selection: a backend name, or `all` for every backend.
    ///
    /// # Errors
    /// [`InvalidValue`] for an unknown name.
    pub fn parse_selection(value: &str) -> Result<Vec<Backend>, InvalidValue> {
        if value.trim().eq_ignore_ascii_case("all") {
            Ok(Backend::ALL.to_vec())
        } else {
            Ok(vec![value.parse()?])
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Backend {
    type Err = InvalidValue;

    fn from_str(s: &str) -> Result<Self, InvalidValue> {
        match s.trim().to_ascii_lowercase().as_str() {
            "flex" => Ok(Backend::Flex),
            "ndarray" => Ok(Backend::NdArray),
            _ => Err(InvalidValue::new(
                "backend",
                "name",
                "one of `flex`, `ndarray`",
                s,
            )),
        }
    }
}

/// Float precision of a run: f32 for training, f64 for gradient checks and the oracle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    /// 32-bit floats (training).
    #[default]
    F32,
    /// 64-bit floats (gradient checks, oracle comparisons).
    F64,
}

impl Precision {
    /// The burn dtype of this precision.
    pub fn dtype(self) -> DType {
        match self {
            Precision::F32 => DType::F32,
            Precision::F64 => DType::F64,
        }
    }
}

impl fmt::Display for Precision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Precision::F32 => "f32",
            Precision::F64 => "f64",
        })
    }
}

impl FromStr for Precision {
    type Err = InvalidValue;

    fn from_str(s: &str) -> Result<Self, InvalidValue> {
        match s.trim().to_ascii_lowercase().as_str() {
            "f32" => Ok(Precision::F32),
            "f64" => Ok(Precision::F64),
            _ => Err(InvalidValue::new(
                "precision",
                "name",
                "one of `f32`, `f64`",
                s,
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Tensor;

    #[test]
    fn host_devices_are_the_cpu_backends_with_or_without_autodiff() {
        for backend in Backend::ALL {
            assert!(is_host_device(&backend.device()));
            assert!(is_host_device(&backend.autodiff_device()));
        }
    }

    #[test]
    fn names_round_trip() {
        for backend in Backend::ALL {
            assert_eq!(backend.name().parse::<Backend>(), Ok(backend));
        }
        assert_eq!("NdArray".parse::<Backend>(), Ok(Backend::NdArray));
        assert_eq!("F64".parse::<Precision>(), Ok(Precision::F64));
    }

    #[test]
    fn unknown_names_are_errors() {
        assert!(matches!(
            "cuda".parse::<Backend>(),
            Err(InvalidValue {
                owner: "backend",
                ..
            })
        ));
        assert!(matches!(
            "f16".parse::<Precision>(),
            Err(InvalidValue {
                owner: "precision",
                ..
            })
        ));
    }

    #[test]
    fn selection_all_lists_every_backend() {
        assert_eq!(Backend::parse_selection("all"), Ok(Backend::ALL.to_vec()));
        assert_eq!(Backend::parse_selection("flex"), Ok(vec![Backend::Flex]));
    }

    #[test]
    fn devices_compute_in_the_requested_precision() {
        for backend in Backend::ALL {
            for precision in [Precision::F32, Precision::F64] {
                let device = backend.device();
                let t = Tensor::<1>::ones([3], (&device, precision.dtype()));
                assert_eq!(t.dtype(), precision.dtype());
                let sum: f64 = t.sum().into_scalar();
                assert_eq!(sum, 3.0);
            }
            assert!(backend.autodiff_device().is_autodiff());
        }
    }
}
