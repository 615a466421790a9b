//! Recurrent layers: the cells (one step) and the sequence layers (stacks of cells over
//! time), in PyTorch's gate order and parameter layout. One generic [`Cell`] and one
//! generic [`Sequence`] serve every step rule ([`CellStep`]); the state a rule carries is
//! typed ([`CellState`]: the hidden state, or [`LstmState`]).

mod cell;
mod config;
mod sequence;
mod state;

pub use cell::{
    Cell, CellStep, CellTensors, ElmanStep, GruCell, GruStep, LstmCell, LstmStep, RnnActivation,
    RnnCell,
};
pub use config::{
    GruCellConfig, GruConfig, LstmCellConfig, LstmConfig, RecurrentConfig, RnnCellConfig,
    RnnConfig, SequenceLayout,
};
pub use sequence::{Gru, Lstm, LstmOutput, Rnn, Sequence, SequenceOutput};
pub use state::{CellState, LstmState};
