//! `check-grads`: runs every registered gradient case (the ops' and the layers') on the chosen backends, prints one row
//! per case and a summary line `N passed, M failed`, and exits non-zero on any failure.
//!
//! Options (after `--`): `--backend ndarray|flex|all` (default: `CORTEX_BACKEND`, else all),
//! `--filter SUBSTRING`, `--fast`, `--json PATH`.

use std::process::ExitCode;
use std::time::Instant;

use cortex::Backend;
use cortex::autodiff::{GradCheck, op_cases};
use cortex::nn::layer_cases;
use serde_json::json;

struct Options {
    backends: Vec<Backend>,
    filter: Option<String>,
    fast: bool,
    json: Option<String>,
}

fn parse() -> Result<Options, String> {
    let mut options = Options {
        backends: Backend::selected_from_env().map_err(|e| e.to_string())?,
        filter: None,
        fast: false,
        json: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--backend" => {
                let value = args.next().ok_or("--backend needs ndarray, flex or all")?;
                options.backends = Backend::parse_selection(&value).map_err(|e| e.to_string())?;
            }
            "--filter" => options.filter = Some(args.next().ok_or("--filter needs a substring")?),
            "--fast" => options.fast = true,
            "--json" => options.json = Some(args.next().ok_or("--json needs a path")?),
            // libtest flags that `cargo test` forwards to every test binary.
            "--nocapture" | "--quiet" | "-q" | "--show-output" => {}
            other if other.starts_with("--test-threads") => {}
            other => return Err(format!("unknown option `{other}`")),
        }
    }
    Ok(options)
}

fn main() -> ExitCode {
    let options = match parse() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("check-grads: {e}");
            return ExitCode::from(2);
        }
    };
    let checker = GradCheck {
        fast: options.fast,
        ..GradCheck::default()
    };
    let cases: Vec<_> = op_cases()
        .into_iter()
        .chain(layer_cases())
        .filter(|c| {
            options
                .filter
                .as_ref()
                .is_none_or(|f| c.name.contains(f.as_str()))
        })
        .collect();
    let started = Instant::now();
    let (mut passed, mut failed) = (0usize, 0usize);
    let mut rows = Vec::new();
    println!(
        "check-grads: {} cases x {} backend(s), {} mode, eps {:e}, atol {:e}, rtol {:e}",
        cases.len(),
        options.backends.len(),
        if options.fast { "fast" } else { "full" },
        checker.eps,
        checker.atol,
        checker.rtol
    );
    for backend in &options.backends {
        let device = backend.autodiff_device();
        for case in &cases {
            let t = Instant::now();
            let outcome = case.check(&checker, &device);
            let (ok, abs, rel, detail) = match &outcome {
                Ok(r) => (r.passed(), r.max_abs_err(), r.max_rel_err(), r.to_string()),
                Err(e) => (false, f64::NAN, f64::NAN, e.to_string()),
            };
            if ok {
                passed += 1;
            } else {
                failed += 1;
            }
            println!(
                "{} {:<8} {:<48} max_abs {:>9.2e} max_rel {:>9.2e} {:>7.1} ms",
                if ok { "ok  " } else { "FAIL" },
                backend.name(),
                case.name,
                abs,
                rel,
                t.elapsed().as_secs_f64() * 1e3
            );
            if !ok {
                println!("     {detail}");
            }
            rows.push(json!({
                "name": case.name,
                "op": case.op,
                "backend": backend.name(),
                "shapes": case.shapes(),
                "max_abs_err": if abs.is_finite() { json!(abs) } else { json!(null) },
                "max_rel_err": if rel.is_finite() { json!(rel) } else { json!(null) },
                "passed": ok,
                "detail": detail,
            }));
        }
    }
    let ops: std::collections::BTreeSet<_> = cases.iter().map(|c| c.op).collect();
    println!(
        "check-grads: {} ops, {:.1} s",
        ops.len(),
        started.elapsed().as_secs_f64()
    );
    println!("{passed} passed, {failed} failed");
    if let Some(path) = &options.json {
        let text = serde_json::to_string_pretty(&rows).unwrap_or_default();
        if let Err(e) = std::fs::write(path, text) {
            eprintln!("check-grads: cannot write {path}: {e}");
            return ExitCode::from(2);
        }
    }
    if failed == 0 && passed > 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
