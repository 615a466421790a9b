//! Crash-safe file writes, shared by every crate that persists state (model parameters,
//! optimizer state, checkpoints, preprocessing).

use std::io::Write;
use std::path::{Path, PathBuf};

/// Ends the name of [`write_atomically`]'s temporary file `.NAME.PID.tmp`.
const TEMPORARY_SUFFIX: &str = ".tmp";

/// Environment variable: milliseconds every [`write_atomically`] waits before its rename (a
/// fault-injection hook for tests; unset in normal use).
pub const WRITE_DELAY_ENV: &str = "CORTEX_WRITE_DELAY_MS";

/// The delay [`WRITE_DELAY_ENV`] asks for, if any.
fn write_delay() -> Option<std::time::Duration> {
    let millis: u64 = std::env::var(WRITE_DELAY_ENV).ok()?.trim().parse().ok()?;
    Some(std::time::Duration::from_millis(millis))
}

/// Writes `bytes` to `path` atomically: into a temporary file beside it, flushed to disk, then
/// renamed over `path`. A failure at any point removes the temporary file and leaves an
/// earlier file at `path` exactly as it was; a reader never sees a half-written file.
///
/// For fault-injection tests, the environment variable [`WRITE_DELAY_ENV`] (milliseconds)
/// holds every write for that long between the temporary file's data and its rename, so that
/// a test can kill the process inside a write.
///
/// # Errors
/// The underlying I/O error (no file name in `path`, directory missing, disk full, rename
/// refused, ...).
///
/// ```
/// let path = std::env::temp_dir().join(format!("cortex-doc-{}.txt", std::process::id()));
/// cortex_core::write_atomically(&path, b"first")?;
/// cortex_core::write_atomically(&path, b"second")?;
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
    temporary_name.push(format!(".{}{TEMPORARY_SUFFIX}", std::process::id()));
    let temporary: PathBuf = path.with_file_name(temporary_name);
    let written = (|| {
        let mut file = std::fs::File::create(&temporary)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        if let Some(delay) = write_delay() {
            std::thread::sleep(delay);
        }
        std::fs::rename(&temporary, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    written
}

/// Removes the temporary files of [`write_atomically`] that processes killed before their
/// rename left in `dir` (`.NAME.PID.tmp` of another process than this one). Best effort: a
/// file that cannot be read or removed stays.
pub fn remove_stale_temporaries(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let own = std::process::id().to_string();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(stem) = name
            .to_str()
            .and_then(|n| n.strip_prefix('.'))
            .and_then(|n| n.strip_suffix(TEMPORARY_SUFFIX))
        else {
            continue;
        };
        let stale = stem.rsplit_once('.').is_some_and(|(file, pid)| {
            !file.is_empty()
                && !pid.is_empty()
                && pid.bytes().all(|b| b.is_ascii_digit())
                && pid != own
        });
        if stale {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}
