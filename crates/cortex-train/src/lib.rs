//! # cortex-train
//!
//! The `Trainer` (fit / validate / test), metrics, early stopping, atomic checkpoints and
//! training history. The only crate that knows every other Cortex crate. Until the trainer
//! lands it exports nothing.
