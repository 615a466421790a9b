//! The run context: a run with dropout and augmentation, killed after an epoch and resumed by
//! a new process (fresh model, fresh dataset, fresh trainer), equals the uninterrupted run bit
//! for bit on every CPU backend.

mod support;

use std::path::PathBuf;

use burn::tensor::Device;
use cortex_core::Backend;
use cortex_data::{ImageBatch, ShiftedImages, bundled};
use cortex_nn::{Mlp, MlpConfig, seeded};
use cortex_optim::{AdamConfig, OptimizerConfig};
use cortex_train::InvalidValue;
use cortex_train::{Error, History, Output, Result, Trainer, TrainerConfig};
use support::parameter_bits;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cortex-resume-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// 8x8 digits: 240 training images (shifted by up to `shift` pixels when batched) and 60
/// validation images, each call a fresh dataset (no state carried over).
fn digits(shift: usize) -> (ShiftedImages, ShiftedImages) {
    let data = bundled::digits8x8().unwrap();
    let train = data.train.select(&(0..240).collect::<Vec<_>>()).unwrap();
    let valid = data.train.select(&(240..300).collect::<Vec<_>>()).unwrap();
    (
        ShiftedImages::new(train, shift, 11),
        ShiftedImages::new(valid, 0, 0),
    )
}

fn forward(model: &Mlp, batch: ImageBatch) -> Result<Output> {
    let [b, _, h, w] = batch.images.dims();
    Output::classification(
        model.forward(batch.images.reshape([b, h * w]))?,
        batch.labels,
    )
}

fn trainer(epochs: usize, seed: u64, dir: &PathBuf, device: &Device) -> Trainer {
    let config = TrainerConfig::new(OptimizerConfig::Adam(AdamConfig::new().with_lr(0.01)))
        .with_epochs(epochs)
        .with_batch_size(32)
        .with_seed(seed)
        .with_out_dir(dir)
        .with_quiet(true);
    Trainer::new(config, device).unwrap()
}

/// A fresh, unseeded model (its seeds come from the model seed): 64-32-10 with dropout.
fn model(dropout: f64, trainer: &Trainer) -> Mlp {
    seeded(3, || {
        MlpConfig::new(64, vec![32], 10)
            .with_dropout(dropout)
            .init(&trainer.device())
    })
    .unwrap()
}

/// The first layer's weights.
fn first_weights(model: &Mlp) -> Vec<f32> {
    model.layers()[0]
        .weight
        .val()
        .to_data()
        .iter::<f32>()
        .collect()
}

/// One epoch's figures as bits: epoch, learning rate, named metrics.
type EpochBits = (usize, u64, Vec<(String, u64)>);

/// Every figure of the history but the wall-clock seconds, as bits.
fn figures(history: &History) -> Vec<EpochBits> {
    history
        .epochs
        .iter()
        .map(|e| {
            let metrics = e
                .train
                .iter()
                .map(|(k, v)| (format!("train_{k}"), v.to_bits()))
                .chain(
                    e.validation
                        .iter()
                        .map(|(k, v)| (format!("val_{k}"), v.to_bits())),
                )
                .collect();
            (e.epoch, e.lr.to_bits(), metrics)
        })
        .collect()
}

/// Trains 3 epochs straight; returns the last parameters and the history.
fn straight(dropout: f64, shift: usize, seed: u64, device: &Device) -> (Vec<u32>, History) {
    let dir = scratch(&format!("straight-{dropout}-{shift}-{seed}-{device:?}"));
    let trainer = trainer(3, seed, &dir, device);
    let (train, valid) = digits(shift);
    let fitted = trainer
        .fit(model(dropout, &trainer), &train, &valid, forward)
        .unwrap();
    (parameter_bits(&fitted.last), fitted.history)
}

#[test]
fn a_run_with_dropout_and_augmentation_resumes_bit_for_bit() {
    for backend in Backend::selected_from_env().unwrap() {
        let device = backend.device();
        let (expected, history) = straight(0.3, 1, 7, &device);

        // "Killed" after epoch 1: a first process trains one epoch and is gone.
        let dir = scratch(&format!("resumed-{}", backend.name()));
        {
            let first = trainer(1, 7, &dir, &device);
            let (train, valid) = digits(1);
            first
                .fit(model(0.3, &first), &train, &valid, forward)
                .unwrap();
        }
        // A second process resumes with everything new: model, datasets, trainer.
        let second = trainer(3, 7, &dir, &device);
        let (train, valid) = digits(1);
        let resumed = second
            .resume(model(0.3, &second), &train, &valid, forward)
            .unwrap();
        let got = parameter_bits(&resumed.last);
        assert_eq!(got.len(), expected.len());
        let first_difference = got.iter().zip(&expected).position(|(a, b)| a != b);
        assert_eq!(
            first_difference,
            None,
            "{}: parameters after the resume differ",
            backend.name()
        );
        assert_eq!(
            figures(&resumed.history),
            figures(&history),
            "{}: history",
            backend.name()
        );

        // The test can fail: dropout and augmentation each change the run, and so does the
        // run seed, so masks or shifts drawn differently after the resume would show.
        assert_ne!(straight(0.0, 1, 7, &device).0, expected, "dropout matters");
        assert_ne!(
            straight(0.3, 0, 7, &device).0,
            expected,
            "augmentation matters"
        );
        assert_ne!(
            straight(0.3, 1, 8, &device).0,
            expected,
            "the run seed matters"
        );
    }
}

#[test]
fn resuming_with_another_seed_is_refused() {
    let device = Device::flex();
    let dir = scratch("other-seed");
    let first = trainer(1, 7, &dir, &device);
    let (train, valid) = digits(1);
    first
        .fit(model(0.3, &first), &train, &valid, forward)
        .unwrap();
    let second = trainer(2, 8, &dir, &device);
    let refused = second.resume(model(0.3, &second), &train, &valid, forward);
    assert!(
        matches!(
            refused,
            Err(Error::InvalidConfig(InvalidValue {
                owner: "Trainer::resume",
                argument: "seed",
                ..
            }))
        ),
        "{refused:?}"
    );
}

#[test]
fn unseeded_layers_of_one_model_start_apart() {
    let device = Device::flex();
    let dir = scratch("unseeded");
    let trainer = trainer(1, 7, &dir, &device);
    let first = first_weights(&model(0.0, &trainer));
    let again = first_weights(&model(0.0, &trainer));
    assert_eq!(first, again, "the same model seed builds the same model");
    let other =
        first_weights(&seeded(4, || MlpConfig::new(64, vec![32], 10).init(&device)).unwrap());
    assert_ne!(first, other, "another model seed, another model");
}
