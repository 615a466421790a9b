//! Recurrent layers: the cells (one step) and the sequence layers (stacks of cells over
//! time), in PyTorch's gate order and parameter layout.

mod cell;
mod sequence;

pub use cell::{
    CellTensors, GruCell, GruCellConfig, LstmCell, LstmCellConfig, LstmState, RnnActivation,
    RnnCell, RnnCellConfig,
};
pub use sequence::{Gru, GruConfig, Lstm, LstmConfig, LstmOutput, Rnn, RnnConfig, SequenceOutput};
