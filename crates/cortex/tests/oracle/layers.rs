//! How oracle cases map onto the layers of `cortex-nn`: the recurrent ops, which exist only
//! as layers, and the layer variant of the ops a layer wraps.

use cortex::burn::tensor::{Int, Tensor};
use cortex::nn::{
    CellTensors, Conv1d, Conv1dConfig, Conv2d, Conv2dConfig, Embedding, GruCell, LayerNorm,
    LayerNormConfig, Linear, Lstm, LstmCell, LstmConfig, LstmState, Padding,
};

use super::harness::CaseRun;

/// Ops the oracle knows only through a layer.
pub const LAYER_ONLY: &[&str] = &["lstm", "lstm_cell", "gru_cell"];

fn nn_err(e: cortex::nn::Error) -> String {
    format!("cortex-nn rejected the case: {e}")
}

/// The cell parameters of a case (`w_ih`, `w_hh`, optional `b_ih`, `b_hh`).
fn cell(run: &mut CaseRun) -> Result<CellTensors, String> {
    Ok(CellTensors {
        weight_ih: run.float::<2>("w_ih")?,
        weight_hh: run.float::<2>("w_hh")?,
        bias_ih: run.opt_float::<1>("b_ih")?,
        bias_hh: run.opt_float::<1>("b_hh")?,
    })
}

/// Runs `run.case` through its layer. `Ok(false)` for an op no layer implements.
pub fn run_layer(run: &mut CaseRun) -> Result<bool, String> {
    let case = run.case;
    match case.op.as_str() {
        "lstm_cell" => {
            let x = run.float::<2>("x")?;
            let state = LstmState {
                h: run.float::<2>("h0")?,
                c: run.float::<2>("c0")?,
            };
            let layer = LstmCell::from_tensors(cell(run)?).map_err(nn_err)?;
            let next = layer.forward(x, Some(state)).map_err(nn_err)?;
            run.output("h1", next.h)?;
            run.output("c1", next.c)?;
        }
        "gru_cell" => {
            let (x, h) = (run.float::<2>("x")?, run.float::<2>("h0")?);
            let layer = GruCell::from_tensors(cell(run)?).map_err(nn_err)?;
            run.output("h1", layer.forward(x, Some(h)).map_err(nn_err)?)?;
        }
        "lstm" => {
            if case.attrs["batch_first"].as_bool() != Some(true) {
                return Err("only batch_first LSTM cases are known".to_string());
            }
            let x = run.float::<3>("x")?;
            let (h0, c0) = (run.float::<3>("h0")?, run.float::<3>("c0")?);
            let tensors = cell(run)?;
            let [_, input] = tensors.weight_ih.dims();
            let [_, hidden] = tensors.weight_hh.dims();
            let config = LstmConfig::new(input, hidden)
                .with_num_layers(case.attr_usize("num_layers")?)
                .with_bias(tensors.bias_ih.is_some());
            let layer = Lstm::from_tensors(&config, vec![tensors]).map_err(nn_err)?;
            let out = layer
                .forward(x, Some(LstmState { h: h0, c: c0 }))
                .map_err(nn_err)?;
            run.output("output", out.output)?;
            run.output("h_n", out.state.h)?;
            run.output("c_n", out.state.c)?;
        }
        "linear" => {
            let (x, weight) = (run.float::<3>("x")?, run.float::<2>("weight")?);
            let bias = run.opt_float::<1>("bias")?;
            let layer = Linear::from_tensors(weight, bias).map_err(nn_err)?;
            run.output("out", layer.forward(x).map_err(nn_err)?)?;
        }
        "conv1d" => {
            let (x, weight) = (run.float::<3>("x")?, run.float::<3>("weight")?);
            let bias = run.opt_float::<1>("bias")?;
            let [out_ch, in_per_group, kernel] = weight.dims();
            let groups = case.attr_usize("groups")?;
            let config = Conv1dConfig::new(in_per_group * groups, out_ch, kernel)
                .with_stride(case.attr_usize("stride")?)
                .with_padding(Padding::Explicit(case.attr_usize("padding")?))
                .with_dilation(case.attr_usize("dilation")?)
                .with_groups(groups)
                .with_bias(bias.is_some());
            let layer = Conv1d::from_tensors(&config, weight, bias).map_err(nn_err)?;
            run.output("out", layer.forward(x).map_err(nn_err)?)?;
        }
        "conv2d" => {
            let (x, weight) = (run.float::<4>("x")?, run.float::<4>("weight")?);
            let bias = run.opt_float::<1>("bias")?;
            let [out_ch, in_per_group, kh, kw] = weight.dims();
            let groups = case.attr_usize("groups")?;
            let config = Conv2dConfig::new(in_per_group * groups, out_ch, [kh, kw])
                .with_stride(case.attr_pair("stride")?)
                .with_padding(Padding::Explicit(case.attr_pair("padding")?))
                .with_dilation(case.attr_pair("dilation")?)
                .with_groups(groups)
                .with_bias(bias.is_some());
            let layer = Conv2d::from_tensors(&config, weight, bias).map_err(nn_err)?;
            run.output("out", layer.forward(x).map_err(nn_err)?)?;
        }
        "batch_norm" => match case.input("x")?.shape.len() {
            2 => super::ops::batch_norm::<2>(run)?,
            4 => super::ops::batch_norm::<4>(run)?,
            rank => return Err(format!("batch_norm case of rank {rank}")),
        },
        "layer_norm" => {
            let shape = case.attr_usizes("normalized_shape")?;
            let n: usize = shape.iter().product();
            let config = LayerNormConfig::new(shape.clone()).with_eps(case.attr_f64("eps")?);
            // The layer stores γ and β flattened; PyTorch's are `normalized_shape`.
            let (weight, bias) = match shape.len() {
                1 => (run.opt_float::<1>("weight")?, run.opt_float::<1>("bias")?),
                2 => (
                    run.opt_float::<2>("weight")?.map(|w| w.reshape([n])),
                    run.opt_float::<2>("bias")?.map(|b| b.reshape([n])),
                ),
                other => return Err(format!("layer_norm over {other} dimensions")),
            };
            let config = config.with_elementwise_affine(weight.is_some());
            let layer = LayerNorm::from_tensors(&config, weight, bias).map_err(nn_err)?;
            if shape.len() == 1 {
                let x = run.float::<2>("x")?;
                run.output("out", layer.forward(x).map_err(nn_err)?)?;
            } else {
                let x = run.float::<3>("x")?;
                run.output("out", layer.forward(x).map_err(nn_err)?)?;
            }
        }
        "embedding" => {
            let layer = Embedding::from_tensors(run.float::<2>("weight")?, None).map_err(nn_err)?;
            match case.input("indices")?.shape.len() {
                1 => {
                    let ids: Tensor<1, Int> = run.int::<1>("indices")?;
                    let out: Tensor<2> = layer.forward(ids).map_err(nn_err)?;
                    run.output("out", out)?;
                }
                2 => {
                    let out: Tensor<3> = layer.forward(run.int::<2>("indices")?).map_err(nn_err)?;
                    run.output("out", out)?;
                }
                rank => return Err(format!("embedding indices of rank {rank}")),
            }
        }
        _ => return Ok(false),
    }
    Ok(true)
}
