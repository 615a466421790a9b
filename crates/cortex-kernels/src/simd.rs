//! Run-time SIMD dispatch, one mechanism for every kernel: the crate is compiled for baseline
//! x86-64 (SSE2), and each hot loop is compiled a second time for AVX2 + FMA by [`simd_fn!`]
//! and chosen when the CPU has them ([`has_avx2_fma`], detected once and cached by std).
//! Elsewhere the baseline loop runs as it is.

/// Whether this CPU has AVX2 and FMA.
#[inline(always)]
pub fn has_avx2_fma() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Defines a loop twice: as `$name` (with the visibility given), which runs `$avx2` when the
/// CPU has AVX2 and FMA, and as `$avx2`, the same body compiled for them (on baseline x86-64
/// the elementwise loops vectorize 4 lanes wide; with AVX2 they vectorize 8 wide).
///
/// ```ignore
/// simd_fn! {
///     /// `out[i] = 2 x[i]`.
///     fn double / double_avx2(x: &[f32], out: &mut [f32]) { … }
/// }
/// ```
macro_rules! simd_fn {
    (
        $(#[$doc:meta])*
        $vis:vis fn $name:ident / $avx2:ident $(<$t:ident: $bound:path>)?
            ($($arg:ident : $ty:ty),* $(,)?) $body:block
    ) => {
        $(#[$doc])*
        #[allow(clippy::too_many_arguments)]
        $vis fn $name $(<$t: $bound>)? ($($arg: $ty),*) {
            #[cfg(target_arch = "x86_64")]
            if $crate::simd::has_avx2_fma() {
                // SAFETY: the CPU supports the features `$avx2` is compiled for.
                return unsafe { $avx2 $(::<$t>)? ($($arg),*) };
            }
            $body
        }

        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx2,fma")]
        #[allow(clippy::too_many_arguments)]
        fn $avx2 $(<$t: $bound>)? ($($arg: $ty),*) $body
    };
}

pub(crate) use simd_fn;
