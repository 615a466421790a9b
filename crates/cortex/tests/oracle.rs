//! Differential test against PyTorch: every case of `oracle/cases.json` (or of the file named
//! by `CORTEX_ORACLE_CASES`) runs in f64 on each selected CPU backend, forward and backward,
//! and must match within 1e-9 relative to max(1, |expected|).

mod oracle {
    pub mod harness;
    pub mod layers;
    pub mod ops;
    pub mod schema;
}

use std::collections::BTreeMap;
use std::path::PathBuf;

use cortex::Backend;
use oracle::harness::CaseRun;
use oracle::ops::{ALTERNATES, PENDING, run_op};
use oracle::schema::CaseFile;

/// Largest accepted `|got - expected| / max(1, |expected|)`.
pub const TOLERANCE: f64 = 1e-9;

fn case_file() -> PathBuf {
    std::env::var_os("CORTEX_ORACLE_CASES")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/oracle/cases.json")
        })
}

/// Runs every case on every selected backend, printing per-op counts; returns the failures.
fn run_cases(file: &CaseFile) -> Vec<String> {
    let backends = Backend::selected_from_env().expect("CORTEX_BACKEND");
    if PENDING.is_empty() {
        println!("oracle: no pending ops");
    } else {
        println!("oracle: pending ops (not run yet): {}", PENDING.join(", "));
    }
    let mut failures = Vec::new();
    for backend in backends {
        let mut per_op: BTreeMap<String, usize> = BTreeMap::new();
        let (mut pending, mut worst) = (0, 0.0f64);
        for case in &file.cases {
            if PENDING.contains(&case.op.as_str()) {
                pending += 1;
                continue;
            }
            let alternate = ALTERNATES
                .iter()
                .find(|(op, _)| *op == case.op)
                .map(|a| a.1);
            for second in [false, true]
                .into_iter()
                .take(1 + usize::from(alternate.is_some()))
            {
                let mut run = CaseRun::new(case, backend.autodiff_device(), second);
                let outcome = match run_op(&mut run) {
                    Ok(true) => run.finish(TOLERANCE),
                    Ok(false) => Err(format!("unknown op `{}`", case.op)),
                    Err(e) => Err(e),
                };
                let label = match (second, alternate) {
                    (true, Some(kind)) => format!("{} [{kind}]", case.op),
                    _ => case.op.clone(),
                };
                match outcome {
                    Ok(err) => {
                        worst = worst.max(err);
                        *per_op.entry(label).or_default() += 1;
                    }
                    Err(e) => failures.push(format!("[{backend}] {} ({label}): {e}", case.name)),
                }
            }
        }
        let ran: usize = per_op.values().sum();
        println!(
            "oracle [{backend}]: {ran} cases passed over {} ops, {pending} pending, \
             worst scaled error {worst:.2e}",
            per_op.len()
        );
        for (op, count) in &per_op {
            println!("  {op:<34} {count}");
        }
    }
    failures
}

#[test]
fn every_oracle_case_matches_pytorch() {
    let path = case_file();
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read the oracle cases at {}: {e}", path.display()));
    let file: CaseFile = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{} is not an oracle case file: {e}", path.display()));
    println!("oracle: {} cases from {}", file.cases.len(), path.display());
    let failures = run_cases(&file);
    assert!(
        failures.is_empty(),
        "{} oracle case(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn unknown_ops_and_wrong_values_fail_the_run() {
    let file: CaseFile = serde_json::from_str(
        r#"{"cases": [
            {"op": "frobnicate", "name": "unknown", "inputs": {}, "outputs": {}},
            {"op": "tanh", "name": "wrong_value",
             "inputs": {"x": {"shape": [2], "data": [0.0, 1.0]}},
             "differentiable": ["x"],
             "outputs": {"out": {"shape": [2], "data": [0.0, 0.77]}},
             "upstream": {"out": {"shape": [2], "data": [1.0, 1.0]}},
             "grads": {"x": {"shape": [2], "data": [1.0, 0.41997434161402614]}}}
        ]}"#,
    )
    .unwrap();
    let failures = run_cases(&file);
    let backends = Backend::selected_from_env().unwrap().len();
    assert_eq!(failures.len(), 2 * backends, "{failures:?}");
    assert!(
        failures
            .iter()
            .any(|f| f.contains("unknown op `frobnicate`"))
    );
    assert!(
        failures
            .iter()
            .any(|f| f.contains("wrong_value (tanh): output `out`[1]"))
    );
}
