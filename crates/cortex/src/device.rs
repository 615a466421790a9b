//! Naming burn devices on command lines and in tests: `flex`, `ndarray`, `wgpu`, `vulkan`,
//! `cuda`, `cuda:1`, … → a [`Device`].
//!
//! Library crates never pick a device; programs do, by name, through [`device_from_name`].
//! The CPU backends are always compiled in; the GPU ones only with the facade's cargo feature
//! of the same name (`--features cortex/wgpu`), and a name whose feature this build lacks is a
//! [`DeviceError::NotCompiled`] that says which feature to enable.

use std::fmt;

use burn::tensor::Device;

/// The device names every build accepts or recognises, in the order `all` lists them.
pub const DEVICE_NAMES: [&str; 5] = ["flex", "ndarray", "wgpu", "vulkan", "cuda"];

/// Why a device name could not be turned into a device.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeviceError {
    /// A name no burn backend goes by.
    #[error(
        "unknown device `{asked}`: expected one of {available} (this build), e.g. `flex` or `cuda:1`"
    )]
    Unknown {
        /// What was asked for.
        asked: String,
        /// The names this build can open, comma-separated.
        available: String,
    },
    /// A GPU backend whose cargo feature this build was compiled without.
    #[error(
        "device `{asked}` is not compiled into this build: rebuild with `--features {feature}` \
         (this build has {available})"
    )]
    NotCompiled {
        /// What was asked for.
        asked: String,
        /// The cargo feature that compiles it in (e.g. `cortex/wgpu`).
        feature: String,
        /// The names this build can open, comma-separated.
        available: String,
    },
    /// An index that is not a non-negative integer (`cuda:x`), or an index on a CPU backend.
    #[error("device `{asked}`: {reason}")]
    BadIndex {
        /// What was asked for.
        asked: String,
        /// What is wrong with the index.
        reason: String,
    },
}

/// The device names this build can open (the CPU backends, then each compiled GPU backend).
pub fn available_devices() -> Vec<&'static str> {
    DEVICE_NAMES
        .into_iter()
        .filter(|name| compiled(name))
        .collect()
}

/// Whether the backend named `name` (without index) is compiled into this build.
fn compiled(name: &str) -> bool {
    match name {
        "flex" | "ndarray" => true,
        "wgpu" => cfg!(feature = "wgpu"),
        "vulkan" => cfg!(feature = "vulkan"),
        "cuda" => cfg!(feature = "cuda"),
        _ => false,
    }
}

/// The plain (inference) device named `name`: `flex`, `ndarray`, `wgpu[:N]`, `vulkan[:N]`
/// (the N-th discrete GPU; without an index the adapter wgpu prefers) or `cuda[:N]`.
/// Call `.autodiff()` on it to train.
///
/// # Errors
/// [`DeviceError::Unknown`] for a name no backend goes by, [`DeviceError::NotCompiled`] for a
/// GPU backend this build lacks, [`DeviceError::BadIndex`] for a malformed index.
///
/// ```
/// let device = cortex::device::device_from_name("flex")?;
/// assert!(!device.is_autodiff());
/// assert!(cortex::device::device_from_name("tpu").is_err());
/// # Ok::<(), cortex::device::DeviceError>(())
/// ```
pub fn device_from_name(name: &str) -> Result<Device, DeviceError> {
    let asked = name.trim().to_ascii_lowercase();
    let (base, index) = match asked.split_once(':') {
        Some((base, index)) => {
            let index = index.parse::<usize>().map_err(|_| DeviceError::BadIndex {
                asked: asked.clone(),
                reason: format!("the index `{index}` is not a non-negative integer"),
            })?;
            (base.to_string(), Some(index))
        }
        None => (asked.clone(), None),
    };
    let available = available_devices().join(", ");
    if !DEVICE_NAMES.contains(&base.as_str()) {
        return Err(DeviceError::Unknown { asked, available });
    }
    if !compiled(&base) {
        return Err(DeviceError::NotCompiled {
            feature: format!("cortex/{base}"),
            asked,
            available,
        });
    }
    if index.is_some() && (base == "flex" || base == "ndarray") {
        return Err(DeviceError::BadIndex {
            asked,
            reason: "a CPU backend has one device and takes no index".to_string(),
        });
    }
    Ok(open(&base, index))
}

/// The device of a compiled backend (checked by the caller).
#[allow(unused_variables)] // `index` is unused in a CPU-only build.
fn open(base: &str, index: Option<usize>) -> Device {
    match base {
        #[cfg(feature = "wgpu")]
        "wgpu" => Device::wgpu(gpu_kind(index)),
        #[cfg(feature = "vulkan")]
        "vulkan" => Device::vulkan(gpu_kind(index)),
        #[cfg(feature = "cuda")]
        "cuda" => Device::cuda(index.unwrap_or(0)),
        "ndarray" => {
            // burn marks ndarray deprecated in favour of flex; Cortex keeps it first-class.
            #[allow(deprecated)]
            Device::ndarray()
        }
        _ => Device::flex(),
    }
}

/// wgpu's adapter choice: the N-th discrete GPU, or the one wgpu prefers (a high-power GPU,
/// else what the driver offers, e.g. lavapipe's CPU adapter; `CUBECL_WGPU_DEFAULT_DEVICE`
/// overrides it).
#[cfg(any(feature = "wgpu", feature = "vulkan"))]
fn gpu_kind(index: Option<usize>) -> burn::tensor::DeviceKind {
    match index {
        Some(i) => burn::tensor::DeviceKind::DiscreteGpu(i),
        None => burn::tensor::DeviceKind::DefaultDevice,
    }
}

/// A named device, as parsed from a command line: keeps the name for reports.
#[derive(Debug, Clone)]
pub struct NamedDevice {
    /// The name as normalised (`cuda:1`).
    pub name: String,
    /// The plain device.
    pub device: Device,
}

impl NamedDevice {
    /// Parses one name; see [`device_from_name`].
    ///
    /// # Errors
    /// As [`device_from_name`].
    pub fn parse(name: &str) -> Result<Self, DeviceError> {
        Ok(Self {
            name: name.trim().to_ascii_lowercase(),
            device: device_from_name(name)?,
        })
    }

    /// Parses a selection: one name, a comma-separated list, `cpu` (flex and ndarray) or
    /// `all` (every device this build has).
    ///
    /// # Errors
    /// As [`device_from_name`], for the first bad name.
    pub fn parse_selection(selection: &str) -> Result<Vec<Self>, DeviceError> {
        let names: Vec<String> = match selection.trim().to_ascii_lowercase().as_str() {
            "all" => available_devices().iter().map(|s| s.to_string()).collect(),
            "cpu" => vec!["flex".to_string(), "ndarray".to_string()],
            list => list.split(',').map(|s| s.trim().to_string()).collect(),
        };
        names.iter().map(|n| Self::parse(n)).collect()
    }
}

impl fmt::Display for NamedDevice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_names_open_their_backends() {
        #[allow(deprecated)]
        let ndarray = Device::ndarray();
        assert!(device_from_name("flex").unwrap() == Device::flex());
        assert!(device_from_name(" NdArray ").unwrap() == ndarray);
        assert_eq!(&available_devices()[..2], &["flex", "ndarray"]);
    }

    #[test]
    fn unknown_and_malformed_names_are_typed_errors() {
        let err = device_from_name("tpu").unwrap_err();
        assert!(matches!(&err, DeviceError::Unknown { asked, .. } if asked == "tpu"));
        assert!(err.to_string().contains("flex, ndarray"), "{err}");
        assert!(matches!(
            device_from_name("cuda:x"),
            Err(DeviceError::BadIndex { .. })
        ));
        assert!(matches!(
            device_from_name("flex:1"),
            Err(DeviceError::BadIndex { .. })
        ));
    }

    #[test]
    fn a_backend_left_out_of_the_build_names_its_feature() {
        // `cuda` never builds on these machines, so this build has no cuda.
        if !cfg!(feature = "cuda") {
            let err = device_from_name("cuda:1").unwrap_err();
            assert_eq!(
                err,
                DeviceError::NotCompiled {
                    asked: "cuda:1".to_string(),
                    feature: "cortex/cuda".to_string(),
                    available: available_devices().join(", "),
                }
            );
            assert!(err.to_string().contains("--features cortex/cuda"), "{err}");
        }
    }

    #[test]
    fn selections_list_devices() {
        let cpu = NamedDevice::parse_selection("cpu").unwrap();
        assert_eq!(cpu.len(), 2);
        let list = NamedDevice::parse_selection("ndarray, flex").unwrap();
        assert_eq!(list[0].name, "ndarray");
        assert_eq!(list[1].to_string(), "flex");
        assert_eq!(
            NamedDevice::parse_selection("all").unwrap().len(),
            available_devices().len()
        );
    }
}
