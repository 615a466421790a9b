//! `cargo xtask check-grads`: every registered gradient case, one row each.
//!
//! The runner is the `check_grads` test target of the `cortex` facade (no libtest harness). It
//! is built by `cargo test --workspace --no-run` — the very build the test suite uses — and
//! then executed directly: selecting one test target with `--test` would unify dependency
//! features differently and recompile burn.

use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::workspace_root;

/// Forwards `--backend`, `--filter`, `--fast` and `--json` to the runner.
pub(crate) struct CheckGrads {
    forwarded: Vec<String>,
}

impl CheckGrads {
    pub(crate) fn from_args(args: &[String]) -> Self {
        Self {
            forwarded: args.to_vec(),
        }
    }

    pub(crate) fn run(&self) -> Result<()> {
        let features: Vec<String> = crate::gpu_features(&self.forwarded)
            .split(',')
            .filter(|f| !f.is_empty())
            .map(|f| format!("cortex/{f}"))
            .collect();
        let runner = build_runner(&features.join(","))?;
        let status = Command::new(&runner)
            .args(&self.forwarded)
            .current_dir(workspace_root())
            .status()
            .with_context(|| format!("running {runner}"))?;
        if !status.success() {
            bail!("check-grads failed ({status})");
        }
        Ok(())
    }
}

/// Builds the workspace's test targets (with `features`, e.g. `cortex/wgpu` for
/// `--backend wgpu`) and returns the path of the `check_grads` runner.
fn build_runner(features: &str) -> Result<String> {
    let mut args = vec![
        "test",
        "--workspace",
        "--no-run",
        "--message-format=json-render-diagnostics",
    ];
    if !features.is_empty() {
        args.extend(["--features", features]);
    }
    eprintln!("$ cargo {}", args.join(" "));
    let output = Command::new("cargo")
        .args(&args)
        .current_dir(workspace_root())
        .stderr(std::process::Stdio::inherit())
        .output()
        .context("running cargo test --no-run")?;
    if !output.status.success() {
        bail!("building the test targets failed");
    }
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let Ok(message) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if message["reason"] == "compiler-artifact"
            && message["target"]["name"] == "check_grads"
            && let Some(path) = message["executable"].as_str()
        {
            return Ok(path.to_string());
        }
    }
    bail!("cargo built no `check_grads` test target")
}
