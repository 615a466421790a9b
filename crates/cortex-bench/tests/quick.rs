//! The bench never rots: a `--quick` run of every workload on one backend (no timing
//! asserted, only that each workload runs and reports a throughput).

#[test]
fn quick_bench_runs_every_workload() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_cortex-bench"))
        .args(["--quick", "--backend", "flex"])
        .output()
        .expect("the bench binary runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let rows = stdout.lines().filter(|l| l.contains("samples/s")).count();
    assert_eq!(rows, 9, "{stdout}");
}
