//! The trainer's promises: early stopping at the right epoch, exact resume, crash-safe
//! checkpoints, the NaN guard, history and curves on disk, metrics on known values, search.

mod support;

use std::path::PathBuf;

use burn::tensor::Device;
use burn::tensor::Tensor;
use cortex_data::{
    Dataset, SplitConfig, Standardizer, TabularBatch, TabularDataset, bundled, split,
};
use cortex_nn::{Mlp, MlpConfig};
use cortex_optim::{AdamConfig, OptimizerConfig};
use cortex_train::search::{Range, grid, random, search};
use cortex_train::*;
use support::parameter_bits;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cortex-train-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn iris() -> (TabularDataset, TabularDataset) {
    let data = bundled::iris().unwrap();
    let parts = split(
        data.len(),
        &SplitConfig::new(0.7, 0.3, 0.0).with_seed(3).stratified(),
        data.class_ids(),
    )
    .unwrap();
    let (mut train, mut valid) = (
        data.select(&parts.train).unwrap(),
        data.select(&parts.validation).unwrap(),
    );
    let s = Standardizer::fit(&train).unwrap();
    s.transform(&mut train).unwrap();
    s.transform(&mut valid).unwrap();
    (train, valid)
}

fn forward(model: &Mlp, batch: TabularBatch) -> Result<Output> {
    let (features, classes) = batch.into_classes()?;
    Output::classification(model.forward(features)?, classes)
}

fn config(epochs: usize) -> TrainerConfig {
    TrainerConfig::new(OptimizerConfig::Adam(AdamConfig::new().with_lr(0.02)))
        .with_epochs(epochs)
        .with_batch_size(16)
        .with_seed(5)
        .with_quiet(true)
}

#[test]
fn early_stopping_stops_at_the_right_epoch() {
    let mut rule = EarlyStopping::new(2, 0.01, Goal::Minimize).unwrap();
    let script = [1.0, 0.9, 0.895, 0.95, 0.85, 0.86, 0.845];
    let verdicts: Vec<Verdict> = script.iter().map(|v| rule.update(*v)).collect();
    // 0.895 is within min_delta of 0.9: not an improvement. Epoch 4 is the second bad epoch.
    assert_eq!(
        verdicts.iter().map(|v| v.improved).collect::<Vec<_>>(),
        [true, true, false, false, true, false, false]
    );
    assert_eq!(verdicts.iter().position(|v| v.stop), Some(3));
    assert!(EarlyStopping::new(0, 0.0, Goal::Maximize).is_err());
    // In the trainer: validation accuracy can't beat 1.0 + 1.0, so patience 2 stops at epoch 3.
    let (train, valid) = iris();
    let trainer = Trainer::new(
        config(20)
            .with_monitor(Metric::Accuracy)
            .with_early_stopping(2, 1.0),
        &Device::flex(),
    )
    .unwrap();
    let model = MlpConfig::new(4, vec![8], 3)
        .with_seed(Some(1))
        .init(&trainer.device())
        .unwrap();
    let fitted = trainer.fit(model, &train, &valid, forward).unwrap();
    assert!(fitted.stopped_early);
    assert_eq!(fitted.history.epochs.len(), 3);
}

#[test]
fn a_metric_the_predictions_do_not_have_stops_the_run_at_its_first_batch() {
    let (train, valid) = iris();
    let trainer = Trainer::new(config(3).with_monitor(Metric::Rmse), &Device::flex()).unwrap();
    let model = MlpConfig::new(4, vec![8], 3)
        .with_seed(Some(1))
        .init(&trainer.device())
        .unwrap();
    let calls = std::cell::Cell::new(0);
    let counted = |model: &Mlp, batch: TabularBatch| {
        calls.set(calls.get() + 1);
        forward(model, batch)
    };
    let error = trainer.fit(model, &train, &valid, counted).unwrap_err();
    let Error::InvalidConfig(invalid) = &error else {
        panic!("{error}")
    };
    assert_eq!(
        (invalid.argument, invalid.got.as_str()),
        ("monitor", "rmse")
    );
    assert!(invalid.expected.contains("\"accuracy\""), "{error}");
    assert_eq!(calls.get(), 1, "one batch, not one epoch");
}

#[test]
fn resume_continues_exactly_and_files_are_written() {
    let (train, valid) = iris();
    let init = |trainer: &Trainer| {
        MlpConfig::new(4, vec![8], 3)
            .with_seed(Some(2))
            .init(&trainer.device())
            .unwrap()
    };
    let straight_dir = scratch("straight");
    let trainer = Trainer::new(config(4).with_out_dir(&straight_dir), &Device::flex()).unwrap();
    let straight = trainer
        .fit(init(&trainer), &train, &valid, forward)
        .unwrap();
    // Stop after two epochs, then resume to four in a new trainer.
    let dir = scratch("resumed");
    let first = Trainer::new(config(2).with_out_dir(&dir), &Device::flex()).unwrap();
    first.fit(init(&first), &train, &valid, forward).unwrap();
    let second = Trainer::new(config(4).with_out_dir(&dir), &Device::flex()).unwrap();
    let fresh = MlpConfig::new(4, vec![8], 3)
        .with_seed(Some(99))
        .init(&second.device())
        .unwrap();
    let resumed = second.resume(fresh, &train, &valid, forward).unwrap();
    assert_eq!(
        parameter_bits(&resumed.last),
        parameter_bits(&straight.last),
        "bit-identical parameters"
    );
    let losses = |h: &History| {
        h.epochs
            .iter()
            .map(|e| e.train["loss"].to_bits())
            .collect::<Vec<_>>()
    };
    assert_eq!(losses(&resumed.history), losses(&straight.history));
    assert!(resumed.history.epochs[3].validation["accuracy"] > 0.8);
    for name in [
        "history.csv",
        "history.json",
        "curves.svg",
        "state.json",
        "best.bpk",
        "model-0004.bpk",
        "optim-0004.bpk",
    ] {
        let len = std::fs::metadata(dir.join(name))
            .map(|m| m.len())
            .unwrap_or(0);
        assert!(len > 0, "{name} missing or empty");
    }
    assert!(
        !dir.join("model-0003.bpk").exists(),
        "older checkpoints are removed"
    );
    let csv = std::fs::read_to_string(dir.join("history.csv")).unwrap();
    assert_eq!(csv.lines().count(), 5);
    assert!(csv.starts_with("epoch,lr,seconds,train_accuracy,train_loss"));
    assert!(
        std::fs::read_to_string(dir.join("curves.svg"))
            .unwrap()
            .contains("<svg")
    );
}

#[test]
fn a_failed_checkpoint_write_keeps_the_previous_checkpoint() {
    let (train, valid) = iris();
    let dir = scratch("failed");
    let trainer = Trainer::new(config(1).with_out_dir(&dir), &Device::flex()).unwrap();
    let model = MlpConfig::new(4, vec![8], 3)
        .init(&trainer.device())
        .unwrap();
    trainer.fit(model, &train, &valid, forward).unwrap();
    let state_before = std::fs::read(checkpoint::state_file(&dir)).unwrap();
    // Epoch 2's model file cannot be created (a directory is in the way): the run fails...
    std::fs::create_dir_all(dir.join("model-0002.bpk").join("blocker")).unwrap();
    let trainer = Trainer::new(config(2).with_out_dir(&dir), &Device::flex()).unwrap();
    let template = MlpConfig::new(4, vec![8], 3)
        .init(&trainer.device())
        .unwrap();
    assert!(
        trainer
            .resume(template.clone(), &train, &valid, forward)
            .is_err()
    );
    // ...and the epoch-1 checkpoint is untouched and loadable.
    assert_eq!(
        std::fs::read(checkpoint::state_file(&dir)).unwrap(),
        state_before
    );
    let optim = OptimizerConfig::Adam(AdamConfig::new()).init().unwrap();
    let (_, _, state) = checkpoint::load(&dir, template, optim).unwrap().unwrap();
    assert_eq!(state.epoch, 1);
}

#[test]
fn a_nan_loss_stops_with_epoch_and_step() {
    let (train, valid) = iris();
    let trainer = Trainer::new(config(3), &Device::flex()).unwrap();
    let model = MlpConfig::new(4, vec![8], 3)
        .init(&trainer.device())
        .unwrap();
    let poisoned = |m: &Mlp, b: TabularBatch| {
        let (features, classes) = b.into_classes()?;
        let logits: Tensor<2> = m.forward(features)?;
        Output::classification(logits.mul_scalar(f64::NAN), classes)
    };
    let err = trainer.fit(model, &train, &valid, poisoned).unwrap_err();
    assert!(
        matches!(err, Error::NonFiniteLoss { epoch: 1, step: 1, loss } if loss.is_nan()),
        "{err}"
    );
    assert!(err.to_string().contains("epoch 1, step 1"));
}

/// The loss leaves targets on the device; the trainer's device-side metrics find a target
/// outside the model's classes and stop with where it is, in training and in evaluation.
#[test]
fn a_target_outside_the_classes_stops_with_its_batch_and_sample() {
    let (train, valid) = iris();
    let trainer = Trainer::new(config(2), &Device::flex()).unwrap();
    // Iris has 3 classes; a model with 2 outputs makes every class-2 target out of range.
    let model = MlpConfig::new(4, vec![8], 2)
        .init(&trainer.device())
        .unwrap();
    let err = trainer
        .fit(model.clone(), &train, &valid, forward)
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::TargetOutOfRange {
                epoch: Some(1),
                value: 2,
                classes: 2,
                sample,
                ..
            } if sample < 16
        ),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("of epoch 1 is not a class id in 0..2"),
        "{err}"
    );

    // Evaluation goes in order: the first class-2 sample of the validation set is the one.
    let first = valid
        .class_ids()
        .unwrap()
        .iter()
        .position(|&c| c == 2)
        .unwrap();
    let err = trainer.evaluate(&model, &valid, forward).unwrap_err();
    assert_eq!(
        err,
        Error::TargetOutOfRange {
            epoch: None,
            step: first / 16 + 1,
            sample: first % 16,
            value: 2,
            classes: 2,
        }
    );
    assert!(err.to_string().contains("of the evaluation"), "{err}");
    // One class: the cross-entropy is 0 whatever the model does; refused at once.
    let device = Device::flex();
    let one_class = Output::classification(
        Tensor::<2>::zeros([2, 1], &device),
        burn::tensor::Tensor::<1, burn::tensor::Int>::from_ints([0, 0], &device),
    );
    assert!(
        matches!(
            one_class,
            Err(Error::InvalidConfig(InvalidValue {
                argument: "logits",
                ..
            }))
        ),
        "{one_class:?}"
    );
}

#[test]
fn metrics_on_known_values() {
    let mut m = ClassificationMetrics::new(3, 2);
    // Rows: scores for classes 0..3. Predictions 0, 1, 1, 2; targets 0, 1, 2, 2.
    let scores = [0.9, 0.1, 0.0, 0.2, 0.7, 0.1, 0.1, 0.6, 0.3, 0.0, 0.2, 0.8];
    m.update(&scores, &[0, 1, 2, 2], 0.5);
    assert_eq!(
        m.confusion.counts,
        vec![vec![1, 0, 0], vec![0, 1, 0], vec![0, 1, 1]]
    );
    assert_eq!(m.accuracy(), 0.75);
    assert_eq!(m.top_k_accuracy(), 1.0, "the miss has its target second");
    assert_eq!(m.summary().get("top2_accuracy"), Some(&1.0));
    // Without a configured k: one that says something for the number of classes, and no
    // top-k figure where every sample would be a hit or it would repeat the accuracy.
    assert_eq!(
        [3, 4, 10, 19, 20, 1000].map(default_top_k),
        [1, 2, 2, 2, 5, 5]
    );
    let keys = |classes| {
        ClassificationMetrics::with_default_k(classes, None)
            .summary()
            .into_keys()
            .collect::<Vec<_>>()
    };
    assert_eq!(keys(3), ["accuracy", "loss"]);
    assert_eq!(keys(10), ["accuracy", "loss", "top2_accuracy"]);
    assert_eq!(
        ClassificationMetrics::new(3, 5).summary().len(),
        2,
        "top-5 of 3 classes is always 1"
    );
    assert_eq!(
        (
            m.confusion.precision(1).unwrap(),
            m.confusion.recall(2).unwrap()
        ),
        (0.5, 0.5)
    );
    // A class past the matrix is no panic (#16).
    assert_eq!(
        (m.confusion.precision(3), m.confusion.recall(7)),
        (None, None)
    );
    assert_eq!(m.loss(), 0.5);
    let mut r = RegressionMetrics::new();
    r.update(&[1.0, 2.0, 4.0], &[1.0, 3.0, 3.0], 0.0);
    assert!((r.mse() - 2.0 / 3.0).abs() < 1e-12 && (r.mae() - 2.0 / 3.0).abs() < 1e-12);
    // SST = 8/3 (targets 1, 3, 3), SSE = 2: R² = 1 - 2/(8/3) = 0.25.
    assert!((r.r2() - 0.25).abs() < 1e-12);
}

#[test]
fn search_reports_every_trial_and_picks_the_best() {
    let trials = grid(&[("lr", vec![0.1, 0.01]), ("width", vec![4.0, 8.0, 16.0])]).unwrap();
    assert_eq!(trials.len(), 6);
    let sampled = random(
        &[(
            "lr",
            Range {
                low: 1e-4,
                high: 1e-1,
                log: true,
            },
        )],
        5,
        7,
    )
    .unwrap();
    assert_eq!(
        sampled,
        random(
            &[(
                "lr",
                Range {
                    low: 1e-4,
                    high: 1e-1,
                    log: true
                }
            )],
            5,
            7
        )
        .unwrap()
    );
    assert!(sampled.iter().all(|p| (1e-4..1e-1).contains(&p["lr"])));
    let report = search(trials, Goal::Maximize, |p| {
        if p["width"] == 16.0 && p["lr"] == 0.1 {
            return Err(Error::InvalidConfig(InvalidValue {
                owner: "t",
                argument: "lr",
                expected: "".into(),
                got: "".into(),
            }));
        }
        Ok(p["width"] - 100.0 * p["lr"])
    })
    .unwrap();
    assert_eq!(report.trials.len(), 6);
    assert_eq!(report.best().params["width"], 16.0);
    assert_eq!(report.best().params["lr"], 0.01);
    assert!(report.trials.iter().any(|t| t.error.is_some()));
    assert!(report.to_string().contains("* trial"));
    // A real search: two learning rates of a short iris run, picked by validation accuracy.
    let (train, valid) = iris();
    let report = search(
        grid(&[("lr", vec![1e-5, 0.05])]).unwrap(),
        Goal::Maximize,
        |p| {
            let config =
                TrainerConfig::new(OptimizerConfig::Adam(AdamConfig::new().with_lr(p["lr"])))
                    .with_epochs(3)
                    .with_batch_size(16)
                    .with_quiet(true);
            let trainer = Trainer::new(config, &Device::flex())?;
            let model = MlpConfig::new(4, vec![8], 3)
                .with_seed(Some(4))
                .init(&trainer.device())?;
            let fitted = trainer.fit(model, &train, &valid, forward)?;
            Ok(fitted.history.epochs.last().unwrap().validation["accuracy"])
        },
    )
    .unwrap();
    assert_eq!(report.best().params["lr"], 0.05);
}
