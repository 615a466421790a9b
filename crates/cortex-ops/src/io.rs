//! Crash-safe file writes, shared by every crate that persists state (model parameters,
//! optimizer state, checkpoints, preprocessing).

use std::io::Write;
use std::path::{Path, PathBuf};

/// Writes `bytes` to `path` atomically: into a temporary file beside it, flushed to disk, then
/// renamed over `path`. A failure at any point removes the temporary file and leaves an
/// earlier file at `path` exactly as it was; a reader never sees a half-written file.
///
/// # Errors
/// The underlying I/O error (no file name in `path`, directory missing, disk full, rename
/// refused, ...).
///
/// ```
/// let path = std::env::temp_dir().join(format!("cortex-doc-{}.txt", std::process::id()));
/// cortex_ops::write_atomically(&path, b"first")?;
/// cortex_ops::write_atomically(&path, b"second")?;
/// assert_eq!(std::fs::read(&path)?, b"second");
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let name = path.file_name().ok_or_else(|| {
        std::io::Error::new(std::io::ErrorKind::InvalidInput, "the path names no file")
    })?;
    let mut temporary_name = std::ffi::OsString::from(".");
    temporary_name.push(name);
    temporary_name.push(format!(".{}.tmp", std::process::id()));
    let temporary: PathBuf = path.with_file_name(temporary_name);
    let written = (|| {
        let mut file = std::fs::File::create(&temporary)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temporary, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    written
}
