//! `cargo xtask gpu-pack`: everything a short session on a lent GPU machine needs, prebuilt.
//!
//! The lent machine has no cargo, reaches no registry and receives at most 64 MiB, so this
//! command builds here — the very `cargo test --workspace --features cortex/wgpu` build the
//! test suite and CI use (dependencies optimised, no second build of burn) — and packs into
//! `.gpu/` (ignored by git, carried by the device tool):
//! - `bundle.tar.xz`: the stripped GPU-path suite, the four examples and the bench, in one
//!   xz stream with a dictionary larger than one binary, so their shared code is stored once
//!   (~37 MB for ~430 MB of stripped binaries);
//! - `debs/`: Debian's Vulkan loader, for a machine without one;
//! - `manifest.txt`: the commit and the binaries.
//!
//! `xtask/gpu/run.sh` runs them there (and here, over lavapipe, with `--quick`).

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::check_grads::build_test_targets;
use crate::workspace_root;

/// The executables the GPU run needs: the GPU-path suite (a test target) and four binaries.
const TESTS: [&str; 1] = ["gpu_path"];
const BINS: [&str; 5] = ["linear_regression", "mlp", "cnn", "rnn", "cortex-bench"];
/// What the device tool carries at most, with room left for the repository itself.
const BUDGET_BYTES: u64 = 56 << 20;

pub(crate) fn pack() -> Result<()> {
    let root = workspace_root();
    let gpu = root.join(".gpu");
    let stage = gpu.join("stage");
    if stage.exists() {
        std::fs::remove_dir_all(&stage)?;
    }
    std::fs::create_dir_all(&stage)?;
    ignore_in_git(&root)?;

    let artifacts = build_test_targets("cortex/wgpu")?;
    let mut manifest = format!("commit {}\n", commit(&root));
    for name in TESTS.iter().chain(BINS.iter()) {
        let want_bin = BINS.contains(name);
        let artifact = artifacts
            .iter()
            .find(|a| a.name == *name && a.is_bin == want_bin)
            .with_context(|| format!("cargo built no `{name}`"))?;
        let target = stage.join(name);
        crate::run(
            "strip",
            &["-o", &target.to_string_lossy(), &artifact.path],
            &[],
        )?;
        let size = std::fs::metadata(&target)?.len();
        manifest.push_str(&format!("{name} {size} bytes (from {})\n", artifact.path));
    }
    std::fs::write(gpu.join("manifest.txt"), &manifest)?;

    // One xz stream over the tar: a 512 MiB dictionary spans several binaries, so what they
    // share (burn, wgpu, cubecl) is stored once.
    let bundle = gpu.join("bundle.tar.xz");
    eprintln!(
        "$ tar | xz --lzma2=preset=6,dict=512MiB > {}",
        bundle.display()
    );
    let status = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "tar -C '{}' -cf - . | xz -T1 --lzma2=preset=6,dict=512MiB > '{}'",
            stage.display(),
            bundle.display()
        ))
        .status()?;
    if !status.success() {
        bail!("packing {} failed", bundle.display());
    }
    std::fs::remove_dir_all(&stage)?;

    download_vulkan_loader(&gpu.join("debs"));
    let total = folder_bytes(&gpu)?;
    eprintln!(
        "gpu-pack: .gpu holds {:.1} MiB (the device tool carries at most 64 MiB)",
        total as f64 / (1 << 20) as f64
    );
    if total > BUDGET_BYTES {
        bail!(
            ".gpu is {} MiB, over the {} MiB left beside the repository in a device call",
            total >> 20,
            BUDGET_BYTES >> 20
        );
    }
    eprintln!(
        "gpu-pack: ready. On a lent machine: run(command=\"bash xtask/gpu/run.sh\", \
         carry=[\".gpu\"], timeout_s=540); here, over lavapipe: bash xtask/gpu/run.sh --quick"
    );
    Ok(())
}

/// Debian's Vulkan loader (the device tool's README): a bare GPU machine may have NVIDIA's
/// driver but no `libvulkan.so.1`. A failure here is a warning: the machine may have one.
fn download_vulkan_loader(debs: &Path) {
    let script = format!(
        "set -e; mkdir -p '{d}' /tmp/cortex-apt/partial; \
         o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/cortex-apt'; \
         apt-get $o update -qq; cd '{d}' && apt-get $o download -qq libvulkan1",
        d = debs.display()
    );
    match Command::new("sh").arg("-c").arg(&script).status() {
        Ok(s) if s.success() => {}
        _ => eprintln!(
            "gpu-pack: warning: could not download libvulkan1; the GPU machine must have a \
             Vulkan loader of its own"
        ),
    }
}

/// Adds `/.gpu/` to `.git/info/exclude`, so the bundle travels as an untracked, carried path
/// and never lands in a commit.
fn ignore_in_git(root: &Path) -> Result<()> {
    let exclude = root.join(".git/info/exclude");
    let current = std::fs::read_to_string(&exclude).unwrap_or_default();
    if !current.lines().any(|l| l.trim() == "/.gpu/") {
        if let Some(dir) = exclude.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(&exclude, format!("{current}/.gpu/\n"))?;
    }
    Ok(())
}

fn commit(root: &Path) -> String {
    Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .current_dir(root)
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown".to_string())
}

fn folder_bytes(dir: &Path) -> Result<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let meta = entry.metadata()?;
        total += if meta.is_dir() {
            folder_bytes(&entry.path())?
        } else {
            meta.len()
        };
    }
    Ok(total)
}
