//! Corrupt run directories: truncated, bit-flipped, foreign or empty checkpoint files and
//! `state.json` give typed errors, never a panic — checked on named cases and as a property
//! over mutated bytes of every file of a real checkpoint.

use std::path::{Path, PathBuf};

use burn::tensor::{DType, Device};
use cortex_data::{Dataset, TabularBatch, TabularDataset};
use cortex_nn::{Mlp, MlpConfig};
use cortex_optim::{AdamConfig, OptimizerConfig};
use cortex_train::checkpoint;
use cortex_train::{Error, Output, Trainer, TrainerConfig};
use proptest::prelude::*;

fn model(device: &Device) -> Mlp {
    MlpConfig::new(6, vec![5], 3)
        .with_seed(Some(4))
        .init(device)
        .unwrap()
}

fn optimizer() -> cortex_optim::Optim {
    OptimizerConfig::Adam(AdamConfig::new()).init().unwrap()
}

/// A real one-epoch checkpoint (a trained Adam state included) in a directory of its own;
/// returns the directory.
fn checkpoint_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cortex-corrupt-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let data = cortex_data::bundled::iris().unwrap();
    let features: Vec<f64> = (0..data.len())
        .flat_map(|r| {
            let row: Vec<f64> = (0..4).map(|c| data.value(r, c).unwrap()).collect();
            [row, vec![0.5, -0.5]].concat()
        })
        .collect();
    let names: Vec<String> = (0..6).map(|c| format!("x{c}")).collect();
    let data = TabularDataset::new(features, names, data.targets().clone()).unwrap();
    let trainer = Trainer::new(
        TrainerConfig::new(OptimizerConfig::Adam(AdamConfig::new()))
            .with_epochs(1)
            .with_batch_size(32)
            .with_quiet(true)
            .with_out_dir(&dir),
        &Device::flex(),
    )
    .unwrap();
    trainer
        .fit(
            model(&trainer.device()),
            &data,
            &data,
            |m: &Mlp, b: TabularBatch| {
                let (features, classes) = b.into_classes()?;
                Output::classification(m.forward(features)?, classes)
            },
        )
        .unwrap();
    dir
}

/// Loads the checkpoint of `dir`: `Ok(epoch)` or the error.
fn load(dir: &Path) -> Result<usize, Error> {
    let device = Device::flex().autodiff();
    checkpoint::load(dir, model(&device), optimizer())
        .map(|loaded| loaded.map_or(0, |(_, _, state)| state.epoch))
}

const FILES: [&str; 3] = ["state.json", "model-0001.bpk", "optim-0001.bpk"];

/// Whether `err` is one of the typed errors a corrupt checkpoint may give.
fn is_corrupt_file_error(err: &Error) -> bool {
    matches!(
        err,
        Error::File { .. }
            | Error::Nn(cortex_nn::Error::Load { .. } | cortex_nn::Error::Architecture { .. })
            | Error::Optim(cortex_optim::Error::Load { .. })
    )
}

#[test]
fn empty_truncated_and_foreign_files_are_typed_errors() {
    let dir = checkpoint_dir("named");
    assert_eq!(load(&dir).unwrap(), 1);
    for file in FILES {
        let path = dir.join(file);
        let good = std::fs::read(&path).unwrap();
        for bytes in [
            Vec::new(),
            good[..good.len() / 2].to_vec(),
            good[..1].to_vec(),
        ] {
            std::fs::write(&path, &bytes).unwrap();
            let err = load(&dir).unwrap_err();
            assert!(
                is_corrupt_file_error(&err),
                "{file} of {} bytes: {err:?}",
                bytes.len()
            );
            assert!(err.to_string().contains(file), "{err}");
        }
        std::fs::write(&path, &good).unwrap();
    }
    // A model file of another architecture: the architecture error, naming the file.
    let device = Device::flex().autodiff();
    let other = MlpConfig::new(6, vec![7], 3).init(&device).unwrap();
    cortex_nn::save(&other, dir.join("model-0001.bpk")).unwrap();
    assert!(matches!(
        load(&dir),
        Err(Error::Nn(cortex_nn::Error::Architecture { .. }))
    ));
    // Another precision with the same shapes loads (burn casts) — the values are kept.
    let wide = MlpConfig::new(6, vec![5], 3)
        .with_seed(Some(4))
        .init_with_dtype(&device, DType::F64)
        .unwrap();
    cortex_nn::save(&wide, dir.join("model-0001.bpk")).unwrap();
    assert_eq!(load(&dir).unwrap(), 1);
    // An optimizer file where the model file belongs, and a state naming an absent epoch.
    std::fs::copy(dir.join("optim-0001.bpk"), dir.join("model-0001.bpk")).unwrap();
    assert!(is_corrupt_file_error(&load(&dir).unwrap_err()));
    let state = std::fs::read_to_string(dir.join("state.json")).unwrap();
    std::fs::write(
        dir.join("state.json"),
        state.replace("\"epoch\": 1", "\"epoch\": 7"),
    )
    .unwrap();
    assert!(matches!(
        load(&dir),
        Err(Error::Nn(cortex_nn::Error::Load { .. }))
    ));
    let _ = std::fs::remove_dir_all(&dir);
}

/// One edit of a file's bytes.
#[derive(Debug, Clone)]
enum Edit {
    Truncate(usize),
    FlipBit(usize, u8),
    Overwrite(usize, u8),
    Insert(usize, u8),
}

fn apply(bytes: &mut Vec<u8>, edit: &Edit) {
    let at = |i: usize, len: usize| if len == 0 { 0 } else { i % len };
    match *edit {
        Edit::Truncate(i) => bytes.truncate(at(i, bytes.len() + 1)),
        Edit::FlipBit(i, bit) => {
            if !bytes.is_empty() {
                let i = at(i, bytes.len());
                bytes[i] ^= 1 << (bit % 8);
            }
        }
        Edit::Overwrite(i, value) => {
            if !bytes.is_empty() {
                let i = at(i, bytes.len());
                bytes[i] = value;
            }
        }
        Edit::Insert(i, value) => {
            let i = at(i, bytes.len() + 1);
            bytes.insert(i, value);
        }
    }
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        any::<usize>().prop_map(Edit::Truncate),
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Edit::FlipBit(i, b)),
        (any::<usize>(), any::<u8>()).prop_map(|(i, v)| Edit::Overwrite(i, v)),
        (any::<usize>(), any::<u8>()).prop_map(|(i, v)| Edit::Insert(i, v)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    /// Any file of a real checkpoint, edited anyhow: loading gives the checkpoint or a typed
    /// error, never a panic.
    #[test]
    fn a_mutated_checkpoint_loads_or_is_a_typed_error(
        file in 0..FILES.len(),
        edits in prop::collection::vec(edit(), 1..5),
    ) {
        thread_local! {
            static DIR: PathBuf = checkpoint_dir(&format!("prop-{:?}", std::thread::current().id()));
        }
        DIR.with(|dir| {
            let path = dir.join(FILES[file]);
            let good = std::fs::read(&path).unwrap();
            let mut bytes = good.clone();
            for e in &edits {
                apply(&mut bytes, e);
            }
            std::fs::write(&path, &bytes).unwrap();
            let result = load(dir);
            std::fs::write(&path, &good).unwrap();
            match result {
                // Only epoch 1 has files: any state that loads names it.
                Ok(epoch) => prop_assert_eq!(epoch, 1),
                Err(err) => prop_assert!(is_corrupt_file_error(&err), "{:?}", err),
            }
            Ok(())
        })?;
    }
}
