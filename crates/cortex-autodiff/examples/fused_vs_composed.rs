//! Time and peak memory of the fused losses against their composed twins, forward + backward
//! on a `[4096, 1000]` batch (f32), on each CPU backend.
//!
//! `cargo test --workspace --no-run` builds it; run `target/debug/examples/fused_vs_composed-*`
//! (dependencies are optimized in the dev profile) or build it with `--release`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use burn::tensor::{DType, Distribution, Int, Tensor};
use cortex_autodiff::{fused_binary_cross_entropy_with_logits, fused_cross_entropy};
use cortex_core::Backend;
use cortex_ops::{CrossEntropyOptions, Reduction, binary_cross_entropy_with_logits, cross_entropy};

/// Counts live heap bytes and their peak.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(live, Ordering::Relaxed);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const ROWS: usize = 4096;
const CLASSES: usize = 1000;
const REPEATS: usize = 5;

/// One measured loss: its label and a forward + backward step.
type Step<'a> = (&'static str, Box<dyn Fn() + 'a>);

/// Median seconds and peak extra megabytes of `step` (forward + backward).
fn measure(step: &dyn Fn()) -> (f64, f64) {
    step(); // warm-up
    let mut times = Vec::with_capacity(REPEATS);
    let mut peak = 0usize;
    for _ in 0..REPEATS {
        let base = LIVE.load(Ordering::Relaxed);
        PEAK.store(base, Ordering::Relaxed);
        let t = Instant::now();
        step();
        times.push(t.elapsed().as_secs_f64());
        peak = peak.max(PEAK.load(Ordering::Relaxed) - base);
    }
    times.sort_by(f64::total_cmp);
    (times[REPEATS / 2], peak as f64 / 1e6)
}

fn main() {
    println!("forward + backward, [{ROWS}, {CLASSES}] f32, median of {REPEATS}");
    println!(
        "{:<8} {:<30} {:>10} {:>14}",
        "backend", "loss", "ms", "peak MB"
    );
    for backend in Backend::ALL {
        let device = backend.autodiff_device();
        let logits = Tensor::<2>::random(
            [ROWS, CLASSES],
            Distribution::Normal(0.0, 3.0),
            (&device, DType::F32),
        );
        let classes =
            Tensor::<1, Int>::random([ROWS], Distribution::Uniform(0.0, CLASSES as f64), &device);
        let probs = Tensor::<2>::random(
            [ROWS, CLASSES],
            Distribution::Uniform(0.0, 1.0),
            (&device, DType::F32),
        );
        let options = CrossEntropyOptions::new();

        let rows: [Step; 4] = [
            (
                "cross_entropy (composed)",
                Box::new(|| {
                    let x = logits.clone().require_grad();
                    let loss = cross_entropy(x.clone(), classes.clone(), &options).unwrap();
                    let _ = x.grad(&loss.backward()).unwrap().into_data();
                }),
            ),
            (
                "cross_entropy (fused)",
                Box::new(|| {
                    let x = logits.clone().require_grad();
                    let loss = fused_cross_entropy(x.clone(), classes.clone(), &options).unwrap();
                    let _ = x.grad(&loss.backward()).unwrap().into_data();
                }),
            ),
            (
                "bce_with_logits (composed)",
                Box::new(|| {
                    let x = logits.clone().require_grad();
                    let loss =
                        binary_cross_entropy_with_logits(x.clone(), probs.clone(), Reduction::Mean)
                            .unwrap();
                    let _ = x.grad(&loss.backward()).unwrap().into_data();
                }),
            ),
            (
                "bce_with_logits (fused)",
                Box::new(|| {
                    let x = logits.clone().require_grad();
                    let loss = fused_binary_cross_entropy_with_logits(
                        x.clone(),
                        probs.clone(),
                        Reduction::Mean,
                    )
                    .unwrap();
                    let _ = x.grad(&loss.backward()).unwrap().into_data();
                }),
            ),
        ];
        for (name, step) in &rows {
            let (seconds, megabytes) = measure(step.as_ref());
            println!(
                "{:<8} {:<30} {:>10.1} {:>14.1}",
                backend.name(),
                name,
                seconds * 1e3,
                megabytes
            );
        }
    }
}
