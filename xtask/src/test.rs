//! `cargo xtask test`: every check CI makes, cheapest first, timed.

use std::time::Instant;

use anyhow::{Result, bail};

use crate::layering::Layering;
use crate::run;

/// The full local/CI check.
pub(crate) struct Test {
    /// Value for `CORTEX_BACKEND` in the test run (`all` runs every CPU backend).
    backend: String,
}

impl Test {
    pub(crate) fn from_args(args: &[String]) -> Result<Self> {
        let mut backend = "all".to_string();
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            match arg.as_str() {
                "--backend" => match it.next() {
                    Some(v) if ["all", "flex", "ndarray"].contains(&v.as_str()) => {
                        backend = v.clone()
                    }
                    other => bail!("--backend takes flex, ndarray or all, got {other:?}"),
                },
                other => bail!("unknown option for `test`: {other}"),
            }
        }
        Ok(Self { backend })
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
        step("fmt", &|| run("cargo", &["fmt", "--all", "--check"], &[]))?;
        step("clippy", &|| {
            run(
                "cargo",
                &[
                    "clippy",
                    "--workspace",
                    "--all-targets",
                    "--",
                    "-D",
                    "warnings",
                ],
                &[],
            )
        })?;
        step("tests", &|| {
            run(
                "cargo",
                &["test", "--workspace"],
                &[("CORTEX_BACKEND", self.backend.as_str())],
            )
        })?;
        eprintln!(
            "== xtask test: all checks passed in {:.1} s",
            started.elapsed().as_secs_f64()
        );
        Ok(())
    }
}
