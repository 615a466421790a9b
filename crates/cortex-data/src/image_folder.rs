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

/// One picture as [`read_image_folder`] reads it: decoded, converted to `config.color`,
/// resized to `config.height × config.width`; bytes `[channels, height, width]` (e.g. a new
/// input for a trained model).
///
/// # Errors
/// [`crate::Error::Io`] for an unreadable or undecodable file;
/// [`crate::Error::InvalidArgument`] for a zero size.
pub fn read_picture(path: impl AsRef<Path>, config: &ImageFolderConfig) -> Result<Vec<u8>> {
    let path = path.as_ref();
    let (h, w) = (config.height, config.width);
    let (Ok(rows), Ok(cols)) = (u32::try_from(h), u32::try_from(w)) else {
        return Err(invalid(
            "read_picture",
            "height/width",
            "< 2³²",
            format!("{h}x{w}"),
        ));
    };
    if rows == 0 || cols == 0 {
        return Err(invalid(
            "read_picture",
            "height/width",
            "> 0",
            format!("{h}x{w}"),
        ));
    }
    let decoded = image::open(path).map_err(|e| io(path, Cause::new(e)))?;
    Ok(match config.color {
        ColorMode::Grayscale => {
            image::imageops::resize(&decoded.to_luma8(), cols, rows, FilterType::Triangle)
                .into_raw()
        }
        ColorMode::Rgb => {
            let rgb = image::imageops::resize(&decoded.to_rgb8(), cols, rows, FilterType::Triangle);
            // Interleaved RGB → channel-major planes.
            (0..3)
                .flat_map(|channel| rgb.as_raw().iter().skip(channel).step_by(3).copied())
                .collect()
        }
    })
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
        pixels.extend(read_picture(&file, config)?);
        labels.push(label as u8);
    }
    let channels = config.color.channels();
    ImageDataset::with_channels(pixels, labels, channels, h, w, 255)?.with_class_names(classes)
}
