//! `cargo xtask check-grads`: every registered gradient case, one row each.
//!
//! The runner is the `check_grads` test target of `cortex-autodiff` (no libtest harness), run
//! through `cargo test --workspace` so it shares the suite's build instead of compiling burn
//! with another feature set.

use anyhow::Result;

use crate::run;

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
        let mut args = vec![
            "test",
            "--workspace",
            "--quiet",
            "--test",
            "check_grads",
            "--",
        ];
        args.extend(self.forwarded.iter().map(String::as_str));
        run("cargo", &args, &[])
    }
}
