//! The scalar types the fused recurrent kernels run in (`f32`, `f64`), their activations, and
//! a bounds-checked wrapper around the `gemm` crate (the GEMM burn's flex backend uses).

use std::fmt::Debug;
use std::ops::{Add, AddAssign, Mul, Neg, Sub};

use std::marker::PhantomData;

use burn::tensor::{Element, TensorData};

use crate::microkernel::Packed;
use crate::simd::simd_fn;

/// A float the kernels compute in.
pub trait Real:
    Element
    + Copy
    + Default
    + Debug
    + Send
    + Sync
    + PartialOrd
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Neg<Output = Self>
    + AddAssign
    + 'static
{
    /// 0.
    const ZERO: Self;
    /// 1.
    const ONE: Self;

    /// The value in f64 (exact for both precisions).
    fn as_f64(self) -> f64;

    /// The nearest value to `v` (rounded for f32).
    fn from_f64(v: f64) -> Self;

    /// `out = 1 / (1 + e^-x)`, elementwise.
    fn sigmoid(x: &[Self], out: &mut [Self]);

    /// `out = tanh(x)`, elementwise.
    fn tanh(x: &[Self], out: &mut [Self]);

    /// `values ← σ(values + shift)`, elementwise: a gate's bias added on the way in.
    fn sigmoid_shifted(values: &mut [Self], shift: &[Self]);

    /// `values ← tanh(values + shift)`, elementwise.
    fn tanh_shifted(values: &mut [Self], shift: &[Self]);

    /// `b [k × n]`, element `(p, j)` at `b[p · strides[0] + j · strides[1]]`, packed for the
    /// small-GEMM kernel of [`crate::microkernel`]; `None` when there is none for this type,
    /// CPU or shape.
    fn pack(_b: &[Self], _k: usize, _n: usize, _strides: [usize; 2]) -> Option<Packed> {
        None
    }

    /// `c (+)= a · b` with `b` packed by [`Real::pack`]; `false` if not done.
    fn packed_product(
        _b: &Packed,
        _m: usize,
        _a: &[Self],
        _lda: usize,
        _c: &mut [Self],
        _ldc: usize,
        _accumulate: bool,
    ) -> bool {
        false
    }
}

impl Real for f32 {
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;

    fn as_f64(self) -> f64 {
        self as f64
    }

    fn from_f64(v: f64) -> Self {
        v as f32
    }

    fn sigmoid(x: &[Self], out: &mut [Self]) {
        sigmoid_slice(x, out)
    }

    fn tanh(x: &[Self], out: &mut [Self]) {
        tanh_slice(x, out)
    }

    fn sigmoid_shifted(values: &mut [Self], shift: &[Self]) {
        sigmoid_shifted_slice(values, shift)
    }

    fn tanh_shifted(values: &mut [Self], shift: &[Self]) {
        tanh_shifted_slice(values, shift)
    }

    fn pack(b: &[Self], k: usize, n: usize, strides: [usize; 2]) -> Option<Packed> {
        Packed::strided(b, k, n, strides)
    }

    fn packed_product(
        b: &Packed,
        m: usize,
        a: &[Self],
        lda: usize,
        c: &mut [Self],
        ldc: usize,
        accumulate: bool,
    ) -> bool {
        b.product(m, a, lda, c, ldc, accumulate);
        true
    }
}

impl Real for f64 {
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;

    fn as_f64(self) -> f64 {
        self
    }

    fn from_f64(v: f64) -> Self {
        v
    }

    fn sigmoid(x: &[Self], out: &mut [Self]) {
        for (o, &x) in out.iter_mut().zip(x) {
            *o = sigmoid_f64(x);
        }
    }

    fn tanh(x: &[Self], out: &mut [Self]) {
        for (o, &x) in out.iter_mut().zip(x) {
            *o = x.tanh();
        }
    }

    fn sigmoid_shifted(values: &mut [Self], shift: &[Self]) {
        for (v, &s) in values.iter_mut().zip(shift) {
            *v = sigmoid_f64(*v + s);
        }
    }

    fn tanh_shifted(values: &mut [Self], shift: &[Self]) {
        for (v, &s) in values.iter_mut().zip(shift) {
            *v = (*v + s).tanh();
        }
    }
}

/// σ(x) in f64; the two-branch form keeps full relative precision for very negative x (the
/// oracle compares f64 to 1e-9).
fn sigmoid_f64(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

/// `e^x` for f32 without a libm call, so that loops over it vectorize: `x = n ln2 + r` with
/// `|r| ≤ ln2/2`, a degree-6 Taylor polynomial for `e^r` (relative error < 2e-7, ~2 ulp) and
/// `2^n` built in the exponent bits. Saturates to 0 below -87.3 and to ~1.7e38 above 88.3
/// (never inf, never NaN for finite x).
#[inline(always)]
fn exp_f32(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_145_75;
    const LN2_LO: f32 = 1.428_606_8e-6;
    let x = x.clamp(-87.3, 88.3);
    // Round to nearest by the 1.5·2²³ trick (vectorizes on every x86-64, unlike `round`):
    // `shifted` lies in [2²³, 2²⁴), where the float's last mantissa bits are the integer `n`
    // itself, so `2^n` is built from those bits with integer lane ops. (An `as i32` cast is a
    // saturating, NaN-checking conversion that LLVM compiled to one scalar instruction per
    // lane: it was most of the LSTM's `tanh` and `sigmoid` time.)
    const ROUND: f32 = 12_582_912.0;
    let shifted = x * LOG2E + ROUND;
    let n = shifted - ROUND;
    let r = (x - n * LN2_HI) - n * LN2_LO;
    let p = 1.0
        + r * (1.0
            + r * (0.5
                + r * (1.0 / 6.0 + r * (1.0 / 24.0 + r * (1.0 / 120.0 + r * (1.0 / 720.0))))));
    // n ∈ [-126, 127] after the clamp: `n + 127` is a normal exponent.
    let exponent = shifted
        .to_bits()
        .wrapping_sub(ROUND.to_bits())
        .wrapping_add(127);
    p * f32::from_bits(exponent << 23)
}

#[inline(always)]
fn sigmoid_f32(x: f32) -> f32 {
    1.0 / (1.0 + exp_f32(-x))
}

#[inline(always)]
fn tanh_f32(x: f32) -> f32 {
    // 1 - 2 / (e^2x + 1): saturates to ±1; absolute error ~1e-7 near 0.
    1.0 - 2.0 / (exp_f32(2.0 * x) + 1.0)
}

simd_fn! {
    /// `out[i] = σ(x[i])` in f32, 16 lanes wide with AVX-512 (8 with AVX2).
    fn sigmoid_slice(x: &[f32], out: &mut [f32]) {
        for (o, &x) in out.iter_mut().zip(x) {
            *o = sigmoid_f32(x);
        }
    }
}

simd_fn! {
    /// `values[i] ← σ(values[i] + shift[i])` in f32, 16 lanes wide with AVX-512.
    fn sigmoid_shifted_slice(values: &mut [f32], shift: &[f32]) {
        for (v, &s) in values.iter_mut().zip(shift) {
            *v = sigmoid_f32(*v + s);
        }
    }
}

simd_fn! {
    /// `values[i] ← tanh(values[i] + shift[i])` in f32, 16 lanes wide with AVX-512.
    fn tanh_shifted_slice(values: &mut [f32], shift: &[f32]) {
        for (v, &s) in values.iter_mut().zip(shift) {
            *v = tanh_f32(*v + s);
        }
    }
}

/// `values[i] ← σ(values[i])` in f32, 16 lanes wide with AVX-512 (8 with AVX2): the fused sigmoid's forward,
/// in the tensor's own buffer. Relative error below 4e-7 (the polynomial `eˣ` above); 0 and 1
/// at the saturated ends, never NaN for finite input. Long slices are cut into one part per
/// thread ([`in_parts`]: a layer's activations, 64k values and more, would otherwise leave the
/// other cores idle between two split matrix products).
pub fn sigmoid_in_place(values: &mut [f32]) {
    in_parts(values, rayon::current_num_threads(), &sigmoid_block);
}

/// `f` on `parts` contiguous parts of `values` at once ([`join_here`]: from a training loop's
/// thread, on it and the team kept awake between products), down to parts of 2¹⁴ values.
fn in_parts<T: Send>(values: &mut [T], parts: usize, f: &(impl Fn(&mut [T]) + Sync)) {
    const SMALLEST: usize = 1 << 14;
    if parts < 2 || values.len() < 2 * SMALLEST {
        return f(values);
    }
    let first = parts / 2;
    let (head, tail) = values.split_at_mut(values.len() * first / parts);
    join_here(
        || in_parts(head, first, f),
        || in_parts(tail, parts - first, f),
    );
}

/// `values[i] ← max(values[i], 0)` in f32 (NaN stays NaN, as PyTorch's ReLU), in parts across
/// threads like [`sigmoid_in_place`]: the fused ReLU's forward, in the tensor's own buffer.
pub fn relu_in_place(values: &mut [f32]) {
    in_parts(values, rayon::current_num_threads(), &relu_block);
}

simd_fn! {
    /// [`relu_in_place`] on one block.
    fn relu_block(values: &mut [f32]) {
        for v in values.iter_mut() {
            if *v < 0.0 {
                *v = 0.0;
            }
        }
    }
}

simd_fn! {
    /// [`sigmoid_in_place`] on one block.
    fn sigmoid_block(values: &mut [f32]) {
        for v in values.iter_mut() {
            *v = sigmoid_f32(*v);
        }
    }
}

simd_fn! {
    /// `out[i] = tanh(x[i])` in f32, 16 lanes wide with AVX-512 (8 with AVX2).
    fn tanh_slice(x: &[f32], out: &mut [f32]) {
        for (o, &x) in out.iter_mut().zip(x) {
            *o = tanh_f32(x);
        }
    }
}

/// Values of type `T` kept in burn's `TensorData`: a tensor's buffer used in place, and handed
/// back to a tensor without a copy (converting to a `Vec` copies when alignments differ).
#[derive(Debug, Clone)]
pub struct Buffer<T> {
    data: TensorData,
    kind: PhantomData<T>,
}

impl<T: Real> Buffer<T> {
    /// `data` converted to `T` (a no-op when it already is).
    pub fn new(data: TensorData) -> Self {
        Self {
            data: data.convert::<T>(),
            kind: PhantomData,
        }
    }

    /// A buffer with no values.
    pub fn empty() -> Self {
        Self::new(TensorData::new(Vec::<T>::new(), [0]))
    }

    /// The values.
    pub fn as_slice(&self) -> &[T] {
        // The dtype is T by construction.
        self.data
            .as_slice::<T>()
            .expect("fused recurrence: a buffer holds its own dtype")
    }

    /// The values, to write in place.
    pub fn as_mut_slice(&mut self) -> &mut [T] {
        self.data
            .as_mut_slice::<T>()
            .expect("fused recurrence: a buffer holds its own dtype")
    }

    /// The storage, to hand back to a tensor without a copy.
    pub fn into_data(self) -> TensorData {
        self.data
    }
}

/// A strided, read-only matrix: element `(r, c)` at `data[r * row_stride + c * col_stride]`.
#[derive(Clone, Copy)]
pub(crate) struct Mat<'a, T> {
    pub data: &'a [T],
    pub row_stride: usize,
    pub col_stride: usize,
}

impl<'a, T> Mat<'a, T> {
    /// A row-major matrix with rows `row_stride` apart.
    pub fn rows(data: &'a [T], row_stride: usize) -> Self {
        Self {
            data,
            row_stride,
            col_stride: 1,
        }
    }

    /// The transpose of a row-major matrix whose rows are `row_stride` apart.
    pub fn transposed(data: &'a [T], row_stride: usize) -> Self {
        Self {
            data,
            row_stride: 1,
            col_stride: row_stride,
        }
    }

    fn fits(&self, rows: usize, cols: usize) -> bool {
        rows == 0
            || cols == 0
            || (rows - 1) * self.row_stride + (cols - 1) * self.col_stride < self.data.len()
    }
}

/// The constant right-hand side of every step's product of a recurrence (`W_hhᵀ` or `W_hh`,
/// `[k × n]`, strided: the transpose is read in place), packed once for the small-GEMM kernel
/// where it applies.
pub(crate) struct StepRhs<'a, T> {
    b: Mat<'a, T>,
    k: usize,
    n: usize,
    packed: Option<Packed>,
}

impl<'a, T: Real> StepRhs<'a, T> {
    pub fn new(b: Mat<'a, T>, k: usize, n: usize) -> Self {
        Self {
            b,
            k,
            n,
            packed: T::pack(b.data, k, n, [b.row_stride, b.col_stride]),
        }
    }

    /// `dst[m×n] (+)= lhs[m×k] · b`, `dst` row-major with rows `dst_stride` apart.
    pub fn product(
        &self,
        dst: &mut [T],
        dst_stride: usize,
        m: usize,
        lhs: Mat<'_, T>,
        accumulate: bool,
    ) {
        if let Some(packed) = &self.packed
            && lhs.col_stride == 1
            && T::packed_product(
                packed,
                m,
                lhs.data,
                lhs.row_stride,
                dst,
                dst_stride,
                accumulate,
            )
        {
            return;
        }
        matmul(
            dst,
            dst_stride,
            [m, self.n, self.k],
            lhs,
            self.b,
            accumulate,
            false,
        );
    }
}

/// `dst[m×n] = lhs[m×k] · rhs[k×n]`, or `dst += …` with `accumulate`; `dst` is row-major with
/// rows `dst_stride` apart. `parallel` splits a large product into one block per rayon thread
/// (the per-step products of the recurrences are too small to split).
///
/// The blocks are ours rather than `gemm`'s own rayon mode: on the layer shapes of the bench
/// (64–256 rows, 128–784 columns) `gemm` splits its packed panels so finely that the threads
/// wait on each other; two halves, each a single-threaded `gemm`, ran 10–30% faster on the
/// 2-core machine (`docs/performance.md`).
#[allow(clippy::too_many_arguments)]
pub(crate) fn matmul<T: Real>(
    dst: &mut [T],
    dst_stride: usize,
    dims: [usize; 3],
    lhs: Mat<'_, T>,
    rhs: Mat<'_, T>,
    accumulate: bool,
    parallel: bool,
) {
    let start = if accumulate { Start::Dst } else { Start::Zero };
    product(dst, dst_stride, dims, lhs, rhs, start, parallel);
}

/// What a product's `dst` starts from before `lhs · rhs` is added.
#[derive(Clone, Copy)]
pub(crate) enum Start<'a, T> {
    /// Zero: `dst = lhs · rhs`.
    Zero,
    /// Its own values: `dst += lhs · rhs`.
    Dst,
    /// The same row of `n` values in every row (a bias), written by each thread into its own
    /// block just before its product.
    Row(&'a [T]),
}

/// [`matmul`] with `dst`'s starting values given by `start`.
pub(crate) fn product<T: Real>(
    dst: &mut [T],
    dst_stride: usize,
    dims: [usize; 3],
    lhs: Mat<'_, T>,
    rhs: Mat<'_, T>,
    start: Start<'_, T>,
    parallel: bool,
) {
    // SAFETY: `dst` is an exclusively borrowed slice of initialized values.
    unsafe {
        product_raw(
            dst.as_mut_ptr(),
            dst.len(),
            dst_stride,
            dims,
            lhs,
            rhs,
            start,
            parallel,
        )
    }
}

/// `lhs[m×k] · rhs[k×n]` (plus `row` added to every row, if given) in a new row-major `Vec`
/// of `m·n` values, split across threads like [`product`]. The values are written straight
/// into the allocation: no zero-fill first (a `memset` of the whole output, 1–3% of the
/// profiles), as `gemm` does not read its destination when it does not accumulate.
pub(crate) fn fresh_product<T: Real>(
    [m, n, k]: [usize; 3],
    lhs: Mat<'_, T>,
    rhs: Mat<'_, T>,
    row: Option<&[T]>,
) -> Vec<T> {
    let start = row.map_or(Start::Zero, Start::Row);
    let len = m * n;
    let mut out: Vec<T> = Vec::with_capacity(len);
    // SAFETY: the spare capacity holds `len` values, exclusively ours; starting from zero or
    // from a row, every one of them is written before it is read (`Product::run`: the row
    // copied in, or `gemm` without reading `dst`, or zeros when `k` is 0), with no gaps
    // between rows (stride `n`).
    unsafe {
        product_raw(
            out.spare_capacity_mut().as_mut_ptr().cast::<T>(),
            len,
            n,
            [m, n, k],
            lhs,
            rhs,
            start,
            true,
        );
        out.set_len(len);
    }
    out
}

/// The first `len` values of `values`' spare capacity (its length must be 0 and its capacity
/// at least `len`), as a slice to write in place: for the large buffers a kernel writes in
/// full, without zero-filling them first. The caller sets the length once they are written.
///
/// # Safety
/// Every value of the slice must be written before any is read (the kernels document, at each
/// call, what writes each value), and `values.set_len(len)` may follow only after that.
pub(crate) unsafe fn spare<T: Real>(values: &mut Vec<T>, len: usize) -> &mut [T] {
    let spare = &mut values.spare_capacity_mut()[..len];
    // SAFETY: `MaybeUninit<T>` has the layout of `T`; the caller writes each value before
    // reading it (`T`, f32 or f64, has no invalid bit patterns once written).
    unsafe { &mut *(spare as *mut [std::mem::MaybeUninit<T>] as *mut [T]) }
}

/// `dst[m×n] = lhs · rhs` into memory that may not be initialized yet (rows `dst_stride`
/// apart; every value of the `m × n` block is written, nothing is read).
pub(crate) fn matmul_uninit<T: Real>(
    dst: &mut [std::mem::MaybeUninit<T>],
    dst_stride: usize,
    dims: [usize; 3],
    lhs: Mat<'_, T>,
    rhs: Mat<'_, T>,
    parallel: bool,
) {
    // SAFETY: `dst` is exclusively borrowed (so it aliases nothing else) and `Start::Zero`
    // writes every value of the block without reading any (see `fresh_product`).
    unsafe {
        product_raw(
            dst.as_mut_ptr().cast::<T>(),
            dst.len(),
            dst_stride,
            dims,
            lhs,
            rhs,
            Start::Zero,
            parallel,
        )
    }
}

/// [`product`] into `dst_len` values at `dst`.
///
/// # Safety
/// `dst` must be valid for reads and writes of `dst_len` values and not alias `lhs`, `rhs`
/// or the starting row; the values must be initialized where `start` is [`Start::Dst`].
#[allow(clippy::too_many_arguments)]
unsafe fn product_raw<T: Real>(
    dst: *mut T,
    dst_len: usize,
    dst_stride: usize,
    [m, n, k]: [usize; 3],
    lhs: Mat<'_, T>,
    rhs: Mat<'_, T>,
    start: Start<'_, T>,
    parallel: bool,
) {
    if m == 0 || n == 0 {
        return;
    }
    // Internal invariants (the callers size every buffer from checked shapes): a violation is
    // a bug in this crate, and must never reach `gemm`'s raw pointers.
    let row_fits = match start {
        Start::Row(row) => row.len() >= n,
        _ => true,
    };
    assert!(
        (m - 1) * dst_stride + n <= dst_len && lhs.fits(m, k) && rhs.fits(k, n) && row_fits,
        "cortex-kernels: matrix product out of bounds"
    );
    let parts = if parallel && k > 0 {
        rayon::current_num_threads()
    } else {
        1
    };
    let product = Product {
        dst,
        dst_stride,
        lhs: (lhs.data.as_ptr(), lhs.row_stride, lhs.col_stride),
        rhs: (rhs.data.as_ptr(), rhs.row_stride, rhs.col_stride),
        start: match start {
            Start::Zero => Begin::Zero,
            Start::Dst => Begin::Dst,
            Start::Row(row) => Begin::Row(row.as_ptr()),
        },
    };
    // SAFETY: the assertion above keeps every index of the whole product inside the three
    // buffers and the starting row (dst is exclusively ours and does not alias the others:
    // the caller), and `split` only hands out disjoint blocks of it.
    unsafe { product.split([m, n, k], parts) };
}

/// Runs `here` on this thread and `there` on another; returns when both have run.
///
/// Inside rayon's pool this is `rayon::join`. Outside it (a training loop's own thread),
/// `rayon::join` would hand both halves to the pool and put this thread to sleep until they
/// are done: three threads woken per product, a dozen products a step (the scheduler was 20%
/// of the MLP's training profile). Here this thread computes its half and a helper of
/// [`crate::team`], kept awake between products, the other.
pub(crate) fn join_here(here: impl FnOnce() + Send, there: impl FnOnce() + Send) {
    if rayon::current_thread_index().is_some() {
        rayon::join(here, there);
        return;
    }
    crate::team::join(here, there);
}

/// [`Start`] on raw pointers.
#[derive(Clone, Copy)]
enum Begin<T> {
    Zero,
    Dst,
    Row(*const T),
}

/// A matrix product on raw pointers, cut into blocks that run on different threads: column
/// blocks of a row-major `dst` interleave, so they cannot be split as slices.
#[derive(Clone, Copy)]
struct Product<T> {
    dst: *mut T,
    dst_stride: usize,
    /// Pointer, row stride, column stride.
    lhs: (*const T, usize, usize),
    rhs: (*const T, usize, usize),
    start: Begin<T>,
}

// SAFETY: a `Product` is only built by `product` from borrowed slices that outlive the
// `join_here` that shares it, and its blocks write disjoint parts of `dst`.
unsafe impl<T: Send> Send for Product<T> {}
// SAFETY: as above; shared blocks only read `lhs` and `rhs`.
unsafe impl<T: Sync> Sync for Product<T> {}

impl<T: Real> Product<T> {
    /// Below this many multiply-adds a block is not split further: the join costs more than
    /// the second thread saves.
    const MIN_SPLIT: usize = 1 << 18;
    /// Blocks are cut at multiples of the microkernel's register tile.
    const ALIGN: usize = 16;

    /// Runs the `[m, n, k]` product from this block's origin in `parts` blocks.
    ///
    /// # Safety
    /// Every index of the product must be inside the buffers the pointers come from.
    unsafe fn split(self, [m, n, k]: [usize; 3], parts: usize) {
        let rows = m >= n;
        let long = if rows { m } else { n };
        let first = parts / 2;
        let cut = (long * first / parts.max(1)) / Self::ALIGN * Self::ALIGN;
        let work = m.saturating_mul(n).saturating_mul(k);
        if parts < 2 || work < Self::MIN_SPLIT || cut == 0 || cut >= long {
            // SAFETY: the caller's bounds.
            return unsafe { self.run([m, n, k]) };
        }
        let (head, tail) = if rows {
            ([cut, n, k], [m - cut, n, k])
        } else {
            ([m, cut, k], [m, n - cut, k])
        };
        // SAFETY: `cut` is inside the product, so the second block's origin and extent are
        // inside it too, and the two blocks write disjoint rows (or columns) of `dst`.
        let rest = unsafe {
            if rows {
                Self {
                    dst: self.dst.add(cut * self.dst_stride),
                    lhs: (self.lhs.0.add(cut * self.lhs.1), self.lhs.1, self.lhs.2),
                    ..self
                }
            } else {
                Self {
                    dst: self.dst.add(cut),
                    rhs: (self.rhs.0.add(cut * self.rhs.2), self.rhs.1, self.rhs.2),
                    start: match self.start {
                        Begin::Row(row) => Begin::Row(row.add(cut)),
                        other => other,
                    },
                    ..self
                }
            }
        };
        // SAFETY (both closures): each block stays inside the caller's product (see above),
        // and both joins return only once both blocks have run.
        let head_block = move || unsafe { self.split(head, first) };
        let tail_block = move || unsafe { rest.split(tail, parts - first) };
        join_here(head_block, tail_block);
    }

    /// One single-threaded `gemm` call (after writing the starting rows, if any).
    ///
    /// # Safety
    /// As [`Product::split`].
    unsafe fn run(self, [m, n, k]: [usize; 3]) {
        let accumulate = match self.start {
            Begin::Zero => false,
            Begin::Dst => true,
            Begin::Row(row) => {
                for r in 0..m {
                    // SAFETY: row r < m of this block and its n columns are inside `dst`, and
                    // the starting row holds n values (the caller's bounds); they do not
                    // overlap (`dst` is exclusively borrowed).
                    unsafe {
                        std::ptr::copy_nonoverlapping(row, self.dst.add(r * self.dst_stride), n)
                    };
                }
                true
            }
        };
        if k == 0 {
            if !accumulate {
                for r in 0..m {
                    for j in 0..n {
                        // SAFETY: as above; a plain write (the value may not be initialized).
                        unsafe { self.dst.add(r * self.dst_stride + j).write(T::ZERO) };
                    }
                }
            }
            return;
        }
        // SAFETY: the caller's bounds; `T` is f32 or f64, the types `gemm` dispatches on.
        unsafe {
            gemm::gemm(
                m,
                n,
                k,
                self.dst,
                1,
                self.dst_stride as isize,
                accumulate,
                self.lhs.0,
                self.lhs.2 as isize,
                self.lhs.1 as isize,
                self.rhs.0,
                self.rhs.2 as isize,
                self.rhs.1 as isize,
                T::ONE,
                T::ONE,
                false,
                false,
                false,
                gemm::Parallelism::None,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matmul_matches_the_definition_with_strides_and_accumulation() {
        // lhs 2×3 row-major, rhs given as the transpose of a 2×3 (so 3×2).
        let lhs = [1.0f64, 2.0, 3.0, 4.0, 5.0, 6.0];
        let rhs_t = [1.0f64, 0.0, -1.0, 2.0, 1.0, 0.5];
        let mut dst = vec![10.0f64; 4];
        matmul(
            &mut dst,
            2,
            [2, 2, 3],
            Mat::rows(&lhs, 3),
            Mat::transposed(&rhs_t, 3),
            true,
            false,
        );
        // row0·col0 = 1 - 3 = -2; row0·col1 = 2 + 2 + 1.5 = 5.5; row1: 4 - 6 = -2; 8 + 5 + 3 = 16.
        assert_eq!(dst, vec![8.0, 15.5, 8.0, 26.0]);
        matmul(
            &mut dst,
            2,
            [2, 2, 0],
            Mat::rows(&lhs, 3),
            Mat::rows(&rhs_t, 2),
            false,
            false,
        );
        assert_eq!(dst, vec![0.0; 4]);
    }

    /// Fresh outputs (never zero-filled) hold exactly the product, plus the starting row,
    /// split across threads (large enough to split) or not, and zeros for a depth of 0.
    #[test]
    fn fresh_products_write_every_value() {
        for [m, n, k] in [[300, 40, 30], [3, 5, 2], [4, 3, 0]] {
            let lhs: Vec<f32> = (0..m * k).map(|i| (i % 7) as f32 - 3.0).collect();
            let rhs: Vec<f32> = (0..k * n).map(|i| (i % 5) as f32 * 0.5 - 1.0).collect();
            let bias: Vec<f32> = (0..n).map(|j| j as f32 + 0.25).collect();
            let plain = fresh_product([m, n, k], Mat::rows(&lhs, k), Mat::rows(&rhs, n), None);
            let biased = fresh_product(
                [m, n, k],
                Mat::rows(&lhs, k),
                Mat::rows(&rhs, n),
                Some(&bias),
            );
            assert_eq!((plain.len(), biased.len()), (m * n, m * n));
            for i in 0..m {
                for j in 0..n {
                    let dot: f32 = (0..k).map(|p| lhs[i * k + p] * rhs[p * n + j]).sum();
                    assert_eq!(plain[i * n + j], dot, "{m}x{n}x{k} [{i},{j}]");
                    assert_eq!(biased[i * n + j], dot + bias[j], "{m}x{n}x{k} [{i},{j}]");
                }
            }
        }
    }

    #[test]
    fn activations_are_accurate_and_saturate_without_nan() {
        let xs: Vec<f32> = (-2000..=2000)
            .map(|i| i as f32 * 0.01)
            .chain([-1e4, -100.0, -88.0, 88.0, 100.0, 1e4, 0.0, -0.0, 1e-6])
            .collect();
        let (mut s, mut t) = (vec![0.0; xs.len()], vec![0.0; xs.len()]);
        f32::sigmoid(&xs, &mut s);
        <f32 as Real>::tanh(&xs, &mut t);
        for ((&x, &s), &t) in xs.iter().zip(&s).zip(&t) {
            let exact_s = 1.0 / (1.0 + (-(x as f64)).exp());
            assert!((s as f64 - exact_s).abs() < 3e-7, "sigmoid({x}) = {s}");
            assert!(
                (t as f64 - (x as f64).tanh()).abs() < 3e-7,
                "tanh({x}) = {t}"
            );
        }
        for x in [-50.0f32, -10.0, -1.0, 0.5, 10.0, 80.0] {
            let rel = (exp_f32(x) as f64 / (x as f64).exp() - 1.0).abs();
            assert!(rel < 3e-7, "exp({x}): relative error {rel:e}");
        }
        let (mut s, mut t) = (vec![0.0; 3], vec![0.0; 3]);
        f64::sigmoid(&[-1000.0, -30.0, 0.0], &mut s);
        <f64 as Real>::tanh(&[-1000.0, 0.1, 1000.0], &mut t);
        assert_eq!(s[0], 0.0);
        assert!((s[1] / (-30.0f64).exp() - 1.0).abs() < 1e-12 && s[2] == 0.5);
        assert_eq!(t, vec![-1.0, 0.1f64.tanh(), 1.0]);
    }

    /// The in-place sigmoid against f64's, over the whole f32 range that matters and its
    /// saturated ends, on an odd length (the tail past the last full vector).
    #[test]
    fn relu_in_place_clamps_negatives_and_keeps_nan() {
        let mut small = [
            -2.0f32,
            -0.0,
            0.0,
            3.5,
            f32::NAN,
            f32::NEG_INFINITY,
            f32::INFINITY,
        ];
        relu_in_place(&mut small);
        assert_eq!(small[..4], [0.0, 0.0, 0.0, 3.5]);
        assert!(small[4].is_nan() && small[5] == 0.0 && small[6] == f32::INFINITY);
        // Long enough to be cut into parts across threads: every value, the parts' edges too.
        let long: Vec<f32> = (0..100_003).map(|i| (i % 7) as f32 - 3.0).collect();
        let mut got = long.clone();
        relu_in_place(&mut got);
        for (x, y) in long.iter().zip(&got) {
            assert_eq!(*y, x.max(0.0));
        }
    }

    #[test]
    fn shifted_activations_add_the_shift_first() {
        // 37 values: two AVX-512 vectors and a tail, each shift different.
        let xs: Vec<f32> = (0..37).map(|i| (i as f32 - 18.0) * 0.7).collect();
        let shift: Vec<f32> = (0..37).map(|i| (i % 5) as f32 * 0.3 - 0.6).collect();
        let (mut sig, mut tanh) = (xs.clone(), xs.clone());
        f32::sigmoid_shifted(&mut sig, &shift);
        f32::tanh_shifted(&mut tanh, &shift);
        let (mut sig64, mut tanh64): (Vec<f64>, Vec<f64>) = (
            xs.iter().map(|&x| f64::from(x)).collect(),
            xs.iter().map(|&x| f64::from(x)).collect(),
        );
        let shift64: Vec<f64> = shift.iter().map(|&s| f64::from(s)).collect();
        f64::sigmoid_shifted(&mut sig64, &shift64);
        f64::tanh_shifted(&mut tanh64, &shift64);
        for i in 0..xs.len() {
            let z = f64::from(xs[i]) + f64::from(shift[i]);
            let (s, t) = (1.0 / (1.0 + (-z).exp()), z.tanh());
            assert!((f64::from(sig[i]) - s).abs() < 1e-6, "σ({z}) = {}", sig[i]);
            assert!(
                (f64::from(tanh[i]) - t).abs() < 1e-6,
                "tanh({z}) = {}",
                tanh[i]
            );
            assert!((sig64[i] - s).abs() < 1e-15 && (tanh64[i] - t).abs() < 1e-15);
        }
    }

    #[test]
    fn sigmoid_in_place_is_within_its_error_bound() {
        let xs: Vec<f32> = (0..=2001).map(|i| (i as f32 - 1000.0) * 0.09).collect();
        let mut got = xs.clone();
        sigmoid_in_place(&mut got);
        for (&x, &s) in xs.iter().zip(&got) {
            let exact = 1.0 / (1.0 + (-f64::from(x)).exp());
            let error = (f64::from(s) - exact).abs();
            assert!(error <= 4e-7 * exact + 1e-37, "σ({x}) = {s}, exact {exact}");
        }
        let mut ends = [-1000.0f32, 1000.0, 0.0];
        sigmoid_in_place(&mut ends);
        assert!(ends[0] >= 0.0 && ends[0] < 1e-38, "{ends:?}");
        assert_eq!(ends[1..], [1.0, 0.5]);
        // A layer's worth (cut into parts across threads): every value, each part's edges
        // included, as the one-block loop computes it.
        let long: Vec<f32> = (0..100_003)
            .map(|i| ((i % 2001) as f32 - 1000.0) * 0.09)
            .collect();
        let (mut parts, mut whole) = (long.clone(), long);
        sigmoid_in_place(&mut parts);
        sigmoid_block(&mut whole);
        assert!(parts == whole, "the parts differ from one block");
    }
}
