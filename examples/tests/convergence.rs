//! Every optimizer, on a real problem: least-squares linear regression on the bundled
//! diabetes data (features and target standardized) reaches the closed-form optimum's loss
//! within 1%.

use cortex::Backend;
use cortex::burn::optim::GradientsParams;
use cortex::burn::tensor::{DType, Tensor, TensorData};
use cortex::data::{Dataset, Standardizer, Targets, bundled};
use cortex::nn::LinearConfig;
use cortex::ops::{Reduction, mse_loss};
use cortex::optim::{
    AdagradConfig, AdamConfig, AdamWConfig, OptimizerConfig, RmsPropConfig, SgdConfig,
};

#[test]
fn every_optimizer_reaches_the_least_squares_optimum() {
    let mut data = bundled::diabetes().unwrap();
    Standardizer::fit(&data)
        .unwrap()
        .transform(&mut data)
        .unwrap();
    let Targets::Values(y) = data.targets().clone() else {
        panic!("regression data")
    };
    let (n, f) = (data.len(), data.num_features());
    let (mean, std) = {
        let m = y.iter().sum::<f64>() / n as f64;
        (
            m,
            (y.iter().map(|v| (v - m).powi(2)).sum::<f64>() / n as f64).sqrt(),
        )
    };
    let y: Vec<f64> = y.iter().map(|v| (v - mean) / std).collect();
    // Closed form: normal equations over [x, 1].
    let beta = cortex_examples::baseline::least_squares(data.features(), f, &y).unwrap();
    let row = |r: usize| -> Vec<f64> {
        (0..f)
            .map(|c| data.value(r, c).unwrap())
            .chain([1.0])
            .collect()
    };
    let optimum = (0..n)
        .map(|r| (row(r).iter().zip(&beta).map(|(a, b)| a * b).sum::<f64>() - y[r]).powi(2))
        .sum::<f64>()
        / n as f64;
    assert!(
        (0.4..0.6).contains(&optimum),
        "R² ≈ 0.5 on diabetes: loss {optimum}"
    );

    let device = Backend::Flex.autodiff_device();
    let x = Tensor::<2>::from_data(
        TensorData::new(data.features().to_vec(), [n, f]),
        (&device, DType::F64),
    );
    let target = Tensor::<2>::from_data(TensorData::new(y, [n, 1]), (&device, DType::F64));
    let optimizers = [
        (
            OptimizerConfig::Sgd(SgdConfig::new().with_lr(0.05).with_momentum(0.9)),
            400,
        ),
        (OptimizerConfig::Adam(AdamConfig::new().with_lr(0.05)), 600),
        (
            OptimizerConfig::AdamW(AdamWConfig::new().with_lr(0.05).with_weight_decay(1e-4)),
            600,
        ),
        (
            OptimizerConfig::RmsProp(RmsPropConfig::new().with_lr(0.01)),
            600,
        ),
        (
            OptimizerConfig::Adagrad(AdagradConfig::new().with_lr(0.5)),
            600,
        ),
    ];
    for (config, steps) in optimizers {
        let mut model = LinearConfig::new(f, 1)
            .with_seed(Some(1))
            .init_with_dtype(&device, DType::F64)
            .unwrap();
        let mut optim = config.init().unwrap();
        let mut loss = f64::INFINITY;
        for _ in 0..steps {
            let prediction = model.forward(x.clone()).unwrap();
            let l = mse_loss(prediction, target.clone(), Reduction::Mean).unwrap();
            loss = l.clone().into_scalar::<f64>();
            let grads = GradientsParams::from_grads(l.backward(), &model);
            model = optim.step(model, grads).unwrap();
        }
        println!("{config:?}: loss {loss:.6} after {steps} steps, optimum {optimum:.6}");
        assert!(
            loss <= optimum * 1.01,
            "{config:?}: loss {loss} vs optimum {optimum}"
        );
    }
}
