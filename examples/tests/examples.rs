//! Every example runs briefly (one short epoch on a few samples) so none of them rots; bad
//! flags and bad data end with a clear error and a non-zero exit, never a panic.

use std::process::{Command, Output};

fn run(bin: &str, args: &[&str]) -> Output {
    Command::new(bin)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {bin}: {e}"))
}

/// The `final:` line's fields.
fn final_fields(output: &Output) -> Vec<(String, f64)> {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout
        .lines()
        .find(|l| l.starts_with("final: "))
        .unwrap_or_else(|| {
            panic!(
                "no final line in:\n{stdout}\n{}",
                String::from_utf8_lossy(&output.stderr)
            )
        });
    line["final: ".len()..]
        .split(' ')
        .map(|kv| {
            let (k, v) = kv.split_once('=').expect("key=value");
            (k.to_string(), v.parse::<f64>().expect("a number"))
        })
        .collect()
}

fn quick(bin: &str, extra: &[&str], keys: &[&str]) {
    let mut args = vec!["--epochs", "1", "--limit", "128", "--quiet"];
    args.extend_from_slice(extra);
    let output = run(bin, &args);
    assert!(
        output.status.success(),
        "{bin} {args:?} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let fields = final_fields(&output);
    for key in keys.iter().chain(&["epochs", "seconds"]) {
        let value = fields
            .iter()
            .find(|(k, _)| k == key)
            .unwrap_or_else(|| panic!("{bin}: no `{key}` in {fields:?}"));
        assert!(value.1.is_finite(), "{bin}: {key} = {}", value.1);
    }
}

#[test]
fn linear_regression_runs_and_predict_uses_it() {
    let root = std::env::temp_dir().join(format!("cortex-linreg-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let (bin, predict) = (
        env!("CARGO_BIN_EXE_linear_regression"),
        env!("CARGO_BIN_EXE_predict"),
    );
    let dir = root.join("run");
    let dir = dir.to_str().unwrap();
    let trained = succeed(bin, &["--epochs", "50", "--quiet", "--out", dir]);
    for key in ["test_r2", "closed_form_rmse"] {
        assert!(field(&trained, key).is_some_and(f64::is_finite), "{key}");
    }
    // The test RMSE again (computed in another order: to a few decimals).
    let predicted = succeed(predict, &["--run", dir, "--evaluate"]);
    let (a, b) = (
        field(&predicted, "test_rmse").unwrap(),
        field(&trained, "test_rmse").unwrap(),
    );
    assert!((a - b).abs() < 1e-3 * b, "{a} vs {b}");
    // New rows: the first three patients of the bundled file, target column and all.
    let csv = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../crates/cortex-data/data/tabular/diabetes.csv"
    ))
    .unwrap();
    let rows = root.join("rows.csv");
    std::fs::write(&rows, csv.lines().take(4).collect::<Vec<_>>().join("\n")).unwrap();
    let output = succeed(predict, &["--run", dir, rows.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let values: Vec<f64> = stdout
        .lines()
        .filter_map(|l| l.split_once("\ttarget=")?.1.parse().ok())
        .collect();
    assert_eq!(values.len(), 3, "{stdout}");
    assert!(
        values.iter().all(|v| (0.0..400.0).contains(v)),
        "{values:?}"
    );
    // A missing cell: this run has no imputer.
    std::fs::write(
        &rows,
        "age,sex,bmi,bp,s1,s2,s3,s4,s5,s6\n59,2,,101,157,93.2,38,4,4.86,87\n",
    )
    .unwrap();
    let output = run(predict, &["--run", dir, rows.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("row 1, column `bmi` is missing"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn mlp_runs_on_images_and_csv() {
    quick(
        env!("CARGO_BIN_EXE_mlp"),
        &["--dataset", "digits8x8", "--activation", "sigmoid"],
        &["test_accuracy", "test_loss"],
    );
    let iris = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../crates/cortex-data/data/tabular/iris.csv"
    );
    quick(
        env!("CARGO_BIN_EXE_mlp"),
        &["--csv", iris, "--target", "target"],
        &["test_accuracy"],
    );
}

#[test]
fn cnn_runs() {
    quick(
        env!("CARGO_BIN_EXE_cnn"),
        &[],
        &["test_accuracy", "test_loss"],
    );
}

/// `history.csv` without its wall-clock column (every other figure printed in full).
fn history_without_seconds(dir: &std::path::Path) -> Vec<String> {
    let csv = std::fs::read_to_string(dir.join("history.csv"))
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    csv.lines()
        .map(|line| {
            let mut cells: Vec<&str> = line.split(',').collect();
            cells.remove(2); // epoch,lr,seconds,...
            cells.join(",")
        })
        .collect()
}

#[test]
fn cnn_resumed_with_resume_equals_the_uninterrupted_run() {
    // The CNN has dropout and random shifts: both must be drawn again exactly after the resume.
    let cnn = env!("CARGO_BIN_EXE_cnn");
    let root = std::env::temp_dir().join(format!("cortex-examples-resume-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let (straight, resumed) = (root.join("straight"), root.join("resumed"));
    let go = |epochs: &str, dir: &std::path::Path, resume: bool| {
        let mut args = vec!["--epochs", epochs, "--limit", "96", "--quiet"];
        args.extend(["--out", dir.to_str().unwrap()]);
        if resume {
            args.push("--resume");
        }
        let output = run(cnn, &args);
        assert!(
            output.status.success(),
            "cnn {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        final_fields(&output)
    };
    let expected = go("2", &straight, false);
    go("1", &resumed, false);
    let got = go("2", &resumed, true);
    assert_eq!(
        history_without_seconds(&resumed),
        history_without_seconds(&straight)
    );
    let test_figures = |fields: &[(String, f64)]| -> Vec<(String, f64)> {
        fields
            .iter()
            .filter(|(k, _)| k.starts_with("test_"))
            .cloned()
            .collect()
    };
    assert_eq!(test_figures(&got), test_figures(&expected));
    // --resume without --out is a clear error.
    let output = run(cnn, &["--resume", "--quiet"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("give --out too"));
}

/// The `final:` line's field `key`.
fn field(output: &Output, key: &str) -> Option<f64> {
    final_fields(output)
        .into_iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v)
}

/// Runs `bin` with `args` and asserts it succeeded.
fn succeed(bin: &str, args: &[&str]) -> Output {
    let output = run(bin, args);
    assert!(
        output.status.success(),
        "{bin} {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

#[test]
fn rnn_runs_both_tasks_and_predict_uses_them() {
    let root = std::env::temp_dir().join(format!("cortex-rnn-runs-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let (rnn, predict) = (env!("CARGO_BIN_EXE_rnn"), env!("CARGO_BIN_EXE_predict"));
    let quick = ["--epochs", "1", "--limit", "128", "--quiet"];
    // MNIST rows with a GRU: predict measures the run's test accuracy again.
    let rows = root.join("rows");
    let rows = rows.to_str().unwrap();
    let trained = succeed(
        rnn,
        &[&quick[..], &["--cell", "gru", "--out", rows]].concat(),
    );
    let predicted = succeed(predict, &["--run", rows, "--evaluate"]);
    assert!(field(&trained, "test_accuracy").is_some());
    assert_eq!(
        field(&predicted, "test_accuracy"),
        field(&trained, "test_accuracy")
    );
    // Sunspots: the test RMSE again (computed in another order: to a few decimals), and the
    // month after a series given as numbers.
    let spots = root.join("spots");
    let spots = spots.to_str().unwrap();
    let trained = succeed(
        rnn,
        &[&quick[..], &["--task", "sunspots", "--out", spots]].concat(),
    );
    assert!(field(&trained, "persistence_rmse").is_some());
    let predicted = succeed(predict, &["--run", spots, "--evaluate"]);
    let (a, b) = (
        field(&predicted, "test_rmse").unwrap(),
        field(&trained, "test_rmse").unwrap(),
    );
    assert!((a - b).abs() < 1e-2 * b, "{a} vs {b}");
    let series: Vec<String> = (0..30).map(|i| format!("{}", 50 + i)).collect();
    let series: Vec<&str> = series.iter().map(String::as_str).collect();
    let output = succeed(predict, &[&["--run", spots][..], &series].concat());
    let stdout = String::from_utf8_lossy(&output.stdout);
    let next = stdout
        .lines()
        .find_map(|l| l.strip_prefix("next\t"))
        .and_then(|v| v.parse::<f64>().ok());
    assert!(next.is_some_and(f64::is_finite), "{stdout}");
    for (args, message) in [
        (
            &["--run", spots, "1", "2", "3"][..],
            "from the last 24 values; 3 given",
        ),
        (&["--run", spots, "1", "x"][..], "`x` is not a number"),
    ] {
        let output = run(predict, args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains(message), "{stderr}");
    }
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn bad_flags_and_data_are_clear_errors() {
    let cases: &[(&str, &[&str], &str)] = &[
        (
            env!("CARGO_BIN_EXE_cnn"),
            &["--backend", "tpu"],
            "--backend: unknown device `tpu`: expected one of flex, ndarray",
        ),
        (
            env!("CARGO_BIN_EXE_mlp"),
            &["--device", "cuda:1"],
            "--backend: device `cuda:1` is not compiled into this build: rebuild with \
             `--features cortex/cuda`",
        ),
        (
            env!("CARGO_BIN_EXE_rnn"),
            &["--cell", "transformer"],
            "--cell must be lstm or gru",
        ),
        (
            env!("CARGO_BIN_EXE_mlp"),
            &["--csv", "/no/such/file.csv"],
            "cannot read /no/such/file.csv",
        ),
        (
            env!("CARGO_BIN_EXE_mlp"),
            &["--activation", "swish"],
            "--activation must be",
        ),
        (
            env!("CARGO_BIN_EXE_linear_regression"),
            &["--epochs", "0"],
            "--epochs must be at least 1",
        ),
        (
            env!("CARGO_BIN_EXE_cnn"),
            &["--data", "/no/such/dir"],
            "error:",
        ),
        (
            env!("CARGO_BIN_EXE_cnn"),
            &["--size", "0x28"],
            "--size must be HxW with both > 0",
        ),
    ];
    for (bin, args, message) in cases {
        let output = run(bin, args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{bin} {args:?}: {stderr}");
        assert!(stderr.contains(message), "{bin} {args:?}: {stderr}");
        assert!(
            !stderr.contains("panicked"),
            "{bin} {args:?} panicked: {stderr}"
        );
    }
    // A CSV with a text feature column not declared categorical.
    let dir = std::env::temp_dir().join(format!("cortex-examples-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let csv = dir.join("text.csv");
    std::fs::write(
        &csv,
        "a,color,target\n1,red,0\n2,blue,1\n3,red,0\n4,blue,1\n",
    )
    .unwrap();
    let output = run(
        env!("CARGO_BIN_EXE_mlp"),
        &["--csv", csv.to_str().unwrap(), "--quiet"],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("column `color`") && stderr.contains("categorical"),
        "{stderr}"
    );
    // Too few rows for the 70/15/15 split, and a target of a single class: each named.
    let tiny = dir.join("tiny.csv");
    std::fs::write(&tiny, "a,b,target\n1,2,0\n2,1,1\n3,3,0\n4,0,1\n").unwrap();
    let single = dir.join("single.csv");
    std::fs::write(&single, "a,b,target\n1,2,0\n2,1,0\n3,3,0\n4,0,0\n5,5,0\n").unwrap();
    for (csv, message) in [
        (
            &tiny,
            "splitting 4 samples 0.70/0.15/0.15 by class leaves it without a sample",
        ),
        (&single, "holds 1 class; a classifier needs at least two"),
    ] {
        let output = run(
            env!("CARGO_BIN_EXE_mlp"),
            &["--csv", csv.to_str().unwrap(), "--quiet"],
        );
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains(message), "{stderr}");
    }
    // --limit 0 would train on nothing.
    let output = run(env!("CARGO_BIN_EXE_cnn"), &["--limit", "0", "--quiet"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("--limit 0 leaves nothing to train on"),
        "{stderr}"
    );
}

/// A picture folder: `root/<class>/<n>.png`, 12×12, horizontal bars for `rows`, vertical
/// bars for `columns`, with a little noise so no two pictures are equal.
fn picture_folder(root: &std::path::Path, per_class: u32) {
    for (class, horizontal) in [("rows", true), ("columns", false)] {
        let dir = root.join(class);
        std::fs::create_dir_all(&dir).unwrap();
        for n in 0..per_class {
            let picture = image::RgbImage::from_fn(12, 12, |x, y| {
                let on = if horizontal { y % 4 < 2 } else { x % 4 < 2 };
                let noise = ((x * 7 + y * 13 + n * 31) % 17) as u8;
                let v = if on { 230 + noise } else { noise };
                image::Rgb([v, v / 2, 255 - v])
            });
            picture.save(dir.join(format!("{n}.png"))).unwrap();
        }
    }
}

#[test]
fn the_image_examples_read_folders_of_pictures() {
    let root = std::env::temp_dir().join(format!("cortex-pictures-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    // One <class>/ tree (split 80/20 by the example), in colour, for the CNN: bars across
    // and bars down are told apart on the held-out pictures.
    picture_folder(&root.join("tree"), 40);
    let tree = root.join("tree");
    let args = [
        "--data",
        tree.to_str().unwrap(),
        "--size",
        "12x12",
        "--color",
        "rgb",
    ];
    let run_dir = root.join("run");
    let out = run_dir.to_str().unwrap();
    let output = run(
        env!("CARGO_BIN_EXE_cnn"),
        &[&args[..], &["--epochs", "4", "--quiet", "--out", out]].concat(),
    );
    let test_accuracy = |output: &Output| {
        final_fields(output)
            .into_iter()
            .find(|(k, _)| k == "test_accuracy")
            .map(|(_, v)| v)
    };
    let accuracy = test_accuracy(&output);
    assert!(accuracy >= Some(0.9), "{accuracy:?}");
    // predict: the run's test accuracy again, and a new picture's class by name.
    let tree_dir = tree.to_str().unwrap();
    let evaluated = run(
        env!("CARGO_BIN_EXE_predict"),
        &["--run", out, "--evaluate", "--data", tree_dir],
    );
    let stderr = String::from_utf8_lossy(&evaluated.stderr);
    assert_eq!(test_accuracy(&evaluated), accuracy, "{stderr}");
    let picture = tree.join("rows").join("3.png");
    let output = run(
        env!("CARGO_BIN_EXE_predict"),
        &["--run", out, "--top", "1", picture.to_str().unwrap()],
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.lines().any(|l| l.contains(".png\trows ")),
        "{stdout}"
    );
    // train/ and test/ folders, in grayscale, for the MLP.
    picture_folder(&root.join("split/train"), 16);
    picture_folder(&root.join("split/test"), 4);
    let split = root.join("split");
    let args = ["--data", split.to_str().unwrap(), "--size", "8x8"];
    quick(env!("CARGO_BIN_EXE_mlp"), &args, &["test_accuracy"]);
    // A folder with none of the layouts is a clear error.
    let empty = root.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let output = run(
        env!("CARGO_BIN_EXE_cnn"),
        &["--data", empty.to_str().unwrap()],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success() && stderr.contains("no class folders"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn the_text_example_runs_on_the_words_and_on_a_csv() {
    // The bundled words, characters, the CNN.
    quick(
        env!("CARGO_BIN_EXE_text"),
        &[],
        &["test_accuracy", "test_loss"],
    );
    // A CSV of sentences, words, a bidirectional LSTM; the vocabulary is saved with the run.
    let root = std::env::temp_dir().join(format!("cortex-text-example-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).unwrap();
    let mut csv = String::from("sentence,mood\n");
    for n in 0..40 {
        csv.push_str(&format!("\"what a lovely, sunny day {n}\",happy\n"));
        csv.push_str(&format!("\"such a dull and rainy day {n}\",sad\n"));
    }
    let path = root.join("moods.csv");
    std::fs::write(&path, csv).unwrap();
    let out = root.join("run");
    let args = [
        "--csv",
        path.to_str().unwrap(),
        "--text",
        "sentence",
        "--target",
        "mood",
        "--tokens",
        "words",
        "--model",
        "lstm",
        "--bidirectional",
        "--out",
        out.to_str().unwrap(),
    ];
    quick(env!("CARGO_BIN_EXE_text"), &args, &["test_accuracy"]);
    let vocabulary = std::fs::read_to_string(out.join("vocabulary.json")).unwrap();
    assert!(vocabulary.contains("\"rainy\""), "{vocabulary}");
    // A CSV without the named columns is a clear error.
    let output = run(
        env!("CARGO_BIN_EXE_text"),
        &[
            "--csv",
            path.to_str().unwrap(),
            "--text",
            "body",
            "--target",
            "mood",
        ],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success() && stderr.contains("no column `body`"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn predict_reproduces_the_test_accuracy_of_the_run_it_loads() {
    let out = std::env::temp_dir().join(format!("cortex-predict-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let dir = out.to_str().unwrap();
    let args = ["--epochs", "1", "--limit", "256", "--quiet", "--out", dir];
    let trained = run(env!("CARGO_BIN_EXE_text"), &args);
    assert!(
        trained.status.success(),
        "{}",
        String::from_utf8_lossy(&trained.stderr)
    );
    let predicted = run(env!("CARGO_BIN_EXE_predict"), &["--run", dir, "--evaluate"]);
    assert!(
        predicted.status.success(),
        "{}",
        String::from_utf8_lossy(&predicted.stderr)
    );
    assert_eq!(test_accuracy(&predicted), test_accuracy(&trained));
    // New inputs: one line each, the top classes with probabilities.
    let output = run(
        env!("CARGO_BIN_EXE_predict"),
        &["--run", dir, "--top", "2", "haus", "maison"],
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let lines: Vec<&str> = stdout.lines().filter(|l| l.contains('\t')).collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    assert!(lines[0].starts_with("haus\t"), "{stdout}");
    let probabilities: f64 = lines[0]
        .split('\t')
        .nth(1)
        .unwrap()
        .split_whitespace()
        .filter_map(|w| w.parse::<f64>().ok())
        .sum();
    assert!(
        probabilities > 0.0 && probabilities <= 1.0 + 1e-6,
        "{stdout}"
    );
    // A directory that is not a run is a clear error.
    let output = run(
        env!("CARGO_BIN_EXE_predict"),
        &["--run", "/no/such/run", "x"],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success() && stderr.contains("run.json"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&out);
}

/// The `final:` line's test accuracy.
fn test_accuracy(output: &Output) -> Option<f64> {
    field(output, "test_accuracy")
}

#[test]
fn the_speech_example_runs_and_predict_reproduces_it() {
    let out = std::env::temp_dir().join(format!("cortex-speech-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let dir = out.join("run");
    let dir = dir.to_str().unwrap();
    // The CNN on the bundled digits, with a run card; predict measures the same accuracy.
    let args = [
        "--epochs", "1", "--limit", "64", "--quiet", "--model", "cnn",
    ];
    let trained = run(
        env!("CARGO_BIN_EXE_speech"),
        &[&args[..], &["--out", dir]].concat(),
    );
    assert!(
        trained.status.success(),
        "{}",
        String::from_utf8_lossy(&trained.stderr)
    );
    let predicted = run(env!("CARGO_BIN_EXE_predict"), &["--run", dir, "--evaluate"]);
    assert!(
        predicted.status.success(),
        "{}",
        String::from_utf8_lossy(&predicted.stderr)
    );
    assert!(test_accuracy(&trained).is_some());
    assert_eq!(test_accuracy(&predicted), test_accuracy(&trained));
    // New clips: one line each, with the top classes.
    let digits = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../crates/cortex-data/data/speech/digits/test");
    let clip = |word: &str| {
        let folder = digits.join(word);
        let mut files: Vec<_> = std::fs::read_dir(&folder)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        files[0].clone()
    };
    let (seven, two) = (clip("seven"), clip("two"));
    let output = run(
        env!("CARGO_BIN_EXE_predict"),
        &[
            "--run",
            dir,
            "--top",
            "2",
            seven.to_str().unwrap(),
            two.to_str().unwrap(),
        ],
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let lines: Vec<&str> = stdout.lines().filter(|l| l.contains('\t')).collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    assert_eq!(lines[0].split('\t').nth(1).unwrap().split("  ").count(), 2);
    // A single <label>/ tree (split 80/20) with the GRU; a text file is not a WAV file.
    let tree = out.join("tree");
    for word in ["one", "two", "three"] {
        std::fs::create_dir_all(tree.join(word)).unwrap();
        let folder = digits.join(word);
        for entry in std::fs::read_dir(&folder).unwrap().take(10) {
            let path = entry.unwrap().path();
            std::fs::copy(&path, tree.join(word).join(path.file_name().unwrap())).unwrap();
        }
    }
    let data = ["--data", tree.to_str().unwrap()];
    let output = run(
        env!("CARGO_BIN_EXE_speech"),
        &[&["--epochs", "1", "--quiet"][..], &data].concat(),
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains(", test 6"), "{stdout}");
    std::fs::write(tree.join("one/broken.wav"), b"not a wav").unwrap();
    let output = run(env!("CARGO_BIN_EXE_speech"), &data);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success() && stderr.contains("broken.wav"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn predict_uses_mlp_runs_on_images_and_on_tables() {
    let root = std::env::temp_dir().join(format!("cortex-mlp-runs-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).unwrap();
    let predict = env!("CARGO_BIN_EXE_predict");
    let succeeded = |output: &Output| {
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    };
    // Images: predict measures the run's own test accuracy again.
    let images = root.join("images");
    let images = images.to_str().unwrap();
    let args = ["--epochs", "1", "--limit", "128", "--quiet"];
    let trained = run(
        env!("CARGO_BIN_EXE_mlp"),
        &[&args[..], &["--dataset", "digits8x8", "--out", images]].concat(),
    );
    succeeded(&trained);
    let predicted = run(
        predict,
        &["--run", images, "--evaluate", "--dataset", "digits8x8"],
    );
    succeeded(&predicted);
    assert!(test_accuracy(&trained).is_some());
    assert_eq!(test_accuracy(&predicted), test_accuracy(&trained));
    // A table with a categorical column that has missing cells: the class follows `shape`.
    let csv = root.join("shapes.csv");
    let mut text = String::from("size,shape,label\n");
    for i in 0..60 {
        let (shape, label) = [("round", "ball"), ("square", "box"), ("long", "rod")][i % 3];
        let shape = if i % 10 == 9 { "NA" } else { shape };
        text.push_str(&format!("{},{shape},{label}\n", i % 7));
    }
    std::fs::write(&csv, text).unwrap();
    let table = root.join("table");
    let table = table.to_str().unwrap();
    let csv = csv.to_str().unwrap();
    let trained = run(
        env!("CARGO_BIN_EXE_mlp"),
        &[
            "--epochs",
            "30",
            "--lr",
            "0.05",
            "--quiet",
            "--csv",
            csv,
            "--target",
            "label",
            "--categorical",
            "shape",
            "--out",
            table,
        ],
    );
    succeeded(&trained);
    let predicted = run(predict, &["--run", table, "--evaluate", "--csv", csv]);
    succeeded(&predicted);
    assert!(test_accuracy(&trained).is_some());
    assert_eq!(test_accuracy(&predicted), test_accuracy(&trained));
    // New rows, columns in another order and without the target; named by file and row.
    let new = root.join("new.csv");
    std::fs::write(&new, "shape,size\nsquare,3\nlong,1\nNA,2\n").unwrap();
    let output = run(
        predict,
        &["--run", table, "--top", "1", new.to_str().unwrap()],
    );
    succeeded(&output);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let lines: Vec<&str> = stdout.lines().filter(|l| l.contains('\t')).collect();
    assert_eq!(lines.len(), 3, "{stdout}");
    assert!(lines[0].contains("new.csv row 1\tbox "), "{stdout}");
    assert!(lines[1].contains("new.csv row 2\trod "), "{stdout}");
    // CSV text on stdin.
    let mut child = Command::new(predict)
        .args(["--run", table])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(b"size,shape\n4,round\n").unwrap();
    }
    let output = child.wait_with_output().unwrap();
    succeeded(&output);
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("row 1\tball "),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    // A category the run never saw, and a missing feature column: each named.
    let bad = root.join("bad.csv");
    for (content, message) in [
        (
            "size,shape\n1,oval\n",
            "one of the training categories (long, round, square)",
        ),
        ("shape\nround\n", "no column `size`"),
    ] {
        std::fs::write(&bad, content).unwrap();
        let output = run(predict, &["--run", table, bad.to_str().unwrap()]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains(message), "{stderr}");
    }
    // --evaluate on a table run needs the run's CSV.
    let output = run(predict, &["--run", table, "--evaluate"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("needs --csv PATH"), "{stderr}");
    let _ = std::fs::remove_dir_all(&root);
}
