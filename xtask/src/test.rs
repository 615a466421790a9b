//! `cargo xtask test`: every check CI makes, cheapest first, timed.

use std::time::Instant;

use anyhow::{Result, bail};

use crate::layering::Layering;
use crate::run;

/// The full local/CI check.
pub(crate) struct Test {
    /// Value for `CORTEX_BACKEND` in the test run (`all` runs every CPU backend).
    backend: String,
    /// Build everything with burn's wgpu backend too (one feature set for clippy and the
    /// tests), which adds the GPU-path suite (`crates/cortex/tests/gpu_path.rs`) on the wgpu
    /// device: a GPU, or Mesa's lavapipe on a machine without one.
    wgpu: bool,
}

impl Test {
    pub(crate) fn from_args(args: &[String]) -> Result<Self> {
        let mut backend = "all".to_string();
        let mut wgpu = false;
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            match arg.as_str() {
                "--backend" => match it.next() {
                    Some(v) if ["all", "flex", "ndarray"].contains(&v.as_str()) => {
                        backend = v.clone()
                    }
                    other => bail!("--backend takes flex, ndarray or all, got {other:?}"),
                },
                "--wgpu" => wgpu = true,
                other => bail!("unknown option for `test`: {other}"),
            }
        }
        Ok(Self { backend, wgpu })
    }

    pub(crate) fn run(&self) -> Result<()> {
        let started = Instant::now();
        let step = |name: &str, f: &dyn Fn() -> Result<()>| -> Result<()> {
            let t = Instant::now();
            eprintln!("== xtask test: {name}");
            f()?;
            eprintln!("== {name}: ok in {:.1} s", t.elapsed().as_secs_f64());
            Ok(())
        };
        step("layering", &|| Layering.run())?;
        step("one-build", &crate::one_build::check)?;
        step("fmt", &|| run("cargo", &["fmt", "--all", "--check"], &[]))?;
        // Every library crate packages on its own (siblings not yet on crates.io are resolved
        // from the workspace; `--no-verify`: the test step below builds them).
        step("package", &|| {
            run(
                "cargo",
                &[
                    "package",
                    "--workspace",
                    "--no-verify",
                    "--allow-dirty",
                    "--quiet",
                    "--exclude",
                    "cortex-bench",
                    "--exclude",
                    "cortex-examples",
                    "--exclude",
                    "xtask",
                ],
                &[],
            )
        })?;
        let features: &[&str] = if self.wgpu {
            &["--features", "cortex/wgpu"]
        } else {
            &[]
        };
        // Clippy lints the workspace's crates inside the test build itself (clippy-driver as
        // the workspace-only rustc wrapper, as `cargo clippy` does): the dependencies — burn —
        // are compiled once, shared with `cargo run -p cortex-examples`, instead of a second
        // time in check mode.
        step(
            if self.wgpu {
                "clippy + tests (with wgpu)"
            } else {
                "clippy + tests"
            },
            &|| {
                let mut args = vec!["test", "--workspace"];
                args.extend_from_slice(features);
                run(
                    "cargo",
                    &args,
                    &[
                        ("CORTEX_BACKEND", self.backend.as_str()),
                        ("RUSTC_WORKSPACE_WRAPPER", "clippy-driver"),
                        (
                            "CLIPPY_ARGS",
                            "-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__",
                        ),
                    ],
                )
            },
        )?;
        eprintln!(
            "== xtask test: all checks passed in {:.1} s",
            started.elapsed().as_secs_f64()
        );
        Ok(())
    }
}
