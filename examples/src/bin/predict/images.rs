//! Image runs (`cnn`, `mlp` on images, `rnn` on MNIST): picture files, or the test images of
//! the run's data.

use std::path::PathBuf;

use clap::ArgMatches;
use cortex::burn::tensor::{Device, Tensor, TensorData};
use cortex::data::{Dataset, ImageDataset, ImageFolderConfig, read_picture};
use cortex_examples::{BoxError, Common, load_images};

use crate::{Outcome, inputs, print_top, softmax_rows};

/// An image model's forward pass: images `[B, C, H, W]` in `[0, 1]` → class scores.
pub trait ImageForward {
    /// Class scores `[B, classes]`.
    ///
    /// # Errors
    /// The model's shape errors.
    fn scores(&self, images: Tensor<4>) -> cortex::nn::Result<Tensor<2>>;
}

impl ImageForward for cortex_examples::image_model::Cnn {
    fn scores(&self, images: Tensor<4>) -> cortex::nn::Result<Tensor<2>> {
        self.forward(images)
    }
}

impl ImageForward for cortex_examples::image_model::ImageMlp {
    fn scores(&self, images: Tensor<4>) -> cortex::nn::Result<Tensor<2>> {
        self.forward(images)
    }
}

impl ImageForward for cortex_examples::rnn_model::RowReader {
    fn scores(&self, images: Tensor<4>) -> cortex::nn::Result<Tensor<2>> {
        self.forward(images)
    }
}

/// What an image run was trained on.
pub struct ImageRun<'a> {
    /// `[channels, height, width]` of its images.
    pub shape: [usize; 3],
    /// How a new picture is read.
    pub pictures: &'a ImageFolderConfig,
    /// Class names by id.
    pub classes: &'a [String],
}

/// Classifies the pictures named on the command line (or stdin), or with `evaluate` the test
/// images of the run's data (`--dataset`/`--data`, the run's `--seed`).
///
/// # Errors
/// The readers' errors; test images of another shape than the run's.
pub fn classify(
    model: &impl ImageForward,
    run: &ImageRun,
    (matches, common): (&ArgMatches, &Common),
    evaluate: bool,
    top: usize,
) -> Result<Outcome, BoxError> {
    let device = &common.backend.device;
    if evaluate {
        let test = test_images(matches, common, run.pictures)?;
        let shape = [test.channels(), test.height(), test.width()];
        if shape != run.shape {
            return Err(format!(
                "the test images are {}x{}x{}, the run was trained on {}x{}x{}",
                shape[0], shape[1], shape[2], run.shape[0], run.shape[1], run.shape[2]
            )
            .into());
        }
        let images: Vec<Vec<u8>> = (0..test.len())
            .map(|i| test.raw_pixels(i).unwrap_or_default().to_vec())
            .collect();
        let rows = probabilities(model, &images, run.shape, test.max_value(), device)?;
        // Ids are looked up by class name where the data has names: they must be the run's.
        let expected = match test.class_names() {
            [] => test.labels().into_iter().map(Some).collect(),
            names => test
                .labels()
                .into_iter()
                .map(|l| run.classes.iter().position(|c| *c == names[l]))
                .collect(),
        };
        Ok(Outcome::Classes(rows, Some(expected)))
    } else {
        let files = inputs(matches)?;
        let images = files
            .iter()
            .map(|f| read_picture(f, run.pictures))
            .collect::<Result<Vec<_>, _>>()?;
        let pixels: usize = run.shape.iter().product();
        if let Some((file, image)) = files.iter().zip(&images).find(|(_, i)| i.len() != pixels) {
            return Err(format!(
                "{file}: read as {} values, the run's images have {pixels} (a damaged run card?)",
                image.len()
            )
            .into());
        }
        let rows = probabilities(model, &images, run.shape, 255, device)?;
        print_top(&files, &rows, run.classes, top);
        Ok(Outcome::Classes(rows, None))
    }
}

/// Class probabilities of `pictures` (bytes `[C, H, W]` each, of `max_value` full scale).
fn probabilities(
    model: &impl ImageForward,
    pictures: &[Vec<u8>],
    [c, h, w]: [usize; 3],
    max_value: u8,
    device: &Device,
) -> Result<Vec<Vec<f32>>, BoxError> {
    let mut rows = Vec::with_capacity(pictures.len());
    let scale = 1.0 / f32::from(max_value);
    for chunk in pictures.chunks(256) {
        let pixels: Vec<f32> = chunk
            .iter()
            .flatten()
            .map(|&p| f32::from(p) * scale)
            .collect();
        let data = TensorData::new(pixels, [chunk.len(), c, h, w]);
        rows.extend(softmax_rows(
            model.scores(Tensor::<4>::from_data(data, device))?,
        )?);
    }
    Ok(rows)
}

/// The test images of the run's data (`--dataset`/`--data`, the run's `--seed`).
fn test_images(
    matches: &ArgMatches,
    common: &Common,
    pictures: &ImageFolderConfig,
) -> Result<ImageDataset, BoxError> {
    let name = matches
        .get_one::<String>("dataset")
        .map_or("mnist_subset", String::as_str);
    let data = load_images(
        name,
        matches.get_one::<PathBuf>("data"),
        pictures,
        common.seed,
    )?;
    Ok(data.test)
}
