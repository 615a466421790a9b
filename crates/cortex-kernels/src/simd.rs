//! Run-time SIMD dispatch, one mechanism for every kernel: the crate is compiled for baseline
//! x86-64 (SSE2), and each hot loop is compiled twice more by [`simd_fn!`], for AVX2 + FMA and
//! for AVX-512 (x86-64-v4: F, VL, BW, DQ), the widest the CPU has chosen at run time
//! ([`level`]). Elsewhere the baseline loop runs as it is.
//!
//! `CORTEX_SIMD=avx2` (or `baseline`) in the environment caps the level, read once per
//! process: the same binary then compares its own paths (a benchmark's A/B, a test of the
//! narrower path on a wide CPU). It never raises the level above what the CPU has.

use std::fmt;
use std::sync::OnceLock;

/// The vector instructions a kernel (or the peak probe) runs on, narrowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Instructions {
    /// The baseline build (SSE2 on x86-64): 4 lanes, separate multiply and add.
    Baseline,
    /// AVX2 + FMA: 8 f32 lanes, fused multiply-add.
    Avx2Fma,
    /// AVX-512 F/VL/BW/DQ (x86-64-v4): 16 f32 lanes, fused multiply-add.
    Avx512,
}

impl Instructions {
    /// The widest this CPU has (ignoring `CORTEX_SIMD`; see [`level`]).
    pub fn detect() -> Self {
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::is_x86_feature_detected as has;
            if has!("avx512f") && has!("avx512vl") && has!("avx512bw") && has!("avx512dq") {
                return Self::Avx512;
            }
            if has!("avx2") && has!("fma") {
                return Self::Avx2Fma;
            }
        }
        Self::Baseline
    }

    /// f32 values each chain of the peak probe updates per iteration (one vector; two SSE2
    /// vectors on the baseline).
    pub fn lanes(self) -> usize {
        match self {
            Self::Avx512 => 16,
            Self::Avx2Fma | Self::Baseline => 8,
        }
    }

    /// The level a `CORTEX_SIMD` value names (`avx512`, `avx2`, `baseline`; case-insensitive).
    pub fn from_name(name: &str) -> Option<Self> {
        match name.trim().to_ascii_lowercase().as_str() {
            "avx512" | "avx-512" => Some(Self::Avx512),
            "avx2" | "avx2+fma" => Some(Self::Avx2Fma),
            "baseline" | "sse2" | "none" => Some(Self::Baseline),
            _ => None,
        }
    }
}

impl fmt::Display for Instructions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Avx512 => "AVX-512",
            Self::Avx2Fma => "AVX2+FMA",
            Self::Baseline => "baseline SIMD",
        })
    }
}

/// The instructions the kernels run on: [`Instructions::detect`], capped by `CORTEX_SIMD`
/// when it names a narrower level (an unknown value is ignored). Detected once per process.
#[inline]
pub fn level() -> Instructions {
    static LEVEL: OnceLock<Instructions> = OnceLock::new();
    *LEVEL.get_or_init(|| {
        let detected = Instructions::detect();
        std::env::var("CORTEX_SIMD")
            .ok()
            .and_then(|name| Instructions::from_name(&name))
            .map_or(detected, |cap| cap.min(detected))
    })
}

/// Whether the kernels run with AVX2 and FMA (or wider).
#[inline(always)]
pub fn has_avx2_fma() -> bool {
    level() >= Instructions::Avx2Fma
}

/// Defines a loop three times: as `$name` (with the visibility given), which runs the copy
/// compiled for the widest [`level`] the CPU has: AVX-512 (elementwise loops vectorize 16
/// lanes wide), AVX2 + FMA (8 wide), or the baseline build (4 wide on x86-64).
///
/// ```ignore
/// simd_fn! {
///     /// `out[i] = 2 x[i]`.
///     fn double(x: &[f32], out: &mut [f32]) { … }
/// }
/// ```
macro_rules! simd_fn {
    (
        $(#[$doc:meta])*
        $vis:vis fn $name:ident $(<$t:ident: $bound:path>)?
            ($($arg:ident : $ty:ty),* $(,)?) $body:block
    ) => {
        $(#[$doc])*
        #[allow(clippy::too_many_arguments)]
        $vis fn $name $(<$t: $bound>)? ($($arg: $ty),*) {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx512f,avx512vl,avx512bw,avx512dq,avx2,fma")]
                #[allow(clippy::too_many_arguments)]
                fn avx512 $(<$t: $bound>)? ($($arg: $ty),*) $body

                #[target_feature(enable = "avx2,fma")]
                #[allow(clippy::too_many_arguments)]
                fn avx2 $(<$t: $bound>)? ($($arg: $ty),*) $body

                match $crate::simd::level() {
                    // SAFETY: `level` found the features each copy is compiled for.
                    $crate::simd::Instructions::Avx512 => {
                        return unsafe { avx512 $(::<$t>)? ($($arg),*) };
                    }
                    $crate::simd::Instructions::Avx2Fma => {
                        return unsafe { avx2 $(::<$t>)? ($($arg),*) };
                    }
                    $crate::simd::Instructions::Baseline => {}
                }
            }
            $body
        }
    };
}

pub(crate) use simd_fn;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_are_ordered_and_named() {
        assert!(Instructions::Baseline < Instructions::Avx2Fma);
        assert!(Instructions::Avx2Fma < Instructions::Avx512);
        for level in [
            Instructions::Baseline,
            Instructions::Avx2Fma,
            Instructions::Avx512,
        ] {
            let name = match level {
                Instructions::Avx512 => "AVX512",
                Instructions::Avx2Fma => "avx2",
                Instructions::Baseline => "Baseline",
            };
            assert_eq!(Instructions::from_name(name), Some(level));
        }
        assert_eq!(Instructions::from_name("neon"), None);
        assert!(level() <= Instructions::detect(), "never above the CPU");
    }
}
