//! The IDX format (MNIST's): big-endian header `0x00 0x00 type rank`, `rank` u32 dimensions,
//! then the elements row-major. Plain or gzip-compressed (detected by the gzip magic).
//! Only unsigned bytes (`type 0x08`) are supported, as in every MNIST-like dataset.

use std::io::Read;
use std::path::Path;

use crate::error::{Error, Result, io};

/// Decompressed sizes beyond this are refused (a corrupt or hostile gzip stream).
const MAX_BYTES: u64 = 1 << 31;

/// An IDX array of unsigned bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdxArray {
    /// The dimensions, outermost first (`[N, rows, cols]` for images, `[N]` for labels).
    pub dims: Vec<usize>,
    /// The elements, row-major.
    pub data: Vec<u8>,
}

/// Reads an IDX file, decompressing it when it is gzip.
///
/// # Errors
/// [`Error::Io`] when the file cannot be read; [`Error::Idx`] (with the byte offset) for a
/// corrupt gzip stream, a wrong magic, an unsupported element type, or a length that does not
/// match the header.
pub fn read_idx(path: impl AsRef<Path>) -> Result<IdxArray> {
    let path = path.as_ref();
    let raw = std::fs::read(path).map_err(|e| io(path, e))?;
    parse_idx(&raw, path)
}

/// Parses IDX bytes (plain or gzip); `path` names the source in errors.
///
/// # Errors
/// As [`read_idx`].
pub fn parse_idx(raw: &[u8], path: &Path) -> Result<IdxArray> {
    let bad = |offset: usize, expected: &str, got: String| Error::Idx {
        path: path.to_path_buf(),
        offset,
        expected: expected.to_string(),
        got,
    };
    let decompressed;
    let bytes: &[u8] = if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(raw)
            .take(MAX_BYTES)
            .read_to_end(&mut out)
            .map_err(|e| bad(0, "a valid gzip stream", e.to_string()))?;
        decompressed = out;
        &decompressed
    } else {
        raw
    };
    if bytes.len() < 4 {
        return Err(bad(
            0,
            "a 4-byte magic number",
            format!("{} bytes", bytes.len()),
        ));
    }
    if bytes[0] != 0 || bytes[1] != 0 {
        return Err(bad(
            0,
            "magic starting with 0x00 0x00",
            format!("{:#04x} {:#04x}", bytes[0], bytes[1]),
        ));
    }
    if bytes[2] != 0x08 {
        return Err(bad(
            2,
            "element type 0x08 (unsigned byte)",
            format!("{:#04x}", bytes[2]),
        ));
    }
    let rank = usize::from(bytes[3]);
    if rank == 0 {
        return Err(bad(3, "a rank of at least 1", "0".to_string()));
    }
    let header = 4 + 4 * rank;
    if bytes.len() < header {
        return Err(bad(
            bytes.len(),
            &format!("{rank} dimensions of 4 bytes each"),
            "end of file".to_string(),
        ));
    }
    let dims: Vec<usize> = (0..rank)
        .map(|k| {
            let at = 4 + 4 * k;
            u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]) as usize
        })
        .collect();
    let count = dims
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .filter(|&c| c as u64 <= MAX_BYTES)
        .ok_or_else(|| {
            bad(
                4,
                "dimensions whose product fits in memory",
                format!("{dims:?}"),
            )
        })?;
    let body = bytes.len() - header;
    if body != count {
        let what = if body < count {
            "truncated"
        } else {
            "trailing bytes"
        };
        return Err(bad(
            header + body.min(count),
            &format!("{count} data bytes for dimensions {dims:?}"),
            format!("{body} ({what})"),
        ));
    }
    Ok(IdxArray {
        dims,
        data: bytes[header..].to_vec(),
    })
}
