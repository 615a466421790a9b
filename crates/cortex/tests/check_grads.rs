//! `check-grads`: runs every registered gradient case (the ops' and the layers') on the chosen
//! devices, prints one row per case and a summary line `N passed, M failed`, and exits non-zero
//! on any failure.
//!
//! Options (after `--`): `--backend DEVICES` (`flex`, `ndarray`, `cpu`, `wgpu` … or a list;
//! default: `CORTEX_BACKEND`, else flex and ndarray), `--precision f32|f64` (default: f64 on
//! the CPU backends, f32 on the others, which have no f64: [`GradCheck::f32`]),
//! `--filter SUBSTRING`, `--fast`, `--json PATH`.

use std::process::ExitCode;
use std::time::Instant;

use cortex::autodiff::{GradCheck, op_cases};
use cortex::core::{BACKEND_ENV, Precision, is_host_device};
use cortex::device::NamedDevice;
use layer_cases::layer_cases;
use serde_json::json;

mod layer_cases;

struct Options {
    backends: Vec<NamedDevice>,
    precision: Option<Precision>,
    filter: Option<String>,
    fast: bool,
    json: Option<String>,
}

fn parse() -> Result<Options, String> {
    let mut options = Options {
        // `CORTEX_BACKEND` names CPU backends (`all` = both, as for every other test); a
        // GPU is asked for with `--backend`.
        backends: NamedDevice::parse_selection(&match std::env::var(BACKEND_ENV) {
            Ok(value) if !value.trim().eq_ignore_ascii_case("all") => value,
            _ => "cpu".to_string(),
        })
        .map_err(|e| e.to_string())?,
        precision: None,
        filter: None,
        fast: false,
        json: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--backend" => {
                let value = args
                    .next()
                    .ok_or("--backend needs a device, e.g. flex or wgpu")?;
                options.backends =
                    NamedDevice::parse_selection(&value).map_err(|e| e.to_string())?;
            }
            "--precision" => {
                let value = args.next().ok_or("--precision needs f32 or f64")?;
                options.precision = Some(value.parse().map_err(|e| format!("{e}"))?);
            }
            "--filter" => options.filter = Some(args.next().ok_or("--filter needs a substring")?),
            "--fast" => options.fast = true,
            "--json" => options.json = Some(args.next().ok_or("--json needs a path")?),
            // libtest flags that `cargo test` forwards to every test binary.
            "--nocapture" | "--quiet" | "-q" | "--show-output" => {}
            other if other.starts_with("--test-threads") => {}
            // A libtest name filter (`cargo test -- NAME`): this target's one "test" is
            // `check_grads`; a filter it does not match selects nothing here.
            other if !other.starts_with('-') => {
                if !"check_grads".contains(other) {
                    options.backends.clear();
                }
            }
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
    if options.backends.is_empty() {
        // Filtered out by a libtest name filter (see `parse`).
        return ExitCode::SUCCESS;
    }
    // f64 where the device has it (every CPU backend), f32 elsewhere, unless asked.
    let checker_for = |device: &NamedDevice| {
        let precision = options
            .precision
            .unwrap_or(if is_host_device(&device.device) {
                Precision::F64
            } else {
                Precision::F32
            });
        let base = match precision {
            Precision::F64 => GradCheck::default(),
            Precision::F32 => GradCheck::f32(),
        };
        GradCheck {
            fast: options.fast,
            ..base
        }
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
        "check-grads: {} cases x {} device(s), {} mode",
        cases.len(),
        options.backends.len(),
        if options.fast { "fast" } else { "full" },
    );
    for backend in &options.backends {
        let device = backend.device.clone().autodiff();
        let checker = checker_for(backend);
        println!(
            "{}: {}, eps {:e}, atol {:e}, rtol {:e}",
            backend.name, checker.precision, checker.eps, checker.atol, checker.rtol
        );
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
                backend.name,
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
                "backend": backend.name,
                "precision": checker.precision.to_string(),
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
