/*
 * The linear-model training loops, one template per dtype (GD_T, GD_SFX,
 * GD_EXP, GD_LOG, GD_LOG1P, GD_FABS; see linear_kernels.c), compiled once per ISA.
 *
 * Everything a loop touches per sample happens in one pass over the row while
 * it is in L1: the dot product, the loss and its derivative, and the axpy into
 * the weights (per-sample) or into the batch gradient (mini/full batch). The
 * update itself is gdfast's rule, GD_FN(sgd_step) from sgd_step.tmpl.h.
 *
 * Requires sgd_step.tmpl.h to be included first for the same dtype.
 */

/* ---- losses (scikit-learn's _sgd_fast definitions) ---------------------- */

/* Loss of one output; stores dloss/dp (clipped to +-MAX_DLOSS like
 * scikit-learn, so one wild sample cannot blow the weights up at once). */
/* log_loss at z = p y, y in {-1, +1}: returns dloss/dp, and the loss as
 * *lin + log1p(*e) when *tail, else *lin + *e, so that the per-sample loop
 * can defer the log. The branches keep exp() from overflowing, as
 * scikit-learn's; between them one exp: with e = exp(-|z|) <= 1,
 * log(1 + exp(-z)) is max(-z, 0) + log1p(e) and 1 / (exp(z) + 1) is
 * e / (1 + e) for z > 0, 1 / (1 + e) otherwise (branch-free: the sign of z
 * is a coin flip early on). */
static inline GD_T GD_FN(lin_logloss)(GD_T z, GD_T y, GD_T *lin, GD_T *e, int *tail)
{
    if (z > (GD_T)18) {
        *lin = 0;
        *e = GD_EXP(-z);
        *tail = 0;
        return -y * *e;
    }
    if (z < (GD_T)-18) {
        *lin = -z;
        *e = 0;
        *tail = 0;
        return -y;
    }
    *lin = z < (GD_T)0 ? -z : (GD_T)0;
    *e = GD_EXP(-GD_FABS(z));
    *tail = 1;
    return -y * (z > (GD_T)0 ? *e : (GD_T)1) / ((GD_T)1 + *e);
}

static inline GD_T GD_FN(lin_loss1)(int loss, GD_T p, GD_T y, GD_T eps, GD_T *dl)
{
    const GD_T one = (GD_T)1, zero = (GD_T)0, half = (GD_T)0.5;
    GD_T r, a, z, L, g;
    switch (loss) {
    case GD_LOSS_SQUARED_ERROR:
        r = p - y;
        g = r;
        L = half * r * r;
        break;
    case GD_LOSS_HUBER:
        r = p - y;
        a = GD_FABS(r);
        if (a <= eps) {
            g = r;
            L = half * r * r;
        } else {
            g = r > zero ? eps : -eps;
            L = eps * a - half * eps * eps;
        }
        break;
    case GD_LOSS_EPSILON_INSENSITIVE:
        r = y - p;
        L = GD_FABS(r) - eps;
        L = L > zero ? L : zero;
        g = r > eps ? -one : (-r > eps ? one : zero);
        break;
    case GD_LOSS_SQUARED_EPSILON_INSENSITIVE:
        r = y - p;
        L = GD_FABS(r) - eps;
        L = L > zero ? L * L : zero;
        g = r > eps ? (GD_T)-2 * (r - eps) : (r < -eps ? (GD_T)2 * (-r - eps) : zero);
        break;
    case GD_LOSS_LOG_LOSS: {
        int tail;
        g = GD_FN(lin_logloss)(p * y, y, &L, &a, &tail);
        L += tail ? GD_LOG1P(a) : a;
        break;
    }
    case GD_LOSS_HINGE:
        z = p * y;
        if (z <= one) {
            L = one - z;
            g = -y;
        } else {
            L = zero;
            g = zero;
        }
        break;
    case GD_LOSS_PERCEPTRON:
        z = p * y;
        if (z <= zero) {
            L = -z;
            g = -y;
        } else {
            L = zero;
            g = zero;
        }
        break;
    case GD_LOSS_SQUARED_HINGE:
        z = one - p * y;
        if (z > zero) {
            L = z * z;
            g = (GD_T)-2 * y * z;
        } else {
            L = zero;
            g = zero;
        }
        break;
    case GD_LOSS_MODIFIED_HUBER:
        z = p * y;
        if (z >= one) {
            L = zero;
            g = zero;
        } else if (z >= -one) {
            L = (one - z) * (one - z);
            g = (GD_T)2 * (one - z) * -y;
        } else {
            L = (GD_T)-4 * z;
            g = (GD_T)-4 * y;
        }
        break;
    default:
        L = zero;
        g = zero;
    }
    if (g > (GD_T)GD_LIN_MAX_DLOSS) g = (GD_T)GD_LIN_MAX_DLOSS;
    if (g < (GD_T)-GD_LIN_MAX_DLOSS) g = (GD_T)-GD_LIN_MAX_DLOSS;
    *dl = g;
    return L;
}

/* Loss of a k-output row: multi-output squared error (y has k values) or
 * softmax cross-entropy (y is the class id). p is overwritten by dloss/dp. */
static inline GD_T GD_FN(lin_lossk)(int loss, int64_t k, GD_T *p, const GD_T *y)
{
    int64_t c;
    GD_T L = 0;
    if (loss == GD_LOSS_SOFTMAX) {
        const int64_t cls = (int64_t)y[0];
        GD_T m = p[0], s = 0, zy;
        for (c = 1; c < k; c++) m = p[c] > m ? p[c] : m;
        zy = p[cls] - m;
        for (c = 0; c < k; c++) {
            p[c] = GD_EXP(p[c] - m);
            s += p[c];
        }
        L = GD_LOG(s) - zy;
        for (c = 0; c < k; c++) p[c] = p[c] / s - (c == cls ? (GD_T)1 : (GD_T)0);
        return L;
    }
    for (c = 0; c < k; c++) {
        GD_T r = p[c] - y[c];
        L += (GD_T)0.5 * r * r;
        r = r > (GD_T)GD_LIN_MAX_DLOSS ? (GD_T)GD_LIN_MAX_DLOSS : r;
        p[c] = r < (GD_T)-GD_LIN_MAX_DLOSS ? (GD_T)-GD_LIN_MAX_DLOSS : r;
    }
    return L;
}

/* ---- prefetch ----------------------------------------------------------- */

/* The shuffled order defeats the hardware prefetcher, so the loops fetch
 * rows ahead themselves, in two stages: far ahead into L2 (many misses in
 * flight), then just ahead into L1 (distances in linear_kernels.c). On
 * 200000 x 100 float64 rows in random order (quiet 2-core EPYC) a per-sample
 * epoch went from ~180 ns/row without prefetch to ~90 with two stages at
 * 8/2 rows, and to ~85 at 24/4 rows with each row's y and sample weight
 * fetched along; a loop that only reads the rows in that order takes ~77
 * ns/row, so the per-sample loop is now bound by memory. */
/* every cache line of the bytes [p, p + nbytes), nbytes > 0: a row that
 * starts partway into a line ends in one more line than nbytes / 64 rounds
 * to (NumPy's large arrays start 16 bytes into a line, so half of the
 * 800-byte float64 rows of a 100-feature X do) */
#define GD_LIN_PREFETCH_SPAN(p, nbytes, PREFETCH)                                      \
    do {                                                                               \
        /* names of their own: p and nbytes may use the callers' a_, e_, o_ */ \
        const uintptr_t span_end_ = (uintptr_t)(p) + (uintptr_t)(nbytes);              \
        uintptr_t span_at_ = (uintptr_t)(p) & ~(uintptr_t)63;                          \
        for (; span_at_ < span_end_; span_at_ += 64) PREFETCH((const char *)span_at_); \
    } while (0)
/* A macro, not a function: GCC's IPA pure/const analysis treats a function
 * whose only effect is __builtin_prefetch as side-effect free and deletes
 * its calls (seen with GCC 12 at -O1 and above). */
#define GD_LIN_PREFETCH_ROWS_AT(X, d, rows, r, n, T, FAR, NEAR)                       \
    do {                                                                               \
        const int64_t bytes_ = (d) * (int64_t)sizeof(T);                               \
        if ((r) + (FAR) < (n))                                                         \
            GD_LIN_PREFETCH_SPAN((X) + (rows)[(r) + (FAR)] * (d), bytes_,              \
                                 GD_LIN_PREFETCH_L2);                                  \
        if ((r) + (NEAR) < (n))                                                        \
            GD_LIN_PREFETCH_SPAN((X) + (rows)[(r) + (NEAR)] * (d), bytes_,             \
                                 GD_LIN_PREFETCH_L1);                                  \
    } while (0)
#ifndef GD_LIN_PREFETCH_ROWS
#define GD_LIN_PREFETCH_ROWS(X, d, rows, r, n, T)                                      \
    GD_LIN_PREFETCH_ROWS_AT(X, d, rows, r, n, T, GD_LIN_PREFETCH_FAR, GD_LIN_PREFETCH_NEAR)
#endif

/* Rows in storage order (a full batch, or shuffle=False) are one sequential
 * stream, yet the loop ran well behind a plain read pass with the hardware
 * prefetcher alone; fetching the bytes GD_LIN_SEQ_AHEAD past each row into
 * L2, just before the row's dot product (lin_dotg), brings it close for rows
 * of up to GD_LIN_SEQ_MAX_ROW bytes. For longer rows the same fetch costs
 * more than it brings, so they go without. (Why, this host does not show: no
 * performance counters in the VM.) One full-batch iteration over 160 MB of
 * X, 1 thread, as a multiple of one NumPy read pass over X (A/B over
 * alternating processes, two runs each; columns: no fetch, one fetch of a
 * 4-row group's bytes before the group (rows <= 1 KiB, the rule before this
 * one), one fetch per row before its dot product (rows <= 2 KiB), and the
 * per-row fetch for every row length):
 *
 *   dtype x features   row bytes   none      per group  per row   per row, all
 *   float64 x 50          400      1.2-1.3   1.22-1.3   1.27-1.28 1.36-1.4
 *   float32 x 100         400      0.85-0.9  0.88-0.91  0.84-0.85 0.84-0.87
 *   float64 x 64          512      1.5-1.6   1.3-1.35   1.29-1.3  1.28-1.29
 *   float64 x 100         800      1.4-1.7   1.24-1.31  1.22-1.31 1.18-1.29
 *   float32 x 200         800      1.0-1.45  0.93-1.0   0.86      0.89-0.93
 *   float64 x 128        1024      1.6-1.7   1.5-1.64   1.1-1.25  1.28-1.29
 *   float64 x 150        1200      1.4-1.8   (none)     1.11-1.26 1.25-1.37
 *   float64 x 200        1600      1.3-1.5   (none)     1.30-1.32 1.28-1.29
 *   float32 x 400        1600      0.9-1.1   (none)     0.89      0.95
 *   float64 x 300        2400      1.3-1.4   (none)     (none)    1.45-1.49
 *   float64 x 1000       8000      1.8-2.0   (none)     (none)    1.9
 *
 * Fetching every row length in groups was worse still (float64 x 300 2.3-2.5,
 * x 200 2.2), and fetching every other line of a group gave 1.5-2.6x (the
 * hardware does not fill the gaps). Moving unrelated code has changed these
 * timings by up to 50% on a shape, so treat any one figure as +-20%. The
 * distance, on float64 x 100: 8 KiB ahead 6.9-7.7 ms, 16 KiB 6.6-7.0, 24-32
 * KiB 7.1-7.7, none 8.5-9.6 (read pass 4.7-5.2; an earlier build of the
 * loop); with the group fetch of this session 12-64 KiB all within
 * 1.24-1.31 (32 KiB 1.24-1.27, 16 KiB 1.25-1.29); into L1 at 16 KiB
 * 11.4-12.5 (16 KiB ahead maps onto the L1 sets of the rows being read); one
 * prefetch per line inside the dot loop 11.5 (float64 x 50: 14.5). p, n
 * elements: the row's bytes; end: X's end (no fetch past it). */
#ifndef GD_LIN_PREFETCH_SEQ_OP
#define GD_LIN_PREFETCH_SEQ_OP GD_LIN_PREFETCH_L2
#endif
#ifndef GD_LIN_SEQ_AHEAD
#define GD_LIN_SEQ_AHEAD 16384
#endif
#ifndef GD_LIN_SEQ_MAX_ROW
#define GD_LIN_SEQ_MAX_ROW 2048
#endif
#define GD_LIN_PREFETCH_SEQ(p, n, end, T)                                              \
    do {                                                                               \
        /* addresses as integers: p + AHEAD may lie past the array */                 \
        const uintptr_t seq_at_ = (uintptr_t)(p) + (uintptr_t)GD_LIN_SEQ_AHEAD;       \
        const uintptr_t seq_end_ = (uintptr_t)(end);                                   \
        uintptr_t seq_bytes_ = (uintptr_t)(n) * sizeof(T);                             \
        if (GD_LIN_SEQ_AHEAD > 0 && seq_at_ < seq_end_) {                              \
            if (seq_bytes_ > seq_end_ - seq_at_) seq_bytes_ = seq_end_ - seq_at_;      \
            GD_LIN_PREFETCH_SPAN(seq_at_, seq_bytes_, GD_LIN_PREFETCH_SEQ_OP);         \
        }                                                                              \
    } while (0)

/* ---- vector pieces ------------------------------------------------------ */

#if defined(__GNUC__) && !defined(GD_LIN_NO_VEXT)
/* Dot products in GCC/Clang vector extensions over 64-byte "wide vectors",
 * so the summation order is the same on every ISA. The per-sample loop
 * waits on each row's dot before it can update the weights, so its latency
 * is what counts: GCC 12 turns the `omp simd reduction` form into a spill of
 * the accumulator, a scalar tail through memory and a 16-step serial sum
 * (~120 cycles for 100 floats); here the tail folds into a log-depth
 * reduction tree. A wide vector is GD_LIN_NV registers of the build's native
 * width, lane for lane the same arithmetic as one 64-byte vector: GCC 12
 * lowers a plain 64-byte vector type below AVX-512 through the stack on every
 * iteration (the AVX2 per-sample epoch ran 2.4x slower than the SSE2 one). */
#if defined(__AVX__)
#include <immintrin.h>
#endif
#if defined(__AVX512F__)
#define GD_LIN_NATIVE 64
#elif defined(__AVX__)
#define GD_LIN_NATIVE 32
#else
#define GD_LIN_NATIVE 16
#endif
#define GD_LIN_NV (64 / GD_LIN_NATIVE)                           /* registers per wide vector */
#define GD_LIN_NL ((int64_t)(GD_LIN_NATIVE / sizeof(GD_T)))      /* lanes per register */
#define GD_LIN_VL ((int64_t)(64 / sizeof(GD_T)))                 /* lanes per wide vector */
typedef GD_T GD_FN(lin_n) __attribute__((vector_size(GD_LIN_NATIVE)));
typedef GD_T GD_FN(lin_vh) __attribute__((vector_size(32)));
typedef GD_T GD_FN(lin_vq) __attribute__((vector_size(16)));
typedef struct {
    GD_FN(lin_n) v[GD_LIN_NV];
} GD_FN(lin_v);

/* acc = 0; acc += x[0:VL] * w[0:VL], lane by lane; acc += b */
static inline void GD_FN(lin_vzero)(GD_FN(lin_v) *acc)
{
    for (int k = 0; k < GD_LIN_NV; k++) acc->v[k] = (GD_FN(lin_n)){0};
}
static inline void GD_FN(lin_vfma)(GD_FN(lin_v) *acc, const GD_T *GD_RESTRICT x,
                                   const GD_T *GD_RESTRICT w)
{
    for (int k = 0; k < GD_LIN_NV; k++) {
        GD_FN(lin_n) a, b;
        memcpy(&a, x + k * GD_LIN_NL, GD_LIN_NATIVE);
        memcpy(&b, w + k * GD_LIN_NL, GD_LIN_NATIVE);
        acc->v[k] += a * b;
    }
}
static inline void GD_FN(lin_vadd)(GD_FN(lin_v) *acc, const GD_FN(lin_v) *b)
{
    for (int k = 0; k < GD_LIN_NV; k++) acc->v[k] += b->v[k];
}

/* sum(acc) + x[j:d] . w[j:d] for d - j < GD_LIN_VL, in a fixed tree: the
 * upper 32 bytes onto the lower, a 32-byte tail, the upper 16 bytes onto
 * the lower, a 16-byte tail, the last lanes, the scalar tail */
static inline GD_T GD_FN(lin_vfinish)(GD_FN(lin_v) acc, int64_t j, int64_t d,
                                      const GD_T *GD_RESTRICT x, const GD_T *GD_RESTRICT w)
{
    GD_FN(lin_vq) lq, aq, bq;
    GD_T s;
#if GD_LIN_NATIVE == 16
    GD_FN(lin_vq) l0 = acc.v[0] + acc.v[2], l1 = acc.v[1] + acc.v[3];
    if (j + GD_LIN_VL / 2 <= d) {
        memcpy(&aq, x + j, 16);
        memcpy(&bq, w + j, 16);
        l0 += aq * bq;
        memcpy(&aq, x + j + GD_LIN_NL, 16);
        memcpy(&bq, w + j + GD_LIN_NL, 16);
        l1 += aq * bq;
        j += GD_LIN_VL / 2;
    }
    lq = l0 + l1;
#else
    /* the halves by register extracts (the bits, whatever GD_T is): taken
     * through memcpy, GCC 12 keeps every accumulator of the loops above in
     * memory, a store and a load around each FMA */
    GD_FN(lin_vh) lo, hi, a, b;
#if GD_LIN_NATIVE == 64
    lo = (GD_FN(lin_vh))_mm512_castpd512_pd256((__m512d)acc.v[0]);
    hi = (GD_FN(lin_vh))_mm512_extractf64x4_pd((__m512d)acc.v[0], 1);
#else
    lo = acc.v[0];
    hi = acc.v[1];
#endif
    lo += hi;
    if (j + GD_LIN_VL / 2 <= d) {
        memcpy(&a, x + j, 32);
        memcpy(&b, w + j, 32);
        lo += a * b;
        j += GD_LIN_VL / 2;
    }
    lq = (GD_FN(lin_vq))_mm256_castpd256_pd128((__m256d)lo) +
         (GD_FN(lin_vq))_mm256_extractf128_pd((__m256d)lo, 1);
#endif
    if (j + GD_LIN_VL / 4 <= d) {
        memcpy(&aq, x + j, 16);
        memcpy(&bq, w + j, 16);
        lq += aq * bq;
        j += GD_LIN_VL / 4;
    }
    /* float: 4 lanes left, double: 2 (the % keeps the untaken branch's
     * index in range for double) */
    if (GD_LIN_VL == 16)
        s = (lq[0] + lq[2 % (GD_LIN_VL / 4)]) + (lq[1] + lq[3 % (GD_LIN_VL / 4)]);
    else
        s = lq[0] + lq[1];
    for (; j < d; j++) s += x[j] * w[j];
    return s;
}

static inline GD_T GD_FN(lin_dot)(int64_t d, const GD_T *GD_RESTRICT x, const GD_T *GD_RESTRICT w)
{
    GD_FN(lin_v) acc0, acc1;
    int64_t j = 0;
    GD_FN(lin_vzero)(&acc0);
    GD_FN(lin_vzero)(&acc1);
    /* two accumulators halve the FMA chain */
    for (; j + 2 * GD_LIN_VL <= d; j += 2 * GD_LIN_VL) {
        GD_FN(lin_vfma)(&acc0, x + j, w + j);
        GD_FN(lin_vfma)(&acc1, x + j + GD_LIN_VL, w + j + GD_LIN_VL);
    }
    if (j + GD_LIN_VL <= d) {
        GD_FN(lin_vfma)(&acc0, x + j, w + j);
        j += GD_LIN_VL;
    }
    GD_FN(lin_vadd)(&acc0, &acc1);
    return GD_FN(lin_vfinish)(acc0, j, d, x, w);
}

/* The batch loops' dot product: four accumulators, wide vector k into
 * accumulator k % 4, summed as (0 + 1) + (2 + 3). Their rows do not wait on
 * each other, so the shorter chains let more rows overlap. One full-batch
 * iteration, 1 thread, against one NumPy read pass (A/B over alternating
 * processes), lin_dot's two accumulators -> four: float64 x 100 1.19-1.23
 * -> 1.13-1.19 (5.8 -> 5.4-5.5 ms), x 64 1.21-1.28 -> 1.14-1.16, x 50
 * 1.21-1.25 -> 1.15-1.19; float64 x 150, which the group loop runs,
 * 1.23-1.25 -> 1.27-1.39. Every batch path uses it (lin_dotg, lin_block's
 * odd rows, lin_dense_reg), so they all make the same sums; the per-sample
 * loop keeps lin_dot, which measured the same or better there. */
static inline GD_T GD_FN(lin_dotb)(int64_t d, const GD_T *GD_RESTRICT x, const GD_T *GD_RESTRICT w)
{
    GD_FN(lin_v) acc0, acc1, acc2, acc3;
    int64_t j = 0;
    GD_FN(lin_vzero)(&acc0);
    GD_FN(lin_vzero)(&acc1);
    GD_FN(lin_vzero)(&acc2);
    GD_FN(lin_vzero)(&acc3);
    for (; j + 4 * GD_LIN_VL <= d; j += 4 * GD_LIN_VL) {
        GD_FN(lin_vfma)(&acc0, x + j, w + j);
        GD_FN(lin_vfma)(&acc1, x + j + GD_LIN_VL, w + j + GD_LIN_VL);
        GD_FN(lin_vfma)(&acc2, x + j + 2 * GD_LIN_VL, w + j + 2 * GD_LIN_VL);
        GD_FN(lin_vfma)(&acc3, x + j + 3 * GD_LIN_VL, w + j + 3 * GD_LIN_VL);
    }
    if (j + GD_LIN_VL <= d) {
        GD_FN(lin_vfma)(&acc0, x + j, w + j);
        j += GD_LIN_VL;
    }
    if (j + GD_LIN_VL <= d) {
        GD_FN(lin_vfma)(&acc1, x + j, w + j);
        j += GD_LIN_VL;
    }
    if (j + GD_LIN_VL <= d) {
        GD_FN(lin_vfma)(&acc2, x + j, w + j);
        j += GD_LIN_VL;
    }
    GD_FN(lin_vadd)(&acc0, &acc1);
    GD_FN(lin_vadd)(&acc2, &acc3);
    GD_FN(lin_vadd)(&acc0, &acc2);
    return GD_FN(lin_vfinish)(acc0, j, d, x, w);
}
#else
static inline GD_T GD_FN(lin_dot)(int64_t d, const GD_T *GD_RESTRICT x, const GD_T *GD_RESTRICT w)
{
    GD_T s = 0;
    GD_SIMD_SUM(s)
    for (int64_t j = 0; j < d; j++) s += x[j] * w[j];
    return s;
}
static inline GD_T GD_FN(lin_dotb)(int64_t d, const GD_T *GD_RESTRICT x, const GD_T *GD_RESTRICT w)
{
    return GD_FN(lin_dot)(d, x, w);
}
#endif

static inline void GD_FN(lin_axpy)(int64_t d, GD_T a, const GD_T *GD_RESTRICT x, GD_T *GD_RESTRICT y)
{
    GD_SIMD
    for (int64_t j = 0; j < d; j++) y[j] += a * x[j];
}

/* GD_LIN_GROUP rows at once (see lin_block): out[q] = x_q . w, and
 * y += sum_q a_q x_q, summed over q in order. */
#ifndef GD_LIN_GROUP
#define GD_LIN_GROUP 4
#endif
#if GD_LIN_GROUP == 4
static inline void GD_FN(lin_dotg)(int64_t d, const GD_T *const *xg, const GD_T *GD_RESTRICT w,
                                   GD_T *out, const GD_T *seq_end)
{
#ifdef GD_LIN_VL
    /* one row after the other (lin_dotb's sums, lin_dense_reg's too), so
     * that a storage-order group reads X as
     * one sequential stream the hardware prefetcher follows (the four rows'
     * FMA chains are independent and overlap anyway). One full-batch
     * iteration over 200000 x 100 rows, 1 thread, f32 / f64 ms, against a
     * NumPy read pass of 3.5 / 5.0: the rows interleaved in one loop
     * (sharing each load of w) with a software prefetch 16 KiB ahead,
     * 3.7 / 8.3-8.9; interleaved without it 6.6-7.4 / 22-23 (four streams
     * the hardware prefetcher does not follow); sequential with it
     * 3.8-4.3 / 7.1-7.5; sequential without it 3.4-3.5 / 6.9-7.4 (an
     * earlier build; that prefetch was not today's). seq_end: X's end when
     * the rows are in storage order, and each row's bytes
     * GD_LIN_SEQ_AHEAD further on are fetched just before its dot product
     * (GD_LIN_PREFETCH_SEQ); else NULL. */
    for (int q = 0; q < GD_LIN_GROUP; q++) {
        const GD_T *GD_RESTRICT xq = xg[q];
        if (seq_end) GD_LIN_PREFETCH_SEQ(xq, d, seq_end, GD_T);
        out[q] = GD_FN(lin_dotb)(d, xq, w);
    }
#else
    const GD_T *GD_RESTRICT x0 = xg[0], *GD_RESTRICT x1 = xg[1];
    const GD_T *GD_RESTRICT x2 = xg[2], *GD_RESTRICT x3 = xg[3];
    GD_T s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    if (seq_end) GD_LIN_PREFETCH_SEQ(x0, GD_LIN_GROUP * d, seq_end, GD_T);
#if defined(_OPENMP) || defined(GD_OPENMP_SIMD)
#pragma omp simd reduction(+ : s0, s1, s2, s3)
#endif
    for (int64_t j = 0; j < d; j++) {
        const GD_T wj = w[j];
        s0 += x0[j] * wj;
        s1 += x1[j] * wj;
        s2 += x2[j] * wj;
        s3 += x3[j] * wj;
    }
    out[0] = s0;
    out[1] = s1;
    out[2] = s2;
    out[3] = s3;
#endif
}

static inline void GD_FN(lin_axpyg)(int64_t d, const GD_T *a, const GD_T *const *xg,
                                    GD_T *GD_RESTRICT y)
{
    const GD_T *GD_RESTRICT x0 = xg[0], *GD_RESTRICT x1 = xg[1];
    const GD_T *GD_RESTRICT x2 = xg[2], *GD_RESTRICT x3 = xg[3];
    const GD_T a0 = a[0], a1 = a[1], a2 = a[2], a3 = a[3];
    /* the rows' terms one after the other: the sums lin_dense_reg makes row
     * by row, so that both loops give the same bits */
    GD_SIMD
    for (int64_t j = 0; j < d; j++) y[j] = (((y[j] + a0 * x0[j]) + a1 * x1[j]) + a2 * x2[j]) + a3 * x3[j];
}
#else
#error "GD_LIN_GROUP must be 4"
#endif

/* CSR rows: the same operations over a row's nnz stored values. Four partial
 * sums break the FMA dependency chain, as in lin_dot; the gathers dominate. */
static inline GD_T GD_FN(lin_sdot)(int64_t nnz, const GD_T *GD_RESTRICT xv,
                                   const int32_t *GD_RESTRICT xi, const GD_T *GD_RESTRICT w)
{
    GD_T s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    int64_t j = 0;
    for (; j + 4 <= nnz; j += 4) {
        s0 += xv[j] * w[xi[j]];
        s1 += xv[j + 1] * w[xi[j + 1]];
        s2 += xv[j + 2] * w[xi[j + 2]];
        s3 += xv[j + 3] * w[xi[j + 3]];
    }
    for (; j < nnz; j++) s0 += xv[j] * w[xi[j]];
    return (s0 + s1) + (s2 + s3);
}

static inline void GD_FN(lin_saxpy)(int64_t nnz, GD_T a, const GD_T *GD_RESTRICT xv,
                                    const int32_t *GD_RESTRICT xi, GD_T *GD_RESTRICT y)
{
    for (int64_t j = 0; j < nnz; j++) y[xi[j]] += a * xv[j];
}

/* A row of either layout: xi == NULL means dense (nnz == d). */
static inline GD_T GD_FN(lin_xdot)(int64_t nnz, const GD_T *x, const int32_t *xi, const GD_T *w)
{
    return xi ? GD_FN(lin_sdot)(nnz, x, xi, w) : GD_FN(lin_dot)(nnz, x, w);
}

/* the same in the batch loops (lin_dotb for dense rows) */
static inline GD_T GD_FN(lin_xdotb)(int64_t nnz, const GD_T *x, const int32_t *xi, const GD_T *w)
{
    return xi ? GD_FN(lin_sdot)(nnz, x, xi, w) : GD_FN(lin_dotb)(nnz, x, w);
}

static inline void GD_FN(lin_xaxpy)(int64_t nnz, GD_T a, const GD_T *x, const int32_t *xi, GD_T *y)
{
    if (xi)
        GD_FN(lin_saxpy)(nnz, a, x, xi, y);
    else
        GD_FN(lin_axpy)(nnz, a, x, y);
}

/* Rows whose log_loss factors (each in (1, 2]) share one log: 2^512 stays
 * far from double's overflow. */
#ifndef GD_LIN_LOGPROD_ROWS
#define GD_LIN_LOGPROD_ROWS 512
#endif

/* A shuffled row's target (and sample weight) is a random access too, and
 * the loss waits on it: fetch it with the row. Measured: per-sample float64
 * epoch 21-25 -> ~18 ms, float32 ~12.2 -> ~11.7 ms. */
#define GD_LIN_PREFETCH_TARGET_AT(P, rows, r, n, FAR)                                \
    do {                                                                               \
        if ((r) + (FAR) < (n)) {                                                       \
            const int64_t i_ = (rows)[(r) + (FAR)];                                    \
            GD_LIN_PREFETCH_L1((P)->Y + i_ * (P)->ystride);                            \
            if ((P)->S) GD_LIN_PREFETCH_L1((P)->S + i_);                               \
        }                                                                              \
    } while (0)
#ifndef GD_LIN_PREFETCH_TARGET
#define GD_LIN_PREFETCH_TARGET(P, rows, r, n)                                         \
    GD_LIN_PREFETCH_TARGET_AT(P, rows, r, n, GD_LIN_PREFETCH_FAR)
#endif

/* The same for CSR rows: a shuffled row's values and column indices are two
 * short contiguous runs somewhere in memory (the weights they gather from
 * stay cached), so fetch both runs ahead like dense rows, in the same two
 * stages. Measured on 100000 x 50000 CSR at 0.2% (3-epoch fit, A/B over 6
 * alternating runs): L2 stage only ~85 ms, with the L1 stage ~75 ms.
 * Prefetching the weights the near row gathers (one prefetch per stored
 * value) cost more than it saved: ~85 -> ~99 ms. */
/* How far ahead the loops read the order: CSR rows' bounds (indptr, a
 * random access of its own) are fetched twice as far ahead as the rows.
 * Measured on the 3-epoch drop-in fit, 100000 x 50000 CSR at 0.2%: the far
 * stage's indptr load was a third of the loop's samples. The order is made
 * at least that far ahead, and as far as any loop's far stage reaches. */
#define GD_LIN_CSR_BOUNDS_AHEAD (2 * GD_LIN_PREFETCH_FAR)
#define GD_LIN_ORDER_AHEAD \
    (GD_LIN_CSR_BOUNDS_AHEAD > GD_LIN_PS_FAR ? GD_LIN_CSR_BOUNDS_AHEAD : GD_LIN_PS_FAR)
#ifndef GD_LIN_PREFETCH_CSR
/* one CSR row's values and column indices, with PREFETCH = GD_LIN_PREFETCH_L1/_L2 */
#define GD_LIN_PREFETCH_CSR_ROW(P, i, T, PREFETCH)                                     \
    do {                                                                               \
        const int64_t a_ = (P)->indptr[(i)], e_ = (P)->indptr[(i) + 1];                \
        if (e_ > a_) {                                                                 \
            GD_LIN_PREFETCH_SPAN((P)->X + a_, (e_ - a_) * (int64_t)sizeof(T), PREFETCH); \
            GD_LIN_PREFETCH_SPAN((P)->indices + a_, (e_ - a_) * 4, PREFETCH);          \
        }                                                                              \
    } while (0)
#define GD_LIN_PREFETCH_CSR(P, rows, r, n, T)                                          \
    do {                                                                               \
        if ((r) + GD_LIN_CSR_BOUNDS_AHEAD < (n)) {                                     \
            /* the far stage reads the row's bounds: fetch them first */              \
            const int64_t *ip_ = (P)->indptr + (rows)[(r) + GD_LIN_CSR_BOUNDS_AHEAD];  \
            GD_LIN_PREFETCH_L1(ip_);                                                   \
            GD_LIN_PREFETCH_L1(ip_ + 1);                                               \
        }                                                                              \
        if ((r) + GD_LIN_PREFETCH_FAR < (n))                                           \
            GD_LIN_PREFETCH_CSR_ROW(P, (rows)[(r) + GD_LIN_PREFETCH_FAR], T, GD_LIN_PREFETCH_L2); \
        if ((r) + GD_LIN_PREFETCH_NEAR < (n))                                          \
            GD_LIN_PREFETCH_CSR_ROW(P, (rows)[(r) + GD_LIN_PREFETCH_NEAR], T, GD_LIN_PREFETCH_L1); \
    } while (0)
#endif

static int GD_FN(lin_nonfinite)(int64_t n, const GD_T *a)
{
    GD_T acc = 0;
    /* x - x is 0 for finite x and NaN for inf/NaN, so one sum tells */
    GD_SIMD_SUM(acc)
    for (int64_t i = 0; i < n; i++) acc += a[i] - a[i];
    return acc != acc;
}

/* A prediction p = x.w + b that is NaN or infinite: p - p is 0 exactly for
 * finite p. This is the loops' check of X itself: a NaN or infinity in a row
 * always reaches its prediction (NaN * w and inf * 0 are NaN, inf * w != 0 is
 * inf), so one compare per row replaces a separate read pass over X. */
#ifndef GD_LIN_BAD
#define GD_LIN_BAD(p) (!((p) - (p) == (GD_T)0))
#endif

/* ---- the problem, as the loops see it ----------------------------------- */

typedef struct {
    int64_t n, d, k, kd;    /* kd = k * d */
    const GD_T *X, *Y, *S;  /* S may be NULL */
    int64_t ystride;        /* k for multi-output y, else 1 */
    int loss;
    GD_T eps;
    GD_T *W, *b;            /* W: (k, d) */
    const int64_t *indptr;  /* CSR (X = the values) or NULL for dense */
    const int32_t *indices;
} GD_FN(lin_prob);

/* Row i of X: its values, their columns (NULL for dense) and their count. */
static inline const GD_T *GD_FN(lin_row)(const GD_FN(lin_prob) *P, int64_t i, const int32_t **xi,
                                         int64_t *nnz)
{
    if (P->indptr) {
        const int64_t a = P->indptr[i];
        *xi = P->indices + a;
        *nnz = P->indptr[i + 1] - a;
        return P->X + a;
    }
    *xi = NULL;
    *nnz = P->d;
    return P->X + i * P->d;
}

/* lin_block's dense, one-output rows, in groups of GD_LIN_GROUP: the group's
 * dot products run as independent FMA chains (lin_dotg), and g takes the
 * group's sum in one pass (one load/store of g per group instead of per
 * row). The summation order is fixed by the block bounds, never by the thread
 * count. Returns the first row not done (the last hi - lo % GD_LIN_GROUP
 * rows are lin_block's); a bad prediction sets *bad and stops. The loss is a
 * constant in each instantiation (lin_dense1 below), so the per-row code is
 * the loss's few instructions, not a dispatch; so is plain (1: rows is NULL
 * and there are no sample weights), which drops the per-row index and weight
 * selects from those copies. */
static GD_ALWAYS_INLINE int64_t GD_FN(lin_dense1_loss)(const GD_FN(lin_prob) *P, const int64_t *rows,
                                                        int64_t lo, int64_t hi, int64_t n_order,
                                                        GD_T scale, GD_T *GD_RESTRICT g, double *sum,
                                                        int64_t *bad, const int loss,
                                                        const int plain)
{
    const int64_t d = P->d, kd = P->kd;
    const GD_T *X = P->X, *W = P->W, *Y = P->Y, *S = plain ? NULL : P->S, b0 = P->b[0],
               eps = P->eps;
    const int seq_fetch = d * (int64_t)sizeof(GD_T) <= GD_LIN_SEQ_MAX_ROW;
    double acc = 0.0;
    GD_T gb = 0;
    int64_t r = lo;
    if (plain) rows = NULL;
    for (; r + GD_LIN_GROUP <= hi; r += GD_LIN_GROUP) {
        const GD_T *xg[GD_LIN_GROUP];
        GD_T dg[GD_LIN_GROUP];
        int q;
        if (rows) {
            for (q = 0; q < GD_LIN_GROUP; q++) {
                xg[q] = X + rows[r + q] * d;
                GD_LIN_PREFETCH_ROWS(X, d, rows, r + q, n_order, GD_T);
                GD_LIN_PREFETCH_TARGET(P, rows, r + q, n_order);
            }
        } else {
            for (q = 0; q < GD_LIN_GROUP; q++) xg[q] = X + (r + q) * d;
        }
        GD_FN(lin_dotg)(d, xg, W, dg, !rows && seq_fetch ? X + n_order * d : NULL);
        for (q = 0; q < GD_LIN_GROUP; q++) {
            const int64_t i = rows ? rows[r + q] : r + q;
            const GD_T s = S ? S[i] : (GD_T)1, p = dg[q] + b0;
            GD_T dl, L;
            if (GD_LIN_BAD(p)) {
                *bad = i;
                *sum += acc;
                g[kd] += gb;
                return r;
            }
            L = GD_FN(lin_loss1)(loss, p, Y[i], eps, &dl);
            acc += (double)(s * L);
            dl = dl * (s * scale);
            gb += dl;
            dg[q] = dl;
        }
        GD_FN(lin_axpyg)(d, dg, xg, g);
    }
    *sum += acc;
    g[kd] += gb;
    return r;
}

#if defined(GD_LIN_NATIVE) && GD_LIN_NATIVE == 64 && !defined(GD_LIN_NO_REG_ROWS)
/* AVX-512, rows of up to GD_LIN_REG_NV 64-byte vectors in storage order
 * without sample weights, one at a time: the row stays in registers from
 * its dot product to its share of the gradient, so each row is read once,
 * in one run of loads (the group loop reads its rows twice, the second time
 * from L1), and the block's gradient is stored once, at the end. NV (the
 * row's vector count) and the loss are constants in each instantiation (3
 * losses x 13 counts per dtype; with the loss chosen at run time inside the
 * loop the compiler spills the row and the loop ran 1.7x the read pass).
 * The arithmetic is lin_dotb's and lin_axpyg's, row for row: the results are
 * bit for bit the group loop's, which the other ISAs run. One full-batch
 * iteration, 1 thread, against one NumPy read pass over 160 MB of X (A/B
 * over alternating processes): float64 x 50 1.25-1.35 -> 1.11-1.22, x 100
 * 1.24-1.32 -> 1.2-1.27, float32 x 100 0.84-0.91 -> 0.71-0.85, x 200
 * 0.84-0.89 -> 0.79-0.91. */
#define GD_LIN_REG_NV 13
#if GD_LIN_F64
#define GD_LIN_REG_MLOAD(m, p) ((GD_FN(lin_n))_mm512_maskz_loadu_pd((__mmask8)(m), (p)))
#define GD_LIN_REG_MSTORE(p, m, v) _mm512_mask_storeu_pd((p), (__mmask8)(m), (__m512d)(v))
#else
#define GD_LIN_REG_MLOAD(m, p) ((GD_FN(lin_n))_mm512_maskz_loadu_ps((__mmask16)(m), (p)))
#define GD_LIN_REG_MSTORE(p, m, v) _mm512_mask_storeu_ps((p), (__mmask16)(m), (__m512)(v))
#endif
static GD_ALWAYS_INLINE int64_t GD_FN(lin_dense_reg)(const GD_FN(lin_prob) *P, int64_t lo,
                                                      int64_t hi, GD_T scale, GD_T *GD_RESTRICT g,
                                                      double *sum, int64_t *bad, const int loss,
                                                      const int NV)
{
    const int64_t d = P->d, kd = P->kd, nfull = d / GD_LIN_VL;
    const unsigned tmask = (1u << (d % GD_LIN_VL)) - 1u; /* vector NV-1's lanes if partial */
    const GD_T *X = P->X, *W = P->W, *Y = P->Y, b0 = P->b[0], eps = P->eps;
    GD_FN(lin_n) xr[GD_LIN_REG_NV], gr[GD_LIN_REG_NV];
    double acc = 0.0;
    GD_T gb = 0;
    int64_t i;
    int k;
    for (k = 0; k < NV; k++) gr[k] = (GD_FN(lin_n)){0};
    for (i = lo; i < hi; i++) {
        const GD_T *GD_RESTRICT x = X + i * d;
        GD_FN(lin_v) s0, s1, s2, s3;
        GD_T p, dl, L;
        for (k = 0; k < NV - 1; k++) memcpy(&xr[k], x + k * GD_LIN_VL, 64);
        if (nfull == NV)
            memcpy(&xr[NV - 1], x + (NV - 1) * GD_LIN_VL, 64);
        else
            xr[NV - 1] = GD_LIN_REG_MLOAD(tmask, x + (NV - 1) * GD_LIN_VL);
        /* lin_dotb's sums: full vector k into accumulator k % 4 (spelled out:
         * as an array indexed k % 4 the loop ran 1.35x the read pass against
         * 1.15x) */
        GD_FN(lin_vzero)(&s0);
        GD_FN(lin_vzero)(&s1);
        GD_FN(lin_vzero)(&s2);
        GD_FN(lin_vzero)(&s3);
        for (k = 0; k < NV; k++) {
            GD_FN(lin_n) wv;
            if (k == NV - 1 && nfull < NV) break;
            memcpy(&wv, W + k * GD_LIN_VL, 64);
            if (k % 4 == 0)
                s0.v[0] += xr[k] * wv;
            else if (k % 4 == 1)
                s1.v[0] += xr[k] * wv;
            else if (k % 4 == 2)
                s2.v[0] += xr[k] * wv;
            else
                s3.v[0] += xr[k] * wv;
        }
        GD_FN(lin_vadd)(&s0, &s1);
        GD_FN(lin_vadd)(&s2, &s3);
        GD_FN(lin_vadd)(&s0, &s2);
        p = GD_FN(lin_vfinish)(s0, nfull * GD_LIN_VL, d, x, W) + b0;
        if (GD_LIN_BAD(p)) {
            *bad = i;
            *sum += acc;
            return i;
        }
        L = GD_FN(lin_loss1)(loss, p, Y[i], eps, &dl);
        acc += (double)L;
        dl = dl * scale;
        gb += dl;
        for (k = 0; k < NV; k++) gr[k] += dl * xr[k];
    }
    for (k = 0; k < NV - 1; k++) memcpy(g + k * GD_LIN_VL, &gr[k], 64);
    if (nfull == NV)
        memcpy(g + (NV - 1) * GD_LIN_VL, &gr[NV - 1], 64);
    else
        GD_LIN_REG_MSTORE(g + (NV - 1) * GD_LIN_VL, tmask, gr[NV - 1]);
    *sum += acc;
    g[kd] += gb;
    return hi;
}
/* one instantiation per loss L and vector count 1..GD_LIN_REG_NV */
#define GD_LIN_REG_CASE(L, N) \
    case N: return GD_FN(lin_dense_reg)(P, lo, hi, scale, g, sum, bad, L, N);
#define GD_LIN_REG_CASES(L)                                                            \
    switch ((P->d + GD_LIN_VL - 1) / GD_LIN_VL) {                                      \
        GD_LIN_REG_CASE(L, 1) GD_LIN_REG_CASE(L, 2) GD_LIN_REG_CASE(L, 3)              \
        GD_LIN_REG_CASE(L, 4) GD_LIN_REG_CASE(L, 5) GD_LIN_REG_CASE(L, 6)              \
        GD_LIN_REG_CASE(L, 7) GD_LIN_REG_CASE(L, 8) GD_LIN_REG_CASE(L, 9)              \
        GD_LIN_REG_CASE(L, 10) GD_LIN_REG_CASE(L, 11) GD_LIN_REG_CASE(L, 12)           \
        GD_LIN_REG_CASE(L, 13)                                                         \
    default: break;                                                                    \
    }
#endif

static int64_t GD_FN(lin_dense1)(const GD_FN(lin_prob) *P, const int64_t *rows, int64_t lo,
                                 int64_t hi, int64_t n_order, GD_T scale, GD_T *g, double *sum,
                                 int64_t *bad)
{
#define GD_LIN_DENSE1(L) GD_FN(lin_dense1_loss)(P, rows, lo, hi, n_order, scale, g, sum, bad, L, 0)
#define GD_LIN_DENSE1_PLAIN(L) \
    GD_FN(lin_dense1_loss)(P, NULL, lo, hi, n_order, scale, g, sum, bad, L, 1)
    /* The common case, rows in storage order (a full batch, shuffle=False)
     * without sample weights, gets copies of its own in which the row index
     * and the weight are constants: one float64 full-batch iteration over
     * 200000 x 100 rows, 1 thread, went from 1.41-1.43x a NumPy read pass
     * over X to 1.25-1.28x (A/B over alternating processes; float64 x 64
     * 1.35 -> 1.2-1.3, x 128 1.6-1.7 -> 1.5-1.6, x 300 1.4 -> 1.35; float32
     * x 100 unchanged at 0.9; per-sample and mini-batch epochs unchanged). */
    if (!rows && !P->S) {
#ifdef GD_LIN_REG_CASES
        switch (P->loss) {
        case GD_LOSS_SQUARED_ERROR: GD_LIN_REG_CASES(GD_LOSS_SQUARED_ERROR); break;
        case GD_LOSS_LOG_LOSS: GD_LIN_REG_CASES(GD_LOSS_LOG_LOSS); break;
        case GD_LOSS_HINGE: GD_LIN_REG_CASES(GD_LOSS_HINGE); break;
        default: break;
        }
#endif
        switch (P->loss) {
        case GD_LOSS_SQUARED_ERROR: return GD_LIN_DENSE1_PLAIN(GD_LOSS_SQUARED_ERROR);
        case GD_LOSS_LOG_LOSS: return GD_LIN_DENSE1_PLAIN(GD_LOSS_LOG_LOSS);
        case GD_LOSS_HINGE: return GD_LIN_DENSE1_PLAIN(GD_LOSS_HINGE);
        default: break;
        }
    }
    switch (P->loss) {
    case GD_LOSS_SQUARED_ERROR: return GD_LIN_DENSE1(GD_LOSS_SQUARED_ERROR);
    case GD_LOSS_LOG_LOSS: return GD_LIN_DENSE1(GD_LOSS_LOG_LOSS);
    case GD_LOSS_HINGE: return GD_LIN_DENSE1(GD_LOSS_HINGE);
    default: return GD_LIN_DENSE1(P->loss);
    }
#undef GD_LIN_DENSE1
#undef GD_LIN_DENSE1_PLAIN
}

/* Accumulate rows rows[lo:hi) (storage rows lo..hi when rows is NULL) into
 * g (kd coef entries, then k intercept entries), each row's dloss weighted by
 * s_i * scale; returns sum_i s_i * L_i. g is overwritten. A row whose
 * prediction is NaN/inf ends the block: *bad = its storage index (else -1). */
static double GD_FN(lin_block)(const GD_FN(lin_prob) *P, const int64_t *rows, int64_t lo,
                               int64_t hi, int64_t n_order, GD_T scale, GD_T *g, GD_T *scratch,
                               int64_t *bad)
{
    const int64_t d = P->d, k = P->k, kd = P->kd;
    const GD_T *X = P->X;
    double sum = 0.0;
    int64_t r, c;
    memset(g, 0, (size_t)(kd + k) * sizeof(GD_T));
    *bad = -1;
    r = lo;
    if (k == 1 && !P->indptr) r = GD_FN(lin_dense1)(P, rows, lo, hi, n_order, scale, g, &sum, bad);
    if (*bad >= 0) return sum;
    for (; r < hi; r++) {
        const int64_t i = rows ? rows[r] : r;
        const int32_t *xi;
        int64_t nnz;
        const GD_T *x = GD_FN(lin_row)(P, i, &xi, &nnz);
        const GD_T s = P->S ? P->S[i] : (GD_T)1;
        if (rows) GD_LIN_PREFETCH_TARGET(P, rows, r, n_order);
        if (rows && !xi) GD_LIN_PREFETCH_ROWS(X, d, rows, r, n_order, GD_T);
        else if (rows) GD_LIN_PREFETCH_CSR(P, rows, r, n_order, GD_T);
        if (k == 1) {
            GD_T dl, p = GD_FN(lin_xdotb)(nnz, x, xi, P->W) + P->b[0], L;
            if (GD_LIN_BAD(p)) {
                *bad = i;
                return sum;
            }
            L = GD_FN(lin_loss1)(P->loss, p, P->Y[i], P->eps, &dl);
            sum += (double)(s * L);
            dl = dl * (s * scale);
            g[kd] += dl;
            GD_FN(lin_xaxpy)(nnz, dl, x, xi, g);
        } else {
            GD_T chk = 0;
            for (c = 0; c < k; c++) {
                scratch[c] = GD_FN(lin_xdot)(nnz, x, xi, P->W + c * d) + P->b[c];
                chk += scratch[c] - scratch[c];
            }
            if (chk != (GD_T)0) {
                *bad = i;
                return sum;
            }
            sum += (double)(s * GD_FN(lin_lossk)(P->loss, k, scratch, P->Y + i * P->ystride));
            for (c = 0; c < k; c++) {
                const GD_T dl = scratch[c] * (s * scale);
                g[kd + c] += dl;
                GD_FN(lin_xaxpy)(nnz, dl, x, xi, g + c * d);
            }
        }
    }
    return sum;
}

/* The rule over n elements, split across threads when it is large (each
 * element is independent, so the split never changes a result). */
static void GD_FN(lin_rule)(int64_t n, GD_T *w, const GD_T *g, GD_T *v, const gd_rule *rule,
                            int64_t t, int first, int nt)
{
#ifdef _OPENMP
    if (nt > 1 && n * (int64_t)sizeof(GD_T) >= gd_get_parallel_min()) {
        const int64_t per = ((n + nt - 1) / nt + 15) / 16 * 16;
#pragma omp parallel for num_threads(nt) schedule(static)
        for (int c = 0; c < nt; c++) {
            int64_t b0 = (int64_t)c * per, b1 = b0 + per < n ? b0 + per : n;
            if (b0 < b1) GD_FN(sgd_step)(b0, b1, w, g, v, rule, t, first);
        }
        return;
    }
#endif
    (void)nt;
    GD_FN(sgd_step)(0, n, w, g, v, rule, t, first);
}

/* scikit-learn's cumulative L1 penalty (Tsuruoka et al. 2009) on w = ws * V:
 * each weight is pulled toward zero by the total penalty u it could have
 * received so far minus what it did receive (q), without crossing zero. */
static inline void GD_FN(lin_l1_clip)(GD_T *v, GD_T *q, double u, double ws)
{
    const GD_T z = *v;
    if (ws * z > 0.0) {
        const GD_T c = (GD_T)((double)z - (u + (double)*q) / ws);
        *v = c > (GD_T)0 ? c : (GD_T)0;
    } else if (ws * z < 0.0) {
        const GD_T c = (GD_T)((double)z + (u - (double)*q) / ws);
        *v = c < (GD_T)0 ? c : (GD_T)0;
    }
    *q += (GD_T)(ws * (double)(*v - z));
}

static void GD_FN(lin_l1_cumulative)(int64_t n, GD_T *V, GD_T *q, double u, double ws)
{
    for (int64_t j = 0; j < n; j++) GD_FN(lin_l1_clip)(V + j, q + j, u, ws);
}

/* The same over the columns of one CSR row only: scikit-learn's lazy form,
 * where a weight receives its accumulated penalty when its feature appears. */
static void GD_FN(lin_l1_cumulative_sparse)(int64_t nnz, const int32_t *xi, GD_T *V, GD_T *q,
                                            double u, double ws)
{
    for (int64_t jj = 0; jj < nnz; jj++) GD_FN(lin_l1_clip)(V + xi[jj], q + xi[jj], u, ws);
}

/* The lazy average (per-sample CSR loop) written out: AW = g AW + b W, and
 * the representation restarts from it (g = 1, b = 0). */
static void GD_FN(lin_avg_settle)(int on, int64_t d, GD_T *AW, const GD_T *W, double *g,
                                  double *b)
{
    if (!on || (*g == 1.0 && *b == 0.0)) return;
    for (int64_t j = 0; j < d; j++) AW[j] = (GD_T)(*g * (double)AW[j] + *b * (double)W[j]);
    *g = 1.0;
    *b = 0.0;
}

static double GD_FN(lin_penalty)(int64_t n, const GD_T *W, double alpha, double l1_ratio)
{
    double s2 = 0.0, s1 = 0.0;
    if (alpha == 0.0) return 0.0;
    for (int64_t j = 0; j < n; j++) {
        const double w = (double)W[j];
        s2 += w * w;
        s1 += w < 0 ? -w : w;
    }
    return alpha * ((1.0 - l1_ratio) * 0.5 * s2 + l1_ratio * s1);
}

/* ---- the loop ------------------------------------------------------------ */

static int GD_FN(fit_linear)(const gd_linear_data *D, const gd_linear_opts *o,
                             gd_linear_result *res)
{
    GD_FN(lin_prob) P;
    const int64_t n = D->n, d = D->d, k = D->k, kd = d * k, kd1 = kd + k;
    const int full = o->batch_size <= 0 || o->batch_size >= n;
    const int64_t B = full ? n : o->batch_size;
    const int shuffle = o->shuffle && !full;
    const double alpha2 = o->alpha * (1.0 - o->l1_ratio);
    const double l1 = o->alpha * o->l1_ratio;
    const int momentum = o->momentum != 0.0;
    /* per-sample without momentum keeps w = wscale * V so the L2 shrink is
     * O(1) per sample (Bottou; scikit-learn's WeightVector) */
    const int fast = (B == 1 && k == 1 && !momentum);
    const int cumulative_l1 = (B == 1 && l1 > 0.0);
    const int adaptive = o->schedule == GD_SCHEDULE_ADAPTIVE;
    const int nt = o->n_threads;
    const int sparse = D->indptr != NULL;
    /* weight_mean: batch gradients and the epoch loss are means over the
     * sample weights (sum s_i) instead of over rows; per sample the weight
     * stays a multiplier (scikit-learn's) */
    const int wmean = o->weight_mean && D->sample_weight != NULL && B > 1;
    double loss_div = (double)n;
    /* multiply-adds per row: k * (nnz + 1) on average for CSR */
    const int64_t row_work =
        sparse ? k * (D->indptr[n] / n + 1) + 1 : (kd1 > 0 ? kd1 : 1);
    const int64_t check_rows = GD_LIN_CHECK_WORK / row_work + 1;
    const int64_t nblk_max = gd_lin_nblocks(B, kd1);
    GD_T *W = (GD_T *)D->coef, *b = (GD_T *)D->intercept;
    GD_T *AW = (GD_T *)D->avg_coef, *Ab = (GD_T *)D->avg_intercept;
    int64_t *order = NULL, filled = 0; /* order[0:filled) made so far this epoch */
    gd_perm perm;
    GD_T *g = NULL, *v = NULL, *save = NULL, *q = NULL, *part = NULL, *scratch = NULL;
    double *part_loss = NULL;
    int64_t *part_bad = NULL, bad = -1;
    gd_rule rw, rb;
    int64_t t = o->t_start, e, since_check = 0, no_improve = 0;
    double eta = o->lr, eta_base = o->lr, best = INFINITY, u = 0.0, wscale = 1.0;
    double logprod = 1.0; /* the per-sample log_loss's pending factors */
    int logprod_n = 0;
    /* averaged SGD over CSR rows, per sample: the average is kept as
     * avg_g * AW + avg_b * W, so that a row costs O(nnz) (see below) */
    const int lazy_avg = fast && sparse && o->average > 0;
    double avg_g = 1.0, avg_b = 0.0;
    GD_T *wold = NULL;
    int first = !(D->velocity != NULL && o->velocity_started), status = GD_OK, stop = 0;

    P.n = n;
    P.d = d;
    P.k = k;
    P.kd = kd;
    P.X = (const GD_T *)D->X;
    P.Y = (const GD_T *)D->y;
    P.S = (const GD_T *)D->sample_weight;
    P.ystride = (o->loss == GD_LOSS_SQUARED_ERROR) ? k : 1;
    P.loss = o->loss;
    P.eps = (GD_T)o->epsilon;
    P.W = W;
    P.b = b;
    P.indptr = D->indptr;
    P.indices = D->indices;
    if (o->weight_mean && P.S != NULL) {
        double sw = 0.0;
        for (int64_t i = 0; i < n; i++) sw += (double)P.S[i];
        if (sw > 0.0) loss_div = sw;
    }

    memset(&rw, 0, sizeof(rw));
    rw.momentum = o->momentum;
    rw.dampening = o->dampening;
    rw.nesterov = o->nesterov;
    rw.ema = o->ema;
    rw.debias = o->debias;
    rw.weight_decay = alpha2;
    rb = rw;
    rb.weight_decay = 0.0; /* the intercept is never penalized */

    if (shuffle) {
        order = (int64_t *)gd_lin_alloc((size_t)n * sizeof(int64_t));
        if (!order) goto nomem;
    }
    g = (GD_T *)gd_lin_alloc((size_t)kd1 * sizeof(GD_T));
    save = (GD_T *)gd_lin_alloc((size_t)kd1 * sizeof(GD_T));
    scratch = (GD_T *)gd_lin_alloc((size_t)(nblk_max * k) * sizeof(GD_T));
    if (!g || !save || !scratch) goto nomem;
    if (momentum && D->velocity != NULL) {
        v = (GD_T *)D->velocity; /* the caller's state, continued */
    } else if (momentum) {
        v = (GD_T *)gd_lin_alloc((size_t)kd1 * sizeof(GD_T));
        if (!v) goto nomem;
        memset(v, 0, (size_t)kd1 * sizeof(GD_T));
    }
    if (lazy_avg) {
        wold = (GD_T *)gd_lin_alloc((size_t)(d > 0 ? d : 1) * sizeof(GD_T));
        if (!wold) goto nomem;
    }
    if (cumulative_l1) {
        q = (GD_T *)gd_lin_alloc((size_t)(kd > 0 ? kd : 1) * sizeof(GD_T));
        if (!q) goto nomem;
        memset(q, 0, (size_t)kd * sizeof(GD_T));
    }
    if (nblk_max > 1) {
        part = (GD_T *)gd_lin_alloc((size_t)(nblk_max * kd1) * sizeof(GD_T));
        part_loss = (double *)gd_lin_alloc((size_t)nblk_max * sizeof(double));
        part_bad = (int64_t *)gd_lin_alloc((size_t)nblk_max * sizeof(int64_t));
        if (!part || !part_loss || !part_bad) goto nomem;
    }

    for (e = 0; e < o->epochs; e++) {
        double sumloss = 0.0, loss;
        const int64_t *rows = NULL;

        if (o->epoch_hook) {
            double lr_e = eta_base;
            status = o->epoch_hook(o->epoch_ctx, GD_EPOCH_BEGIN, e, 0.0, eta, t, &lr_e);
            if (status != GD_OK) goto done;
            if (o->schedule == GD_SCHEDULE_EPOCH) eta_base = lr_e;
        }
        memcpy(save, W, (size_t)kd * sizeof(GD_T));
        memcpy(save + kd, b, (size_t)k * sizeof(GD_T));
        if (shuffle) {
            /* the order is made as the loops go (GD_LIN_ORDER_AHEAD) */
            gd_perm_init(&perm, n, o->seed, e);
            filled = 0;
            rows = order;
        }

        if (fast) {
            /* ---- per sample, w = wscale * W, intercept b[0] ---- */
            const GD_T *X = P.X;
            GD_T b0 = b[0];
            int64_t r;
            for (r = 0; r < n; r++) {
                if (rows && filled <= r + GD_LIN_ORDER_AHEAD && filled < n) {
                    const int64_t want = r + GD_LIN_ORDER_AHEAD + GD_LIN_ORDER_CHUNK;
                    const int64_t to = want < n ? want : n;
                    gd_perm_fill(&perm, order, filled, to);
                    filled = to;
                }
                const int64_t i = rows ? rows[r] : r;
                const int32_t *xi;
                int64_t nnz;
                const GD_T *x = GD_FN(lin_row)(&P, i, &xi, &nnz);
                const GD_T s = P.S ? P.S[i] : (GD_T)1;
                GD_T dl, p, L;
                double upd;
                /* the step size depends on t alone: computed before the
                 * row's dot product (in program order) so the schedule's
                 * pow/division runs beside the row's loads instead of
                 * between the loss and the update */
                const double eta_r = gd_lin_eta(o, eta_base, t + 1);
                if (rows && !sparse) {
                    GD_LIN_PREFETCH_TARGET_AT(&P, rows, r, n, GD_LIN_PS_FAR);
                    GD_LIN_PREFETCH_ROWS_AT(X, d, rows, r, n, GD_T, GD_LIN_PS_FAR, GD_LIN_PS_NEAR);
                } else if (rows) {
                    GD_LIN_PREFETCH_TARGET(&P, rows, r, n);
                    GD_LIN_PREFETCH_CSR(&P, rows, r, n, GD_T);
                }
                /* without L2 wscale stays exactly 1: skip the conversions
                 * and the division on the row-to-row dependency chain (the
                 * same numbers, ~10% of a 100-feature row) */
                if (alpha2 > 0.0)
                    p = (GD_T)(wscale * (double)GD_FN(lin_xdot)(nnz, x, xi, W)) + b0;
                else
                    p = GD_FN(lin_xdot)(nnz, x, xi, W) + b0;
                if (GD_LIN_BAD(p)) {
                    bad = i;
                    goto badrow;
                }
                if (P.loss == GD_LOSS_LOG_LOSS && !P.S) {
                    /* log_loss, unweighted: the log1p(e) terms (e <= 1) are
                     * multiplied into logprod (each factor in (1, 2]) and
                     * taken out with one log per GD_LIN_LOGPROD_ROWS rows:
                     * the row loop no longer waits on a log per row */
                    GD_T lin, ez;
                    int tail;
                    dl = GD_FN(lin_logloss)(p * P.Y[i], P.Y[i], &lin, &ez, &tail);
                    sumloss += (double)lin;
                    if (!tail) {
                        sumloss += (double)ez;
                    } else {
                        logprod *= 1.0 + (double)ez;
                        if (++logprod_n == GD_LIN_LOGPROD_ROWS) {
                            sumloss += log(logprod);
                            logprod = 1.0;
                            logprod_n = 0;
                        }
                    }
                } else {
                    L = GD_FN(lin_loss1)(P.loss, p, P.Y[i], P.eps, &dl);
                    sumloss += (double)(s * L);
                }
                t++;
                eta = eta_r;
                if (alpha2 > 0.0) {
                    const double f = 1.0 - eta * alpha2;
                    wscale *= f > 0.0 ? f : 0.0;
                    if (wscale < (lazy_avg ? 1e-2 : 1e-9)) {
                        /* renormalise before the scale underflows; with a
                         * lazy average much earlier, and the average written
                         * out first: its two terms grow as 1/wscale and
                         * cancel (at 1e-9, float64 averages lost every digit
                         * within a few hundred rows at eta*alpha = 0.1) */
                        const GD_T ws = (GD_T)wscale;
                        GD_FN(lin_avg_settle)(lazy_avg && t > o->average, d, AW, W, &avg_g, &avg_b);
                        GD_SIMD
                        for (int64_t j = 0; j < d; j++) W[j] *= ws;
                        if (avg_b != 0.0) avg_b /= (double)ws; /* ws may be 0: eta*alpha >= 1 */
                        wscale = 1.0;
                    }
                }
                upd = -eta * (double)(dl * s);
                if (lazy_avg && t > o->average)
                    for (int64_t jj = 0; jj < nnz; jj++) wold[jj] = W[xi[jj]];
                if (upd != 0.0) {
                    GD_FN(lin_xaxpy)(nnz, alpha2 > 0.0 ? (GD_T)(upd / wscale) : (GD_T)upd, x,
                                     xi, W);
                    if (o->fit_intercept) b0 += (GD_T)upd;
                }
                if (cumulative_l1) {
                    u += eta * l1;
                    if (sparse)
                        GD_FN(lin_l1_cumulative_sparse)(nnz, xi, W, q, u, wscale);
                    else
                        GD_FN(lin_l1_cumulative)(d, W, q, u, wscale);
                }
                if (lazy_avg && t >= o->average) {
                    /* The running mean A_m = (1 - 1/m) A_{m-1} + (1/m) wscale W
                     * as A = avg_g * AW + avg_b * W (Xu 2011; scikit-learn's
                     * sparse ASGD does the same): the row changed W by D on
                     * its nnz columns only, so A_m = g' AW' + b' W with
                     * g' = (1 - 1/m) g, b' = (1 - 1/m) b + wscale / m and
                     * AW' = AW - (b / g) D: O(nnz), not O(d) */
                    const double m = (double)(t - o->average + 1);
                    if (t == o->average) {
                        memset(AW, 0, (size_t)d * sizeof(GD_T));
                        avg_g = 1.0;
                        avg_b = wscale;
                    } else {
                        const double c = avg_b / avg_g;
                        for (int64_t jj = 0; jj < nnz; jj++) {
                            const int64_t j = xi[jj];
                            AW[j] -= (GD_T)(c * (double)(W[j] - wold[jj]));
                        }
                        avg_g *= 1.0 - 1.0 / m;
                        avg_b = (1.0 - 1.0 / m) * avg_b + wscale / m;
                        if (avg_g < 1e-6) {
                            /* fold the shrinking scale in before AW grows out of range */
                            for (int64_t j = 0; j < d; j++) AW[j] = (GD_T)(avg_g * (double)AW[j]);
                            avg_g = 1.0;
                        }
                    }
                    Ab[0] += (b0 - Ab[0]) / (GD_T)m;
                } else if (o->average > 0 && t >= o->average) {
                    const GD_T cnt = (GD_T)(t - o->average + 1);
                    const GD_T ws = (GD_T)wscale;
                    GD_SIMD
                    for (int64_t j = 0; j < d; j++) AW[j] += (ws * W[j] - AW[j]) / cnt;
                    Ab[0] += (b0 - Ab[0]) / cnt;
                }
                if (++since_check >= check_rows) {
                    since_check = 0;
                    if (o->interrupt && o->interrupt(o->interrupt_ctx)) {
                        status = GD_EINTERRUPT;
                        b[0] = b0;
                        goto done;
                    }
                }
            }
            b[0] = b0;
            sumloss += log(logprod);
            logprod = 1.0;
            logprod_n = 0;
            if (wscale != 1.0) {
                const GD_T ws = (GD_T)wscale;
                GD_SIMD
                for (int64_t j = 0; j < d; j++) W[j] *= ws;
                if (avg_b != 0.0) avg_b /= (double)ws; /* ws may be 0: eta*alpha >= 1 */
                wscale = 1.0;
            }
            GD_FN(lin_avg_settle)(lazy_avg && t >= o->average, d, AW, W, &avg_g, &avg_b);
        } else {
            /* ---- batches (B rows; B == 1 with momentum or k > 1) ---- */
            int64_t lo;
            for (lo = 0; lo < n; lo += B) {
                const int64_t hi = lo + B < n ? lo + B : n, nb = hi - lo;
                int64_t nblk = gd_lin_nblocks(nb, kd1), work = nb * kd1;
                if (rows) {
                    /* the batch's rows and those its blocks fetch ahead */
                    const int64_t want = hi + GD_LIN_ORDER_AHEAD + 1 < n ? hi + GD_LIN_ORDER_AHEAD + 1 : n;
                    if (filled < want) {
                        gd_perm_fill(&perm, order, filled, want);
                        filled = want;
                    }
                }
                if (sparse) {
                    /* CSR: as many blocks as the batch's stored values keep
                     * busy, so that combining the (kd+k)-long partial sums
                     * never costs more than the rows themselves; the count
                     * depends on the data, never on the thread count */
                    int64_t bnnz = 0, cap;
                    for (int64_t r = lo; r < hi; r++) {
                        const int64_t i = rows ? rows[r] : r;
                        bnnz += D->indptr[i + 1] - D->indptr[i];
                    }
                    work = k * (bnnz + nb);
                    cap = work / (GD_LIN_BLOCK_WORK > kd1 ? GD_LIN_BLOCK_WORK : kd1);
                    if (nblk > cap) nblk = cap > 1 ? cap : 1;
                }
                GD_T scale = (GD_T)(1.0 / (double)nb);
                if (wmean) {
                    /* the sample-weighted mean: integer weights are repetitions */
                    double sb = 0.0;
                    for (int64_t r = lo; r < hi; r++) sb += (double)P.S[rows ? rows[r] : r];
                    scale = sb > 0.0 ? (GD_T)(1.0 / sb) : (GD_T)0;
                }
                if (nblk == 1) {
                    sumloss += GD_FN(lin_block)(&P, rows, lo, hi, n, scale, g, scratch, &bad);
                    if (bad >= 0) goto badrow;
                } else {
                    /* fixed blocks, combined in block order: the same sums
                     * for any thread count. One parallel region per batch
                     * (a fork/join per group of blocks measured badly on a
                     * busy machine); its first thread, the caller's, polls
                     * the interrupt hook every ~GD_LIN_CHECK_WORK and raises
                     * a flag that makes every thread skip its remaining
                     * blocks. */
                    const int64_t blk_work = work / nblk + 1; /* CSR: by stored values */
                    const int64_t grp = GD_LIN_CHECK_WORK / blk_work + 1;
                    const int par = nt > 1 && work >= GD_LIN_PAR_WORK;
                    volatile int stop_flag = 0;
                    int64_t bk;
#ifdef _OPENMP
#pragma omp parallel num_threads(nt) if (par)
#endif
                    {
                        int64_t done_blk = 0;
                        const int master = GD_LIN_THREAD_NUM() == 0;
#ifdef _OPENMP
#pragma omp for schedule(static)
#endif
                        for (bk = 0; bk < nblk; bk++) {
                            const int64_t r0 = lo + bk * nb / nblk, r1 = lo + (bk + 1) * nb / nblk;
                            if (stop_flag) continue;
                            part_loss[bk] = GD_FN(lin_block)(&P, rows, r0, r1, n, scale,
                                                             part + bk * kd1, scratch + bk * k,
                                                             part_bad + bk);
                            if (master && ++done_blk >= grp) {
                                done_blk = 0;
                                if (o->interrupt && o->interrupt(o->interrupt_ctx)) stop_flag = 1;
                            }
                        }
                    }
                    if (stop_flag) {
                        status = GD_EINTERRUPT;
                        goto done;
                    }
                    /* the first bad block in block order: the same row for
                     * any thread count */
                    for (bk = 0; bk < nblk; bk++)
                        if (part_bad[bk] >= 0) {
                            bad = part_bad[bk];
                            goto badrow;
                        }
                    memcpy(g, part, (size_t)kd1 * sizeof(GD_T));
                    sumloss += part_loss[0];
                    for (bk = 1; bk < nblk; bk++) {
                        const GD_T *pb = part + bk * kd1;
                        GD_SIMD
                        for (int64_t j = 0; j < kd1; j++) g[j] += pb[j];
                        sumloss += part_loss[bk];
                    }
                }
                t++;
                eta = gd_lin_eta(o, eta_base, t);
                rw.lr = eta;
                rb.lr = eta;
                GD_FN(lin_rule)(kd, W, g, v, &rw, t, first, nt);
                if (o->fit_intercept) GD_FN(sgd_step)(0, k, b, g + kd, v ? v + kd : NULL, &rb, t, first);
                first = 0;
                if (cumulative_l1) {
                    u += eta * l1;
                    GD_FN(lin_l1_cumulative)(kd, W, q, u, 1.0);
                } else if (l1 > 0.0) {
                    /* proximal step of the L1 term: soft-threshold, exact zeros */
                    const GD_T thr = (GD_T)(eta * l1);
                    GD_SIMD
                    for (int64_t j = 0; j < kd; j++) {
                        const GD_T a = GD_FABS(W[j]) - thr;
                        W[j] = a > (GD_T)0 ? (W[j] > (GD_T)0 ? a : -a) : (GD_T)0;
                    }
                }
                if (o->average > 0 && t >= o->average) {
                    const GD_T cnt = (GD_T)(t - o->average + 1);
                    GD_SIMD
                    for (int64_t j = 0; j < kd; j++) AW[j] += (W[j] - AW[j]) / cnt;
                    for (int64_t c = 0; c < k; c++) Ab[c] += (b[c] - Ab[c]) / cnt;
                }
                since_check += nb;
                if (since_check >= check_rows) {
                    since_check = 0;
                    if (o->interrupt && o->interrupt(o->interrupt_ctx)) {
                        status = GD_EINTERRUPT;
                        goto done;
                    }
                }
            }
        }

        loss = sumloss / loss_div + GD_FN(lin_penalty)(kd, W, o->alpha, o->l1_ratio);
        D->loss_history[e] = loss;
        if (!isfinite(loss) || GD_FN(lin_nonfinite)(kd, W) || GD_FN(lin_nonfinite)(k, b)) {
        badrow:
            /* a bad row (X not finite there, or the weights diverged) or a
             * non-finite epoch: back to the epoch's start */
            wscale = 1.0;
            res->bad_row = bad;
            memcpy(W, save, (size_t)kd * sizeof(GD_T));
            memcpy(b, save + kd, (size_t)k * sizeof(GD_T));
            res->n_epochs = e;
            status = GD_ENONFINITE;
            goto done;
        }
        res->n_epochs = e + 1;
        if (o->use_tol || adaptive) {
            const double tol = o->use_tol ? o->tol : 0.0;
            if (loss > best - tol)
                no_improve++;
            else
                no_improve = 0;
            if (loss < best) best = loss;
            if (no_improve >= o->n_iter_no_change) {
                if (adaptive) {
                    eta_base /= 5.0;
                    no_improve = 0;
                    if (eta_base < 1e-6) stop = 1;
                } else {
                    stop = 1;
                }
                res->converged = stop;
            }
        }
        if (o->epoch_hook) {
            status = o->epoch_hook(o->epoch_ctx, GD_EPOCH_END, e, loss, eta, t, NULL);
            if (status == GD_ESTOP) {
                status = GD_OK;
                stop = 1;
            } else if (status != GD_OK) {
                goto done;
            }
        }
        if (stop) break;
    }

done:
    if (fast && wscale != 1.0) {
        const GD_T ws = (GD_T)wscale;
        for (int64_t j = 0; j < d; j++) W[j] *= ws;
        if (avg_b != 0.0) avg_b /= (double)ws; /* ws may be 0: eta*alpha >= 1 */
    }
    GD_FN(lin_avg_settle)(lazy_avg && t >= o->average, d, AW, W, &avg_g, &avg_b);
    res->n_updates = t;
    res->averaged = o->average > 0 && t >= o->average;
    res->lr = eta;
    goto cleanup;
nomem:
    status = GD_ENOMEM;
cleanup:
    gd_lin_free(order);
    gd_lin_free(wold);
    gd_lin_free(g);
    if (v != (GD_T *)D->velocity) gd_lin_free(v);
    gd_lin_free(save);
    gd_lin_free(q);
    gd_lin_free(part);
    gd_lin_free(part_loss);
    gd_lin_free(part_bad);
    gd_lin_free(scratch);
    return status;
}

#undef GD_LIN_LANES

#undef GD_LIN_REG_CASES
#undef GD_LIN_REG_CASE
#undef GD_LIN_REG_MLOAD
#undef GD_LIN_REG_MSTORE
#undef GD_LIN_REG_NV
