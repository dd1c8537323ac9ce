/*
 * The linear-model loops, compiled once per instruction set (CMake builds
 * this file with -DGD_ISA=baseline|avx2|avx512, like kernels.c). Each build
 * exports gd_linear_table_<isa>; linear.c picks one at run time.
 *
 * The update rule comes from the same template as gdfast.SGD's kernels
 * (sgd_step.tmpl.h): one definition of the rule in the whole core.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#define GD_LIN_THREAD_NUM() omp_get_thread_num()
#else
#define GD_LIN_THREAD_NUM() 0
#endif

#include "gdcore.h"
#include "gdlinear.h"
#include "gd_template.h"

/* scikit-learn's MAX_DLOSS */
#define GD_LIN_MAX_DLOSS 1e12
/* Poll the interrupt hook after about this many multiply-adds: ~1 ms of work,
 * so Ctrl-C is answered well within 100 ms while the poll (a GIL round trip
 * in the binding) costs well under 0.1%. */
#define GD_LIN_CHECK_WORK ((int64_t)1 << 21)
/* Multiply-adds per reduction block, and at most this many blocks per
 * batch. The blocking depends only on the problem's shape, never on the
 * thread count, so sums are reproducible. 64 blocks keep 2-16 threads busy.
 * One float64 full-batch iteration over 200000 x 100 rows, 1 thread (A/B
 * over alternating processes), with the storage-order prefetch
 * (GD_LIN_PREFETCH_SEQ): 1024 blocks 7.2-7.7 ms, 64 blocks 6.5-6.9; without
 * that prefetch 64 blocks were the slower (8.5-9.6 against 7.4-7.6 ms). */
#ifndef GD_LIN_BLOCK_WORK
#define GD_LIN_BLOCK_WORK ((int64_t)1 << 14)
#endif
#ifndef GD_LIN_MAX_BLOCKS
#define GD_LIN_MAX_BLOCKS ((int64_t)64)
#endif
/* partial sums kept for the blocks of one batch, in elements (bounds memory) */
#define GD_LIN_MAX_PARTIAL ((int64_t)1 << 23)
/* A batch is split across threads above this many multiply-adds: below it
 * the fork/join (a few microseconds) costs more than the second core saves. */
#define GD_LIN_PAR_WORK ((int64_t)1 << 16)
/* Rows fetched ahead in a shuffled pass (see GD_LIN_PREFETCH_ROWS): far
 * into L2, near into L1. Measured on 200000 x 100 rows, one shuffled
 * per-sample epoch (float32 / float64 ms): 8/2 14.4 / 24.0, 32/4 13.1 /
 * 25.4, 24/4 12.7 / 20.7, 16/4 12.8 / 21.6, 64/4 13.1 / 22.3; the near
 * distance matters most (2 rows, ~100 ns, is less than a DRAM miss behind a
 * far prefetch still in flight). Override with -D for other machines. */
#ifndef GD_LIN_PREFETCH_FAR
#define GD_LIN_PREFETCH_FAR 24
#endif
#ifndef GD_LIN_PREFETCH_NEAR
#define GD_LIN_PREFETCH_NEAR 4
#endif
/* The dense per-sample loop's own distances: it does less per row than a
 * mini-batch block, so rows come due sooner. Per-sample epoch, 200000 x 100,
 * medians of 4 alternating runs (float32 regression / logistic, float64
 * regression / logistic, ms): 24/4 8.7 / 10.3 / 15.0 / 18.1, 24/5 8.6 / 9.9
 * / 14.1 / 17.9, 32/6 8.4 / 10.1 / 14.0 / 17.6; near 0 or 2 rows 15-60%
 * slower. The same 32/6 for mini-batches: float64 batch-32 epoch 17.0-17.8
 * -> 19.7-20.4 ms, so they keep 24/4. */
#ifndef GD_LIN_PS_FAR
#define GD_LIN_PS_FAR 32
#endif
#ifndef GD_LIN_PS_NEAR
#define GD_LIN_PS_NEAR 6
#endif
/* The per-sample loop makes the epoch's order this many positions at a
 * time, just before the far prefetch needs them (gd_perm_fill). */
#ifndef GD_LIN_ORDER_CHUNK
#define GD_LIN_ORDER_CHUNK 16
#endif
#if defined(__GNUC__)
#define GD_LIN_PREFETCH_L2(p) __builtin_prefetch((p), 0, 1)
#define GD_LIN_PREFETCH_L1(p) __builtin_prefetch((p), 0, 3)
#else
#define GD_LIN_PREFETCH_L2(p) ((void)0)
#define GD_LIN_PREFETCH_L1(p) ((void)0)
#endif

static int64_t gd_lin_nblocks(int64_t rows, int64_t kd1)
{
    int64_t rmin = GD_LIN_BLOCK_WORK / (kd1 > 0 ? kd1 : 1);
    int64_t cap = GD_LIN_MAX_PARTIAL / (kd1 > 0 ? kd1 : 1), nblk;
    if (rmin < 1) rmin = 1;
    if (cap > GD_LIN_MAX_BLOCKS) cap = GD_LIN_MAX_BLOCKS;
    if (cap < 1) cap = 1;
    nblk = (rows + rmin - 1) / rmin;
    if (nblk > cap) nblk = cap;
    return nblk < 1 ? 1 : nblk;
}

static void *gd_lin_alloc(size_t bytes)
{
    /* 64-byte aligned so vector loops over the buffers run unpeeled */
    size_t rounded = (bytes + 63) / 64 * 64;
    return aligned_alloc(64, rounded ? rounded : 64);
}

static void gd_lin_free(void *p) { free(p); }

static double gd_lin_eta(const gd_linear_opts *o, double base, int64_t t)
{
    switch (o->schedule) {
    case GD_SCHEDULE_INVSCALING: return base / pow((double)t, o->power_t);
    case GD_SCHEDULE_OPTIMAL: {
        const double a = o->optimal_alpha > 0.0 ? o->optimal_alpha : o->alpha;
        return 1.0 / (a * (o->optimal_t0 + (double)t - 1.0));
    }
    default: return base;
    }
}

#define GD_T float
#define GD_SFX f32
#define GD_EXP expf
#define GD_LOG1P log1pf
#define GD_LOG logf
#define GD_FABS fabsf
#define GD_LIN_F64 0
#include "sgd_step.tmpl.h"
#include "linear.tmpl.h"
#undef GD_T
#undef GD_SFX
#undef GD_EXP
#undef GD_LOG1P
#undef GD_LOG
#undef GD_FABS
#undef GD_LIN_F64

#define GD_T double
#define GD_SFX f64
#define GD_EXP exp
#define GD_LOG1P log1p
#define GD_LOG log
#define GD_FABS fabs
#define GD_LIN_F64 1
#include "sgd_step.tmpl.h"
#include "linear.tmpl.h"
#undef GD_T
#undef GD_SFX
#undef GD_EXP
#undef GD_LOG1P
#undef GD_LOG
#undef GD_FABS
#undef GD_LIN_F64

#define GD_LTABLE_NAME GD_CAT(gd_linear_table_, GD_ISA)
#define GD_LFN(name, sfx) GD_CAT(GD_CAT3(gd_, name, _), GD_CAT3(sfx, _, GD_ISA))

const gd_linear_table GD_LTABLE_NAME = {
    GD_STR(GD_ISA),
    GD_LFN(fit_linear, f32),
    GD_LFN(fit_linear, f64),
};
