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
            .into_iter()
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
    build_test_targets(features)?
        .into_iter()
        .find(|artifact| artifact.name == "check_grads")
        .map(|artifact| artifact.path)
        .context("cargo built no `check_grads` test target")
}

/// An executable `cargo test --no-run` built: a test target or a binary.
pub(crate) struct Artifact {
    /// The target's name (`check_grads`, `cnn`, …).
    pub(crate) name: String,
    /// Whether it is the program of a binary target (else a test harness).
    pub(crate) is_bin: bool,
    /// Where cargo put it.
    pub(crate) path: String,
}

/// `cargo test --workspace --no-run [--features F]`: the very build the test suite uses (and
/// so no second build of burn), returning every executable it produced.
pub(crate) fn build_test_targets(features: &str) -> Result<Vec<Artifact>> {
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
    let mut artifacts = Vec::new();
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let Ok(message) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if message["reason"] == "compiler-artifact"
            && let (Some(name), Some(path)) = (
                message["target"]["name"].as_str(),
                message["executable"].as_str(),
            )
        {
            artifacts.push(Artifact {
                name: name.to_string(),
                // A binary's unit-test harness is a `bin` target too, built with `test`.
                is_bin: message["target"]["kind"][0] == "bin"
                    && message["profile"]["test"] == false,
                path: path.to_string(),
            });
        }
    }
    Ok(artifacts)
}
