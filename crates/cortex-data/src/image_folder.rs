//! Your own pictures: `DIR/<class>/*.png|jpg|jpeg` decoded (the `image` crate), converted to
//! grayscale or RGB and resized to one size, as an [`ImageDataset`] with the folder names as
//! class names.

use std::path::Path;

use image::imageops::FilterType;
use serde::{Deserialize, Serialize};

use crate::dataset::ImageDataset;
use crate::error::{Cause, Result, invalid, io};
use crate::folders::class_files;

/// The colour of the images a folder is read into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ColorMode {
    /// One channel: luma `0.2126 R + 0.7152 G + 0.0722 B` (Rec. 709).
    Grayscale,
    /// Three channels, R, G, B planes.
    Rgb,
}

impl ColorMode {
    /// Channels per image.
    pub fn channels(self) -> usize {
        match self {
            ColorMode::Grayscale => 1,
            ColorMode::Rgb => 3,
        }
    }
}

/// How an image folder is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageFolderConfig {
    /// Rows every image is resized to (> 0).
    pub height: usize,
    /// Columns every image is resized to (> 0).
    pub width: usize,
    /// Grayscale or RGB.
    pub color: ColorMode,
}

impl ImageFolderConfig {
    /// Images resized to `height × width` in `color`.
    pub fn new(height: usize, width: usize, color: ColorMode) -> Self {
        Self {
            height,
            width,
            color,
        }
    }
}

/// The file extensions read (case-insensitive).
const EXTENSIONS: [&str; 3] = ["png", "jpg", "jpeg"];

/// Reads `DIR/<class>/*.png|jpg|jpeg`: classes are the folder names in sorted order, every
/// image is converted to `config.color` and resized (bilinear, aspect ratio not kept) to
/// `config.height × config.width`; hidden files and other extensions are skipped.
///
/// # Errors
/// [`crate::Error::Io`] for an unreadable folder or an undecodable image (naming the file);
/// [`crate::Error::Empty`] for no class folder or a class folder without images;
/// [`crate::Error::InvalidArgument`] for a zero size or more than 256 classes.
pub fn read_image_folder(
    dir: impl AsRef<Path>,
    config: &ImageFolderConfig,
) -> Result<ImageDataset> {
    read_image_folder_with_classes(dir, config, None)
}

/// As [`read_image_folder`], with the class ids of `classes` (a test folder read with the
/// training folder's [`ImageDataset::class_names`]).
///
/// # Errors
/// As `read_image_folder`, and [`crate::Error::InvalidArgument`] for a class folder outside
/// `classes`.
pub fn read_image_folder_with_classes(
    dir: impl AsRef<Path>,
    config: &ImageFolderConfig,
    classes: Option<&[String]>,
) -> Result<ImageDataset> {
    const W: &str = "read_image_folder";
    let (h, w) = (config.height, config.width);
    if h == 0 || w == 0 {
        return Err(invalid(W, "height/width", "> 0", format!("{h}x{w}")));
    }
    let (rows, cols) = (u32::try_from(h), u32::try_from(w));
    let (Ok(rows), Ok(cols)) = (rows, cols) else {
        return Err(invalid(W, "height/width", "< 2³²", format!("{h}x{w}")));
    };
    let (classes, files) = class_files(dir.as_ref(), &EXTENSIONS, classes)?;
    if classes.len() > 256 {
        return Err(invalid(
            W,
            "classes",
            "at most 256 class folders",
            classes.len(),
        ));
    }
    let mut pixels = Vec::with_capacity(files.len() * config.color.channels() * h * w);
    let mut labels = Vec::with_capacity(files.len());
    for (label, file) in files {
        let decoded = image::open(&file).map_err(|e| io(&file, Cause::new(e)))?;
        match config.color {
            ColorMode::Grayscale => {
                let gray =
                    image::imageops::resize(&decoded.to_luma8(), cols, rows, FilterType::Triangle);
                pixels.extend_from_slice(gray.as_raw());
            }
            ColorMode::Rgb => {
                let rgb =
                    image::imageops::resize(&decoded.to_rgb8(), cols, rows, FilterType::Triangle);
                // Interleaved RGB → channel-major planes.
                for channel in 0..3 {
                    pixels.extend(rgb.as_raw().iter().skip(channel).step_by(3));
                }
            }
        }
        labels.push(label as u8);
    }
    let channels = config.color.channels();
    ImageDataset::with_channels(pixels, labels, channels, h, w, 255)?.with_class_names(classes)
}
