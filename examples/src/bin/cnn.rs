//! A convolutional network on the bundled MNIST subset (or `--data DIR`: an IDX folder, or
//! folders of your own pictures, one per class, with `--size HxW` and `--color gray|rgb`):
//! conv 5x5 → batch norm → relu → max-pool → conv 5x5 → batch norm → relu → max-pool → linear → relu → dropout → linear.

use std::time::Instant;

use clap::Command;
use cortex::burn;
use cortex::burn::module::Module;
use cortex::burn::tensor::{Device, Tensor, TensorData};
use cortex::data::ImageBatch;
use cortex::nn::{
    BatchNorm, BatchNormConfig, Conv2d, Conv2dConfig, Dropout, DropoutConfig, Flatten, Linear,
    LinearConfig, MaxPool2d, MaxPool2dConfig, Padding,
};
use cortex::optim::{AdamConfig, LrSchedule};
use cortex::train::{Metric, Output};
use cortex_examples::{
    BoxError, Recipe, common, fit_and_test, image_splits, report_classification, run,
    with_common_args, with_image_args,
};

#[derive(Module, Debug)]
struct Cnn {
    /// Per channel: the training split's pixel mean and standard deviation.
    #[module(skip)]
    normalization: Vec<(f64, f64)>,
    conv1: Conv2d,
    norm1: BatchNorm,
    conv2: Conv2d,
    norm2: BatchNorm,
    pool: MaxPool2d,
    flatten: Flatten,
    dropout: Dropout,
    hidden: Linear,
    output: Linear,
}

impl Cnn {
    fn new(
        [channels, height, width]: [usize; 3],
        classes: usize,
        normalization: Vec<(f64, f64)>,
        device: &Device,
    ) -> Result<Self, BoxError> {
        let pooled = (height / 4) * (width / 4);
        if pooled == 0 {
            return Err(
                format!("images of {height}x{width} are too small for two 2x2 poolings").into(),
            );
        }
        Ok(Self {
            normalization,
            conv1: Conv2dConfig::new(channels, 16, [5, 5])
                .with_padding(Padding::Same)
                .init(device)?,
            norm1: BatchNormConfig::new(16).init(device)?,
            norm2: BatchNormConfig::new(32).init(device)?,
            conv2: Conv2dConfig::new(16, 32, [5, 5])
                .with_padding(Padding::Same)
                .init(device)?,
            pool: MaxPool2dConfig::new([2, 2]).init()?,
            flatten: Flatten::new(),
            dropout: DropoutConfig::new(0.5).init()?,
            hidden: LinearConfig::new(32 * pooled, 128).init(device)?,
            output: LinearConfig::new(128, classes).init(device)?,
        })
    }

    fn forward(&self, images: Tensor<4>) -> cortex::nn::Result<Tensor<2>> {
        // Pixels in [0, 1], centred and scaled per channel with the training split's statistics.
        let [_, channels, _, _] = images.dims();
        let column = |f: fn(&(f64, f64)) -> f32| {
            let values: Vec<f32> = self.normalization.iter().map(f).collect();
            let data = TensorData::new(values, [1, channels, 1, 1]);
            Tensor::<4>::from_data(data, (&images.device(), images.dtype()))
        };
        let (mean, scale) = (column(|s| s.0 as f32), column(|s| 1.0 / s.1 as f32));
        let images = (images - mean) * scale;
        let x = self.pool.forward(cortex::ops::relu(
            self.norm1.forward(self.conv1.forward(images)?)?,
        ))?;
        let x = self.pool.forward(cortex::ops::relu(
            self.norm2.forward(self.conv2.forward(x)?)?,
        ))?;
        let x = cortex::ops::relu(self.hidden.forward(self.flatten.forward(x)?)?);
        self.output.forward(self.dropout.forward(x)?)
    }
}

fn main() -> std::process::ExitCode {
    run(|| {
        let started = Instant::now();
        let matches = with_image_args(with_common_args(
            Command::new("cnn").about("a CNN on MNIST-style images"),
        ))
        .get_matches();
        let common = common(&matches)?;
        // Training images move by up to `--shift` pixels (2) each time they are drawn; the
        // others do not.
        let (train, validation, test) = image_splits(&matches, &common)?;
        let images = train.images();
        let normalization = images.channel_statistics();
        let (shape, classes) = (
            [images.channels(), images.height(), images.width()],
            train
                .images()
                .num_classes()
                .max(validation.images().num_classes()),
        );
        let epochs = common.epochs.unwrap_or(8);
        let recipe = Recipe {
            default_epochs: 8,
            batch_size: 32,
            optimizer: AdamConfig::new().with_lr(1e-3).into(),
            schedule: Some(LrSchedule::CosineAnnealing {
                lr: 1e-3,
                t_max: epochs,
                eta_min: 2e-5,
                restart_mult: None,
            }),
            clipping: None,
            monitor: Metric::Loss,
        };
        let (fitted, metrics) = fit_and_test(
            &common,
            &recipe,
            |device| Cnn::new(shape, classes, normalization, device),
            (&train, &validation, &test),
            |model: &Cnn, batch: ImageBatch| {
                Output::classification(model.forward(batch.images)?, batch.labels)
            },
        )?;
        report_classification(&metrics, fitted.history.epochs.len(), started);
        Ok(())
    })
}
