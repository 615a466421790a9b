//! Shared plumbing of the example programs: the common flags (`--backend`, `--epochs`,
//! `--seed`, `--out`, `--resume`, `--limit`, `--quiet`), error reporting with a non-zero exit, data
//! helpers, and the machine-readable `final:` line.

pub mod baseline;
pub mod image_model;
pub mod rnn_model;
pub mod run_card;
pub mod speech_model;
pub mod text_model;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Arg, ArgAction, ArgMatches, Command, value_parser};
use cortex::data::{
    ColorMode, Dataset, ImageDataset, ImageFolderConfig, ShiftedImages, SplitConfig,
    read_image_folder, read_image_folder_with_classes, split,
};
use cortex::device::NamedDevice;

/// Any error, reported as `error: …` with exit code 1.
pub type BoxError = Box<dyn std::error::Error>;

/// The flags every example takes.
#[derive(Debug, Clone)]
pub struct Common {
    /// The device to train on (`--backend`/`--device`: flex, ndarray, wgpu, cuda:1, …).
    pub backend: NamedDevice,
    /// Epochs (`None`: the example's default).
    pub epochs: Option<usize>,
    /// Seed of initialization, splits and batch order.
    pub seed: u64,
    /// Directory for checkpoints, history and curves.
    pub out: Option<PathBuf>,
    /// Continue the run checkpointed in `out` (from scratch when there is none).
    pub resume: bool,
    /// Use at most this many training samples (quick runs, tests).
    pub limit: Option<usize>,
    /// No progress output.
    pub quiet: bool,
}

/// Adds the common flags to `command`.
pub fn with_common_args(command: Command) -> Command {
    command
        .arg(
            Arg::new("backend")
                .long("backend")
                .visible_alias("device")
                .value_name("DEVICE")
                .default_value("flex")
                .help(
                    "device: flex, ndarray (CPU), or wgpu, vulkan, cuda[:N] in a build with \
                     that feature (e.g. --features wgpu)",
                ),
        )
        .arg(
            Arg::new("epochs")
                .long("epochs")
                .value_parser(value_parser!(usize))
                .help("number of epochs"),
        )
        .arg(
            Arg::new("seed")
                .long("seed")
                .value_parser(value_parser!(u64))
                .default_value("42")
                .help("seed of initialization, splits and batch order"),
        )
        .arg(
            Arg::new("out")
                .long("out")
                .value_name("DIR")
                .value_parser(value_parser!(PathBuf))
                .help("write checkpoints, history.csv/json and curves.svg here"),
        )
        .arg(
            Arg::new("resume")
                .long("resume")
                .action(ArgAction::SetTrue)
                .help(
                    "continue the run checkpointed in --out DIR (from its last completed \
                     epoch; from scratch when DIR holds none)",
                ),
        )
        .arg(
            Arg::new("limit")
                .long("limit")
                .value_parser(value_parser!(usize))
                .help("train on at most this many samples (quick runs)"),
        )
        .arg(
            Arg::new("quiet")
                .long("quiet")
                .action(ArgAction::SetTrue)
                .help("no progress output"),
        )
}

/// Reads the common flags.
///
/// # Errors
/// An unknown backend name, `--epochs 0`, `--limit 0`, `--resume` without `--out`.
pub fn common(matches: &ArgMatches) -> Result<Common, BoxError> {
    let name = matches
        .get_one::<String>("backend")
        .map_or("flex", String::as_str);
    let backend = NamedDevice::parse(name).map_err(|e| format!("--backend: {e}"))?;
    let epochs = matches.get_one::<usize>("epochs").copied();
    if epochs == Some(0) {
        return Err("--epochs must be at least 1".into());
    }
    let limit = matches.get_one::<usize>("limit").copied();
    if limit == Some(0) {
        return Err(
            "--limit 0 leaves nothing to train on: give at least 1 (or leave it out)".into(),
        );
    }
    let out = matches.get_one::<PathBuf>("out").cloned();
    let resume = matches.get_flag("resume");
    if resume && out.is_none() {
        return Err("--resume continues the run in --out DIR: give --out too".into());
    }
    Ok(Common {
        backend,
        epochs,
        seed: matches.get_one::<u64>("seed").copied().unwrap_or(42),
        out,
        resume,
        limit,
        quiet: matches.get_flag("quiet"),
    })
}

/// Runs an example's body: an error is printed as `error: …` and exits with code 1.
pub fn run(body: impl FnOnce() -> Result<(), BoxError>) -> ExitCode {
    match body() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Prints the machine-readable summary: `final: key=value …`.
pub fn print_final(pairs: &[(&str, String)]) {
    let fields: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
    println!("final: {}", fields.join(" "));
}

/// Splits an image training set into training and validation parts (stratified, 10% for
/// validation), after keeping at most `limit` samples.
///
/// # Errors
/// The data crate's errors.
pub fn image_train_validation(
    data: &ImageDataset,
    limit: Option<usize>,
    seed: u64,
) -> Result<(ImageDataset, ImageDataset), BoxError> {
    let labels = data.labels();
    let parts = split(
        data.len(),
        &SplitConfig::new(0.9, 0.1, 0.0).with_seed(seed).stratified(),
        Some(&labels),
    )?;
    let mut train = parts.train;
    if let Some(limit) = limit {
        train.truncate(limit);
    }
    let mut validation = parts.validation;
    if let Some(limit) = limit {
        validation.truncate((limit / 4).max(1));
    }
    Ok((data.select(&train)?, data.select(&validation)?))
}

/// Loads an image dataset: a bundled one by name, or a folder ([`load_image_folder`]).
///
/// # Errors
/// The loaders' errors, or an unknown name.
pub fn load_images(
    name: &str,
    dir: Option<&PathBuf>,
    pictures: &ImageFolderConfig,
    seed: u64,
) -> Result<cortex::data::bundled::TrainTest<ImageDataset>, BoxError> {
    use cortex::data::bundled;
    Ok(match (dir, name) {
        (Some(dir), _) => load_image_folder(dir, pictures, seed)?,
        (None, "mnist_subset") => bundled::mnist_subset()?,
        (None, "digits8x8") => bundled::digits8x8()?,
        (None, "fashion_mnist") => bundled::fashion_mnist()?,
        (None, other) => {
            return Err(format!(
                "--dataset must be mnist_subset, digits8x8 or fashion_mnist, got `{other}`"
            )
            .into());
        }
    })
}

/// Images from `dir`, in whichever layout it has:
/// - an IDX folder (`train-images-idx3-ubyte[.gz]`, `t10k-…`), as MNIST ships;
/// - `train/<class>/…` and `test/<class>/…` picture folders (the test folder read with the
///   training classes);
/// - a single `<class>/…` tree, split 80/20, seeded and stratified.
///
/// Pictures (PNG, JPEG) are resized to `pictures`' size and colour.
///
/// # Errors
/// The readers' errors (a message naming the folder when it has none of these layouts).
pub fn load_image_folder(
    dir: &Path,
    pictures: &ImageFolderConfig,
    seed: u64,
) -> Result<cortex::data::bundled::TrainTest<ImageDataset>, BoxError> {
    use cortex::data::bundled::{TrainTest, idx_folder};
    let entries: Vec<String> = std::fs::read_dir(dir)
        .map_err(|e| format!("cannot read the image folder {}: {e}", dir.display()))?
        .filter_map(|entry| Some(entry.ok()?.file_name().to_string_lossy().into_owned()))
        .collect();
    if entries.iter().any(|name| name.starts_with("train-images")) {
        return Ok(idx_folder(dir, 255)?);
    }
    let (train_dir, test_dir) = (dir.join("train"), dir.join("test"));
    if train_dir.is_dir() && test_dir.is_dir() {
        let train = read_image_folder(&train_dir, pictures)?;
        let classes = Some(train.class_names());
        let test = read_image_folder_with_classes(&test_dir, pictures, classes)?;
        return Ok(TrainTest { train, test });
    }
    let all = read_image_folder(dir, pictures)?;
    let config = SplitConfig::new(0.8, 0.0, 0.2).with_seed(seed).stratified();
    let parts = split(all.len(), &config, Some(&all.labels()))?;
    Ok(TrainTest {
        train: all.select(&parts.train)?,
        test: all.select(&parts.test)?,
    })
}

/// How an example trains: everything but the model and the data.
#[derive(Debug, Clone)]
pub struct Recipe {
    /// Epochs when `--epochs` is not given.
    pub default_epochs: usize,
    /// Samples per step.
    pub batch_size: usize,
    /// The optimizer.
    pub optimizer: cortex::optim::OptimizerConfig,
    /// Learning rate per epoch.
    pub schedule: Option<cortex::optim::LrSchedule>,
    /// Gradient clipping.
    pub clipping: Option<cortex::optim::GradClipping>,
    /// Validation metric selecting the best model.
    pub monitor: cortex::train::Metric,
}

impl Recipe {
    /// Adam at `lr`, annealed (cosine) to `eta_min` over the run's epochs (`--epochs`, else
    /// `default_epochs`), batches of `batch_size`, no clipping, the best model by `monitor`.
    pub fn adam_cosine(
        common: &Common,
        (default_epochs, batch_size): (usize, usize),
        lr: f64,
        eta_min: f64,
        monitor: cortex::train::Metric,
    ) -> Self {
        Self {
            default_epochs,
            batch_size,
            optimizer: cortex::optim::AdamConfig::new().with_lr(lr).into(),
            schedule: Some(cortex::optim::LrSchedule::CosineAnnealing {
                lr,
                t_max: common.epochs.unwrap_or(default_epochs),
                eta_min,
                restart_mult: None,
            }),
            clipping: None,
            monitor,
        }
    }

    /// Sets gradient clipping.
    pub fn with_clipping(mut self, clipping: cortex::optim::GradClipping) -> Self {
        self.clipping = Some(clipping);
        self
    }
}

/// Trains with `recipe` (the best model by the monitored validation metric is kept), then
/// measures it on `test`. Returns the fitted run and the test metrics.
///
/// `init` builds the model under the model seed `--seed` ([`cortex::nn::seeded`]): its layers
/// get distinct, reproducible initial values without threading seeds by hand. With
/// `--resume` the run checkpointed in `--out` continues.
///
/// # Errors
/// The trainer's errors.
pub fn fit_and_test<M, D, F>(
    common: &Common,
    recipe: &Recipe,
    init: impl FnOnce(&cortex::burn::tensor::Device) -> Result<M, BoxError>,
    (train, validation, test): (&D, &D, &D),
    forward: F,
) -> Result<(cortex::train::Fitted<M>, cortex::train::Metrics), BoxError>
where
    M: cortex::burn::module::Module + Clone,
    D: Dataset + cortex::data::ToBatch,
    F: Fn(&M, D::Batch) -> cortex::train::Result<cortex::train::Output>,
{
    use cortex::train::{Trainer, TrainerConfig};
    let mut config = TrainerConfig::new(recipe.optimizer.clone())
        .with_epochs(common.epochs.unwrap_or(recipe.default_epochs))
        .with_batch_size(recipe.batch_size)
        .with_seed(common.seed)
        .with_monitor(recipe.monitor)
        .with_quiet(common.quiet);
    if let Some(schedule) = &recipe.schedule {
        config = config.with_schedule(schedule.clone());
    }
    if let Some(clipping) = recipe.clipping {
        config = config.with_clipping(clipping);
    }
    if let Some(out) = &common.out {
        config = config.with_out_dir(out);
    }
    let trainer = Trainer::new(config, &common.backend.device)?;
    let device = trainer.device();
    let model = cortex::nn::seeded(common.seed, || init(&device))?;
    let fitted = if common.resume {
        trainer.resume(model, train, validation, &forward)?
    } else {
        trainer.fit(model, train, validation, &forward)?
    };
    let metrics = trainer.evaluate(&fitted.model, test, &forward)?;
    Ok((fitted, metrics))
}

/// Prints a classification run's test figures and its `final:` line.
pub fn report_classification(
    metrics: &cortex::train::Metrics,
    epochs: usize,
    started: std::time::Instant,
) {
    let summary = metrics.summary();
    if let cortex::train::Metrics::Classification(m) = metrics {
        let recalls: Vec<String> = (0..m.confusion.classes())
            .filter_map(|c| m.confusion.recall(c).map(|r| format!("{r:.3}")))
            .collect();
        println!("test recall per class: {}", recalls.join(" "));
    }
    print_final(&[
        (
            "test_accuracy",
            format!(
                "{:.4}",
                summary.get("accuracy").copied().unwrap_or(f64::NAN)
            ),
        ),
        (
            "test_loss",
            format!("{:.4}", summary.get("loss").copied().unwrap_or(f64::NAN)),
        ),
        ("epochs", epochs.to_string()),
        ("seconds", format!("{:.1}", started.elapsed().as_secs_f64())),
    ]);
}

/// Adds `--dataset NAME` and `--data DIR` (the image examples' data flags) to `command`.
pub fn with_image_args(command: Command) -> Command {
    command
        .arg(
            Arg::new("dataset")
                .long("dataset")
                .default_value("mnist_subset")
                .help("mnist_subset, digits8x8 or fashion_mnist"),
        )
        .arg(
            Arg::new("data")
                .long("data")
                .value_name("DIR")
                .value_parser(value_parser!(PathBuf))
                .help(
                    "an IDX folder (train-images-idx3-ubyte[.gz], ...), train/<class>/ and \
                     test/<class>/ picture folders, or one <class>/ tree (split 80/20)",
                ),
        )
        .arg(
            Arg::new("size")
                .long("size")
                .value_name("HxW")
                .default_value("28x28")
                .help("picture folders: the size every picture is resized to"),
        )
        .arg(
            Arg::new("shift")
                .long("shift")
                .value_name("N")
                .default_value("0")
                .value_parser(value_parser!(usize))
                .help(
                    "augmentation: training images move by up to N pixels each time they are \
                     drawn (default 0: off, safe for any image set; 2 helps on centred digits; \
                     images under 16 px tall never move)",
                ),
        )
        .arg(
            Arg::new("color")
                .long("color")
                .value_parser(["gray", "rgb"])
                .default_value("gray")
                .help("picture folders: grayscale or RGB"),
        )
}

/// `--size HxW` and `--color` as a picture-folder configuration.
///
/// # Errors
/// A message for a size that is not `HxW` with both positive.
fn picture_config(matches: &ArgMatches) -> Result<ImageFolderConfig, BoxError> {
    let size = matches
        .get_one::<String>("size")
        .map_or("28x28", String::as_str);
    let parsed = size
        .split_once(['x', 'X'])
        .and_then(|(h, w)| {
            Some((
                h.trim().parse::<usize>().ok()?,
                w.trim().parse::<usize>().ok()?,
            ))
        })
        .filter(|&(h, w)| h > 0 && w > 0);
    let Some((height, width)) = parsed else {
        return Err(format!("--size must be HxW with both > 0 (e.g. 28x28), got `{size}`").into());
    };
    let color = match matches.get_one::<String>("color").map(String::as_str) {
        Some("rgb") => ColorMode::Rgb,
        _ => ColorMode::Grayscale,
    };
    Ok(ImageFolderConfig::new(height, width, color))
}

/// The split of a table (`mlp --csv`): 70% training, 15% validation, 15% test, stratified by
/// class and seeded with the run's `seed` (`predict --evaluate` redraws it).
pub fn table_split_config(seed: u64) -> SplitConfig {
    SplitConfig::new(0.7, 0.15, 0.15)
        .with_seed(seed)
        .stratified()
}

/// The test rows of `linear_regression`'s fixed split of `rows` rows: every fifth row.
pub fn regression_test_rows(rows: usize) -> Vec<usize> {
    (0..rows).filter(|i| i % 5 == 4).collect()
}

/// How a run card reads a new picture: the size and colour of `images`.
pub fn picture_card(images: &ImageDataset) -> ImageFolderConfig {
    let color = match images.channels() {
        3 => ColorMode::Rgb,
        _ => ColorMode::Grayscale,
    };
    ImageFolderConfig::new(images.height(), images.width(), color)
}

/// `images`' class names by id, or the ids themselves (`0`, `1`, …) for data without names
/// (IDX files), `classes` of them.
pub fn class_names(images: &ImageDataset, classes: usize) -> Vec<String> {
    match images.class_names() {
        [] => (0..classes).map(|c| c.to_string()).collect(),
        names => names.to_vec(),
    }
}

/// The images `--dataset`/`--data` name, split into training (shifted by up to `--shift`
/// pixels when drawn; not at all under 16 pixels tall, too coarse to shift), validation and
/// test parts.
///
/// # Errors
/// The loaders' and the split's errors.
pub fn image_splits(
    matches: &ArgMatches,
    common: &Common,
) -> Result<(ShiftedImages, ShiftedImages, ShiftedImages), BoxError> {
    let shift = matches.get_one::<usize>("shift").copied().unwrap_or(0);
    let name = matches
        .get_one::<String>("dataset")
        .map_or("mnist_subset", String::as_str);
    let pictures = picture_config(matches)?;
    let data = load_images(
        name,
        matches.get_one::<PathBuf>("data"),
        &pictures,
        common.seed,
    )?;
    let (train, validation) = image_train_validation(&data.train, common.limit, common.seed)?;
    let shift = if train.height() >= 16 { shift } else { 0 };
    Ok((
        ShiftedImages::new(train, shift, common.seed),
        ShiftedImages::new(validation, 0, 0),
        ShiftedImages::new(data.test, 0, 0),
    ))
}
