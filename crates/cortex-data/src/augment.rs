//! Data augmentation of image batches: random shifts, drawn from the run context.

use std::sync::atomic::{AtomicU64, Ordering};

use burn::tensor::Device;
use cortex_ops::random::{mix, step_draw, stream};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use crate::batch::{Collate, ImageBatch, ToBatch, check_indices};
use crate::dataset::{Dataset, ImageDataset, ImageSample};
use crate::error::Result;

/// Images whose batches are shifted at random: each image of a batch moves by up to
/// `max_shift` pixels along each axis (zeros fill in), a new draw every time it is batched.
/// With `max_shift` 0 the batches are the images as they are.
///
/// Inside a training step (`cortex_ops::random::in_step`, which the trainer installs) the
/// shifts are drawn from the run context — `(run seed, epoch, step, draw)` mixed with `seed` —
/// so a resumed run sees the shifts of the uninterrupted one; outside a step they come from
/// `(seed, number of earlier batches)`.
///
/// ```
/// use burn::tensor::Device;
/// use cortex_data::{ImageDataset, ShiftedImages, ToBatch};
///
/// let images = ImageDataset::new(vec![0, 0, 0, 0, 9, 0, 0, 0, 0], vec![1], 3, 3, 9)?;
/// let shifted = ShiftedImages::new(images, 1, 7);
/// let batch = shifted.batch(&[0], &Device::flex())?;
/// let pixels: Vec<f32> = batch.images.into_data().iter::<f32>().collect();
/// // The one bright pixel moved by at most one pixel; nothing else appeared.
/// assert_eq!(pixels.iter().filter(|&&p| p == 1.0).count(), 1);
/// # Ok::<(), cortex_data::Error>(())
/// ```
#[derive(Debug)]
pub struct ShiftedImages {
    images: ImageDataset,
    max_shift: usize,
    seed: u64,
    batches: AtomicU64,
}

impl ShiftedImages {
    /// Wraps `images`, shifting by up to `max_shift` pixels with masks seeded by `seed`.
    pub fn new(images: ImageDataset, max_shift: usize, seed: u64) -> Self {
        Self {
            images,
            max_shift,
            seed,
            batches: AtomicU64::new(0),
        }
    }

    /// The images as they are.
    pub fn images(&self) -> &ImageDataset {
        &self.images
    }

    /// The largest shift along each axis, in pixels.
    pub fn max_shift(&self) -> usize {
        self.max_shift
    }

    /// The generator of the next batch's shifts.
    fn next_rng(&self) -> StdRng {
        let seed = step_draw(mix(stream::AUGMENTATION, self.seed))
            .unwrap_or_else(|| mix(self.seed, self.batches.fetch_add(1, Ordering::Relaxed)));
        StdRng::seed_from_u64(seed)
    }
}

impl Dataset for ShiftedImages {
    type Item = ImageSample;

    fn len(&self) -> usize {
        self.images.len()
    }

    fn get(&self, index: usize) -> Option<ImageSample> {
        self.images.get(index)
    }
}

impl ToBatch for ShiftedImages {
    type Batch = ImageBatch;

    fn batch(&self, indices: &[usize], device: &Device) -> Result<ImageBatch> {
        if self.max_shift == 0 {
            return self.images.batch(indices, device);
        }
        check_indices("ShiftedImages::batch", indices, self.len())?;
        let mut rng = self.next_rng();
        let channels = self.images.channels();
        let (height, width) = (self.images.height(), self.images.width());
        let (h, w) = (height as isize, width as isize);
        let max = self.max_shift as i64;
        let scale = 1.0 / f32::from(self.images.max_value());
        let mut shifted = Vec::with_capacity(indices.len());
        for &i in indices {
            let source = self.images.raw_pixels(i).unwrap_or_default();
            let dy = rng.random_range(-max..=max) as isize;
            let dx = rng.random_range(-max..=max) as isize;
            let mut pixels = Vec::with_capacity(channels * height * width);
            for plane in source.chunks(height * width).take(channels) {
                for y in 0..h {
                    for x in 0..w {
                        let (sy, sx) = (y - dy, x - dx);
                        let inside = (0..h).contains(&sy) && (0..w).contains(&sx);
                        let value = if inside {
                            plane.get((sy * w + sx) as usize).copied().unwrap_or(0)
                        } else {
                            0
                        };
                        pixels.push(f32::from(value) * scale);
                    }
                }
            }
            let label = self.images.label(i).unwrap_or_default();
            shifted.push(ImageSample {
                pixels,
                channels,
                height,
                width,
                label,
            });
        }
        ImageSample::collate(shifted, device)
    }
}

#[cfg(test)]
mod tests {
    use cortex_ops::random::{StepKey, in_step};

    use super::*;

    fn digits() -> ImageDataset {
        // Four 5x5 images, each with one bright pixel in the middle.
        let mut pixels = vec![0u8; 4 * 25];
        for k in 0..4 {
            pixels[k * 25 + 12] = 255;
        }
        ImageDataset::new(pixels, vec![0, 1, 2, 3], 5, 5, 255).unwrap()
    }

    fn bright(batch: &ImageBatch) -> Vec<usize> {
        let values: Vec<f32> = batch.images.to_data().iter::<f32>().collect();
        values
            .chunks(25)
            .map(|image| image.iter().position(|&p| p == 1.0).unwrap_or(usize::MAX))
            .collect()
    }

    #[test]
    fn shifts_stay_within_the_bound_and_follow_the_step() {
        let device = Device::flex();
        let shifted = ShiftedImages::new(digits(), 1, 3);
        let key = StepKey::new(9, 1, 1);
        let first = in_step(key, || shifted.batch(&[0, 1, 2, 3], &device)).unwrap();
        for position in bright(&first) {
            let (y, x) = (position / 5, position % 5);
            assert!((1..=3).contains(&y) && (1..=3).contains(&x), "{position}");
        }
        // Batches outside the step do not move the step's shifts.
        shifted.batch(&[0, 1], &device).unwrap();
        let again = in_step(key, || shifted.batch(&[0, 1, 2, 3], &device)).unwrap();
        assert_eq!(bright(&first), bright(&again));
        // Over a few steps the shifts vary.
        let positions: std::collections::BTreeSet<Vec<usize>> = (1..=8)
            .map(|step| {
                let batch = in_step(StepKey::new(9, 1, step), || {
                    shifted.batch(&[0, 1, 2, 3], &device)
                });
                bright(&batch.unwrap())
            })
            .collect();
        assert!(positions.len() > 1);
        assert_eq!(bright(&first).len(), 4);
        // Labels are kept.
        let labels: Vec<i64> = first.labels.to_data().iter::<i64>().collect();
        assert_eq!(labels, vec![0, 1, 2, 3]);
    }

    #[test]
    fn no_shift_returns_the_images_and_bad_indices_are_errors() {
        let device = Device::flex();
        let plain = ShiftedImages::new(digits(), 0, 3);
        assert_eq!(bright(&plain.batch(&[2], &device).unwrap()), vec![12]);
        let shifted = ShiftedImages::new(digits(), 2, 3);
        assert!(shifted.batch(&[4], &device).is_err());
        assert!(shifted.batch(&[], &device).is_err());
    }
}
