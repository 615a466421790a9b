//! A helper thread for the split products that a training loop's own thread calls, kept
//! awake between them, as OpenMP keeps its team.
//!
//! `rayon::join` called from outside rayon's pool hands both halves to the pool and puts the
//! caller to sleep; `rayon::spawn` wakes a sleeping worker for the other half. A product of
//! 10⁶–10⁷ multiply-adds takes 20–200 µs per half, about what waking a sleeping thread costs
//! on a loaded VM, so the second half started late or the caller waited. The team's helpers
//! take posted work within a microsecond while they are awake; after [`STAY_AWAKE`] without
//! work they sleep (yielding their core while awake, so that other threads are not starved).
//! The caller takes its own posted half back when no helper has started it by the time its own
//! half is done, so a posted half never waits on a sleeping or busy helper.

use std::any::Any;
use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::thread::Thread;
use std::time::{Duration, Instant};

/// How long a helper stays awake after its last piece of work.
const STAY_AWAKE: Duration = Duration::from_micros(200);

type Work = Box<dyn FnOnce() + Send>;

/// One posted half: run once, by a helper or by the caller that posted it.
struct Job {
    work: Mutex<Option<Work>>,
    /// Set by whoever takes the work.
    taken: AtomicBool,
    /// Set when a helper has run it.
    done: AtomicBool,
    panic: Mutex<Option<Box<dyn Any + Send>>>,
    caller: Thread,
}

impl Job {
    /// Takes the work, if nobody has.
    fn take(&self) -> Option<Work> {
        if self.taken.swap(true, Ordering::AcqRel) {
            return None;
        }
        self.work
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }
}

struct Team {
    queue: Mutex<VecDeque<Arc<Job>>>,
    /// Posted jobs not yet popped (read without the lock by waking helpers).
    pending: AtomicUsize,
    /// Helpers asleep or about to be.
    sleeping: AtomicUsize,
    /// Set once, right after the helpers are started.
    helpers: OnceLock<Vec<Thread>>,
}

impl Team {
    fn pop(&self) -> Option<Arc<Job>> {
        let job = self
            .queue
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop_front();
        if job.is_some() {
            self.pending.fetch_sub(1, Ordering::SeqCst);
        }
        job
    }

    fn post(&self, job: Arc<Job>) {
        self.queue
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push_back(job);
        self.pending.fetch_add(1, Ordering::SeqCst);
        // Either a helper going to sleep sees `pending` above, or this sees it sleeping and
        // leaves it an unpark token (which makes its next `park` return at once).
        if self.sleeping.load(Ordering::SeqCst) > 0 {
            for helper in self.helpers.get().into_iter().flatten() {
                helper.unpark();
            }
        }
    }

    /// A helper's loop: run posted work; yield while awake and idle; sleep after
    /// [`STAY_AWAKE`] without work.
    fn serve(&self) {
        let mut idle_since = Instant::now();
        loop {
            if let Some(job) = self.pop() {
                if let Some(work) = job.take() {
                    if let Err(payload) = catch_unwind(AssertUnwindSafe(work)) {
                        *job.panic.lock().unwrap_or_else(PoisonError::into_inner) = Some(payload);
                    }
                    job.done.store(true, Ordering::Release);
                    job.caller.unpark();
                }
                idle_since = Instant::now();
                continue;
            }
            if idle_since.elapsed() < STAY_AWAKE {
                std::thread::yield_now();
                continue;
            }
            self.sleeping.fetch_add(1, Ordering::SeqCst);
            if self.pending.load(Ordering::SeqCst) == 0 {
                std::thread::park();
            }
            self.sleeping.fetch_sub(1, Ordering::SeqCst);
            idle_since = Instant::now();
        }
    }
}

/// The team: one helper per thread of rayon's pool beyond the first (none on one thread).
fn team() -> &'static Team {
    static TEAM: OnceLock<&'static Team> = OnceLock::new();
    TEAM.get_or_init(|| {
        let team: &'static Team = Box::leak(Box::new(Team {
            queue: Mutex::new(VecDeque::new()),
            pending: AtomicUsize::new(0),
            sleeping: AtomicUsize::new(0),
            helpers: OnceLock::new(),
        }));
        let count = rayon::current_num_threads().saturating_sub(1);
        let helpers = (0..count)
            .filter_map(|i| {
                std::thread::Builder::new()
                    .name(format!("cortex-team-{i}"))
                    .spawn(move || team.serve())
                    .ok()
                    .map(|handle| handle.thread().clone())
            })
            .collect();
        let _ = team.helpers.set(helpers);
        team
    })
}

/// Runs `here` on this thread and `there` on a helper of the team (or on this thread, after
/// `here`, when no helper has started it by then); returns when both have run, so both may
/// borrow from the caller (as `rayon::join`'s). A panic in either is resumed here, after both
/// have finished.
pub(crate) fn join<'a>(here: impl FnOnce(), there: impl FnOnce() + Send + 'a) {
    let team = team();
    if team.helpers.get().is_none_or(Vec::is_empty) {
        here();
        there();
        return;
    }
    let there: Box<dyn FnOnce() + Send + 'a> = Box::new(there);
    // SAFETY: the work only outlives `'a` in the type: this function does not return, nor
    // unwind, before the work has run and been dropped (`Finish` below either takes it back
    // and runs it here, or waits until the helper that took it has set `done`, which it does
    // after the work returned or unwound). A job left in the queue after that holds `None`.
    let there: Work = unsafe { std::mem::transmute::<Box<dyn FnOnce() + Send + 'a>, Work>(there) };
    let job = Arc::new(Job {
        work: Mutex::new(Some(there)),
        taken: AtomicBool::new(false),
        done: AtomicBool::new(false),
        panic: Mutex::new(None),
        caller: std::thread::current(),
    });
    team.post(Arc::clone(&job));
    /// Waits for the posted half also when `here` unwinds: it writes into the caller's
    /// buffers.
    struct Finish<'a>(&'a Job);
    impl Drop for Finish<'_> {
        fn drop(&mut self) {
            if let Some(work) = self.0.take() {
                work();
                return;
            }
            let mut spins = 0u32;
            while !self.0.done.load(Ordering::Acquire) {
                if spins < 1 << 12 {
                    spins += 1;
                    std::hint::spin_loop();
                } else {
                    std::thread::park();
                }
            }
        }
    }
    let finish = Finish(&job);
    here();
    drop(finish);
    if let Some(payload) = job
        .panic
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .take()
    {
        resume_unwind(payload);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU64;

    #[test]
    fn both_halves_run_once() {
        let sum = Arc::new(AtomicU64::new(0));
        for i in 0..1000u64 {
            let there = Arc::clone(&sum);
            let here = Arc::clone(&sum);
            join(
                move || {
                    here.fetch_add(i, Ordering::Relaxed);
                },
                move || {
                    there.fetch_add(1_000_000 * i, Ordering::Relaxed);
                },
            );
        }
        let n: u64 = (0..1000).sum();
        assert_eq!(sum.load(Ordering::Relaxed), n + 1_000_000 * n);
    }

    #[test]
    fn a_panic_in_the_posted_half_reaches_the_caller() {
        let result = catch_unwind(|| join(|| {}, || panic!("there")));
        assert!(result.is_err());
        // The team still serves afterwards.
        let ran = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&ran);
        join(|| {}, move || flag.store(true, Ordering::Relaxed));
        assert!(ran.load(Ordering::Relaxed));
    }
}
