//! Seeds of layers built without one: distinct and reproducible, derived from a model seed
//! and the order in which the layers are built.

use std::cell::Cell;

use cortex_ops::random::mix;

thread_local! {
    /// The model seed in force on this thread and how many layers have drawn from it.
    static MODEL_SEED: Cell<(u64, u64)> = const { Cell::new((0, 0)) };
}

/// Restores the outer model seed when [`seeded`] ends, also by a panic.
struct Restore((u64, u64));

impl Drop for Restore {
    fn drop(&mut self) {
        MODEL_SEED.with(|current| current.set(self.0));
    }
}

/// Runs `build` with model seed `seed`: every layer built inside it without an explicit seed
/// (`…Config::seed` is `None`) takes the next seed of the stream derived from `seed`, so two
/// such layers start from different values, and the same code builds the same model every
/// time. An explicit seed still wins. Outside any `seeded` call the stream starts from model
/// seed 0 on each thread.
///
/// ```
/// use burn::tensor::Device;
/// use cortex_nn::{LinearConfig, seeded};
///
/// let device = Device::flex();
/// let build = || -> cortex_nn::Result<_> {
///     Ok((LinearConfig::new(3, 3).init(&device)?, LinearConfig::new(3, 3).init(&device)?))
/// };
/// let (a, b) = seeded(7, build)?;
/// let (again, _) = seeded(7, build)?;
/// let values = |l: &cortex_nn::Linear| l.weight.val().into_data().iter::<f32>().collect::<Vec<_>>();
/// assert_ne!(values(&a), values(&b)); // two unseeded layers differ
/// assert_eq!(values(&a), values(&again)); // and the model is reproducible
/// # Ok::<(), cortex_nn::Error>(())
/// ```
pub fn seeded<T>(seed: u64, build: impl FnOnce() -> T) -> T {
    let _restore = Restore(MODEL_SEED.with(|current| current.replace((seed, 0))));
    build()
}

/// The seed a layer initializes from: `explicit` when given, else the next value of the stream
/// that the model seed starts.
pub(crate) fn layer_seed(explicit: Option<u64>) -> u64 {
    explicit.unwrap_or_else(|| {
        MODEL_SEED.with(|current| {
            let (seed, layers) = current.get();
            current.set((seed, layers + 1));
            mix(seed, layers)
        })
    })
}
