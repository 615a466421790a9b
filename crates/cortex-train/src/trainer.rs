//! The `Trainer`: fit on the training split, validate every epoch, keep the best model, stop
//! early, checkpoint and resume, then test — for classification and regression alike.

use std::path::PathBuf;
use std::time::Instant;

use burn::module::Module;
use burn::optim::GradientsParams;
use burn::tensor::Device;
use cortex_data::{BatchSampler, BatchSamplerConfig, Dataset, ToBatch};
use cortex_ops::random::{StepKey, in_step};
use cortex_optim::{GradClipping, LrSchedule, OptimizerConfig, PlateauConfig};
use serde::{Deserialize, Serialize};

use crate::accumulate::{DeviceTotals, Fault};
use crate::checkpoint::{self, RunState};
use crate::early_stopping::EarlyStopping;
use crate::error::{Cause, Result, invalid};
use crate::history::{EpochRecord, History};
use crate::metrics::Metrics;
use crate::monitor::Metric;
use crate::output::Output;
use crate::progress::Progress;

/// Everything a training run is configured by (serde, so a run can be recorded).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainerConfig {
    /// Passes over the training data (> 0).
    pub epochs: usize,
    /// Samples per step (> 0).
    pub batch_size: usize,
    /// Seed of the run: the batch order and, through the run context
    /// ([`cortex_ops::random`]), every random draw of a training step (dropout masks,
    /// augmentation). Recorded in checkpoints.
    pub seed: u64,
    /// The optimizer.
    pub optimizer: OptimizerConfig,
    /// Learning rate per epoch (epoch `e` uses `schedule.lr(e - 1)`).
    pub schedule: Option<LrSchedule>,
    /// Or: reduce the rate when the monitored metric plateaus.
    pub plateau: Option<PlateauConfig>,
    /// Gradient clipping before every step.
    pub clipping: Option<GradClipping>,
    /// Validation metric that selects the best model and drives early stopping and plateau
    /// schedules; its [`Metric::goal`] says whether lower or higher is better.
    pub monitor: Metric,
    /// Stop after this many epochs without improvement.
    pub patience: Option<usize>,
    /// Smallest change that counts as an improvement.
    pub min_delta: f64,
    /// `k` of the top-k accuracy; `None` (the default) picks one from the number of classes
    /// ([`crate::default_top_k`]).
    pub top_k: Option<usize>,
    /// Where checkpoints, the best model, the history and the curves go.
    pub out_dir: Option<PathBuf>,
    /// No progress output.
    pub quiet: bool,
}

impl TrainerConfig {
    /// 10 epochs of batches of 32 with `optimizer` (any optimizer's configuration, e.g.
    /// `AdamConfig::new()`), monitoring the validation loss.
    pub fn new(optimizer: impl Into<OptimizerConfig>) -> Self {
        let optimizer = optimizer.into();
        Self {
            epochs: 10,
            batch_size: 32,
            seed: 0,
            optimizer,
            schedule: None,
            plateau: None,
            clipping: None,
            monitor: Metric::Loss,
            patience: None,
            min_delta: 0.0,
            top_k: None,
            out_dir: None,
            quiet: false,
        }
    }

    /// Sets the number of epochs.
    pub fn with_epochs(mut self, epochs: usize) -> Self {
        self.epochs = epochs;
        self
    }

    /// Sets the batch size.
    pub fn with_batch_size(mut self, batch_size: usize) -> Self {
        self.batch_size = batch_size;
        self
    }

    /// Sets the seed.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Sets the `k` of the top-k accuracy.
    pub fn with_top_k(mut self, k: usize) -> Self {
        self.top_k = Some(k);
        self
    }

    /// Sets a learning-rate schedule.
    pub fn with_schedule(mut self, schedule: LrSchedule) -> Self {
        self.schedule = Some(schedule);
        self
    }

    /// Sets plateau-driven learning-rate reduction.
    pub fn with_plateau(mut self, plateau: PlateauConfig) -> Self {
        self.plateau = Some(plateau);
        self
    }

    /// Sets gradient clipping.
    pub fn with_clipping(mut self, clipping: GradClipping) -> Self {
        self.clipping = Some(clipping);
        self
    }

    /// Monitors validation metric `metric` (lower or higher is better as the metric says).
    pub fn with_monitor(mut self, metric: Metric) -> Self {
        self.monitor = metric;
        self
    }

    /// Stops after `patience` epochs without an improvement above `min_delta`.
    pub fn with_early_stopping(mut self, patience: usize, min_delta: f64) -> Self {
        self.patience = Some(patience);
        self.min_delta = min_delta;
        self
    }

    /// Writes checkpoints, the best model, the history and curves into `dir`.
    pub fn with_out_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.out_dir = Some(dir.into());
        self
    }

    /// Silences the progress output.
    pub fn with_quiet(mut self, quiet: bool) -> Self {
        self.quiet = quiet;
        self
    }
}

/// The result of [`Trainer::fit`].
#[derive(Debug, Clone)]
pub struct Fitted<M> {
    /// The best model by the monitored metric, as an evaluation snapshot
    /// ([`Module::valid`]; the last model if no epoch improved the metric).
    pub model: M,
    /// The model after the last epoch.
    pub last: M,
    /// Every epoch.
    pub history: History,
    /// Epoch of the best model and its monitored value.
    pub best: Option<(usize, f64)>,
    /// Whether early stopping ended the run.
    pub stopped_early: bool,
}

/// Runs training, validation and testing on one device (any burn device: flex, ndarray,
/// wgpu, cuda, …).
#[derive(Debug, Clone)]
pub struct Trainer {
    config: TrainerConfig,
    /// The plain device; training runs on its autodiff twin.
    device: Device,
}

impl Trainer {
    /// Validates the configuration.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`](crate::Error::InvalidConfig) for zero epochs or batch size, both a
    /// schedule and a plateau rule, patience 0; the optimizer's, schedule's and clipping's own
    /// validation errors.
    ///
    /// `device` is where batches are built and the model trains: any burn device, with or
    /// without autodiff (training always uses its autodiff twin, evaluation the plain one).
    pub fn new(config: TrainerConfig, device: &Device) -> Result<Self> {
        if config.epochs == 0 {
            return Err(invalid("Trainer", "epochs", "> 0", 0));
        }
        if config.batch_size == 0 {
            return Err(invalid("Trainer", "batch_size", "> 0", 0));
        }
        if config.schedule.is_some() && config.plateau.is_some() {
            return Err(invalid(
                "Trainer",
                "schedule",
                "not combined with a plateau rule",
                "both",
            ));
        }
        config.optimizer.init()?;
        if let Some(s) = &config.schedule {
            s.validate()?;
        }
        if let Some(p) = &config.plateau {
            p.init()?;
        }
        if let Some(c) = &config.clipping {
            c.validate()?;
        }
        if let Some(p) = config.patience {
            EarlyStopping::new(p, config.min_delta, config.monitor.goal())?;
        }
        Ok(Self {
            config,
            device: device.clone().inner(),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &TrainerConfig {
        &self.config
    }

    /// The device models train on (the autodiff twin of the device given to [`Trainer::new`]).
    pub fn device(&self) -> Device {
        self.device.clone().autodiff()
    }

    /// Trains `model` from scratch; see [`Trainer::resume`] to continue a checkpointed run.
    ///
    /// `forward` maps a batch to an [`Output`] (loss and predictions); it is called with
    /// the training model on training batches and with its evaluation snapshot
    /// ([`Module::valid`]) on validation batches.
    ///
    /// # Errors
    /// [`Error::NonFiniteLoss`](crate::Error::NonFiniteLoss) naming epoch and step;
    /// [`Error::TargetOutOfRange`](crate::Error::TargetOutOfRange) for a class target outside the
    /// model's outputs; the errors of `forward`, the data, the optimizer and the checkpoint files;
    /// [`Error::InvalidConfig`](crate::Error::InvalidConfig) when the monitored metric is not among
    /// the validation metrics.
    pub fn fit<M, D, F>(&self, model: M, train: &D, validation: &D, forward: F) -> Result<Fitted<M>>
    where
        M: Module + Clone,
        D: Dataset + ToBatch,
        F: Fn(&M, D::Batch) -> Result<Output>,
    {
        self.run(model, train, validation, forward, false)
    }

    /// Continues the run checkpointed in `out_dir` (from scratch when there is none); the
    /// result equals the uninterrupted run's.
    ///
    /// # Errors
    /// As [`Trainer::fit`], and the checkpoint's load errors.
    pub fn resume<M, D, F>(
        &self,
        model: M,
        train: &D,
        validation: &D,
        forward: F,
    ) -> Result<Fitted<M>>
    where
        M: Module + Clone,
        D: Dataset + ToBatch,
        F: Fn(&M, D::Batch) -> Result<Output>,
    {
        self.run(model, train, validation, forward, true)
    }

    fn run<M, D, F>(
        &self,
        model: M,
        train: &D,
        validation: &D,
        forward: F,
        resume: bool,
    ) -> Result<Fitted<M>>
    where
        M: Module + Clone,
        D: Dataset + ToBatch,
        F: Fn(&M, D::Batch) -> Result<Output>,
    {
        let c = &self.config;
        let device = self.device();
        if !cortex_optim::on_autodiff_device(&model) {
            return Err(cortex_optim::Error::NotAutodiff.into());
        }
        // Leaf parameters on the training device, in training mode.
        let mut model = model.fork(&device).train();
        let mut optim = c.optimizer.init()?;
        if let Some(clipping) = c.clipping {
            optim = optim.with_clipping(clipping)?;
        }
        let mut state = RunState {
            seed: c.seed,
            epoch: 0,
            history: History::default(),
            early_stopping: c
                .patience
                .map(|p| EarlyStopping::new(p, c.min_delta, c.monitor.goal()))
                .transpose()?,
            plateau: c.plateau.as_ref().map(PlateauConfig::init).transpose()?,
            best: None,
        };
        let mut best_model: Option<M> = None;
        if let Some(dir) = &c.out_dir {
            std::fs::create_dir_all(dir).map_err(|e| crate::error::file(dir, e))?;
            cortex_core::remove_stale_temporaries(dir);
        }
        if resume
            && let Some(dir) = &c.out_dir
            && let Some((loaded, loaded_optim, loaded_state)) =
                checkpoint::load(dir, model.clone(), optim.clone())?
        {
            if loaded_state.seed != c.seed {
                return Err(invalid(
                    "Trainer::resume",
                    "seed",
                    &format!(
                        "the seed of the run checkpointed in {} ({})",
                        dir.display(),
                        loaded_state.seed
                    ),
                    c.seed,
                ));
            }
            (model, optim, state) = (loaded.train(), loaded_optim, loaded_state);
            let best_path = dir.join("best.bpk");
            if let Some((best_epoch, _)) = state.best {
                if !best_path.exists() {
                    return Err(crate::error::file(
                        &best_path,
                        Cause::message(format!(
                            "missing: state.json names epoch {best_epoch}'s model as the best; \
                             restore the file or start the run afresh without --resume"
                        )),
                    ));
                }
                best_model = Some(cortex_nn::load(model.clone(), &best_path)?.valid());
            }
        }
        let sampler = BatchSampler::new(
            (0..train.len()).collect(),
            BatchSamplerConfig::new(c.batch_size).with_seed(c.seed),
        )?;
        let mut stopped_early = false;
        for epoch in state.epoch + 1..=c.epochs {
            let started = Instant::now();
            let lr = match (&c.schedule, &state.plateau) {
                (Some(s), _) => s.lr(epoch - 1),
                (None, Some(p)) => p.lr(),
                (None, None) => c.optimizer.lr(),
            };
            optim.set_lr(lr)?;
            let batches = sampler.epoch(epoch as u64);
            let mut progress = Progress::new(epoch, c.epochs, batches.len(), c.quiet);
            // Metrics and the non-finite-loss check stay on the device; they are read when
            // the progress display is due and at the end of the epoch.
            let mut totals = DeviceTotals::new(c.top_k);
            for (step, indices) in batches.iter().enumerate() {
                // Every random draw of the step (augmentation while batching, dropout in the
                // forward pass) comes from the run context of (seed, epoch, step).
                let key = StepKey::new(c.seed, epoch as u64, step as u64 + 1);
                let output = in_step(key, || -> Result<Output> {
                    let batch = train.batch(indices, &device)?;
                    forward(&model, batch)
                })?;
                if step == 0 && !c.monitor.applies_to(&output.prediction) {
                    // Found at the first batch, not after a whole epoch.
                    let applicable = Metric::applicable(&output.prediction);
                    let expected = format!("a metric of this model's predictions: {applicable:?}");
                    return Err(invalid("Trainer", "monitor", &expected, c.monitor));
                }
                totals.add(&output, step + 1);
                let grads = GradientsParams::from_grads(output.loss.backward(), &model);
                model = optim.step(model, grads)?;
                let loss = if progress.due(step + 1) {
                    if let Some(fault) = totals.flush() {
                        return Err(fault.into_error(Some(epoch)));
                    }
                    totals.loss()
                } else {
                    None
                };
                progress.step(step + 1, indices.len(), loss);
            }
            let (train_metrics, fault) = totals.finish();
            if let Some(fault) = fault {
                return Err(fault.into_error(Some(epoch)));
            }
            let validation_metrics = self.evaluate(&model, validation, &forward)?;
            let summary = validation_metrics.summary();
            let k = match &validation_metrics {
                Metrics::Classification(m) => m.k,
                Metrics::Regression(_) => 0,
            };
            let key = c.monitor.key(k);
            let monitored = *summary.get(&key).ok_or_else(|| {
                invalid(
                    "Trainer",
                    "monitor",
                    &format!(
                        "one of the validation metrics {:?}",
                        summary.keys().collect::<Vec<_>>()
                    ),
                    &key,
                )
            })?;
            let record = EpochRecord {
                epoch,
                lr,
                seconds: started.elapsed().as_secs_f64(),
                train: train_metrics.map(|m| m.summary()).unwrap_or_default(),
                validation: summary,
            };
            let line: Vec<String> = record
                .validation
                .iter()
                .map(|(k, v)| format!("val_{k} {v:.4}"))
                .collect();
            let train_loss = record.train.get("loss").copied().unwrap_or(f64::NAN);
            progress.finish(&format!(
                "loss {train_loss:.4} {} lr {lr:.2e}",
                line.join(" ")
            ));
            state.history.epochs.push(record);
            if let Some(p) = &mut state.plateau {
                p.step(monitored)?;
            }
            let improved = c
                .monitor
                .goal()
                .improves(monitored, state.best.map(|b| b.1), 0.0);
            if improved {
                state.best = Some((epoch, monitored));
                // A snapshot of its own: a clone would share running statistics (batch norm)
                // with the model that keeps training.
                best_model = Some(model.valid());
            }
            let stop = state
                .early_stopping
                .as_mut()
                .is_some_and(|e| e.update(monitored).stop);
            state.epoch = epoch;
            if let Some(dir) = &c.out_dir {
                // Every file of the epoch before `state.json`, the commit point: a run killed
                // in between redoes the epoch on resume and rewrites them identically.
                crate::history::require_dir(dir)?;
                if improved {
                    cortex_nn::save(&model, dir.join("best.bpk"))?;
                }
                state.history.save(dir)?;
                checkpoint::save(dir, &model, &optim, &state)?;
            }
            if stop {
                stopped_early = true;
                break;
            }
        }
        Ok(Fitted {
            model: best_model.unwrap_or_else(|| model.clone()),
            last: model,
            history: state.history,
            best: state.best,
            stopped_early,
        })
    }

    /// Measures `model` (in evaluation mode) on every sample of `data`, in order.
    ///
    /// # Errors
    /// The errors of `forward` and of the data;
    /// [`Error::TargetOutOfRange`](crate::Error::TargetOutOfRange) for a class target outside the
    /// model's outputs; [`Error::InvalidConfig`](crate::Error::InvalidConfig) for an empty set.
    pub fn evaluate<M, D, F>(&self, model: &M, data: &D, forward: F) -> Result<Metrics>
    where
        M: Module,
        D: Dataset + ToBatch,
        F: Fn(&M, D::Batch) -> Result<Output>,
    {
        let snapshot = model.valid();
        let device = self.device.clone();
        let indices: Vec<usize> = (0..data.len()).collect();
        let mut totals = DeviceTotals::new(self.config.top_k);
        for (step, chunk) in indices.chunks(self.config.batch_size.max(1)).enumerate() {
            let batch = data.batch(chunk, &device)?;
            let output = forward(&snapshot, batch)?;
            totals.add(&output, step + 1);
        }
        // A non-finite loss shows in the metrics (a NaN loss); evaluation does not stop for
        // it, but a target outside the classes would leave the metrics wrong.
        let (metrics, fault) = totals.finish();
        if let Some(fault @ Fault::Target { .. }) = fault {
            return Err(fault.into_error(None));
        }
        metrics.ok_or_else(|| invalid("Trainer::evaluate", "data", "at least one sample", 0))
    }
}
