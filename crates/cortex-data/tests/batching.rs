//! One item → batch path: every dataset and adapter batches through `Collate`, and a mapped
//! or filtered dataset feeds the same tensors a hand-built batch would.

use burn::tensor::{Device, Tensor};
use cortex_data::*;

fn floats<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().iter().collect()
}

fn ints(t: Tensor<1, burn::tensor::Int>) -> Vec<i64> {
    t.into_data().iter().collect()
}

fn rows() -> TabularDataset {
    let features = vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
    let targets = Targets::Classes {
        ids: vec![0, 1, 1],
        names: vec!["a".into(), "b".into()],
    };
    TabularDataset::new(features, vec!["x".into(), "y".into()], targets).unwrap()
}

#[test]
fn a_mapped_dataset_batches_what_its_function_returns() {
    let device = Device::flex();
    let doubled = rows().map(|mut s: TabularSample| {
        s.features.iter_mut().for_each(|v| *v *= 2.0);
        s
    });
    let batch = doubled.batch(&[2, 0], &device).unwrap();
    assert_eq!(floats(batch.features), [10.0, 12.0, 2.0, 4.0]);
    assert_eq!(ints(batch.classes.unwrap()), [1, 0]);
    // A function turning classes into values gives a regression batch.
    let as_values = rows().map(|s: TabularSample| TabularSample {
        value: s.class.map(|c| c as f64 + 0.5),
        class: None,
        ..s
    });
    let (_, values) = as_values
        .batch(&[1], &device)
        .unwrap()
        .into_values()
        .unwrap();
    assert_eq!(floats(values), [1.5]);
}

#[test]
fn a_filtered_dataset_batches_the_rows_it_kept() {
    let device = Device::flex();
    let kept = rows().filter(|s| s.class == Some(1));
    assert_eq!(kept.len(), 2);
    let batch = kept.batch(&[1, 0], &device).unwrap();
    assert_eq!(floats(batch.features), [5.0, 6.0, 3.0, 4.0]);
    assert!(matches!(
        kept.batch(&[2], &device),
        Err(Error::InvalidArgument(InvalidValue {
            argument: "indices",
            ..
        }))
    ));
}

#[test]
fn items_that_do_not_stack_are_errors() {
    let device = Device::flex();
    let image = |height, width| ImageSample {
        pixels: vec![0.5; height * width],
        channels: 1,
        height,
        width,
        label: 0,
    };
    let batch = ImageSample::collate(vec![image(2, 3), image(2, 3)], &device).unwrap();
    assert_eq!(batch.images.dims(), [2, 1, 2, 3]);
    assert!(matches!(
        ImageSample::collate(vec![image(2, 3), image(3, 2)], &device),
        Err(Error::ShapeMismatch {
            what: "ImageSample::collate",
            ..
        })
    ));
    let mixed = rows().map(|s: TabularSample| TabularSample {
        value: (s.class == Some(0)).then_some(1.0),
        class: s.class.filter(|&c| c == 1),
        ..s
    });
    assert!(matches!(
        mixed.batch(&[0, 1], &device),
        Err(Error::InvalidArgument(InvalidValue {
            argument: "items",
            ..
        }))
    ));
    assert!(matches!(
        WindowSample::collate(Vec::new(), &device),
        Err(Error::InvalidArgument(InvalidValue {
            argument: "items",
            ..
        }))
    ));
}
