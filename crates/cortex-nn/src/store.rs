//! Saving and loading a module's parameters (burn's burnpack format) with typed errors:
//! a write goes to a temporary file renamed over the destination, so a failed save never
//! destroys an earlier file; a file of another architecture is [`Error::Architecture`].

use std::path::Path;

use burn::module::Module;
use burn::store::{ModuleRecord, RecordError};
use burn::tensor::Bytes;

use crate::error::{Cause, Error, Result};

/// Saves the parameters (and running statistics) of `module` to `path`.
///
/// # Errors
/// [`Error::Save`] when the file cannot be written; an earlier file stays intact.
pub fn save<M: Module + Clone>(module: &M, path: impl AsRef<Path>) -> Result<()> {
    let path = path.as_ref();
    let bytes = module
        .clone()
        .into_record()
        .into_bytes()
        .map_err(|e| Error::Save {
            path: path.to_path_buf(),
            source: Cause::new(e),
        })?;
    cortex_core::write_atomically(path, &bytes).map_err(|e| Error::Save {
        path: path.to_path_buf(),
        source: Cause::new(e),
    })
}

/// Loads parameters saved by [`save`] into `module`, which must have the same architecture.
///
/// # Errors
/// [`Error::Load`] when the file is missing or not a model file; [`Error::Architecture`]
/// when its tensors do not match `module` (missing, unused or of other shapes).
pub fn load<M: Module>(module: M, path: impl AsRef<Path>) -> Result<M> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|e| Error::Load {
        path: path.to_path_buf(),
        source: Cause::new(e),
    })?;
    load_bytes(module, bytes, path)
}

fn load_bytes<M: Module>(module: M, bytes: Vec<u8>, path: &Path) -> Result<M> {
    // burn's reader validates the header and lengths; guard against a panic on bytes it did
    // not anticipate, so a corrupt file is an error and never a crash.
    let record =
        std::panic::catch_unwind(|| ModuleRecord::from_bytes(Bytes::from_bytes_vec(bytes)))
            .unwrap_or_else(|_| Err(RecordError::Io("the file is corrupt".to_string())))
            .map_err(|e| Error::Load {
                path: path.to_path_buf(),
                source: Cause::new(e),
            })?;
    module.try_load_record(record).map_err(|e| match e {
        RecordError::Validation(reason) => Error::Architecture {
            path: path.to_path_buf(),
            reason,
        },
        io @ RecordError::Io(_) => Error::Load {
            path: path.to_path_buf(),
            source: Cause::new(io),
        },
    })
}
