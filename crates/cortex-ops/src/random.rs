//! Keyed randomness for training runs (the run context).
//!
//! Every random draw made inside a training step — dropout masks, data augmentation — is a
//! pure function of `(run seed, epoch, step, stream, draw)`: the [`StepKey`] the training loop
//! installs with [`in_step`], the stream the caller names, and the number of draws made
//! earlier in the same step. Nothing is carried from one step to the next, so a run resumed
//! at epoch `k` draws exactly what the uninterrupted run drew, and a checkpoint only needs
//! the run seed and the epoch to continue the sequence.
//!
//! Outside a step (a model called by hand), [`step_draw`] returns `None` and callers fall back
//! to a seed of their own.

use std::cell::Cell;

use serde::{Deserialize, Serialize};

/// Mixes `index` into `seed` (splitmix64's finaliser): a stream of well-spread, distinct
/// seeds from one seed, so two parameters, layers or steps never share their draws.
///
/// ```
/// use cortex_ops::random::mix;
/// assert_ne!(mix(0, 0), mix(0, 1));
/// assert_eq!(mix(7, 3), mix(7, 3));
/// ```
pub fn mix(seed: u64, index: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15_u64.wrapping_mul(index.wrapping_add(1)));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The stream ids of Cortex's own random draws inside a step (mixed with the caller's seed,
/// so two layers of one stream still draw differently).
pub mod stream {
    /// Dropout masks.
    pub const DROPOUT: u64 = 0x6472_6f70;
    /// Data augmentation of training batches.
    pub const AUGMENTATION: u64 = 0x6175_676d;
}

/// Where a training run is: the run's seed, the epoch and the step within it (both 1-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct StepKey {
    /// The run's seed.
    pub seed: u64,
    /// The epoch (1-based).
    pub epoch: u64,
    /// The step within the epoch (1-based).
    pub step: u64,
}

impl StepKey {
    /// Step `step` of epoch `epoch` of the run seeded with `seed`.
    pub fn new(seed: u64, epoch: u64, step: u64) -> Self {
        Self { seed, epoch, step }
    }

    /// The seed of the `draw`-th draw (0-based, counted over every stream) of `stream` in this
    /// step.
    pub fn draw_seed(&self, stream: u64, draw: u64) -> u64 {
        mix(
            mix(mix(mix(self.seed, self.epoch), self.step), stream),
            draw,
        )
    }
}

thread_local! {
    /// The step being run on this thread and the draws made in it so far.
    static CURRENT: Cell<Option<(StepKey, u64)>> = const { Cell::new(None) };
}

/// Restores the previous step (or none) when `in_step` ends, also by a panic.
struct Restore(Option<(StepKey, u64)>);

impl Drop for Restore {
    fn drop(&mut self) {
        CURRENT.with(|current| current.set(self.0));
    }
}

/// Runs `f` as training step `key`: every [`step_draw`] made on this thread inside `f` is
/// derived from `key`, counting from draw 0. Nested calls install their own key and restore
/// the outer one.
///
/// ```
/// use cortex_ops::random::{StepKey, in_step, step_draw, stream};
/// let key = StepKey::new(42, 1, 3);
/// let first = in_step(key, || (step_draw(stream::DROPOUT), step_draw(stream::DROPOUT)));
/// let again = in_step(key, || (step_draw(stream::DROPOUT), step_draw(stream::DROPOUT)));
/// assert_eq!(first, again);
/// assert_ne!(first.0, first.1);
/// assert_eq!(step_draw(stream::DROPOUT), None); // outside a step
/// ```
pub fn in_step<T>(key: StepKey, f: impl FnOnce() -> T) -> T {
    let _restore = Restore(CURRENT.with(|current| current.replace(Some((key, 0)))));
    f()
}

/// The seed of the next random draw of `stream` in the current step, or `None` outside
/// [`in_step`].
pub fn step_draw(stream: u64) -> Option<u64> {
    CURRENT.with(|current| {
        let (key, draws) = current.get()?;
        current.set(Some((key, draws + 1)));
        Some(key.draw_seed(stream, draws))
    })
}

/// The step being run on this thread, if any.
pub fn current_step() -> Option<StepKey> {
    CURRENT.with(|current| current.get().map(|(key, _)| key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_depend_on_every_part_of_the_key_and_on_their_order() {
        let base = StepKey::new(1, 2, 3);
        let seeds = [
            base.draw_seed(stream::DROPOUT, 0),
            base.draw_seed(stream::DROPOUT, 1),
            base.draw_seed(stream::AUGMENTATION, 0),
            StepKey::new(0, 2, 3).draw_seed(stream::DROPOUT, 0),
            StepKey::new(1, 3, 3).draw_seed(stream::DROPOUT, 0),
            StepKey::new(1, 2, 4).draw_seed(stream::DROPOUT, 0),
        ];
        for (i, a) in seeds.iter().enumerate() {
            for b in &seeds[i + 1..] {
                assert_ne!(a, b);
            }
        }
    }

    #[test]
    fn nested_steps_restore_the_outer_one_also_after_a_panic() {
        let outer = StepKey::new(1, 1, 1);
        in_step(outer, || {
            assert_eq!(step_draw(7), Some(outer.draw_seed(7, 0)));
            in_step(StepKey::new(9, 9, 9), || assert!(step_draw(7).is_some()));
            // The outer step's counter continues where it was.
            assert_eq!(step_draw(7), Some(outer.draw_seed(7, 1)));
            let caught = std::panic::catch_unwind(|| {
                in_step(StepKey::new(5, 5, 5), || panic!("inside"));
            });
            assert!(caught.is_err());
            assert_eq!(current_step(), Some(outer));
        });
        assert_eq!(current_step(), None);
    }
}
