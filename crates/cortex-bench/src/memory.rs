//! Peak resident memory of each workload, Cortex's and the PyTorch peer's: every workload runs
//! alone in a fresh process (this binary with `--memory-probe NAME`, the peer with
//! `--memory NAME`) for the warm-up's length of whole steps, then reports the high-water mark
//! of its resident set (`VmHWM`) and its resident set just before it built the model and data
//! (`VmRSS`; for the peer, after Python imported torch). A process per workload keeps one
//! workload's buffers, or an allocator's cache of them, out of the next one's figure. Linux
//! only (`/proc/self/status`); elsewhere the figures are reported as unavailable.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use cortex::device::NamedDevice;
use serde::Serialize;

use crate::workloads::Workload;

/// One process's resident memory, in MiB.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct MemoryUse {
    /// Resident set just before the workload was built.
    pub base_mib: f64,
    /// High-water mark of the resident set by the end of the steps.
    pub peak_mib: f64,
}

impl MemoryUse {
    /// What the workload itself added: the peak over the base.
    pub fn growth_mib(&self) -> f64 {
        self.peak_mib - self.base_mib
    }
}

/// `(VmRSS, VmHWM)` of this process in KiB, from `/proc/self/status`.
fn resident_kib() -> Option<(u64, u64)> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))?
            .split_whitespace()
            .next()?
            .parse()
            .ok()
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

/// The child's side: builds `workload` on `device`, runs whole steps for `duration` (and at
/// least five), and prints its [`MemoryUse`] as one JSON line.
pub fn probe(workload: &Workload, device: &NamedDevice, duration: Duration) -> Result<(), String> {
    let (base, _) = resident_kib().ok_or("no /proc/self/status: peak memory is Linux-only")?;
    let mut step = (workload.build)(&device.device)?;
    let (start, mut n) = (Instant::now(), 0usize);
    while start.elapsed() < duration || n < 5 {
        step(n, true).into_scalar::<f32>();
        n += 1;
    }
    let (_, peak) = resident_kib().ok_or("no /proc/self/status")?;
    let mib = |kib: u64| kib as f64 / 1024.0;
    let used = MemoryUse {
        base_mib: mib(base),
        peak_mib: mib(peak),
    };
    println!(
        "{}",
        serde_json::to_string(&used).map_err(|e| e.to_string())?
    );
    Ok(())
}

/// Parses the last line of a probe's standard output: `{"base_mib": …, "peak_mib": …}` (this
/// binary) or `{"base_kib": …, "peak_kib": …}` (the peer).
fn parse(stdout: &[u8]) -> Result<MemoryUse, String> {
    let text = String::from_utf8_lossy(stdout);
    let line = text
        .lines()
        .rev()
        .find(|l| l.trim_start().starts_with('{'))
        .ok_or_else(|| format!("the memory probe printed no result: {text:?}"))?;
    let json: serde_json::Value = serde_json::from_str(line).map_err(|e| e.to_string())?;
    let get = |mib: &str, kib: &str| {
        json[mib]
            .as_f64()
            .or_else(|| json[kib].as_f64().map(|k| k / 1024.0))
            .ok_or_else(|| format!("the memory probe's result lacks {mib}: {line}"))
    };
    Ok(MemoryUse {
        base_mib: get("base_mib", "base_kib")?,
        peak_mib: get("peak_mib", "peak_kib")?,
    })
}

/// Runs `command` (a memory probe) and parses its result.
fn run(mut command: Command) -> Result<MemoryUse, String> {
    let output = command
        .output()
        .map_err(|e| format!("cannot start the memory probe {command:?}: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "the memory probe {command:?} failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    parse(&output.stdout)
}

/// Cortex's peak for `workload` on `device`, from a fresh process of this binary.
/// (`quick`: a short run of steps, as `--quick`).
pub fn cortex(workload: &Workload, device: &NamedDevice, quick: bool) -> Result<MemoryUse, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut command = Command::new(exe);
    command
        .arg("--memory-probe")
        .arg(workload.name)
        .arg("--backend")
        .arg(&device.name);
    if quick {
        command.arg("--quick");
    }
    run(command)
}

/// The PyTorch peer's peak for the workload named `name`, from a fresh interpreter (`quick`:
/// a short run of steps, as the peer's `--smoke`).
pub fn torch(python: &str, script: &Path, name: &str, quick: bool) -> Result<MemoryUse, String> {
    let mut command = Command::new(python);
    command.arg(script).arg("--memory").arg(name);
    if quick {
        command.arg("--smoke");
    }
    run(command)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_probes_results_parse() {
        let ours = parse(b"noise\n{\"base_mib\": 10.5, \"peak_mib\": 42.0}\n").unwrap();
        assert_eq!((ours.base_mib, ours.peak_mib), (10.5, 42.0));
        assert_eq!(ours.growth_mib(), 31.5);
        let peer = parse(b"{\"name\": \"W1\", \"base_kib\": 2048, \"peak_kib\": 4096}").unwrap();
        assert_eq!((peer.base_mib, peer.peak_mib), (2.0, 4.0));
        assert!(parse(b"no json here").is_err());
        assert!(parse(b"{\"peak_mib\": 1.0}").is_err());
    }

    #[test]
    fn this_process_has_a_resident_set() {
        if let Some((rss, hwm)) = resident_kib() {
            assert!(rss > 0 && hwm >= rss, "VmRSS {rss} KiB, VmHWM {hwm} KiB");
        }
    }
}
