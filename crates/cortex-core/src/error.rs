//! The two pieces every Cortex crate's errors share: [`InvalidValue`] (a value out of its
//! domain) and [`Cause`] (an error from outside Cortex, kept whole).

use std::sync::Arc;

/// A value out of its domain: the one shape of "invalid value" across Cortex (an op's
/// argument, a layer's or optimizer's configuration field, a trainer setting).
///
/// ```
/// use cortex_core::InvalidValue;
///
/// let invalid = InvalidValue::new("dropout", "p", "in [0, 1)", 1.5);
/// assert_eq!(invalid.to_string(), "dropout: `p` must be in [0, 1), got 1.5");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{owner}: `{argument}` must be {expected}, got {got}")]
pub struct InvalidValue {
    /// What rejected the value: an op, a layer, an optimizer, a dataset, the trainer.
    pub owner: &'static str,
    /// The argument or configuration field at fault.
    pub argument: &'static str,
    /// The accepted domain, in words (`"> 0"`, `"in [0, 1)"`).
    pub expected: String,
    /// The value given.
    pub got: String,
}

impl InvalidValue {
    /// `owner`'s `argument` must be `expected`, and `got` is what it was given.
    pub fn new(
        owner: &'static str,
        argument: &'static str,
        expected: impl Into<String>,
        got: impl std::fmt::Display,
    ) -> Self {
        Self {
            owner,
            argument,
            expected: expected.into(),
            got: got.to_string(),
        }
    }
}

/// An error from outside Cortex's own checks (the operating system, a file format, a
/// serializer, a user's closure), kept whole instead of turned into a string: it displays as
/// the original, its `source` chain continues the original's, and
/// [`Cause::downcast_ref`] gives the original back (e.g. the [`std::io::Error`] and its
/// kind). Shared, so the errors that hold it stay `Clone`; two causes are equal when they
/// display the same.
#[derive(Debug, Clone)]
pub struct Cause(Arc<dyn std::error::Error + Send + Sync + 'static>);

impl Cause {
    /// Keeps `error` as the cause.
    pub fn new(error: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self(Arc::new(error))
    }

    /// Keeps a boxed error as the cause.
    pub fn from_boxed(error: Box<dyn std::error::Error + Send + Sync + 'static>) -> Self {
        Self(Arc::from(error))
    }

    /// A cause that is only a message (a condition found by Cortex, not by a library).
    pub fn message(message: impl Into<String>) -> Self {
        Self(Arc::new(Message(message.into())))
    }

    /// The original error as `E`, if it is one.
    pub fn downcast_ref<E: std::error::Error + 'static>(&self) -> Option<&E> {
        self.0.downcast_ref::<E>()
    }

    /// The kind of the original I/O error, if the cause is one.
    pub fn io_kind(&self) -> Option<std::io::ErrorKind> {
        self.downcast_ref::<std::io::Error>()
            .map(std::io::Error::kind)
    }
}

impl std::fmt::Display for Cause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for Cause {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

impl PartialEq for Cause {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0) || self.to_string() == other.to_string()
    }
}

impl From<std::io::Error> for Cause {
    fn from(error: std::io::Error) -> Self {
        Self::new(error)
    }
}

/// The error behind [`Cause::message`].
#[derive(Debug)]
struct Message(String);

impl std::fmt::Display for Message {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Message {}
