//! A convolutional network on the bundled MNIST subset (or `--data DIR`: an IDX folder, or
//! folders of your own pictures, one per class, with `--size HxW` and `--color gray|rgb`):
//! conv 5x5 → batch norm → relu → max-pool → conv 5x5 → batch norm → relu → max-pool → linear → relu → dropout → linear
//! (`cortex_examples::image_model`). With `--out DIR` the run writes a run card for `predict`.

use std::time::Instant;

use clap::Command;
use cortex::data::ImageBatch;
use cortex::train::{Metric, Output};
use cortex_examples::image_model::{Cnn, CnnConfig};
use cortex_examples::run_card::RunCard;
use cortex_examples::{
    Recipe, class_names, common, fit_and_test, image_splits, picture_card, report_classification,
    run, with_common_args, with_image_args,
};

fn main() -> std::process::ExitCode {
    run(|| {
        let started = Instant::now();
        let matches = with_image_args(with_common_args(
            Command::new("cnn").about("a CNN on MNIST-style images"),
        ))
        .get_matches();
        let common = common(&matches)?;
        // Training images move by up to `--shift` pixels each time they are drawn (off by
        // default); the others do not.
        let (train, validation, test) = image_splits(&matches, &common)?;
        let images = train.images();
        let config = CnnConfig {
            shape: [images.channels(), images.height(), images.width()],
            classes: images.num_classes().max(validation.images().num_classes()),
            normalization: images.channel_statistics(),
        };
        if let Some(out) = &common.out {
            // What `predict` needs besides the weights (best.bpk, written by the run).
            RunCard::Cnn {
                model: config.clone(),
                pictures: picture_card(images),
                classes: class_names(images, config.classes),
            }
            .save(out)?;
        }
        let recipe = Recipe::adam_cosine(&common, (8, 32), 1e-3, 2e-5, Metric::Loss);
        let (fitted, metrics) = fit_and_test(
            &common,
            &recipe,
            |device| Cnn::new(&config, device),
            (&train, &validation, &test),
            |model: &Cnn, batch: ImageBatch| {
                Output::classification(model.forward(batch.images)?, batch.labels)
            },
        )?;
        report_classification(&metrics, fitted.history.epochs.len(), started);
        Ok(())
    })
}
