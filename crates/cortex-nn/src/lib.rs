//! # cortex-nn
//!
//! Layers as burn `Module`s (`Linear`, convolutions, pools, normalization, dropout,
//! embedding, recurrent cells, `Mlp`), each a serde `…Config` validated by `init`. Built on
//! `cortex-ops`; it never depends on `cortex-optim`. Until the layers land it exports nothing.
