//! Progress of an epoch: an indicatif bar (epoch, step, loss, throughput) on a terminal,
//! plain lines otherwise (logs, CI).

use std::io::IsTerminal;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};

/// Reports one epoch's progress.
pub(crate) struct Progress {
    bar: Option<ProgressBar>,
    epoch: usize,
    epochs: usize,
    steps: usize,
    started: Instant,
    samples: usize,
    quiet: bool,
    /// When the loss was last shown.
    shown: Instant,
}

/// How often a terminal bar reads the loss back from the device.
const BAR_INTERVAL: std::time::Duration = std::time::Duration::from_millis(250);

impl Progress {
    pub(crate) fn new(epoch: usize, epochs: usize, steps: usize, quiet: bool) -> Self {
        let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::new(steps as u64);
            let style = ProgressStyle::with_template("epoch {prefix} [{bar:30}] {pos}/{len} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> ");
            bar.set_style(style);
            bar.set_prefix(format!("{epoch}/{epochs}"));
            bar
        });
        Self {
            bar,
            epoch,
            epochs,
            steps,
            started: Instant::now(),
            samples: 0,
            quiet,
            shown: Instant::now(),
        }
    }

    /// Whether step `step` shows the loss (so the caller should read it from the device):
    /// every 250 ms on a terminal, at each quarter of the epoch in plain lines, never when
    /// quiet.
    pub(crate) fn due(&self, step: usize) -> bool {
        if self.quiet {
            return false;
        }
        if self.bar.is_some() {
            return self.shown.elapsed() >= BAR_INTERVAL || step == self.steps;
        }
        self.steps >= 4 && step.is_multiple_of(self.steps / 4) && step < self.steps
    }

    /// After each training step, with the epoch's mean loss so far when it was read.
    pub(crate) fn step(&mut self, step: usize, batch: usize, loss: Option<f64>) {
        self.samples += batch;
        let rate = self.samples as f64 / self.started.elapsed().as_secs_f64().max(1e-9);
        if let Some(bar) = &self.bar {
            bar.set_position(step as u64);
            if let Some(loss) = loss {
                self.shown = Instant::now();
                bar.set_message(format!("loss {loss:.4} {rate:.0} samples/s"));
            }
        } else if let Some(loss) = loss {
            eprintln!(
                "epoch {}/{} step {step}/{} loss {loss:.4} {rate:.0} samples/s",
                self.epoch, self.epochs, self.steps
            );
        }
    }

    /// At the end of the epoch, with its summary line.
    pub(crate) fn finish(self, summary: &str) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        if !self.quiet {
            eprintln!(
                "epoch {}/{} {summary} ({:.1} s)",
                self.epoch,
                self.epochs,
                self.started.elapsed().as_secs_f64()
            );
        }
    }
}
