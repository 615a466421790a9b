//! Differential test against PyTorch's optimizers: every trajectory of
//! `oracle/optim_cases.json` (or of the file named by `CORTEX_ORACLE_OPTIM`) is replayed in
//! f64 through `cortex-optim` on each selected CPU backend, and the parameters after every
//! step must match PyTorch's within 1e-12 relative to max(1, |expected|).

use std::path::PathBuf;

use cortex::Backend;
use cortex::burn::module::{Module, Param};
use cortex::burn::optim::GradientsParams;
use cortex::burn::tensor::{DType, Device, Tensor, TensorData};
use cortex::optim::{
    AdagradConfig, AdamConfig, AdamWConfig, OptimizerConfig, RmsPropConfig, SgdConfig,
};
use serde::Deserialize;
use serde_json::Value;

const TOLERANCE: f64 = 1e-12;

#[derive(Deserialize)]
struct CaseFile {
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    optimizer: String,
    name: String,
    hyperparams: Value,
    p0: Data,
    grads: Vec<Data>,
    params_after_step: Vec<Data>,
}

#[derive(Deserialize)]
struct Data {
    shape: Vec<usize>,
    data: Vec<f64>,
}

#[derive(Module, Debug)]
struct Flat {
    p: Param<Tensor<1>>,
}

fn number(h: &Value, key: &str) -> Result<f64, String> {
    h[key]
        .as_f64()
        .ok_or_else(|| format!("hyperparameter `{key}` missing"))
}

fn config(case: &Case) -> Result<OptimizerConfig, String> {
    let h = &case.hyperparams;
    let betas = || -> Result<[f64; 2], String> {
        let b = h["betas"].as_array().ok_or("betas missing")?;
        Ok([b[0].as_f64().ok_or("beta1")?, b[1].as_f64().ok_or("beta2")?])
    };
    Ok(match case.optimizer.as_str() {
        "sgd" => OptimizerConfig::Sgd(
            SgdConfig::new()
                .with_lr(number(h, "lr")?)
                .with_momentum(number(h, "momentum")?)
                .with_dampening(number(h, "dampening")?)
                .with_nesterov(h["nesterov"].as_bool().unwrap_or(false))
                .with_weight_decay(number(h, "weight_decay")?),
        ),
        "adam" => OptimizerConfig::Adam(
            AdamConfig::new()
                .with_lr(number(h, "lr")?)
                .with_betas(betas()?)
                .with_eps(number(h, "eps")?)
                .with_weight_decay(number(h, "weight_decay")?)
                .with_amsgrad(h["amsgrad"].as_bool().unwrap_or(false)),
        ),
        "adamw" => OptimizerConfig::AdamW(
            AdamWConfig::new()
                .with_lr(number(h, "lr")?)
                .with_betas(betas()?)
                .with_eps(number(h, "eps")?)
                .with_weight_decay(number(h, "weight_decay")?)
                .with_amsgrad(h["amsgrad"].as_bool().unwrap_or(false)),
        ),
        "rmsprop" => OptimizerConfig::RmsProp(
            RmsPropConfig::new()
                .with_lr(number(h, "lr")?)
                .with_alpha(number(h, "alpha")?)
                .with_eps(number(h, "eps")?)
                .with_weight_decay(number(h, "weight_decay")?)
                .with_momentum(number(h, "momentum")?)
                .with_centered(h["centered"].as_bool().unwrap_or(false)),
        ),
        "adagrad" => OptimizerConfig::Adagrad(
            AdagradConfig::new()
                .with_lr(number(h, "lr")?)
                .with_lr_decay(number(h, "lr_decay")?)
                .with_weight_decay(number(h, "weight_decay")?)
                .with_initial_accumulator_value(number(h, "initial_accumulator_value")?)
                .with_eps(number(h, "eps")?),
        ),
        other => return Err(format!("unknown optimizer `{other}`")),
    })
}

fn tensor(data: &Data, device: &Device) -> Tensor<1> {
    let n = data.shape.iter().product::<usize>();
    Tensor::from_data(
        TensorData::new(data.data.clone(), [n]),
        (device, DType::F64),
    )
}

/// Replays one trajectory; returns the worst scaled error.
fn replay(case: &Case, device: &Device) -> Result<f64, String> {
    let mut optim = config(case)?.init().map_err(|e| e.to_string())?;
    let mut model = Flat {
        p: Param::from_tensor(tensor(&case.p0, device)),
    };
    let mut worst = 0.0f64;
    for (step, (grad, expected)) in case.grads.iter().zip(&case.params_after_step).enumerate() {
        let mut grads = GradientsParams::new();
        grads.register(model.p.id, tensor(grad, device));
        model = optim.step(model, grads).map_err(|e| e.to_string())?;
        let got: Vec<f64> = model.p.val().to_data().iter::<f64>().collect();
        for (k, (g, e)) in got.iter().zip(&expected.data).enumerate() {
            let err = (g - e).abs() / e.abs().max(1.0);
            worst = worst.max(err);
            if err.is_nan() || err > TOLERANCE {
                return Err(format!(
                    "step {}: [{k}] {g} vs PyTorch {e} (scaled error {err:.2e})",
                    step + 1
                ));
            }
        }
    }
    Ok(worst)
}

#[test]
fn every_optimizer_trajectory_matches_pytorch() {
    let path = std::env::var_os("CORTEX_ORACLE_OPTIM")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/oracle/optim_cases.json")
        });
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let file: CaseFile =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut failures = Vec::new();
    for backend in Backend::selected_from_env().unwrap() {
        let device = backend.autodiff_device();
        let (mut trajectories, mut steps, mut worst) = (0, 0, 0.0f64);
        for case in &file.cases {
            match replay(case, &device) {
                Ok(err) => {
                    trajectories += 1;
                    steps += case.grads.len();
                    worst = worst.max(err);
                }
                Err(e) => failures.push(format!("[{backend}] {}: {e}", case.name)),
            }
        }
        println!(
            "optim oracle [{backend}]: {trajectories} trajectories, {steps} steps matched PyTorch \
             within {TOLERANCE:e} (worst scaled error {worst:.2e})"
        );
    }
    assert!(
        failures.is_empty(),
        "{} trajectories failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
