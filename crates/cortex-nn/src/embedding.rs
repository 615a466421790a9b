//! `Embedding`: a lookup table `[num_embeddings, embedding_dim]` indexed by integer ids.

use burn::config::Config;
use burn::module::{Module, Param};
use burn::tensor::{DType, Device, Int, Tensor};
use cortex_ops::Initializer;

use crate::check;
use crate::error::{Error, Result};
use crate::param::derive_seed;
use crate::seed::layer_seed;

const LAYER: &str = "Embedding";

/// Configuration of [`Embedding`].
#[derive(Config, Debug, PartialEq)]
pub struct EmbeddingConfig {
    /// Rows of the table (> 0).
    pub num_embeddings: usize,
    /// Columns of the table (> 0).
    pub embedding_dim: usize,
    /// A row that is initialized to zeros and never receives a gradient (< `num_embeddings`).
    pub padding_idx: Option<usize>,
    /// Initializer; `None`: PyTorch's `N(0, 1)`.
    pub weight_init: Option<Initializer>,
    /// Seed of the initial values; `None` (the default) takes the next seed of the model
    /// seed ([`crate::seeded`]).
    pub seed: Option<u64>,
}

/// An embedding table, as `torch.nn.Embedding`: `out[…, :] = weight[indices[…], :]`.
#[derive(Module, Debug)]
pub struct Embedding {
    /// `[num_embeddings, embedding_dim]`.
    pub weight: Param<Tensor<2>>,
    /// The padding row, if any.
    #[module(skip)]
    pub padding_idx: Option<usize>,
}

impl EmbeddingConfig {
    fn validate(&self) -> Result<()> {
        check::non_zero(LAYER, "num_embeddings", self.num_embeddings)?;
        check::non_zero(LAYER, "embedding_dim", self.embedding_dim)?;
        if let Some(pad) = self.padding_idx
            && pad >= self.num_embeddings
        {
            return Err(check::invalid(
                LAYER,
                "padding_idx",
                &format!("< num_embeddings = {}", self.num_embeddings),
                pad,
            ));
        }
        Ok(())
    }

    /// Validates the configuration and initializes the table in f32.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for zero sizes, `padding_idx` outside the table or an invalid
    /// initializer.
    pub fn init(&self, device: &Device) -> Result<Embedding> {
        self.init_with_dtype(device, DType::F32)
    }

    /// As [`EmbeddingConfig::init`], with a table of `dtype`.
    ///
    /// # Errors
    /// As [`EmbeddingConfig::init`].
    pub fn init_with_dtype(&self, device: &Device, dtype: DType) -> Result<Embedding> {
        self.validate()?;
        let default = Initializer::Normal {
            mean: 0.0,
            std: 1.0,
        };
        let rule = self.weight_init.as_ref().unwrap_or(&default);
        let shape = [self.num_embeddings, self.embedding_dim];
        let mut values = rule
            .sample(&shape, derive_seed(layer_seed(self.seed), 0))
            .map_err(Error::op(LAYER))?;
        if let Some(pad) = self.padding_idx {
            values[pad * self.embedding_dim..(pad + 1) * self.embedding_dim].fill(0.0);
        }
        let weight = Tensor::from_data(
            burn::tensor::TensorData::new(values, shape),
            (device, dtype),
        );
        Ok(Embedding {
            weight: crate::param::wrap(weight),
            padding_idx: self.padding_idx,
        })
    }
}

impl Embedding {
    /// Builds the layer from an existing table (PyTorch's `weight`, as it is).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for an empty table or `padding_idx` outside it.
    pub fn from_tensors(weight: Tensor<2>, padding_idx: Option<usize>) -> Result<Self> {
        let [rows, cols] = weight.dims();
        EmbeddingConfig::new(rows, cols)
            .with_padding_idx(padding_idx)
            .validate()?;
        Ok(Self {
            weight: crate::param::wrap(weight),
            padding_idx,
        })
    }

    /// Looks up `indices` `[…]` (rank `D`), giving `[…, embedding_dim]` (rank `D2 = D + 1`).
    ///
    /// # Errors
    /// [`Error::InputShape`] for empty indices; [`Error::Op`] for an index outside the table
    /// or `D2 != D + 1`.
    pub fn forward<const D: usize, const D2: usize>(
        &self,
        indices: Tensor<D, Int>,
    ) -> Result<Tensor<D2>> {
        check::input(LAYER, "indices", &indices.dims(), &[None; D])?;
        cortex_ops::embedding(self.weight.val(), indices, self.padding_idx)
            .map_err(Error::op(LAYER))
    }
}
