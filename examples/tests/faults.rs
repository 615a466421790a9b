//! The kill test: a training run with dropout and augmentation (the `mlp` example on MNIST
//! images shifted by up to 2 pixels), killed with SIGKILL again and again — at random moments
//! and inside checkpoint writes — and resumed with `--resume` each time, ends exactly where
//! the uninterrupted run ends: the same history, run state, test figures and weights, bit
//! for bit, on both CPU backends; after every kill the run directory loads.
//!
//! The moments are drawn from a seed printed at the start (`CORTEX_FAULTS_SEED` replays one).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Kills per backend (the issue asks for at least 20).
const KILLS: usize = 20;
/// Epochs of the run: enough that the kills land in every part of it.
const EPOCHS: usize = 8;
/// Milliseconds each checkpoint write holds before its rename, so that kills can land inside.
const WRITE_DELAY_MS: &str = "40";

/// A small xorshift generator: the test needs reproducible moments, not quality randomness.
struct Moments(u64);

impl Moments {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A duration uniform in `[0, max)`.
    fn within(&mut self, max: Duration) -> Duration {
        let nanos = max.as_nanos().max(1) as u64;
        Duration::from_nanos(self.next() % nanos)
    }
}

fn mlp(backend: &str, dir: &Path, resume: bool) -> Command {
    mlp_for(EPOCHS, backend, dir, resume)
}

/// The `mlp` example for `epochs` epochs: MNIST shifted by up to 2 pixels, dropout 0.2.
fn mlp_for(epochs: usize, backend: &str, dir: &Path, resume: bool) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_mlp"));
    command
        .args([
            "--dataset",
            "mnist_subset",
            "--limit",
            "384",
            "--hidden",
            "32",
            "--shift",
            "2",
        ])
        .args(["--epochs", &epochs.to_string(), "--seed", "11", "--quiet"])
        .args(["--backend", backend, "--out"])
        .arg(dir)
        .env(cortex::core::WRITE_DELAY_ENV, WRITE_DELAY_MS)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if resume {
        command.arg("--resume");
    }
    command
}

/// Runs to the end, expecting an error; returns stderr.
fn fail(mut command: Command) -> String {
    let output = command.output().expect("mlp runs");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(
        output.status.code(),
        Some(1),
        "expected a failed run, got:\n{stderr}"
    );
    stderr
}

/// Runs to the end; returns the `final:` line without its wall-clock field.
fn finish(mut command: Command) -> String {
    let output = command.output().expect("mlp runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "mlp failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let line = stdout
        .lines()
        .find(|l| l.starts_with("final: "))
        .unwrap_or_else(|| panic!("no final line in:\n{stdout}"));
    line.split(' ')
        .filter(|field| !field.starts_with("seconds="))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A JSON file without its wall-clock lines (`"seconds": …`).
fn without_seconds(path: &Path) -> String {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .filter(|line| !line.trim_start().starts_with("\"seconds\""))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The epoch `state.json` names (0 without one).
fn checkpointed_epoch(dir: &Path) -> usize {
    let Ok(text) = std::fs::read_to_string(dir.join("state.json")) else {
        return 0;
    };
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with("\"epoch\""))
        .unwrap_or_else(|| panic!("state.json without an epoch:\n{text}"));
    line.trim()
        .trim_start_matches("\"epoch\":")
        .trim_end_matches(',')
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("state.json epoch line `{line}`"))
}

/// After a kill, the directory holds a loadable checkpoint: `state.json` is whole JSON and
/// names model and optimizer files that exist (the resume that follows loads them).
fn assert_loadable(dir: &Path) {
    let epoch = checkpointed_epoch(dir);
    if epoch == 0 {
        return;
    }
    for file in [
        format!("model-{epoch:04}.bpk"),
        format!("optim-{epoch:04}.bpk"),
    ] {
        let path = dir.join(&file);
        let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        assert!(
            size > 0,
            "{}: missing or empty after a kill",
            path.display()
        );
    }
    let state = std::fs::read_to_string(dir.join("state.json")).unwrap();
    assert!(state.trim_end().ends_with('}'), "state.json cut short");
}

/// The write of process `pid` in flight, if any: the name of its temporary file
/// `.NAME.PID.tmp` (those of earlier, killed processes do not count).
fn writing(dir: &Path, pid: u32) -> Option<String> {
    let suffix = format!(".{pid}.tmp");
    std::fs::read_dir(dir).ok()?.flatten().find_map(|e| {
        let name = e.file_name().to_string_lossy().into_owned();
        name.ends_with(&suffix).then_some(name)
    })
}

/// How a kill attempt ended.
#[derive(PartialEq)]
enum Kill {
    /// The run finished before the moment came.
    Missed,
    /// Killed when the time ran out.
    AtTime,
    /// Killed when the awaited event showed.
    AtEvent,
}

/// Waits up to `limit` for `event` (polled every 2 ms) or the child's exit; then kills the
/// child if it still runs.
fn kill_when(child: &mut Child, limit: Duration, event: impl Fn() -> bool) -> Kill {
    let started = Instant::now();
    let mut seen = false;
    while started.elapsed() < limit {
        if event() {
            seen = true;
            break;
        }
        if child.try_wait().expect("child status").is_some() {
            return Kill::Missed;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    child.kill().expect("SIGKILL");
    let status = child.wait().expect("reaped");
    match (status.success(), seen) {
        // It exited by itself just before the kill.
        (true, _) => Kill::Missed,
        (false, true) => Kill::AtEvent,
        (false, false) => Kill::AtTime,
    }
}

/// The model files whose weights must equal the uninterrupted run's.
fn final_models() -> Vec<String> {
    vec!["best.bpk".to_string(), format!("model-{EPOCHS:04}.bpk")]
}

/// Every weight of the `mlp` model saved at `path`, as f32 bit patterns. (The files' bytes
/// also hold burn's random parameter ids, which differ between any two processes; the
/// optimizer file is keyed by them, so its state is compared through its effect: the
/// weights of the epochs after each resume.)
fn weights(path: &Path) -> Vec<u32> {
    use cortex_examples::image_model::{ImageMlp, ImageMlpConfig};
    let device = cortex::burn::tensor::Device::flex();
    let config = ImageMlpConfig {
        shape: [1, 28, 28],
        normalization: vec![(0.0, 1.0)],
        mlp: cortex::nn::MlpConfig::new(784, vec![32], 10).with_dropout(0.2),
    };
    let template = ImageMlp::new(&config, &device).unwrap();
    let model = cortex::nn::load(template, path).unwrap_or_else(|e| panic!("{e}"));
    model
        .mlp()
        .layers()
        .iter()
        .flat_map(|layer| {
            let mut values: Vec<f32> = layer.weight.val().to_data().iter::<f32>().collect();
            if let Some(bias) = &layer.bias {
                values.extend(bias.val().to_data().iter::<f32>());
            }
            values
        })
        .map(f32::to_bits)
        .collect()
}

fn killed_and_resumed_run_equals_the_uninterrupted_one(backend: &str, seed: u64) {
    let root: PathBuf =
        std::env::temp_dir().join(format!("cortex-faults-{backend}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let (straight, faulted) = (root.join("straight"), root.join("faulted"));

    let started = Instant::now();
    let expected = finish(mlp(backend, &straight, false));
    let run_time = started.elapsed();

    let mut moments = Moments(seed | 1);
    let (mut kills, mut inside_writes, mut attempts) = (0, 0, 0);
    while kills < KILLS {
        attempts += 1;
        assert!(
            attempts < 4 * KILLS,
            "{backend}: the run kept finishing before it could be killed"
        );
        let mut child = mlp(backend, &faulted, true).spawn().expect("mlp starts");
        let in_write = kills % 2 == 1;
        let pid = child.id();
        let kill = if in_write {
            // Inside the n-th checkpoint write of the process (n in 1..=6, so that kills land
            // before, between and after the writes of an epoch's files and its state.json).
            let dir = faulted.clone();
            let nth = 1 + (moments.next() % 6) as usize;
            let seen = std::cell::RefCell::new(Vec::<String>::new());
            kill_when(&mut child, run_time, move || {
                let Some(name) = writing(&dir, pid) else {
                    return false;
                };
                let mut seen = seen.borrow_mut();
                if seen.last() != Some(&name) {
                    seen.push(name);
                }
                seen.len() >= nth
            })
        } else {
            // A random moment of the run (most often inside an epoch).
            let at = moments.within(run_time.mul_f64(0.5));
            kill_when(&mut child, at, || false)
        };
        if kill == Kill::Missed {
            // It finished first: start the faulted run over, so every kill counts.
            let _ = std::fs::remove_dir_all(&faulted);
            continue;
        }
        kills += 1;
        inside_writes += usize::from(kill == Kill::AtEvent);
        assert_loadable(&faulted);
    }
    assert!(
        inside_writes >= KILLS / 3,
        "{backend}: only {inside_writes} of {kills} kills landed inside a write"
    );
    let got = finish(mlp(backend, &faulted, true));

    assert_eq!(got, expected, "{backend}: the final line differs");
    for file in ["history.json", "state.json"] {
        assert_eq!(
            without_seconds(&faulted.join(file)),
            without_seconds(&straight.join(file)),
            "{backend}: {file} differs"
        );
    }
    for file in final_models() {
        assert!(
            weights(&faulted.join(&file)) == weights(&straight.join(&file)),
            "{backend}: the weights of {file} differ from the uninterrupted run's"
        );
    }
    let leftovers: Vec<_> = std::fs::read_dir(&faulted)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "stale temporary files: {leftovers:?}");
    println!(
        "{backend}: {kills} kills ({inside_writes} inside checkpoint writes) in {attempts} \
         attempts; final state bit-identical to the uninterrupted run ({:.1} s)",
        run_time.as_secs_f64()
    );
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn a_run_killed_again_and_again_ends_where_the_uninterrupted_run_ends() {
    let seed = std::env::var("CORTEX_FAULTS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
        });
    println!("kill moments seed: {seed} (CORTEX_FAULTS_SEED={seed} replays them)");
    for backend in ["flex", "ndarray"] {
        killed_and_resumed_run_equals_the_uninterrupted_one(backend, seed);
    }
}

/// The checkpoint of epoch `epoch` in `dir` (state, model, optimizer, best model) with its
/// bytes. The history files may run ahead of it (they are written before `state.json`, the
/// commit point, and rewritten when the epoch is redone).
fn snapshot(dir: &Path, epoch: usize) -> Vec<(String, Vec<u8>)> {
    [
        "state.json".to_string(),
        format!("model-{epoch:04}.bpk"),
        format!("optim-{epoch:04}.bpk"),
        "best.bpk".to_string(),
    ]
    .iter()
    .map(|name| {
        let bytes = std::fs::read(dir.join(name))
            .unwrap_or_else(|e| panic!("{}: {e}", dir.join(name).display()));
        (name.to_string(), bytes)
    })
    .collect()
}

/// Stops a 4-epoch run in `dir` after its second checkpoint, runs `faulty` (its continuation
/// under some fault), expects a failed run whose message names a path of `dir`, and checks
/// that the checkpoint, history and best model are untouched and still resume to the
/// uninterrupted run's end.
fn failed_write_keeps_the_checkpoint(
    name: &str,
    faulty: impl FnOnce(&Path) -> Command,
    repair: impl FnOnce(&Path),
) {
    let root = std::env::temp_dir().join(format!("cortex-writes-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let (straight, dir) = (root.join("straight"), root.join("run"));
    let expected = finish(mlp_for(4, "flex", &straight, false));
    let mut child = mlp_for(4, "flex", &dir, false).spawn().expect("mlp starts");
    let watched = dir.clone();
    kill_when(&mut child, Duration::from_secs(600), move || {
        checkpointed_epoch(&watched) >= 2
    });
    let epoch = checkpointed_epoch(&dir);
    assert!((1..4).contains(&epoch), "{name}: stopped at epoch {epoch}");
    let before = snapshot(&dir, epoch);

    let stderr = fail(faulty(&dir));
    assert!(
        stderr.contains(&*dir.to_string_lossy()),
        "{name}: the error does not name the run directory:\n{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{name}: {stderr}");
    repair(&dir);
    assert!(
        snapshot(&dir, epoch) == before,
        "{name}: the failed run changed the checkpoint"
    );
    let history = std::fs::read_to_string(dir.join("history.json")).unwrap();
    assert!(
        history.trim_end().ends_with('}'),
        "{name}: history.json cut short"
    );
    assert_eq!(checkpointed_epoch(&dir), epoch);
    let got = finish(mlp_for(4, "flex", &dir, true));
    assert_eq!(got, expected, "{name}: the resumed run differs");
    let _ = std::fs::remove_dir_all(&root);
}

/// A file-size limit (`setrlimit(RLIMIT_FSIZE)` through the shell's `ulimit -f`, with SIGXFSZ
/// ignored so the write fails with EFBIG instead of killing the process): the model file of
/// epoch 3 cannot be written.
#[test]
fn a_write_past_the_file_size_limit_fails_and_keeps_the_checkpoint() {
    failed_write_keeps_the_checkpoint(
        "fsize",
        |dir| {
            let inner = mlp_for(4, "flex", dir, true);
            let mut words = vec![inner.get_program().to_string_lossy().into_owned()];
            words.extend(inner.get_args().map(|a| a.to_string_lossy().into_owned()));
            let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
            let mut command = Command::new("bash");
            command
                .arg("-c")
                // 16 KiB: the history files fit, the 100 KiB model does not.
                .arg(format!(
                    "trap '' XFSZ; ulimit -f 16; exec {}",
                    quoted.join(" ")
                ));
            command
        },
        |_| {},
    );
}

/// A directory the run may not write into (as root, whom permissions do not stop, the run
/// is started as user `nobody`).
#[test]
fn a_read_only_run_directory_fails_and_keeps_the_checkpoint() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    use std::os::unix::process::CommandExt;
    let root = std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0);
    failed_write_keeps_the_checkpoint(
        "read-only",
        |dir| {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o555)).unwrap();
            let mut command = mlp_for(4, "flex", dir, true);
            if root {
                command.uid(65534).gid(65534);
            }
            command
        },
        |dir| std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap(),
    );
}

/// The run directory removed while the run trains: the next write fails with an error naming
/// it, instead of a run that silently recreates a directory without its best model.
#[test]
fn a_run_directory_that_vanishes_fails_with_its_path() {
    let dir = std::env::temp_dir().join(format!("cortex-writes-vanish-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut child = mlp_for(30, "flex", &dir, false)
        .spawn()
        .expect("mlp starts");
    let started = Instant::now();
    while checkpointed_epoch(&dir) == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "no checkpoint"
        );
        assert!(child.try_wait().unwrap().is_none(), "the run ended early");
        std::thread::sleep(Duration::from_millis(5));
    }
    // Moved away in one step (a removal file by file races the run's next write into it).
    let gone = dir.with_extension("gone");
    std::fs::rename(&dir, &gone).unwrap();
    std::fs::remove_dir_all(&gone).unwrap();
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(&*dir.to_string_lossy()), "{stderr}");
    assert!(!dir.exists(), "the run recreated its directory");
    let _ = std::fs::remove_dir_all(&dir);
}
