//! # cortex-core
//!
//! What every Cortex crate shares and none of them owns, in three small modules:
//!
//! - **Errors** — [`InvalidValue`], the one shape of "a value out of its domain" (who rejected
//!   it, which argument, what it accepts, what it got) that every crate's error type wraps;
//!   and [`Cause`], an error from outside Cortex (I/O, a file format, a serializer) kept whole,
//!   with its `source` chain, instead of turned into a string.
//! - **Backends** — [`Backend`], burn's two CPU backends (flex, ndarray) by name, the
//!   [`BACKEND_ENV`] variable tests and examples read, [`Precision`], and
//!   [`is_host_device`], which tells where host-side work costs no device synchronisation.
//! - **Files** — [`write_atomically`], the crash-safe write every checkpoint, model and
//!   pipeline file goes through, and [`remove_stale_temporaries`], which clears what a killed
//!   write left behind.
//!
//! ```
//! use cortex_core::{Backend, InvalidValue};
//!
//! let backend: Backend = "ndarray".parse()?;
//! assert_eq!(backend, Backend::NdArray);
//! assert!(cortex_core::is_host_device(&backend.device()));
//! assert!("cuda".parse::<Backend>().is_err());
//! # Ok::<(), InvalidValue>(())
//! ```

#![warn(missing_docs)]

mod backend;
mod error;
mod fs;

pub use backend::{BACKEND_ENV, Backend, Precision, is_host_device};
pub use error::{Cause, InvalidValue};
pub use fs::{WRITE_DELAY_ENV, remove_stale_temporaries, write_atomically};
