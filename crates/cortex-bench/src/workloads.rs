//! The workloads of `../shared/bench/README.md`, built from Cortex's own layers, losses and
//! optimizers: training steps (forward + loss + backward + optimizer step) and inference.

use cortex::burn;
use cortex::burn::module::Module;
use cortex::burn::optim::GradientsParams;
use cortex::burn::tensor::{Device, Distribution, Int, Tensor, TensorData};
use cortex::nn::{
    Activation, Conv2d, Conv2dConfig, Gru, GruConfig, Linear, LinearConfig, Lstm, LstmConfig,
    MaxPool2d, MaxPool2dConfig, Mlp, MlpConfig, Padding,
};
use cortex::ops::{CrossEntropyOptions, Reduction};
use cortex::optim::{AdamConfig, Optim, OptimizerConfig, SgdConfig};

/// Distinct random batches, cycled (as the PyTorch peer).
const BATCHES: usize = 8;

/// A workload step on batch `i`: the whole step (`true`), or for training only the forward
/// pass and loss (`false`, to split the time); returns a tensor to synchronize on.
pub type Step = Box<dyn FnMut(usize, bool) -> Tensor<1>>;

/// One workload.
pub struct Workload {
    /// Name, as the PyTorch peer's.
    pub name: &'static str,
    /// Samples per step.
    pub batch: usize,
    /// Forward multiply-add FLOPs per sample (training counted as 3×).
    pub forward_flops: f64,
    /// Training (true) or inference.
    pub train: bool,
    /// Builds the step on a plain device (training steps use its autodiff twin).
    pub build: fn(&Device) -> Result<Step, String>,
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

fn normal<const D: usize>(shape: [usize; D], device: &Device) -> Vec<Tensor<D>> {
    (0..BATCHES)
        .map(|_| Tensor::random(shape, Distribution::Normal(0.0, 1.0), device))
        .collect()
}

fn labels(batch: usize, device: &Device) -> Vec<Tensor<1, Int>> {
    (0..BATCHES)
        .map(|k| {
            let ids: Vec<i64> = (0..batch).map(|i| ((i * 7 + k * 3) % 10) as i64).collect();
            Tensor::from_data(TensorData::new(ids, [batch]), device)
        })
        .collect()
}

fn cross_entropy(logits: Tensor<2>, targets: Tensor<1, Int>) -> Result<Tensor<1>, String> {
    cortex::autodiff::fused_cross_entropy(logits, targets, &CrossEntropyOptions::new()).map_err(err)
}

/// A training step of `model` with `optim` on `loss(model, i)`.
fn train_step<M: Module + Clone + 'static>(
    model: M,
    mut optim: Optim,
    loss: impl Fn(&M, usize) -> Result<Tensor<1>, String> + 'static,
) -> Step {
    let mut model = Some(model);
    Box::new(move |i, full| {
        let current = model
            .take()
            .expect("the model is put back after every step");
        let l = loss(&current, i).expect("the workload's shapes are fixed and valid");
        if !full {
            model = Some(current);
            return l.detach();
        }
        let grads = GradientsParams::from_grads(l.backward(), &current);
        model = Some(
            optim
                .step(current, grads)
                .expect("the model is on the autodiff device"),
        );
        l.detach()
    })
}

fn sgd(lr: f64) -> Result<Optim, String> {
    OptimizerConfig::Sgd(SgdConfig::new().with_lr(lr))
        .init()
        .map_err(err)
}

fn adam() -> Result<Optim, String> {
    OptimizerConfig::Adam(AdamConfig::new().with_lr(1e-3))
        .init()
        .map_err(err)
}

fn w1(device: &Device) -> Result<Step, String> {
    let device = device.clone().autodiff();
    let model = LinearConfig::new(1, 1).init(&device).map_err(err)?;
    let xs = normal([1024, 1], &device);
    let ys: Vec<Tensor<2>> = xs
        .iter()
        .map(|x| {
            x.clone().mul_scalar(2.0).add_scalar(1.0)
                + Tensor::random([1024, 1], Distribution::Normal(0.0, 0.1), &device)
        })
        .collect();
    Ok(train_step(model, sgd(0.01)?, move |m: &Linear, i| {
        let prediction = m.forward(xs[i % BATCHES].clone()).map_err(err)?;
        Ok(
            cortex::ops::mse_loss(prediction, ys[i % BATCHES].clone(), Reduction::Mean)
                .map_err(err)?
                .reshape([1]),
        )
    }))
}

fn mlp(activation: Activation, device: &Device) -> Result<Mlp, String> {
    MlpConfig::new(784, vec![256, 128], 10)
        .with_activation(activation)
        .init(device)
        .map_err(err)
}

fn w2(activation: Activation, device: &Device) -> Result<Step, String> {
    let device = device.clone().autodiff();
    let model = mlp(activation, &device)?;
    let (xs, ys) = (normal([64, 784], &device), labels(64, &device));
    Ok(train_step(model, sgd(0.1)?, move |m: &Mlp, i| {
        cross_entropy(
            m.forward(xs[i % BATCHES].clone()).map_err(err)?,
            ys[i % BATCHES].clone(),
        )
    }))
}

/// The bench's CNN (the peer's LeNet): conv5 1→16 pad 2, relu, pool; conv5 16→32 pad 2, relu,
/// pool; linear 1568→10.
#[derive(Module, Debug)]
pub struct LeNet {
    c1: Conv2d,
    c2: Conv2d,
    pool: MaxPool2d,
    fc: Linear,
}

impl LeNet {
    fn new(device: &Device) -> Result<Self, String> {
        Ok(Self {
            c1: Conv2dConfig::new(1, 16, [5, 5])
                .with_padding(Padding::Explicit([2, 2]))
                .init(device)
                .map_err(err)?,
            c2: Conv2dConfig::new(16, 32, [5, 5])
                .with_padding(Padding::Explicit([2, 2]))
                .init(device)
                .map_err(err)?,
            pool: MaxPool2dConfig::new([2, 2]).init().map_err(err)?,
            fc: LinearConfig::new(32 * 7 * 7, 10)
                .init(device)
                .map_err(err)?,
        })
    }

    fn forward(&self, x: Tensor<4>) -> Result<Tensor<2>, String> {
        let x = self
            .pool
            .forward(cortex::ops::relu(self.c1.forward(x).map_err(err)?))
            .map_err(err)?;
        let x = self
            .pool
            .forward(cortex::ops::relu(self.c2.forward(x).map_err(err)?))
            .map_err(err)?;
        let b = x.dims()[0];
        self.fc.forward(x.reshape([b, 32 * 7 * 7])).map_err(err)
    }
}

fn w3(device: &Device) -> Result<Step, String> {
    let device = device.clone().autodiff();
    let model = LeNet::new(&device)?;
    let (xs, ys) = (normal([64, 1, 28, 28], &device), labels(64, &device));
    Ok(train_step(model, adam()?, move |m: &LeNet, i| {
        cross_entropy(m.forward(xs[i % BATCHES].clone())?, ys[i % BATCHES].clone())
    }))
}

/// The bench's recurrent classifier: one LSTM or GRU layer 28→128 over 28 steps, the last
/// hidden state through linear 128→10.
#[derive(Module, Debug)]
pub struct RowReader {
    lstm: Option<Lstm>,
    gru: Option<Gru>,
    fc: Linear,
}

impl RowReader {
    fn forward(&self, x: Tensor<3>) -> Result<Tensor<2>, String> {
        let h = match (&self.lstm, &self.gru) {
            (Some(l), _) => l.forward(x, None).map_err(err)?.state.h,
            (None, Some(g)) => g.forward(x, None).map_err(err)?.state,
            (None, None) => return Err("no cell".to_string()),
        };
        let b = h.dims()[1];
        self.fc.forward(h.reshape([b, 128])).map_err(err)
    }
}

fn w4(lstm: bool, device: &Device) -> Result<Step, String> {
    let device = device.clone().autodiff();
    let model = RowReader {
        lstm: lstm
            .then(|| LstmConfig::new(28, 128).init(&device))
            .transpose()
            .map_err(err)?,
        gru: (!lstm)
            .then(|| GruConfig::new(28, 128).init(&device))
            .transpose()
            .map_err(err)?,
        fc: LinearConfig::new(128, 10).init(&device).map_err(err)?,
    };
    let (xs, ys) = (normal([64, 28, 28], &device), labels(64, &device));
    Ok(train_step(model, adam()?, move |m: &RowReader, i| {
        cross_entropy(m.forward(xs[i % BATCHES].clone())?, ys[i % BATCHES].clone())
    }))
}

fn infer_mlp(activation: Activation, device: &Device) -> Result<Step, String> {
    let device = device.clone();
    let model = mlp(activation, &device)?.valid();
    let xs = normal([256, 784], &device);
    Ok(Box::new(move |i, _| {
        let out = model
            .forward(xs[i % BATCHES].clone())
            .expect("fixed, valid shapes");
        out.sum()
    }))
}

fn infer_cnn(device: &Device) -> Result<Step, String> {
    let device = device.clone();
    let model = LeNet::new(&device)?.valid();
    let xs = normal([256, 1, 28, 28], &device);
    Ok(Box::new(move |i, _| {
        model
            .forward(xs[i % BATCHES].clone())
            .expect("fixed, valid shapes")
            .sum()
    }))
}

const MLP_FLOPS: f64 = 2.0 * (784.0 * 256.0 + 256.0 * 128.0 + 128.0 * 10.0);
const CNN_FLOPS: f64 =
    2.0 * (28.0 * 28.0 * 16.0 * 25.0 + 14.0 * 14.0 * 32.0 * 16.0 * 25.0 + 1568.0 * 10.0);
const LSTM_FLOPS: f64 = 2.0 * 28.0 * 4.0 * 128.0 * (28.0 + 128.0) + 2.0 * 1280.0;
const GRU_FLOPS: f64 = 2.0 * 28.0 * 3.0 * 128.0 * (28.0 + 128.0) + 2.0 * 1280.0;

/// Every workload, in the peer's order and with the peer's names.
pub fn all() -> Vec<Workload> {
    vec![
        Workload {
            name: "W1 linreg train (1->1, SGD)",
            batch: 1024,
            forward_flops: 2.0,
            train: true,
            build: w1,
        },
        Workload {
            name: "W2 MLP sigmoid train (SGD)",
            batch: 64,
            forward_flops: MLP_FLOPS,
            train: true,
            build: |d| w2(Activation::Sigmoid, d),
        },
        Workload {
            name: "W2 MLP relu train (SGD)",
            batch: 64,
            forward_flops: MLP_FLOPS,
            train: true,
            build: |d| w2(Activation::Relu, d),
        },
        Workload {
            name: "W3 CNN train (Adam)",
            batch: 64,
            forward_flops: CNN_FLOPS,
            train: true,
            build: w3,
        },
        Workload {
            name: "W4 LSTM train (Adam)",
            batch: 64,
            forward_flops: LSTM_FLOPS,
            train: true,
            build: |d| w4(true, d),
        },
        Workload {
            name: "W4 GRU train (Adam)",
            batch: 64,
            forward_flops: GRU_FLOPS,
            train: true,
            build: |d| w4(false, d),
        },
        Workload {
            name: "W2 MLP sigmoid infer",
            batch: 256,
            forward_flops: MLP_FLOPS,
            train: false,
            build: |d| infer_mlp(Activation::Sigmoid, d),
        },
        Workload {
            name: "W2 MLP relu infer",
            batch: 256,
            forward_flops: MLP_FLOPS,
            train: false,
            build: |d| infer_mlp(Activation::Relu, d),
        },
        Workload {
            name: "W3 CNN infer",
            batch: 256,
            forward_flops: CNN_FLOPS,
            train: false,
            build: infer_cnn,
        },
    ]
}
