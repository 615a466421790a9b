//! The CPU's fp32 peak, measured: every thread runs chains of independent fused multiply-adds
//! in registers, on the widest vector instructions the CPU has (AVX-512, AVX2 + FMA, or the
//! baseline build's SSE2 multiply and add), and the probe counts the FLOPs they retire.
//!
//! Percentages of peak are only comparable between machines when the peak is the machine's
//! own: a constant written for one CPU (a Zen 3's 190 GFLOP/s on two cores) says nothing on a
//! Zen 4 with AVX-512 or on a laptop that clocks down.
//!
//! ```
//! use std::time::Duration;
//! use cortex_kernels::peak::fp32_peak;
//!
//! let peak = fp32_peak(1, Duration::from_millis(20));
//! assert!(peak.gflops > 0.1, "{peak}");
//! ```

use std::fmt;
use std::hint::black_box;
use std::sync::Barrier;
use std::time::{Duration, Instant};

pub use crate::simd::Instructions;

/// Independent accumulators per thread: more than an FMA's latency × its pipes (4 × 2 on
/// current x86 cores), so that no chain waits for its own previous result.
const CHAINS: usize = 12;
/// Iterations between two looks at the clock (a few microseconds of work).
const BATCH: u64 = 4096;

/// A measured fp32 peak.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Peak {
    /// Billions of f32 floating-point operations per second, all threads together
    /// (a fused multiply-add counts 2).
    pub gflops: f64,
    /// Threads that ran the probe at once.
    pub threads: usize,
    /// The instructions it ran on.
    pub instructions: Instructions,
}

impl fmt::Display for Peak {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:.1} GFLOP/s fp32 ({} threads, {})",
            self.gflops, self.threads, self.instructions
        )
    }
}

/// Measures the fp32 peak of `threads` threads (at least 1) running together for about
/// `duration`, on [`Instructions::detect`]'s instructions.
pub fn fp32_peak(threads: usize, duration: Duration) -> Peak {
    let threads = threads.max(1);
    let instructions = Instructions::detect();
    let start = Barrier::new(threads);
    let flops: f64 = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    start.wait();
                    let began = Instant::now();
                    let mut iterations = 0u64;
                    while began.elapsed() < duration {
                        // Opaque inputs: with constants the compiler may evaluate the chains
                        // once (from 0, `x · 1 + 0` stays 0) and the probe times nothing.
                        let (a, b) = (black_box(1.0), black_box(0.0));
                        black_box(chains(instructions, black_box(BATCH), a, b));
                        iterations += BATCH;
                    }
                    let seconds = began.elapsed().as_secs_f64();
                    let per_iteration = (2 * CHAINS * instructions.lanes()) as f64;
                    iterations as f64 * per_iteration / seconds
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap_or(0.0)).sum()
    });
    Peak {
        gflops: flops / 1e9,
        threads,
        instructions,
    }
}

/// Runs [`CHAINS`] chains of `lanes` accumulators, each `acc ← acc · a + b`, `iterations` times
/// from 0, on `instructions` (which the CPU must have: [`Instructions::detect`] or narrower),
/// and returns the sum of every accumulator: what the probe counts is what ran.
fn chains(instructions: Instructions, iterations: u64, a: f32, b: f32) -> f32 {
    #[cfg(target_arch = "x86_64")]
    match instructions {
        // SAFETY: `detect` found the features these functions are compiled for.
        Instructions::Avx512 => return unsafe { x86::chains_avx512(iterations, a, b) },
        Instructions::Avx2Fma => return unsafe { x86::chains_avx2(iterations, a, b) },
        Instructions::Baseline => {}
    }
    let _ = instructions;
    let mut acc = [[0f32; 8]; CHAINS];
    for _ in 0..iterations {
        for chain in &mut acc {
            for lane in chain.iter_mut() {
                *lane = *lane * a + b;
            }
        }
    }
    acc.iter().flatten().sum()
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    use super::CHAINS;

    #[target_feature(enable = "avx2,fma")]
    pub(super) fn chains_avx2(iterations: u64, a: f32, b: f32) -> f32 {
        let (va, vb) = (_mm256_set1_ps(a), _mm256_set1_ps(b));
        let mut acc = [_mm256_setzero_ps(); CHAINS];
        for _ in 0..iterations {
            for chain in &mut acc {
                *chain = _mm256_fmadd_ps(*chain, va, vb);
            }
        }
        let mut lanes = [0f32; 8];
        let mut total = 0.0;
        for chain in acc {
            // SAFETY: `lanes` holds 8 f32.
            unsafe { _mm256_storeu_ps(lanes.as_mut_ptr(), chain) };
            total += lanes.iter().sum::<f32>();
        }
        total
    }

    #[target_feature(enable = "avx512f")]
    pub(super) fn chains_avx512(iterations: u64, a: f32, b: f32) -> f32 {
        let (va, vb) = (_mm512_set1_ps(a), _mm512_set1_ps(b));
        let mut acc = [_mm512_setzero_ps(); CHAINS];
        for _ in 0..iterations {
            for chain in &mut acc {
                *chain = _mm512_fmadd_ps(*chain, va, vb);
            }
        }
        acc.into_iter()
            .map(|chain| _mm512_reduce_add_ps(chain))
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// With `acc ← acc · 1 + 1` every lane counts its iterations: the sum is
    /// iterations × chains × lanes exactly when every counted operation ran.
    #[test]
    fn every_counted_lane_runs() {
        let mut available = vec![Instructions::Baseline];
        match Instructions::detect() {
            Instructions::Avx512 => available.extend([Instructions::Avx2Fma, Instructions::Avx512]),
            Instructions::Avx2Fma => available.push(Instructions::Avx2Fma),
            Instructions::Baseline => {}
        }
        for instructions in available {
            let lanes = instructions.lanes();
            let total = chains(instructions, 1000, 1.0, 1.0);
            assert_eq!(total, (1000 * CHAINS * lanes) as f32, "{instructions}");
            // acc · 0.5 + 1 converges to 2 in every lane.
            let total = chains(instructions, 200, 0.5, 1.0);
            assert_eq!(total, (2 * CHAINS * lanes) as f32, "{instructions}");
        }
    }

    #[test]
    fn counts_every_thread() {
        let one = fp32_peak(1, Duration::from_millis(30));
        let two = fp32_peak(2, Duration::from_millis(30));
        assert_eq!((one.threads, two.threads), (1, 2));
        // Not a timing test (the suite runs tests side by side): only that work was counted.
        assert!(one.gflops.is_finite() && one.gflops > 0.0, "{one}");
        assert!(two.gflops.is_finite() && two.gflops > 0.0, "{two}");
        assert_eq!(fp32_peak(0, Duration::from_millis(5)).threads, 1);
    }
}
