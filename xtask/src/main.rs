//! `cargo xtask <command>`: the project's own commands, cheapest check first.
//!
//! - `test`: layering invariant, one build for the README's two commands (`one-build`),
//!   `cargo fmt --check`, `cargo package` of every library crate (`--no-verify`), then the
//!   whole test suite on both CPU backends, its workspace crates compiled through clippy
//!   (`-D warnings`).
//! - `check-grads`: every registered gradient case against finite differences.
//! - `bench`: the throughput benchmark (release build of `cortex-bench`), optionally beside
//!   PyTorch.
//! - `ci`: what `.ci/run` calls: `test --wgpu` (the GPU-path suite on lavapipe included).
//! - `gpu-pack`: the GPU-path suite, examples and bench, prebuilt for a lent GPU machine
//!   (`xtask/gpu/run.sh` runs them there).

mod check_grads;
mod gpu;
mod layering;
mod one_build;
mod test;

use anyhow::{Result, bail};

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("test") => test::Test::from_args(&args[1..])?.run(),
        Some("ci") => {
            let mut ci = vec!["--wgpu".to_string()];
            ci.extend(args[1..].iter().cloned());
            test::Test::from_args(&ci)?.run()
        }
        Some("layering") => layering::Layering.run(),
        Some("one-build") => one_build::check(),
        Some("gpu-pack") => gpu::pack(),
        Some("check-grads") => check_grads::CheckGrads::from_args(&args[1..]).run(),
        Some("bench") => {
            // A release build: these numbers are compared with PyTorch's. Two threads, as the
            // peer (the machine has two cores); an explicit RAYON_NUM_THREADS wins.
            // mimalloc unless `--system-allocator`: glibc's allocator hands large freed blocks
            // back to the system and faults them in again page by page (docs/performance.md).
            let threads = std::env::var("RAYON_NUM_THREADS").unwrap_or_else(|_| "2".to_string());
            let system_allocator = args.iter().any(|a| a == "--system-allocator");
            let mut features = gpu_features(&args[1..]);
            if !system_allocator {
                features.push("mimalloc");
            }
            let features = features.join(",");
            let mut cargo = vec!["run", "--release", "--quiet", "-p", "cortex-bench"];
            if !features.is_empty() {
                cargo.extend(["--features", features.as_str()]);
            }
            cargo.push("--");
            cargo.extend(
                args[1..]
                    .iter()
                    .map(String::as_str)
                    .filter(|a| *a != "--system-allocator"),
            );
            run("cargo", &cargo, &[("RAYON_NUM_THREADS", &threads)])
        }
        _ => {
            eprintln!(
                "usage: cargo xtask <command>\n\n\
                 commands:\n  \
                 test [--backend flex|ndarray|all] [--wgpu]\n  \
                                                     layering, fmt, package, clippy and every test\n  \
                                                     (--wgpu: also burn's wgpu backend and the GPU-path suite)\n  \
                 check-grads [--backend B] [--precision f32|f64] [--filter S] [--fast] [--json PATH]\n  \
                                                     gradients against finite differences\n  \
                 bench [--backend B] [--quick] [--filter S] [--json PATH] [--vs-torch PYTHON] [--rounds N]\n  \
                       [--memory] [--system-allocator]\n  \
                                                     throughput, release build, beside PyTorch\n  \
                                                     (--memory: peak resident memory per workload too;\n  \
                                                     mimalloc unless --system-allocator)\n  \
                                                     (B: flex, ndarray, cpu, wgpu, vulkan, cuda[:N], a list)\n  \
                 ci                                  what .ci/run runs (= test --wgpu)\n  \
                 gpu-pack                            prebuilt binaries for a lent GPU machine in .gpu/\n  \
                                                     (then: bash xtask/gpu/run.sh there, --quick here)\n  \
                 layering                            check that crates depend only downwards\n  \
                 one-build                           check that the example and test builds share burn's build"
            );
            bail!("unknown or missing command: {:?}", args.first());
        }
    }
}

/// The GPU backends named by `--backend` (`wgpu,flex` → `wgpu`): the cargo features
/// `cargo xtask bench` and `check-grads` build with, so that they build what they run.
pub(crate) fn gpu_features(args: &[String]) -> Vec<&'static str> {
    let selection = args
        .iter()
        .position(|a| a == "--backend")
        .and_then(|i| args.get(i + 1))
        .map(|v| v.to_ascii_lowercase())
        .unwrap_or_default();
    ["wgpu", "vulkan", "cuda"]
        .into_iter()
        .filter(|gpu| {
            selection
                .split(',')
                .any(|n| n.trim().split(':').next() == Some(*gpu))
        })
        .collect()
}

/// Runs a command in the workspace root, echoing it, and fails if it fails.
pub(crate) fn run(program: &str, args: &[&str], envs: &[(&str, &str)]) -> Result<()> {
    eprintln!("$ {program} {}", args.join(" "));
    let status = std::process::Command::new(program)
        .args(args)
        .envs(envs.iter().copied())
        .current_dir(workspace_root())
        .status()?;
    if !status.success() {
        bail!("`{program} {}` failed with {status}", args.join(" "));
    }
    Ok(())
}

/// The workspace root (the parent of this crate's directory).
pub(crate) fn workspace_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(std::path::Path::to_path_buf)
        .unwrap_or_else(|| ".".into())
}
