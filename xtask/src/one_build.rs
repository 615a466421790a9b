//! `cargo xtask one-build`: the README's two commands share one build of burn.
//!
//! Cargo resolves features for the packages a command selects: `cargo run -p cortex-examples`
//! and the test build (`cargo test --workspace`, dev-dependencies included) can turn on
//! different features of one crate, and a crate with other features is compiled again —
//! with everything above it, burn included. This check compares, crate by crate, the feature
//! sets of the two selections (`cargo tree -e features`) and fails on any crate both builds
//! use with different features, naming it.

use std::collections::BTreeMap;
use std::process::Command;

use anyhow::{Context, Result, bail};

/// `name version` → its enabled features, for the packages `selection` builds.
fn features(selection: &[&str]) -> Result<BTreeMap<String, String>> {
    let mut args = vec!["tree", "--prefix", "none", "-f", "{p} [{f}]"];
    args.extend_from_slice(selection);
    let output = Command::new(env!("CARGO"))
        .args(&args)
        .output()
        .context("running cargo tree")?;
    if !output.status.success() {
        bail!(
            "cargo {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let mut map = BTreeMap::new();
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let Some((package, rest)) = line.split_once(" [") else {
            continue;
        };
        // "name v1.2.3" (a path dependency adds its directory after the version).
        let key: Vec<&str> = package.split_whitespace().take(2).collect();
        let features = rest.trim_end_matches(" (*)").trim_end_matches(']');
        map.insert(key.join(" "), features.to_string());
    }
    Ok(map)
}

/// The check.
pub(crate) fn check() -> Result<()> {
    let example = features(&["-p", "cortex-examples", "-e", "normal,build"])?;
    let tests = features(&["--workspace", "-e", "normal,build,dev"])?;
    let differ: Vec<String> = example
        .iter()
        .filter_map(|(package, mine)| {
            let theirs = tests.get(package)?;
            (mine != theirs)
                .then(|| format!("{package}: example build [{mine}], test build [{theirs}]"))
        })
        .collect();
    if !differ.is_empty() {
        bail!(
            "the README's two commands would compile these crates (and all above them) twice; \
             pin the test build's features in examples/Cargo.toml:\n  {}",
            differ.join("\n  ")
        );
    }
    eprintln!(
        "one-build: the example build's {} crates have the test build's features",
        example.len()
    );
    Ok(())
}
