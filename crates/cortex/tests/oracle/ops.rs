//! How each oracle op maps onto `cortex-ops`. Ranks vary between cases of one op, so inputs
//! are loaded left-padded to the largest rank the op's cases use.

use cortex::autodiff::{fused_binary_cross_entropy_with_logits, fused_cross_entropy};
use cortex::burn::tensor::Tensor;
use cortex::nn::{BatchNorm, BatchNormConfig};
use cortex::ops::{self, CrossEntropyOptions, Reduction, RunningStats};

use super::harness::CaseRun;
use super::schema::JsonTensor;

/// Ops with a second implementation, run a second time through it: the fused losses (custom
/// backward) and the ops that a `cortex-nn` layer wraps. The label names the alternate.
pub const ALTERNATES: &[(&str, &str)] = &[
    ("cross_entropy", "fused"),
    ("binary_cross_entropy_with_logits", "fused"),
    ("linear", "layer"),
    ("conv1d", "layer"),
    ("conv2d", "layer"),
    ("batch_norm", "layer"),
    ("layer_norm", "layer"),
    ("embedding", "layer"),
];

/// Ops whose cases the runner does not execute yet; printed on every run.
pub const PENDING: &[&str] = &[];

fn reduction(run: &CaseRun) -> Result<Reduction, String> {
    match run.case.attrs["reduction"].as_str() {
        None | Some("mean") => Ok(Reduction::Mean),
        Some("sum") => Ok(Reduction::Sum),
        Some("none") => Ok(Reduction::None),
        Some(other) => Err(format!("unknown reduction `{other}`")),
    }
}

fn op_err(e: ops::Error) -> String {
    format!("cortex-ops rejected the case: {e}")
}

/// Runs `run.case` through `cortex-ops`, recording every output. `Ok(false)` for an op this
/// runner does not know.
pub fn run_op(run: &mut CaseRun) -> Result<bool, String> {
    let case = run.case;
    let layer_alternate = ALTERNATES.contains(&(case.op.as_str(), "layer"));
    if (run.alternate && layer_alternate) || super::layers::LAYER_ONLY.contains(&case.op.as_str()) {
        return super::layers::run_layer(run);
    }
    match case.op.as_str() {
        "matmul" => {
            let (a, b) = (run.float::<3>("a")?, run.float::<3>("b")?);
            let out = ops::matmul(a, b).map_err(op_err)?;
            run.output("out", out)?;
        }
        "add" => {
            let (a, b) = (run.float::<3>("a")?, run.float::<3>("b")?);
            let out = ops::add(a, b).map_err(op_err)?;
            run.output("out", out)?;
        }
        "sigmoid" | "tanh" | "relu" | "gelu" | "softmax" | "log_softmax" => {
            let x = run.float::<3>("x")?;
            let out = match case.op.as_str() {
                "sigmoid" => ops::sigmoid(x),
                "tanh" => ops::tanh(x),
                "relu" => ops::relu(x),
                "gelu" => {
                    if case.attrs["approximate"].as_str().unwrap_or("none") != "none" {
                        return Err("only the exact (erf) GELU is supported".to_string());
                    }
                    ops::gelu(x)
                }
                "softmax" => ops::softmax(x, case.attrs["dim"].as_i64().unwrap_or(-1) as isize)
                    .map_err(op_err)?,
                _ => ops::log_softmax(x, case.attrs["dim"].as_i64().unwrap_or(-1) as isize)
                    .map_err(op_err)?,
            };
            run.output("out", out)?;
        }
        "mse_loss" => {
            let reduction = reduction(run)?;
            let (input, target) = (run.float::<3>("input")?, run.float::<3>("target")?);
            let out = ops::mse_loss(input, target, reduction).map_err(op_err)?;
            run.output("out", out)?;
        }
        "cross_entropy" => {
            let options = CrossEntropyOptions::new()
                .with_reduction(reduction(run)?)
                .with_label_smoothing(case.attr_f64("label_smoothing").unwrap_or(0.0));
            let logits = run.float::<2>("logits")?;
            let target = run.int::<1>("target")?;
            let out = if run.alternate {
                fused_cross_entropy(logits, target, &options).map_err(|e| e.to_string())?
            } else {
                ops::cross_entropy(logits, target, &options).map_err(op_err)?
            };
            run.output("out", out)?;
        }
        "binary_cross_entropy_with_logits" => {
            let reduction = reduction(run)?;
            let (logits, target) = (run.float::<2>("logits")?, run.float::<2>("target")?);
            let out = if run.alternate {
                fused_binary_cross_entropy_with_logits(logits, target, reduction)
                    .map_err(|e| e.to_string())?
            } else {
                ops::binary_cross_entropy_with_logits(logits, target, reduction).map_err(op_err)?
            };
            run.output("out", out)?;
        }
        "conv1d" => {
            let options = ops::Conv1dOptions {
                stride: case.attr_usize("stride")?,
                padding: case.attr_usize("padding")?,
                dilation: case.attr_usize("dilation")?,
                groups: case.attr_usize("groups")?,
            };
            let (x, weight) = (run.float::<3>("x")?, run.float::<3>("weight")?);
            let bias = run.opt_float::<1>("bias")?;
            let out = ops::conv1d(x, weight, bias, &options).map_err(op_err)?;
            run.output("out", out)?;
        }
        "conv2d" => {
            let options = ops::Conv2dOptions {
                stride: case.attr_pair("stride")?,
                padding: case.attr_pair("padding")?,
                dilation: case.attr_pair("dilation")?,
                groups: case.attr_usize("groups")?,
            };
            let (x, weight) = (run.float::<4>("x")?, run.float::<4>("weight")?);
            let bias = run.opt_float::<1>("bias")?;
            let out = ops::conv2d(x, weight, bias, &options).map_err(op_err)?;
            run.output("out", out)?;
        }
        "max_pool2d" | "avg_pool2d" => {
            let options = ops::Pool2dOptions::new(case.attr_pair("kernel_size")?)
                .with_stride(case.attr_pair("stride")?)
                .with_padding(case.attr_pair("padding")?);
            let x = run.float::<4>("x")?;
            let out = if case.op == "max_pool2d" {
                ops::max_pool2d(x, &options)
            } else {
                ops::avg_pool2d(x, &options)
            }
            .map_err(op_err)?;
            run.output("out", out)?;
        }
        "adaptive_avg_pool2d" => {
            let x = run.float::<4>("x")?;
            let out =
                ops::adaptive_avg_pool2d(x, case.attr_pair("output_size")?).map_err(op_err)?;
            run.output("out", out)?;
        }
        "batch_norm" => match case.input("x")?.shape.len() {
            2 => batch_norm::<2>(run)?,
            4 => batch_norm::<4>(run)?,
            rank => return Err(format!("batch_norm case of rank {rank}")),
        },
        "layer_norm" => {
            let eps = case.attr_f64("eps")?;
            match case.attr_usizes("normalized_shape")?.as_slice() {
                &[n] => {
                    let x = run.float::<2>("x")?;
                    let (w, b) = (run.opt_float::<1>("weight")?, run.opt_float::<1>("bias")?);
                    let out = ops::layer_norm(x, [n], w, b, eps).map_err(op_err)?;
                    run.output("out", out)?;
                }
                &[m, n] => {
                    let x = run.float::<3>("x")?;
                    let (w, b) = (run.opt_float::<2>("weight")?, run.opt_float::<2>("bias")?);
                    let out = ops::layer_norm(x, [m, n], w, b, eps).map_err(op_err)?;
                    run.output("out", out)?;
                }
                other => return Err(format!("layer_norm over {other:?}")),
            }
        }
        "embedding" => {
            let weight = run.float::<2>("weight")?;
            match case.input("indices")?.shape.len() {
                1 => {
                    let out: Tensor<2> =
                        ops::embedding(weight, run.int::<1>("indices")?, None).map_err(op_err)?;
                    run.output("out", out)?;
                }
                2 => {
                    let out: Tensor<3> =
                        ops::embedding(weight, run.int::<2>("indices")?, None).map_err(op_err)?;
                    run.output("out", out)?;
                }
                rank => return Err(format!("embedding indices of rank {rank}")),
            }
        }
        "linear" => {
            let (x, weight) = (run.float::<3>("x")?, run.float::<2>("weight")?);
            let bias = run.opt_float::<1>("bias")?;
            let out = ops::linear(x, weight, bias).map_err(op_err)?;
            run.output("out", out)?;
        }
        _ => return Ok(false),
    }
    Ok(true)
}

/// Training-mode batch norm; also checks the running statistics after the update.
pub fn batch_norm<const D: usize>(run: &mut CaseRun) -> Result<(), String>
where
    Tensor<D>: super::harness::IntoLeaf,
{
    let case = run.case;
    if case.attrs["training"].as_bool() != Some(true) {
        return Err("only training-mode batch_norm cases are known".to_string());
    }
    let stats = case
        .running_stats
        .as_ref()
        .ok_or("batch_norm case without running_stats")?;
    let get = |key: &str| -> Result<&JsonTensor, String> {
        stats
            .get(key)
            .ok_or_else(|| format!("running_stats has no `{key}`"))
    };
    let mut running = RunningStats {
        mean: get("running_mean_before")?.float::<1>(&run.device)?,
        var: get("running_var_before")?.float::<1>(&run.device)?,
    };
    let options = ops::BatchNormOptions::new(true)
        .with_momentum(case.attr_f64("momentum")?)
        .with_eps(case.attr_f64("eps")?);
    let x = run.float::<D>("x")?;
    let (w, b) = (run.opt_float::<1>("weight")?, run.opt_float::<1>("bias")?);
    let out = if run.alternate {
        let config = BatchNormConfig::new(x.dims()[1])
            .with_momentum(options.momentum)
            .with_eps(options.eps)
            .with_affine(w.is_some());
        let layer =
            BatchNorm::from_tensors(&config, w, b, Some(running)).map_err(|e| e.to_string())?;
        let out = layer.forward(x).map_err(|e| e.to_string())?;
        running = layer.running_stats();
        out
    } else {
        ops::batch_norm(x, w, b, Some(&mut running), &options).map_err(op_err)?
    };
    run.output("out", out)?;
    let mut problems = Vec::new();
    let mut worst = 0.0;
    for (key, tensor) in [
        ("running_mean_after", running.mean),
        ("running_var_after", running.var),
    ] {
        let values: Vec<f64> = tensor.to_data().iter::<f64>().collect();
        super::harness::compare(
            key,
            &values,
            &tensor.dims(),
            get(key)?,
            crate::TOLERANCE,
            &mut worst,
            &mut problems,
        );
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}
