//! Seeded train/validation/test splits by fractions, optionally stratified by class:
//! deterministic for a seed, disjoint, and covering every sample.

use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result, invalid};

/// Fractions of a split (summing to 1), the seed, and whether to stratify.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SplitConfig {
    /// Fraction for training, in `[0, 1]`.
    pub train: f64,
    /// Fraction for validation, in `[0, 1]`.
    pub validation: f64,
    /// Fraction for testing, in `[0, 1]`.
    pub test: f64,
    /// Seed of the shuffle.
    pub seed: u64,
    /// Keep each class's proportion in every part (needs labels).
    pub stratify: bool,
}

impl SplitConfig {
    /// `train`/`validation`/`test` fractions, seed 0, not stratified.
    pub fn new(train: f64, validation: f64, test: f64) -> Self {
        Self {
            train,
            validation,
            test,
            seed: 0,
            stratify: false,
        }
    }

    /// Sets the seed.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Stratifies by class.
    pub fn stratified(mut self) -> Self {
        self.stratify = true;
        self
    }
}

/// Indices of the three parts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Split {
    /// Training indices.
    pub train: Vec<usize>,
    /// Validation indices.
    pub validation: Vec<usize>,
    /// Test indices.
    pub test: Vec<usize>,
}

/// Sizes of the parts for `n` samples: `round(n·train)`, `round(n·validation)`, the rest.
fn sizes(n: usize, config: &SplitConfig) -> (usize, usize) {
    let train = ((n as f64) * config.train).round() as usize;
    let validation = (((n as f64) * config.validation).round() as usize).min(n - train.min(n));
    (train.min(n), validation)
}

/// Splits `n` samples. With `config.stratify`, `labels` (one class id per sample) are
/// required, and each class is split by the fractions on its own, so every part holds each
/// class's share to within one sample.
///
/// # Errors
/// [`Error::InvalidArgument`] for fractions outside `[0, 1]` or not summing to 1, stratifying
/// without labels; [`Error::ShapeMismatch`] for labels of another length; [`Error::Empty`]
/// when a part with a fraction > 0 receives no sample (too few samples), with the count
/// that would fill it.
pub fn split(n: usize, config: &SplitConfig, labels: Option<&[usize]>) -> Result<Split> {
    const W: &str = "split";
    for (field, f) in [
        ("train", config.train),
        ("validation", config.validation),
        ("test", config.test),
    ] {
        if !(0.0..=1.0).contains(&f) {
            return Err(invalid(W, field, "in [0, 1]", f));
        }
    }
    let total = config.train + config.validation + config.test;
    if (total - 1.0).abs() > 1e-9 {
        return Err(invalid(W, "train + validation + test", "1", total));
    }
    let mut rng = StdRng::seed_from_u64(config.seed);
    let mut parts = Split {
        train: Vec::new(),
        validation: Vec::new(),
        test: Vec::new(),
    };
    let groups: Vec<Vec<usize>> = if config.stratify {
        let labels =
            labels.ok_or_else(|| invalid(W, "labels", "given when stratifying", "none"))?;
        if labels.len() != n {
            return Err(Error::ShapeMismatch {
                what: "split",
                expected: format!("{n} labels"),
                got: labels.len().to_string(),
            });
        }
        let classes = labels.iter().max().map_or(0, |m| m.saturating_add(1));
        if classes > n.max(1) * 64 {
            return Err(invalid(
                W,
                "labels",
                &format!("class ids below {} (dense ids 0..classes)", n.max(1) * 64),
                classes - 1,
            ));
        }
        let mut groups = vec![Vec::new(); classes];
        for (i, &l) in labels.iter().enumerate() {
            groups[l].push(i);
        }
        groups
    } else {
        vec![(0..n).collect()]
    };
    for mut group in groups {
        group.shuffle(&mut rng);
        let (train, validation) = sizes(group.len(), config);
        parts.test.extend_from_slice(&group[train + validation..]);
        parts
            .validation
            .extend_from_slice(&group[train..train + validation]);
        parts.train.extend_from_slice(&group[..train]);
    }
    check_parts(n, config, &parts)?;
    // Mix the classes within each part.
    parts.train.shuffle(&mut rng);
    parts.validation.shuffle(&mut rng);
    parts.test.shuffle(&mut rng);
    Ok(parts)
}

/// Fails with [`Error::Empty`] when a part asked for (fraction > 0) received no sample,
/// saying how many samples would fill it.
fn check_parts(n: usize, config: &SplitConfig, parts: &Split) -> Result<()> {
    let asked = [
        ("training", config.train, parts.train.len()),
        ("validation", config.validation, parts.validation.len()),
        ("test", config.test, parts.test.len()),
    ];
    let Some(&(name, fraction, _)) = asked.iter().find(|(_, f, len)| *f > 0.0 && *len == 0) else {
        return Ok(());
    };
    // The smallest larger sample count whose unstratified split fills every part asked for
    // (rounding makes this not monotonic: 2 samples fill a 70/15/15 test part, 4 do not).
    let fills = |m: usize| {
        let (train, validation) = sizes(m, config);
        let got = [train, validation, m - train - validation];
        asked
            .iter()
            .zip(got)
            .all(|((_, f, _), g)| *f == 0.0 || g > 0)
    };
    let needed = (n + 1..=n.saturating_add(1_000_000)).find(|&m| fills(m));
    let how = match (config.stratify, needed) {
        (true, _) => format!(
            "give more samples of each class, set the {name} fraction to 0, or split without \
             stratifying"
        ),
        (false, Some(m)) => format!("give at least {m} samples or set the {name} fraction to 0"),
        (false, None) => format!("set the {name} fraction to 0"),
    };
    Err(Error::Empty {
        what: format!("the {name} part"),
        reason: format!(
            "splitting {n} samples {:.2}/{:.2}/{:.2}{} leaves it without a sample (its fraction \
             is {fraction}): {how}",
            config.train,
            config.validation,
            config.test,
            if config.stratify { " by class" } else { "" },
        ),
    })
}
