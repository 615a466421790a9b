//! Your own pictures: class folders of PNG and JPEG files as an image dataset.

use std::path::PathBuf;

use burn::tensor::Device;
use cortex_data::*;
use image::{Rgb, RgbImage};
use proptest::prelude::*;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cortex-images-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn solid(width: u32, height: u32, colour: [u8; 3]) -> RgbImage {
    RgbImage::from_pixel(width, height, Rgb(colour))
}

/// `DIR/cat/*.png` (red, two sizes), `DIR/dog/*.jpg` (blue), and files to skip.
fn pets(name: &str) -> PathBuf {
    let dir = scratch(name);
    for class in ["cat", "dog"] {
        std::fs::create_dir_all(dir.join(class)).unwrap();
    }
    solid(8, 6, [255, 0, 0])
        .save(dir.join("cat/a.png"))
        .unwrap();
    solid(3, 3, [255, 0, 0])
        .save(dir.join("cat/b.PNG"))
        .unwrap();
    solid(5, 5, [0, 0, 255])
        .save(dir.join("dog/c.jpg"))
        .unwrap();
    std::fs::write(dir.join("dog/notes.txt"), "skipped").unwrap();
    std::fs::write(dir.join("dog/.thumb.jpg"), "skipped").unwrap();
    dir
}

#[test]
fn class_folders_become_resized_rgb_planes_named_by_folder() {
    let dir = pets("rgb");
    let data = read_image_folder(&dir, &ImageFolderConfig::new(4, 4, ColorMode::Rgb)).unwrap();
    assert_eq!(data.class_names(), ["cat", "dog"]);
    assert_eq!(data.labels(), [0, 0, 1]);
    assert_eq!((data.channels(), data.height(), data.width()), (3, 4, 4));
    // A solid red image stays solid red whatever the resize: plane 0 full, planes 1, 2 empty.
    let red = data.raw_pixels(0).unwrap();
    assert!(red[..16].iter().all(|&p| p == 255) && red[16..].iter().all(|&p| p == 0));
    // JPEG is lossy: the blue plane is near full, the others near empty.
    let blue = data.raw_pixels(2).unwrap();
    assert!(
        blue[32..].iter().all(|&p| p > 240) && blue[..32].iter().all(|&p| p < 15),
        "{blue:?}"
    );
    let batch = data.batch(&[2, 0], &Device::flex()).unwrap();
    assert_eq!(batch.images.dims(), [2, 3, 4, 4]);
    // Shifted batches move every plane together.
    let shifted = ShiftedImages::new(data, 1, 3)
        .batch(&[0, 1], &Device::flex())
        .unwrap();
    assert_eq!(shifted.images.dims(), [2, 3, 4, 4]);
}

#[test]
fn channel_statistics_are_per_plane_and_safe_to_divide_by() {
    // Two 1×2 RGB images: R = 0 and 255 (mean ½, std ½), G constant 51 (std reported as 1),
    // B = 255 everywhere.
    let pixels = vec![0, 255, 51, 51, 255, 255, 0, 255, 51, 51, 255, 255];
    let data = ImageDataset::with_channels(pixels, vec![0, 1], 3, 1, 2, 255).unwrap();
    let stats = data.channel_statistics();
    let close = |a: f64, b: f64| (a - b).abs() < 1e-12;
    assert!(
        close(stats[0].0, 0.5) && close(stats[0].1, 0.5),
        "{stats:?}"
    );
    assert!(
        close(stats[1].0, 0.2) && close(stats[1].1, 1.0),
        "{stats:?}"
    );
    assert!(
        close(stats[2].0, 1.0) && close(stats[2].1, 1.0),
        "{stats:?}"
    );
}

#[test]
fn grayscale_is_rec_709_luma() {
    let dir = pets("gray");
    let data =
        read_image_folder(&dir, &ImageFolderConfig::new(2, 3, ColorMode::Grayscale)).unwrap();
    assert_eq!((data.channels(), data.height(), data.width()), (1, 2, 3));
    // 0.2126 · 255 = 54.2 for pure red; 0.0722 · 255 = 18.4 for pure blue.
    assert!(
        data.raw_pixels(0)
            .unwrap()
            .iter()
            .all(|&p| p.abs_diff(54) <= 1)
    );
    assert!(
        data.raw_pixels(2)
            .unwrap()
            .iter()
            .all(|&p| p.abs_diff(18) <= 3)
    );
}

#[test]
fn a_test_folder_takes_the_training_classes() {
    let train = pets("train");
    let classes = read_image_folder(&train, &ImageFolderConfig::new(2, 2, ColorMode::Rgb))
        .unwrap()
        .class_names()
        .to_vec();
    let test = scratch("test");
    std::fs::create_dir_all(test.join("dog")).unwrap();
    solid(2, 2, [0, 0, 255])
        .save(test.join("dog/x.png"))
        .unwrap();
    let config = ImageFolderConfig::new(2, 2, ColorMode::Rgb);
    let data = read_image_folder_with_classes(&test, &config, Some(&classes)).unwrap();
    assert_eq!((data.labels(), data.class_names()), (vec![1], &classes[..]));
    std::fs::create_dir_all(test.join("bird")).unwrap();
    solid(2, 2, [0, 0, 255])
        .save(test.join("bird/y.png"))
        .unwrap();
    assert!(matches!(
        read_image_folder_with_classes(&test, &config, Some(&classes)),
        Err(Error::InvalidArgument(InvalidValue {
            owner: "class folder",
            ..
        }))
    ));
}

#[test]
fn broken_folders_and_files_are_errors_naming_them() {
    let config = ImageFolderConfig::new(4, 4, ColorMode::Grayscale);
    let dir = pets("broken");
    std::fs::write(dir.join("cat/broken.png"), b"\x89PNG\r\n\x1a\nnot really").unwrap();
    assert!(matches!(
        read_image_folder(&dir, &config),
        Err(Error::Io { path, .. }) if path.ends_with("cat/broken.png")
    ));
    let dir = pets("empty-class");
    std::fs::create_dir_all(dir.join("fish")).unwrap();
    assert!(matches!(
        read_image_folder(&dir, &config),
        Err(Error::Empty { .. })
    ));
    assert!(matches!(
        read_image_folder(scratch("none"), &config),
        Err(Error::Empty { .. })
    ));
    assert!(matches!(
        read_image_folder(scratch("x").join("absent"), &config),
        Err(Error::Io { .. })
    ));
    assert!(matches!(
        read_image_folder(pets("zero"), &ImageFolderConfig::new(0, 4, ColorMode::Rgb)),
        Err(Error::InvalidArgument(_))
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn the_picture_reader_never_panics_on_mutated_files(
        edits in proptest::collection::vec((0usize..120, any::<u8>()), 1..6),
        cut in 8usize..200,
        jpeg in any::<bool>(),
    ) {
        let dir = scratch("fuzz");
        std::fs::create_dir_all(dir.join("a")).unwrap();
        let name = if jpeg { "x.jpg" } else { "x.png" };
        let path = dir.join("a").join(name);
        RgbImage::from_fn(6, 5, |x, y| Rgb([x as u8 * 40, y as u8 * 50, 7])).save(&path).unwrap();
        let mut bytes = std::fs::read(&path).unwrap();
        for (at, value) in edits {
            if at < bytes.len() {
                bytes[at] = value;
            }
        }
        bytes.truncate(cut);
        std::fs::write(&path, &bytes).unwrap();
        let config = ImageFolderConfig::new(4, 4, ColorMode::Rgb);
        match read_image_folder(&dir, &config) {
            Ok(data) => prop_assert_eq!(data.raw_pixels(0).unwrap().len(), 48),
            Err(error) => prop_assert!(matches!(error, Error::Io { .. }), "{error}"),
        }
    }
}
