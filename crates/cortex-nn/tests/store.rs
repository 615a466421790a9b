//! Save/load round trips for every layer (identical outputs), and the typed errors of
//! loading another architecture, a missing or corrupt file, and a failed write.

use std::path::PathBuf;

use burn::module::Module;
use burn::tensor::{DType, Device, Int, Tensor, TensorData};
use cortex_nn::*;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cortex-nn-store-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn ramp<const D: usize>(shape: [usize; D], device: &Device) -> Tensor<D> {
    let n: usize = shape.iter().product();
    let values: Vec<f32> = (0..n).map(|k| ((k * 5 % 13) as f32 - 6.0) * 0.1).collect();
    Tensor::from_data(TensorData::new(values, shape), device)
}

fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().iter::<f32>().collect()
}

/// Saves `trained`, loads it into `fresh` (other initial values), and compares `forward`.
fn round_trip<M, F>(name: &str, trained: M, fresh: M, forward: F)
where
    M: Module + Clone,
    F: Fn(&M) -> Vec<f32>,
{
    let path = scratch(name);
    let before = forward(&trained);
    assert_ne!(
        before,
        forward(&fresh),
        "{name}: the fresh layer must differ to prove the load"
    );
    save(&trained, &path).unwrap();
    let loaded = load(fresh, &path).unwrap();
    assert_eq!(forward(&loaded), before, "{name}");
}

#[test]
fn every_layer_round_trips_through_a_file() {
    let d = Device::flex();
    let seeds = |s| s;
    round_trip(
        "linear.bpk",
        LinearConfig::new(3, 2)
            .with_seed(Some(seeds(1)))
            .init(&d)
            .unwrap(),
        LinearConfig::new(3, 2).with_seed(Some(2)).init(&d).unwrap(),
        |m| values(m.forward(ramp([2, 3], &d)).unwrap()),
    );
    let conv = |seed| {
        Conv1dConfig::new(2, 3, 3)
            .with_padding(Padding::Same)
            .with_seed(Some(seed))
            .init(&d)
            .unwrap()
    };
    round_trip("conv1d.bpk", conv(1), conv(2), |m| {
        values(m.forward(ramp([1, 2, 5], &d)).unwrap())
    });
    let conv = |seed| {
        Conv2dConfig::new(2, 2, [2, 2])
            .with_groups(2)
            .with_seed(Some(seed))
            .init(&d)
            .unwrap()
    };
    round_trip("conv2d.bpk", conv(1), conv(2), |m| {
        values(m.forward(ramp([1, 2, 4, 4], &d)).unwrap())
    });
    let emb = |seed| {
        EmbeddingConfig::new(5, 3)
            .with_seed(Some(seed))
            .init(&d)
            .unwrap()
    };
    round_trip("embedding.bpk", emb(1), emb(2), |m| {
        values(
            m.forward::<1, 2>(Tensor::<1, Int>::from_ints([4, 0, 2], &d))
                .unwrap(),
        )
    });
    // Batch norm: the running statistics travel with the file.
    let trained = BatchNormConfig::new(2).init(&d).unwrap();
    trained.forward(ramp([4, 2], &d)).unwrap();
    let fresh = BatchNormConfig::new(2).init(&d).unwrap();
    round_trip("batch_norm.bpk", trained.valid(), fresh.valid(), |m| {
        values(m.forward(ramp([3, 2], &d)).unwrap())
    });
    let ln = |seed: u64| {
        let w = Tensor::<1>::from_floats([1.0, 2.0, seed as f32], &d);
        LayerNorm::from_tensors(&LayerNormConfig::new(vec![3]), Some(w), None).unwrap()
    };
    round_trip("layer_norm.bpk", ln(1), ln(2), |m| {
        values(m.forward(ramp([2, 3], &d)).unwrap())
    });
    let lstm = |seed| {
        LstmConfig::new(2, 3)
            .with_num_layers(2)
            .with_bidirectional(true)
            .with_seed(Some(seed))
            .init(&d)
            .unwrap()
    };
    round_trip("lstm.bpk", lstm(1), lstm(2), |m| {
        values(m.forward(ramp([2, 4, 2], &d), None).unwrap().output)
    });
    let gru = |seed| GruConfig::new(2, 3).with_seed(Some(seed)).init(&d).unwrap();
    round_trip("gru.bpk", gru(1), gru(2), |m| {
        values(m.forward(ramp([2, 4, 2], &d), None).unwrap().state)
    });
    let rnn = |seed| RnnConfig::new(2, 3).with_seed(Some(seed)).init(&d).unwrap();
    round_trip("rnn.bpk", rnn(1), rnn(2), |m| {
        values(m.forward(ramp([2, 4, 2], &d), None).unwrap().state)
    });
    let cell = |seed| {
        LstmCellConfig::new(2, 3)
            .with_seed(Some(seed))
            .init(&d)
            .unwrap()
    };
    round_trip("lstm_cell.bpk", cell(1), cell(2), |m| {
        values(m.forward(ramp([2, 2], &d), None).unwrap().h)
    });
    let cell = |seed| {
        GruCellConfig::new(2, 3)
            .with_seed(Some(seed))
            .init(&d)
            .unwrap()
    };
    round_trip("gru_cell.bpk", cell(1), cell(2), |m| {
        values(m.forward(ramp([2, 2], &d), None).unwrap())
    });
    let cell = |seed| {
        RnnCellConfig::new(2, 3)
            .with_seed(Some(seed))
            .init(&d)
            .unwrap()
    };
    round_trip("rnn_cell.bpk", cell(1), cell(2), |m| {
        values(m.forward(ramp([2, 2], &d), None).unwrap())
    });
    let mlp = |seed| {
        MlpConfig::new(3, vec![4, 4], 2)
            .with_activation(Activation::Tanh)
            .with_seed(Some(seed))
            .init(&d)
            .unwrap()
    };
    round_trip("mlp.bpk", mlp(1), mlp(2), |m| {
        values(m.forward(ramp([2, 3], &d)).unwrap())
    });
    // Parameter-free layers save an empty file and load it back.
    let pool = MaxPool2dConfig::new([2, 2]).init().unwrap();
    let path = scratch("pool.bpk");
    save(&pool, &path).unwrap();
    let loaded = load(pool.clone(), &path).unwrap();
    assert_eq!(
        values(loaded.forward(ramp([1, 1, 4, 4], &d)).unwrap()),
        values(pool.forward(ramp([1, 1, 4, 4], &d)).unwrap())
    );
}

#[test]
fn loading_another_architecture_is_a_typed_error() {
    let d = Device::flex();
    let path = scratch("arch.bpk");
    save(&LinearConfig::new(3, 2).init(&d).unwrap(), &path).unwrap();
    let wider = LinearConfig::new(4, 2).init(&d).unwrap();
    assert!(matches!(
        load(wider, &path),
        Err(Error::Architecture { .. })
    ));
    let no_bias = LinearConfig::new(3, 2).with_bias(false).init(&d).unwrap();
    assert!(matches!(
        load(no_bias, &path),
        Err(Error::Architecture { .. })
    ));
    let deeper = MlpConfig::new(3, vec![2], 2).init(&d).unwrap();
    assert!(matches!(
        load(deeper, &path),
        Err(Error::Architecture { .. })
    ));
    let f64_model = LinearConfig::new(3, 2)
        .init_with_dtype(&d, DType::F64)
        .unwrap();
    // Same shapes in another precision load (burn casts), keeping the architecture check.
    assert!(load(f64_model, &path).is_ok());
}

#[test]
fn missing_and_corrupt_files_are_load_errors() {
    let d = Device::flex();
    let layer = || LinearConfig::new(3, 2).init(&d).unwrap();
    assert!(matches!(
        load(layer(), scratch("absent.bpk")),
        Err(Error::Load { .. })
    ));
    let path = scratch("corrupt.bpk");
    std::fs::write(&path, b"not a model at all").unwrap();
    assert!(matches!(load(layer(), &path), Err(Error::Load { .. })));
    // A truncated real file.
    let good = scratch("truncated.bpk");
    save(&layer(), &good).unwrap();
    let bytes = std::fs::read(&good).unwrap();
    for cut in [0, 8, bytes.len() / 2, bytes.len() - 1] {
        std::fs::write(&good, &bytes[..cut]).unwrap();
        assert!(
            matches!(
                load(layer(), &good),
                Err(Error::Load { .. }) | Err(Error::Architecture { .. })
            ),
            "cut at {cut}"
        );
    }
}

#[test]
fn a_failed_save_keeps_the_earlier_file() {
    let d = Device::flex();
    let path = scratch("kept.bpk");
    let first = LinearConfig::new(3, 2).with_seed(Some(1)).init(&d).unwrap();
    save(&first, &path).unwrap();
    let earlier = std::fs::read(&path).unwrap();
    // The destination's directory vanishes: the write fails, nothing is half-written.
    let missing = scratch("no-such-dir").join("model.bpk");
    let second = LinearConfig::new(3, 2).with_seed(Some(2)).init(&d).unwrap();
    assert!(matches!(save(&second, &missing), Err(Error::Save { .. })));
    // Renaming over a directory fails after the temporary file was written: the temporary
    // is removed and the directory (standing for earlier data) is untouched.
    // In a directory of its own: other tests write temporaries in parallel.
    let dir = scratch("failed-save").join("occupied.bpk");
    std::fs::create_dir_all(dir.join("inside")).unwrap();
    assert!(matches!(save(&second, &dir), Err(Error::Save { .. })));
    assert!(dir.join("inside").is_dir());
    let leftovers: Vec<_> = std::fs::read_dir(dir.parent().unwrap())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    assert_eq!(std::fs::read(&path).unwrap(), earlier);
}
