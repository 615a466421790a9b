//! # cortex-optim
//!
//! Optimizers on burn's `Optimizer` trait (SGD, Adam, AdamW, RMSprop, Adagrad), learning-rate
//! schedules and gradient clipping, matching PyTorch step for step. Built on `cortex-ops`; it
//! never depends on `cortex-nn`. Until the optimizers land it exports nothing.
