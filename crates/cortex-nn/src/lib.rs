//! # cortex-nn
//!
//! Layers as burn `Module`s, PyTorch-exact and gradient-checked: [`Linear`], [`Conv1d`],
//! [`Conv2d`], the pools, [`Flatten`], [`BatchNorm`], [`LayerNorm`], [`Dropout`],
//! [`Embedding`], the recurrent cells and layers ([`RnnCell`]/[`Rnn`], [`LstmCell`]/[`Lstm`],
//! [`GruCell`]/[`Gru`]) and [`Mlp`].
//!
//! Each layer has a serde `…Config` (burn's `Config`) whose `init(&device)` validates it and
//! returns a [`Result`]; every `forward` checks its input and returns a [`Result`] whose error
//! names the layer, the expected and the given shape. Weights use PyTorch's layouts
//! (`Linear` is `[out, in]`, burn's own is `[in, out]`), so `from_tensors`/`from_pytorch`
//! import PyTorch parameters as they are. Training and evaluation follow burn:
//! [`burn::module::Module::valid`] switches dropout off and batch norm to running statistics,
//! [`burn::module::Module::train`] back. [`save`] and [`load`] persist parameters with typed
//! errors. Every layer's gradient is checked against finite differences by
//! `cargo xtask check-grads` (the cases live with the facade's tests).
//!
//! ```
//! use burn::tensor::{Device, Tensor};
//! use cortex_nn::{Activation, MlpConfig};
//!
//! let device = Device::flex();
//! let mlp = MlpConfig::new(4, vec![8], 3)
//!     .with_activation(Activation::Sigmoid)
//!     .init(&device)?;
//! let logits = mlp.forward(Tensor::<2>::ones([2, 4], &device))?;
//! assert_eq!(logits.dims(), [2, 3]);
//! // Bad input is an error, not a panic:
//! assert!(mlp.forward(Tensor::<2>::ones([2, 5], &device)).is_err());
//! # Ok::<(), cortex_nn::Error>(())
//! ```

#![warn(missing_docs)]

mod activation;
mod check;
mod conv;
mod dropout;
mod embedding;
mod error;
mod linear;
mod mlp;
mod norm;
mod param;
mod pool;
mod recurrent;
mod seed;
mod store;

pub use activation::Activation;
pub use conv::{Conv1d, Conv1dConfig, Conv2d, Conv2dConfig, Padding};
pub use dropout::{Dropout, DropoutConfig};
pub use embedding::{Embedding, EmbeddingConfig};
pub use error::{Cause, Error, InvalidValue, Result};
pub use linear::{Linear, LinearConfig};
pub use mlp::{Mlp, MlpConfig};
pub use norm::{BatchNorm, BatchNormConfig, LayerNorm, LayerNormConfig};
pub use pool::{
    AdaptiveAvgPool2d, AdaptiveAvgPool2dConfig, AvgPool1d, AvgPool1dConfig, AvgPool2d,
    AvgPool2dConfig, Flatten, MaxPool1d, MaxPool1dConfig, MaxPool2d, MaxPool2dConfig,
};
pub use recurrent::{
    Cell, CellState, CellStep, CellTensors, ElmanStep, Gru, GruCell, GruCellConfig, GruConfig,
    GruStep, Lstm, LstmCell, LstmCellConfig, LstmConfig, LstmOutput, LstmState, LstmStep,
    RecurrentConfig, Rnn, RnnActivation, RnnCell, RnnCellConfig, RnnConfig, Sequence,
    SequenceLayout, SequenceOutput,
};
pub use seed::seeded;
pub use store::{load, save};
