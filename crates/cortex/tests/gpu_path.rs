//! The GPU-path suite: the same code on burn's wgpu device as on flex, in f32.
//!
//! Built only with the `wgpu` feature (`cargo xtask test --wgpu`, which CI runs over Mesa's
//! lavapipe, a software Vulkan driver). On wgpu none of the hand-written CPU kernels runs: every
//! fused op takes its composed fallback, so this suite is what proves that path.
//!
//! Tolerance: f32 on both sides, reductions summed in another order on the GPU; an element
//! agrees when `|gpu - flex| <= 1e-4 · max(1, max |flex|)` over its tensor.
#![cfg(feature = "wgpu")]

use std::panic::{AssertUnwindSafe, catch_unwind};

use cortex::autodiff::{
    CaseEvaluation, GradCheck, cpu_kernels_supported, fused_binary_cross_entropy_with_logits,
    fused_cross_entropy, op_cases,
};
use cortex::burn::tensor::{DType, Device, Int, Tensor, TensorData};
use cortex::data::{Dataset, SplitConfig, Standardizer, TabularBatch, TabularDataset, bundled};
use cortex::device::device_from_name;
use cortex::nn::{Mlp, MlpConfig};
use cortex::ops::{CrossEntropyOptions, Reduction};
use cortex::optim::{AdamConfig, OptimizerConfig};
use cortex::train::{Output, Trainer, TrainerConfig};
use layer_cases::layer_cases;

mod layer_cases;

const TOLERANCE: f64 = 1e-4;

fn gpu() -> Device {
    device_from_name("wgpu").expect("this suite is built with the wgpu feature")
}

/// The worst normalised difference of two equally long vectors, or `None` for a length
/// mismatch or a non-finite value on one side only.
fn difference(gpu: &[f64], flex: &[f64]) -> Option<f64> {
    if gpu.len() != flex.len() {
        return None;
    }
    let scale = flex.iter().fold(1.0_f64, |m, v| m.max(v.abs()));
    let mut worst = 0.0_f64;
    for (a, b) in gpu.iter().zip(flex) {
        if a.is_finite() != b.is_finite() {
            return None;
        }
        if a.is_finite() {
            worst = worst.max((a - b).abs() / scale);
        }
    }
    Some(worst)
}

fn worst_of(gpu: &CaseEvaluation, flex: &CaseEvaluation) -> Option<f64> {
    let mut worst = difference(&gpu.output, &flex.output)?;
    if gpu.gradients.len() != flex.gradients.len() {
        return None;
    }
    for (g, f) in gpu.gradients.iter().zip(&flex.gradients) {
        worst = worst.max(difference(g, f)?);
    }
    Some(worst)
}

/// Off the CPU backends a dropout mask is drawn on the device: every value is 0 or
/// `x / (1 - p)`, about `p` of them are 0, the gradient uses the same mask, the same seed
/// gives the same mask, and inside a training step the layer draws from the run context.
#[test]
fn dropout_draws_its_masks_on_the_device() {
    use cortex::nn::DropoutConfig;
    use cortex::ops::random::{StepKey, in_step};
    let device = gpu().autodiff();
    let x = Tensor::<2>::ones([100, 100], &device).require_grad();
    let y = cortex::ops::dropout(x.clone(), 0.25, true, 3).unwrap();
    let gradient = x.grad(&y.clone().sum().backward()).unwrap();
    let values: Vec<f64> = y.to_data().iter::<f64>().collect();
    let scale = 1.0 / 0.75;
    assert!(values.iter().all(|v| *v == 0.0 || (v - scale).abs() < 1e-6));
    // Binomial(10000, 0.25): mean 2500, sd 43; 5 sd either side.
    let dropped = values.iter().filter(|v| **v == 0.0).count();
    assert!((2285..=2715).contains(&dropped), "{dropped}");
    let gradient: Vec<f64> = gradient.to_data().iter::<f64>().collect();
    assert_eq!(gradient, values, "d(sum y)/dx is the scaled mask");
    let mask = |seed| -> Vec<f64> {
        let y = cortex::ops::dropout(x.clone(), 0.25, true, seed).unwrap();
        y.to_data().iter::<f64>().collect()
    };
    assert_eq!(mask(3), values, "same seed, same mask");
    assert_ne!(mask(4), values, "another seed, another mask");
    let layer = DropoutConfig::new(0.5).with_seed(Some(1)).init().unwrap();
    let in_step_mask = |step| -> Vec<f64> {
        in_step(StepKey::new(9, 1, step), || layer.forward(x.clone()))
            .unwrap()
            .to_data()
            .iter::<f64>()
            .collect()
    };
    assert_eq!(in_step_mask(1), in_step_mask(1));
    assert_ne!(in_step_mask(1), in_step_mask(2));
}

#[test]
fn the_wgpu_device_has_no_cpu_kernels() {
    let device = gpu();
    assert!(!cpu_kernels_supported(&device));
    assert!(!cpu_kernels_supported(&device.autodiff()));
    assert!(cpu_kernels_supported(&Device::flex()));
}

/// Every registered op and layer case, forward and backward, on wgpu against flex.
#[test]
fn every_op_and_layer_matches_flex() {
    let gpu = gpu();
    let flex = Device::flex();
    // Dropout draws its masks with the device's own generator off the CPU backends, so its
    // values differ from flex's by design: `dropout_draws_its_masks_on_the_device` checks it.
    let cases: Vec<_> = op_cases()
        .into_iter()
        .chain(layer_cases())
        .filter(|case| !case.name.to_lowercase().starts_with("dropout/"))
        .collect();
    let mut matched = 0;
    let mut mismatched = Vec::new();
    let mut not_run = Vec::new();
    for case in &cases {
        let reference = case
            .evaluate(&flex, DType::F32, 7)
            .unwrap_or_else(|e| panic!("{} fails on flex: {e}", case.name));
        let on_gpu = catch_unwind(AssertUnwindSafe(|| case.evaluate(&gpu, DType::F32, 7)));
        match on_gpu {
            Ok(Ok(evaluation)) => match worst_of(&evaluation, &reference) {
                Some(worst) if worst <= TOLERANCE => matched += 1,
                other => mismatched.push(format!("{}: worst {other:?}", case.name)),
            },
            Ok(Err(e)) => not_run.push(format!("{}: error {e}", case.name)),
            Err(_) => not_run.push(format!("{}: panicked in burn", case.name)),
        }
    }
    eprintln!(
        "gpu path: {matched} of {} cases match flex; not run on this device: {not_run:#?}",
        cases.len()
    );
    assert!(mismatched.is_empty(), "wrong on wgpu: {mismatched:#?}");
    // Every case runs on wgpu today (lavapipe included). An op that a device itself cannot
    // run would be listed here with its error, documented, and checked on flex only.
    assert!(
        not_run.is_empty(),
        "cases that could not run on wgpu: {not_run:#?}"
    );
}

/// Every registered case's gradient against finite differences on wgpu itself, in f32 (the
/// device has no f64), in fast mode: what `cargo xtask check-grads --backend wgpu` runs.
#[test]
fn every_case_passes_the_f32_gradient_check_on_wgpu() {
    let gpu = gpu();
    let checker = GradCheck {
        fast: true,
        ..GradCheck::f32()
    };
    let failed: Vec<String> = op_cases()
        .into_iter()
        .chain(layer_cases())
        .filter_map(|case| match case.check(&checker, &gpu) {
            Ok(report) if report.passed() => None,
            Ok(report) => Some(format!("{}: {report}", case.name)),
            Err(e) => Some(format!("{}: {e}", case.name)),
        })
        .collect();
    assert!(failed.is_empty(), "gradients wrong on wgpu: {failed:#?}");
}

/// The fused losses take their composed path on wgpu: same values and gradients as flex's
/// kernels, and no panic in burn's dispatch.
#[test]
fn fused_losses_fall_back_on_wgpu() {
    let logits: Vec<f32> = (0..20).map(|k| ((k * 7) % 11) as f32 * 0.3 - 1.5).collect();
    let classes = [0_i64, 3, 1, 2, 3];
    let run = |device: &Device| -> (Vec<f32>, Vec<f32>) {
        let device = device.clone().autodiff();
        let x =
            Tensor::<2>::from_data(TensorData::new(logits.clone(), [5, 4]), &device).require_grad();
        let t = Tensor::<1, Int>::from_data(TensorData::new(classes.to_vec(), [5]), &device);
        let options = CrossEntropyOptions::new().with_label_smoothing(0.1);
        let ce = fused_cross_entropy(x.clone(), t, &options).unwrap();
        let targets = Tensor::<2>::from_data(
            TensorData::new((0..20).map(|k| (k % 3) as f32 / 2.0).collect(), [5, 4]),
            &device,
        );
        let bce =
            fused_binary_cross_entropy_with_logits(x.clone(), targets, Reduction::Sum).unwrap();
        let total = ce.add(bce.reshape([1]));
        let value: Vec<f32> = total.to_data().iter::<f32>().collect();
        let grad = x.grad(&total.backward()).unwrap();
        (value, grad.to_data().iter::<f32>().collect())
    };
    let (gpu_value, gpu_grad) = run(&gpu());
    let (flex_value, flex_grad) = run(&Device::flex());
    let widen = |v: &[f32]| v.iter().map(|x| f64::from(*x)).collect::<Vec<_>>();
    assert!(difference(&widen(&gpu_value), &widen(&flex_value)).unwrap() <= TOLERANCE);
    assert!(difference(&widen(&gpu_grad), &widen(&flex_grad)).unwrap() <= TOLERANCE);
}

fn iris() -> (TabularDataset, TabularDataset) {
    let data = bundled::iris().unwrap();
    let parts = cortex::data::split(
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

fn forward(model: &Mlp, batch: TabularBatch) -> cortex::train::Result<Output> {
    let (features, classes) = batch.into_classes()?;
    Output::classification(model.forward(features)?, classes)
}

/// The Trainer end to end on wgpu — fit, checkpoint, resume, evaluate — with the same
/// history as on flex.
#[test]
fn the_trainer_runs_on_wgpu_as_on_flex() {
    let (train, valid) = iris();
    let dir = std::env::temp_dir().join(format!("cortex-gpu-path-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let config = |epochs: usize| {
        TrainerConfig::new(OptimizerConfig::Adam(AdamConfig::new().with_lr(0.02)))
            .with_epochs(epochs)
            .with_batch_size(16)
            .with_seed(5)
            .with_quiet(true)
    };
    let model = |device: &Device| {
        MlpConfig::new(4, vec![8], 3)
            .with_seed(Some(1))
            .init(device)
            .unwrap()
    };
    let flex = Trainer::new(config(3), &Device::flex()).unwrap();
    let on_flex = flex
        .fit(model(&flex.device()), &train, &valid, forward)
        .unwrap();

    let first = Trainer::new(config(2).with_out_dir(&dir), &gpu()).unwrap();
    first
        .fit(model(&first.device()), &train, &valid, forward)
        .unwrap();
    let second = Trainer::new(config(3).with_out_dir(&dir), &gpu()).unwrap();
    let resumed = second
        .resume(model(&second.device()), &train, &valid, forward)
        .unwrap();
    assert_eq!(resumed.history.epochs.len(), 3);
    for (g, f) in resumed.history.epochs.iter().zip(&on_flex.history.epochs) {
        for (name, value) in &f.validation {
            let other = g.validation[name];
            assert!(
                (other - value).abs() <= 1e-3 * value.abs().max(1.0),
                "epoch {} {name}: wgpu {other}, flex {value}",
                f.epoch
            );
        }
    }
    let on_gpu = second.evaluate(&resumed.model, &valid, forward).unwrap();
    let on_cpu = flex.evaluate(&on_flex.model, &valid, forward).unwrap();
    let (a, b) = (on_gpu.summary()["loss"], on_cpu.summary()["loss"]);
    assert!((a - b).abs() <= 1e-3 * b.abs().max(1.0), "{a} vs {b}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// On wgpu the loss leaves the targets on the device (no read back per step); a target outside
/// the model's classes still stops the run, with the same error as on flex.
#[test]
fn a_target_outside_the_classes_stops_the_run_on_wgpu_as_on_flex() {
    let (train, valid) = iris();
    let errors: Vec<cortex::train::Error> = [Device::flex(), gpu()]
        .iter()
        .map(|device| {
            let trainer = Trainer::new(
                TrainerConfig::new(OptimizerConfig::Adam(AdamConfig::new()))
                    .with_epochs(1)
                    .with_batch_size(16)
                    .with_seed(5)
                    .with_quiet(true),
                device,
            )
            .unwrap();
            // Iris has 3 classes; 2 outputs put every class-2 target out of range.
            let model = MlpConfig::new(4, vec![8], 2)
                .with_seed(Some(1))
                .init(&trainer.device())
                .unwrap();
            trainer.fit(model, &train, &valid, forward).unwrap_err()
        })
        .collect();
    assert!(
        matches!(
            errors[1],
            cortex::train::Error::TargetOutOfRange {
                epoch: Some(1),
                value: 2,
                classes: 2,
                ..
            }
        ),
        "{:?}",
        errors[1]
    );
    assert_eq!(errors[0], errors[1]);
}
