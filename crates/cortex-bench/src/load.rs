//! How busy the machine is apart from this process: `/proc/stat` busy time minus this
//! process's own CPU time, in cores. Two-thread numeric code collapses when another process
//! holds a core, so windows disturbed that way are discarded, as the PyTorch peer does.

use std::time::{Duration, Instant};

fn clock_ticks_per_second() -> f64 {
    100.0 // USER_HZ on Linux
}

/// Busy jiffies of the whole machine.
fn machine_busy() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let cpu = stat.lines().next()?;
    let fields: Vec<f64> = cpu
        .split_whitespace()
        .skip(1)
        .filter_map(|f| f.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal ...: busy = all but idle and iowait.
    let total: f64 = fields.iter().take(8).sum();
    Some(total - fields.get(3)? - fields.get(4).unwrap_or(&0.0))
}

/// CPU jiffies used by this process.
fn own_busy() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let after = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = after.split_whitespace().collect();
    // Fields after the command: state is [0], utime [11], stime [12].
    Some(fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?)
}

/// Measures the cores used by other processes between `new` and `stop`.
pub struct LoadProbe {
    start: Instant,
    machine: Option<f64>,
    own: Option<f64>,
}

impl LoadProbe {
    /// Starts a measurement.
    pub fn new() -> Self {
        Self {
            start: Instant::now(),
            machine: machine_busy(),
            own: own_busy(),
        }
    }

    /// Cores used by this process since `new`.
    pub fn own_cores(&self) -> f64 {
        let wall = self.start.elapsed().as_secs_f64().max(1e-6);
        match (self.own, own_busy()) {
            (Some(o0), Some(o1)) => (o1 - o0) / clock_ticks_per_second() / wall,
            _ => f64::NAN,
        }
    }

    /// Cores used by other processes since `new` (0 where /proc is unavailable).
    pub fn foreign_cores(&self) -> f64 {
        let wall = self.start.elapsed().as_secs_f64().max(1e-6);
        match (self.machine, machine_busy(), self.own, own_busy()) {
            (Some(m0), Some(m1), Some(o0), Some(o1)) => {
                (((m1 - m0) - (o1 - o0)) / clock_ticks_per_second() / wall).max(0.0)
            }
            _ => 0.0,
        }
    }
}

/// Waits until other processes use less than `threshold` cores over a 0.5 s sample, or
/// `timeout` passes; returns the seconds waited and whether the machine became idle.
pub fn wait_for_idle(threshold: f64, timeout: Duration) -> (f64, bool) {
    let start = Instant::now();
    loop {
        let probe = LoadProbe::new();
        std::thread::sleep(Duration::from_millis(500));
        if probe.foreign_cores() < threshold {
            return (start.elapsed().as_secs_f64(), true);
        }
        if start.elapsed() > timeout {
            return (start.elapsed().as_secs_f64(), false);
        }
    }
}
