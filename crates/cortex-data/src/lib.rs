//! # cortex-data
//!
//! The `Dataset` trait, IDX and CSV readers, fitted preprocessing transforms, seeded splits,
//! a shuffling batcher and sliding windows. Built on `cortex-ops`; it never depends on
//! `cortex-nn`. Until the readers land it exports nothing.
