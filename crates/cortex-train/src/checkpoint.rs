//! Checkpoints: the model and optimizer of epoch `e` in files of their own, then the run's
//! state (`state.json`, naming `e`) written atomically last. A write killed at any point
//! leaves the previous `state.json` and the files it names intact, so the previous
//! checkpoint stays loadable.

use std::path::{Path, PathBuf};

use burn::module::Module;
use cortex_optim::{Optim, ReduceLrOnPlateau};
use serde::{Deserialize, Serialize};

use crate::early_stopping::EarlyStopping;
use crate::error::{Cause, Result, file};
use crate::history::History;

/// Everything besides the model and optimizer needed to continue a run exactly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunState {
    /// The run's seed: with the epoch, the key of every later random draw (batch order,
    /// dropout, augmentation); a resume with another seed is refused.
    pub seed: u64,
    /// Last completed epoch (1-based).
    pub epoch: usize,
    /// The history so far.
    pub history: History,
    /// Early-stopping state.
    pub early_stopping: Option<EarlyStopping>,
    /// Plateau scheduler state.
    pub plateau: Option<ReduceLrOnPlateau>,
    /// Best monitored value and its epoch.
    pub best: Option<(usize, f64)>,
}

fn model_file(dir: &Path, epoch: usize) -> PathBuf {
    dir.join(format!("model-{epoch:04}.bpk"))
}

fn optim_file(dir: &Path, epoch: usize) -> PathBuf {
    dir.join(format!("optim-{epoch:04}.bpk"))
}

/// The state file of `dir`.
pub fn state_file(dir: &Path) -> PathBuf {
    dir.join("state.json")
}

/// Writes the checkpoint of `state.epoch` into the existing directory `dir`, then removes
/// older epochs' files.
///
/// # Errors
/// [`crate::Error::File`]/[`crate::Error::Nn`]/[`crate::Error::Optim`] when `dir` is gone or a
/// file cannot be written; the previous checkpoint is then still the one `state.json` names.
pub fn save<M: Module + Clone>(
    dir: &Path,
    model: &M,
    optim: &Optim,
    state: &RunState,
) -> Result<()> {
    crate::history::require_dir(dir)?;
    cortex_nn::save(model, model_file(dir, state.epoch))?;
    optim.save(optim_file(dir, state.epoch))?;
    let json =
        serde_json::to_vec_pretty(state).map_err(|e| file(&state_file(dir), Cause::new(e)))?;
    cortex_core::write_atomically(&state_file(dir), &json)
        .map_err(|e| file(&state_file(dir), e))?;
    for epoch in 1..state.epoch {
        let _ = std::fs::remove_file(model_file(dir, epoch));
        let _ = std::fs::remove_file(optim_file(dir, epoch));
    }
    Ok(())
}

/// Loads the checkpoint `dir/state.json` names into `model` and `optim`; `None` when `dir`
/// holds no checkpoint.
///
/// # Errors
/// [`crate::Error::File`] for an unreadable state; the model's and optimizer's load errors.
pub fn load<M: Module>(dir: &Path, model: M, optim: Optim) -> Result<Option<(M, Optim, RunState)>> {
    let path = state_file(dir);
    if !path.exists() {
        return Ok(None);
    }
    let bytes = std::fs::read(&path).map_err(|e| file(&path, e))?;
    let state: RunState = serde_json::from_slice(&bytes).map_err(|e| file(&path, Cause::new(e)))?;
    let model = cortex_nn::load(model, model_file(dir, state.epoch))?;
    let optim = optim.load(optim_file(dir, state.epoch))?;
    Ok(Some((model, optim, state)))
}
