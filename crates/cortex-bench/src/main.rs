//! `cortex-bench` (run by `cargo xtask bench`): training and inference throughput of the
//! classic workloads on any burn device (the CPU backends by default; `wgpu`, `vulkan`, `cuda`
//! in a build with that feature), fp32, two threads; warm-up, then the median of timed windows
//! with their spread; windows disturbed by other processes are discarded. Percentages of peak
//! are of the machine's own fp32 peak, measured at start (`cortex::kernels::peak`).
//! `--vs-torch PYTHON` runs the PyTorch peer (`peer/torch_workloads.py`) in the same
//! invocation, alternating with Cortex, and prints the ratio per workload. `--memory` adds
//! the peak resident memory of each workload, Cortex's beside the peer's (see [`memory`]).

mod load;
mod memory;
mod workloads;

/// With the `mimalloc` feature, the bench allocates with mimalloc instead of the system's
/// allocator (glibc's returns large freed blocks to the system and takes them back page by
/// page; see `docs/performance.md`).
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The allocator this build uses, printed with the results.
const ALLOCATOR_NAME: &str = if cfg!(feature = "mimalloc") {
    "mimalloc"
} else {
    "system"
};

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Command as Process, ExitCode};
use std::time::{Duration, Instant};

use clap::{Arg, ArgAction, Command, value_parser};
use cortex::device::NamedDevice;
use cortex::kernels::peak::{Peak, fp32_peak};
use serde::Serialize;

/// Windows with more foreign load than this (cores) are re-run.
const MAX_FOREIGN: f64 = 0.25;

#[derive(Debug, Clone, Serialize)]
struct Measurement {
    name: String,
    backend: String,
    batch: usize,
    median_samples_per_s: f64,
    min_samples_per_s: f64,
    max_samples_per_s: f64,
    ms_per_step: f64,
    gflops: f64,
    /// Of the CPU's peak, on the CPU backends only.
    percent_of_peak: Option<f64>,
    windows: usize,
    rejected_windows: usize,
    /// Cores this process kept busy during the kept windows.
    cores_used: f64,
    /// Training only: milliseconds of forward + loss per step (the rest is backward + step).
    forward_ms_per_step: Option<f64>,
}

struct Settings {
    warmup: Duration,
    window: Duration,
    windows: usize,
    wait_idle: bool,
}

/// Timed windows of `step` (whole steps, or forward-only): samples/s per kept window
/// (sorted), the number of disturbed windows re-run, and the cores this process used.
fn windows(
    step: &mut workloads::Step,
    batch: usize,
    full: bool,
    settings: &Settings,
) -> (Vec<f64>, usize, f64) {
    let (start, mut n) = (Instant::now(), 0usize);
    while start.elapsed() < settings.warmup || n < 5 {
        step(n, full).into_scalar::<f32>();
        n += 1;
    }
    let per_step = start.elapsed().as_secs_f64() / n as f64;
    let steps = ((settings.window.as_secs_f64() / per_step) as usize).max(3);
    let (mut rates, mut rejected, mut cores) = (Vec::new(), 0, Vec::new());
    while rates.len() < settings.windows {
        let probe = load::LoadProbe::new();
        let t = Instant::now();
        let mut last = None;
        for i in 0..steps {
            last = Some(step(i, full));
        }
        if let Some(last) = last {
            last.into_scalar::<f32>();
        }
        let rate = (steps * batch) as f64 / t.elapsed().as_secs_f64();
        if settings.wait_idle && probe.foreign_cores() > MAX_FOREIGN && rejected < 20 {
            rejected += 1;
            continue;
        }
        cores.push(probe.own_cores());
        rates.push(rate);
    }
    rates.sort_by(f64::total_cmp);
    (rates, rejected, median(cores))
}

fn measure(
    workload: &workloads::Workload,
    device: &NamedDevice,
    settings: &Settings,
    breakdown: bool,
    peak: &Peak,
) -> Result<Measurement, String> {
    let mut step = (workload.build)(&device.device)?;
    if settings.wait_idle {
        load::wait_for_idle(0.15, Duration::from_secs(300));
    }
    let (rates, rejected, cores_used) = windows(&mut step, workload.batch, true, settings);
    let forward_ms_per_step = (breakdown && workload.train).then(|| {
        let (forward, _, _) = windows(&mut step, workload.batch, false, settings);
        1000.0 * workload.batch as f64 / median(forward)
    });
    let rate = median(rates.clone());
    let flops = workload.forward_flops * if workload.train { 3.0 } else { 1.0 };
    let gflops = rate * flops / 1e9;
    Ok(Measurement {
        name: workload.name.to_string(),
        backend: device.name.clone(),
        batch: workload.batch,
        median_samples_per_s: rate,
        min_samples_per_s: rates[0],
        max_samples_per_s: rates[rates.len() - 1],
        ms_per_step: 1000.0 * workload.batch as f64 / rate,
        gflops,
        percent_of_peak: percent_of_peak(device, gflops, peak),
        windows: rates.len(),
        rejected_windows: rejected,
        cores_used,
        forward_ms_per_step,
    })
}

/// `gflops` as a percentage of the CPU's peak, on the CPU backends only.
fn percent_of_peak(device: &NamedDevice, gflops: f64, peak: &Peak) -> Option<f64> {
    cortex::core::is_host_device(&device.device).then_some(100.0 * gflops / peak.gflops)
}

fn print_row(m: &Measurement) {
    println!(
        "{:<30} {:<8} b={:<4} {:>12.0} samples/s [{:.0} .. {:.0}] {:>9.3} ms/step {:>7.2} GFLOP/s {} {:.2} cores{}{}",
        m.name,
        m.backend,
        m.batch,
        m.median_samples_per_s,
        m.min_samples_per_s,
        m.max_samples_per_s,
        m.ms_per_step,
        m.gflops,
        m.percent_of_peak
            .map_or("   (GPU)  ".to_string(), |p| format!("{p:>5.1}% peak")),
        m.cores_used,
        m.forward_ms_per_step.map_or(String::new(), |f| format!(
            " (forward+loss {f:.2} ms, backward+step {:.2} ms)",
            m.ms_per_step - f
        )),
        if m.rejected_windows > 0 {
            format!(" ({} disturbed windows re-run)", m.rejected_windows)
        } else {
            String::new()
        }
    );
}

/// The PyTorch peer's script.
fn peer_script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("peer/torch_workloads.py")
}

/// Runs the PyTorch peer; returns median samples/s by workload name.
fn torch(python: &str, filter: Option<&str>, quick: bool) -> Result<BTreeMap<String, f64>, String> {
    let script = peer_script();
    let out = std::env::temp_dir().join(format!("cortex-bench-torch-{}.json", std::process::id()));
    let mut command = Process::new(python);
    command.arg(&script).arg("--out").arg(&out);
    if quick {
        command.arg("--smoke");
    }
    if let Some(f) = filter {
        command.arg("--only").arg(f);
    }
    let status = command
        .status()
        .map_err(|e| format!("cannot run {python}: {e}"))?;
    if !status.success() {
        return Err(format!("the PyTorch peer failed ({status})"));
    }
    let text = std::fs::read_to_string(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    let json: serde_json::Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    let results = json["results"]
        .as_array()
        .ok_or("the peer wrote no results")?;
    Ok(results
        .iter()
        .filter_map(|r| {
            Some((
                r["name"].as_str()?.to_string(),
                r["median_samples_per_s"].as_f64()?,
            ))
        })
        .collect())
}

fn run() -> Result<(), String> {
    let matches = Command::new("cortex-bench")
        .about("throughput of the classic workloads, optionally beside PyTorch")
        .arg(
            Arg::new("backend")
                .long("backend")
                .default_value("cpu")
                .help(
                    "devices: flex, ndarray, cpu (both), wgpu, vulkan, cuda[:N] in a build with \
                     that feature, a comma-separated list, or all (every device of this build)",
                ),
        )
        .arg(
            Arg::new("json")
                .long("json")
                .value_name("PATH")
                .value_parser(value_parser!(PathBuf)),
        )
        .arg(
            Arg::new("quick")
                .long("quick")
                .action(ArgAction::SetTrue)
                .help("a short smoke run (no idle waiting)"),
        )
        .arg(
            Arg::new("filter")
                .long("filter")
                .value_name("SUBSTRING")
                .help("only workloads whose name contains it"),
        )
        .arg(
            Arg::new("vs-torch")
                .long("vs-torch")
                .value_name("PYTHON")
                .help("also run the PyTorch peer with this interpreter"),
        )
        .arg(
            Arg::new("breakdown")
                .long("breakdown")
                .action(ArgAction::SetTrue)
                .help("also time forward+loss alone for training workloads"),
        )
        .arg(
            Arg::new("memory")
                .long("memory")
                .action(ArgAction::SetTrue)
                .help(
                    "also measure each workload's peak resident memory, in a fresh process \
                     per workload (and the peer's, with --vs-torch)",
                ),
        )
        .arg(
            Arg::new("memory-probe")
                .long("memory-probe")
                .value_name("WORKLOAD")
                .hide(true)
                .help("run only this workload (exact name) and print its resident memory"),
        )
        .arg(
            Arg::new("rounds")
                .long("rounds")
                .value_parser(value_parser!(usize))
                .default_value("1")
                .help("alternations of Cortex and PyTorch"),
        )
        .get_matches();
    let backends = NamedDevice::parse_selection(
        matches
            .get_one::<String>("backend")
            .map_or("cpu", String::as_str),
    )
    .map_err(|e| e.to_string())?;
    let quick = matches.get_flag("quick");
    if let Some(name) = matches.get_one::<String>("memory-probe") {
        let workload = workloads::all()
            .into_iter()
            .find(|w| w.name == name.as_str())
            .ok_or_else(|| format!("no workload named {name:?}"))?;
        let [device] = backends.as_slice() else {
            return Err("--memory-probe takes one --backend".into());
        };
        let millis = if quick { 50 } else { 1000 };
        return memory::probe(&workload, device, Duration::from_millis(millis));
    }
    let settings = if quick {
        Settings {
            warmup: Duration::from_millis(50),
            window: Duration::from_millis(40),
            windows: 2,
            wait_idle: false,
        }
    } else {
        Settings {
            warmup: Duration::from_secs(1),
            window: Duration::from_millis(700),
            windows: 7,
            wait_idle: true,
        }
    };
    let filter = matches.get_one::<String>("filter").cloned();
    let selected: Vec<_> = workloads::all()
        .into_iter()
        .filter(|w| {
            filter
                .as_ref()
                .is_none_or(|f| w.name.to_lowercase().contains(&f.to_lowercase()))
        })
        .collect();
    let rounds = *matches.get_one::<usize>("rounds").unwrap_or(&1);
    let python = matches.get_one::<String>("vs-torch").cloned();
    let mut ours: Vec<Measurement> = Vec::new();
    let mut theirs: Vec<BTreeMap<String, f64>> = Vec::new();
    println!(
        "cortex-bench: {} workloads, devices {:?}, {} build, {} threads (RAYON_NUM_THREADS={}), {} allocator",
        selected.len(),
        backends.iter().map(|b| b.name.as_str()).collect::<Vec<_>>(),
        if cfg!(debug_assertions) {
            "debug (dependencies optimised)"
        } else {
            "release"
        },
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        std::env::var("RAYON_NUM_THREADS").unwrap_or_else(|_| "unset".into()),
        ALLOCATOR_NAME,
    );
    // The percentages of peak are of this machine's own peak, measured with as many threads
    // as the workloads get.
    let threads = std::env::var("RAYON_NUM_THREADS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    if settings.wait_idle {
        load::wait_for_idle(0.15, Duration::from_secs(300));
    }
    let peak = fp32_peak(threads, settings.window);
    println!("peak: {peak}, measured (FMA throughput probe)");
    for round in 0..rounds.max(1) {
        for backend in &backends {
            for workload in &selected {
                let m = measure(
                    workload,
                    backend,
                    &settings,
                    matches.get_flag("breakdown"),
                    &peak,
                )?;
                print_row(&m);
                ours.push(m);
            }
        }
        if let Some(python) = &python {
            println!("round {}: PyTorch peer", round + 1);
            theirs.push(torch(python, filter.as_deref(), quick)?);
        }
    }
    if !theirs.is_empty() {
        println!(
            "\n| workload | backend | Cortex samples/s | PyTorch samples/s | Cortex / PyTorch | GFLOP/s | % of peak |"
        );
        println!("|---|---|---|---|---|---|---|");
        for backend in &backends {
            for workload in &selected {
                let mine: Vec<&Measurement> = ours
                    .iter()
                    .filter(|m| m.name == workload.name && m.backend == backend.name)
                    .collect();
                let our_median = median(mine.iter().map(|m| m.median_samples_per_s).collect());
                let torch_median = median(
                    theirs
                        .iter()
                        .filter_map(|t| t.get(workload.name).copied())
                        .collect(),
                );
                let gflops = median(mine.iter().map(|m| m.gflops).collect());
                println!(
                    "| {} | {} | {:.0} | {:.0} | {:.2}× | {:.2} | {} |",
                    workload.name,
                    backend.name,
                    our_median,
                    torch_median,
                    our_median / torch_median,
                    gflops,
                    percent_of_peak(backend, gflops, &peak)
                        .map_or("GPU".to_string(), |p| format!("{p:.1}%"))
                );
            }
        }
    }
    let memory = if matches.get_flag("memory") {
        peak_memory(&selected, &backends, python.as_deref(), quick)?
    } else {
        Vec::new()
    };
    if let Some(path) = matches.get_one::<PathBuf>("json") {
        let json = serde_json::json!({
            "cortex": ours,
            "pytorch": theirs,
            "memory": memory,
            "peak_gflops": peak.gflops,
            "peak": peak.to_string(),
            "allocator": ALLOCATOR_NAME,
        });
        std::fs::write(
            path,
            serde_json::to_string_pretty(&json).map_err(|e| e.to_string())?,
        )
        .map_err(|e| format!("{}: {e}", path.display()))?;
        println!("wrote {}", path.display());
    }
    Ok(())
}

/// One workload's peak resident memory on one backend, and the peer's.
#[derive(Debug, Clone, Serialize)]
struct MemoryRow {
    name: String,
    backend: String,
    cortex: memory::MemoryUse,
    pytorch: Option<memory::MemoryUse>,
}

/// Measures and prints the peak resident memory of every selected workload on every backend,
/// beside the peer's when `python` is given (one fresh process each).
fn peak_memory(
    selected: &[workloads::Workload],
    backends: &[NamedDevice],
    python: Option<&str>,
    quick: bool,
) -> Result<Vec<MemoryRow>, String> {
    let mib = |m: &memory::MemoryUse| format!("{:.0} (+{:.0})", m.peak_mib, m.growth_mib());
    println!(
        "\npeak resident memory, MiB (+ over the process before the workload was built); \
         one fresh process per workload, {} of steps",
        if quick { "50 ms" } else { "1 s" }
    );
    println!("\n| workload | backend | Cortex | PyTorch | Cortex / PyTorch (peak) |");
    println!("|---|---|---|---|---|");
    let mut rows = Vec::new();
    for workload in selected {
        let theirs = python
            .map(|p| memory::torch(p, &peer_script(), workload.name, quick))
            .transpose()?;
        for backend in backends {
            let ours = memory::cortex(workload, backend, quick)?;
            println!(
                "| {} | {} | {} | {} | {} |",
                workload.name,
                backend.name,
                mib(&ours),
                theirs.as_ref().map_or("-".to_string(), mib),
                theirs.as_ref().map_or("-".to_string(), |t| format!(
                    "{:.2}×",
                    ours.peak_mib / t.peak_mib
                )),
            );
            rows.push(MemoryRow {
                name: workload.name.to_string(),
                backend: backend.name.clone(),
                cortex: ours,
                pytorch: theirs,
            });
        }
    }
    Ok(rows)
}

/// The median (the mean of the two middle values for an even count).
fn median(mut values: Vec<f64>) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cortex-bench: {e}");
            ExitCode::FAILURE
        }
    }
}
