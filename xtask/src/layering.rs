//! Architecture invariant: crates depend only downwards (see docs/architecture.md).

use std::collections::BTreeMap;
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::workspace_root;

/// Which workspace crates each crate may depend on (normal dependencies).
const ALLOWED: &[(&str, &[&str])] = &[
    ("cortex-core", &[]),
    ("cortex-kernels", &[]),
    ("cortex-ops", &["cortex-core"]),
    (
        "cortex-autodiff",
        &["cortex-core", "cortex-kernels", "cortex-ops"],
    ),
    ("cortex-data", &["cortex-core", "cortex-ops"]),
    (
        "cortex-nn",
        &["cortex-core", "cortex-ops", "cortex-autodiff"],
    ),
    (
        "cortex-optim",
        &["cortex-core", "cortex-ops", "cortex-autodiff"],
    ),
    (
        "cortex-train",
        &[
            "cortex-core",
            "cortex-ops",
            "cortex-autodiff",
            "cortex-nn",
            "cortex-optim",
            "cortex-data",
        ],
    ),
    (
        "cortex",
        &[
            "cortex-core",
            "cortex-kernels",
            "cortex-ops",
            "cortex-autodiff",
            "cortex-nn",
            "cortex-optim",
            "cortex-data",
            "cortex-train",
        ],
    ),
    // The examples use the facade only: what a user of `cortex` has.
    ("cortex-examples", &["cortex"]),
    ("cortex-bench", &["cortex"]),
];

/// Checks every workspace crate's normal dependencies against [`ALLOWED`].
pub(crate) struct Layering;

impl Layering {
    pub(crate) fn run(&self) -> Result<()> {
        let output = Command::new("cargo")
            .args(["metadata", "--no-deps", "--format-version", "1"])
            .current_dir(workspace_root())
            .output()
            .context("running cargo metadata")?;
        if !output.status.success() {
            bail!(
                "cargo metadata failed: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        let metadata: serde_json::Value = serde_json::from_slice(&output.stdout)?;
        let allowed: BTreeMap<&str, &[&str]> = ALLOWED.iter().copied().collect();
        let mut violations = Vec::new();
        let packages = metadata["packages"].as_array().context("no packages")?;
        for package in packages {
            let name = package["name"].as_str().unwrap_or_default();
            if !name.starts_with("cortex") {
                continue;
            }
            let Some(permitted) = allowed.get(name) else {
                violations.push(format!(
                    "{name}: not in the crate map (xtask/src/layering.rs)"
                ));
                continue;
            };
            let deps = package["dependencies"]
                .as_array()
                .context("no dependencies")?;
            for dep in deps {
                let dep_name = dep["name"].as_str().unwrap_or_default();
                let is_normal = dep["kind"].is_null();
                if is_normal && dep_name.starts_with("cortex") && !permitted.contains(&dep_name) {
                    violations.push(format!("{name} must not depend on {dep_name}"));
                }
            }
        }
        if !violations.is_empty() {
            bail!("layering violated:\n  {}", violations.join("\n  "));
        }
        println!("layering: {} crates depend only downwards", allowed.len());
        Ok(())
    }
}
