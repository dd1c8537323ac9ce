/*
 * The public entry points of the linear-model loops (dispatching to the
 * per-ISA variants built from linear_kernels.c) and the epoch shuffle.
 *
 * The shuffle is a pure function of (seed, epoch, position) so that the
 * NumPy reference reproduces it with a few vectorised uint64 operations: no
 * generator state, no dependence on how many epochs ran.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gdcore.h"
#include "gdlinear.h"

extern const gd_linear_table gd_linear_table_baseline;
#ifdef GD_HAVE_AVX2
extern const gd_linear_table gd_linear_table_avx2;
#endif
#ifdef GD_HAVE_AVX512
extern const gd_linear_table gd_linear_table_avx512;
#endif

static const gd_linear_table *gd_linear_active(void)
{
    switch (gd_active_isa()) {
#ifdef GD_HAVE_AVX512
    case GD_ISA_AVX512: return &gd_linear_table_avx512;
#endif
#ifdef GD_HAVE_AVX2
    case GD_ISA_AVX2: return &gd_linear_table_avx2;
#endif
    default: return &gd_linear_table_baseline;
    }
}

static int gd_linear_check(const gd_linear_data *D, const gd_linear_opts *o, gd_linear_result *r)
{
    if (D == NULL || o == NULL || r == NULL) return GD_EINVAL;
    if (D->n < 1 || D->d < 0 || D->k < 1 || o->epochs < 1 || o->batch_size < 0) return GD_EINVAL;
    if (D->X == NULL || D->y == NULL || D->coef == NULL || D->intercept == NULL ||
        D->loss_history == NULL)
        return GD_EINVAL;
    if (o->loss < 0 || o->loss >= GD_LOSS_COUNT) return GD_EINVAL;
    if (o->schedule < GD_SCHEDULE_CONSTANT || o->schedule > GD_SCHEDULE_EPOCH) return GD_EINVAL;
    if (o->schedule == GD_SCHEDULE_EPOCH && o->epoch_hook == NULL) return GD_EINVAL;
    if (o->schedule == GD_SCHEDULE_OPTIMAL && !(o->alpha > 0.0 || o->optimal_alpha > 0.0))
        return GD_EINVAL;
    if (o->average > 0 && (D->avg_coef == NULL || D->avg_intercept == NULL)) return GD_EINVAL;
    if (o->loss != GD_LOSS_SQUARED_ERROR && o->loss != GD_LOSS_SOFTMAX && D->k != 1)
        return GD_EINVAL;
    if (o->loss == GD_LOSS_SOFTMAX && D->k < 2) return GD_EINVAL;
    if (!(o->momentum >= 0.0 && o->momentum < 1.0) || !(o->lr >= 0.0) || o->n_threads < 1 ||
        !(o->alpha >= 0.0) || !(o->l1_ratio >= 0.0 && o->l1_ratio <= 1.0) ||
        o->n_iter_no_change < 1)
        return GD_EINVAL;
    if (o->t_start < 0) return GD_EINVAL;
    if (D->indptr != NULL) {
        /* CSR: the row pointers must be monotone from 0 and the columns in
         * range (a column out of range would write outside coef); SciPy
         * does not check the columns, so this does, O(nnz) once per fit */
        int64_t i, j;
        if (D->indptr[0] != 0 || (D->indptr[D->n] > 0 && D->indices == NULL)) return GD_EINVAL;
        for (i = 0; i < D->n; i++)
            if (D->indptr[i + 1] < D->indptr[i]) return GD_EINVAL;
        {
            /* branch-free in 32 bits, so that it vectorises even in the
             * SSE2 build: a read pass over the indices */
            const int64_t nnz = D->indptr[D->n];
            const int32_t *cols = D->indices;
            const int32_t last = D->d > INT32_MAX ? INT32_MAX : (int32_t)(D->d - 1);
            int bad = 0;
            for (j = 0; j < nnz; j++) bad |= (cols[j] < 0) | (cols[j] > last);
            if (bad) return GD_EINVAL;
        }
    }
    memset(r, 0, sizeof(*r));
    r->bad_row = -1;
    return GD_OK;
}

/* A forked child runs on one thread: libgomp's pool does not survive fork()
 * (see gd_init_threads). Results do not depend on the thread count. */
static gd_linear_opts gd_linear_effective(const gd_linear_opts *o)
{
    gd_linear_opts e = *o;
    gd_init_threads();
    if (gd_in_forked_child()) e.n_threads = 1;
    return e;
}

int gd_fit_linear_f32(const gd_linear_data *D, const gd_linear_opts *o, gd_linear_result *r)
{
    gd_linear_opts e;
    int s = gd_linear_check(D, o, r);
    if (s != GD_OK) return s;
    e = gd_linear_effective(o);
    return gd_linear_active()->fit_f32(D, &e, r);
}

int gd_fit_linear_f64(const gd_linear_data *D, const gd_linear_opts *o, gd_linear_result *r)
{
    gd_linear_opts e;
    int s = gd_linear_check(D, o, r);
    if (s != GD_OK) return s;
    e = gd_linear_effective(o);
    return gd_linear_active()->fit_f64(D, &e, r);
}

/* ---- the epoch shuffle (definition in gdlinear.h) ---------------------- */

#define GD_SHUF_C1 0x9E3779B97F4A7C15ULL
#define GD_SHUF_C2 0xBF58476D1CE4E5B9ULL
#define GD_SHUF_C3 0x94D049BB133111EBULL

static uint64_t gd_splitmix64(uint64_t z)
{
    z ^= z >> 30;
    z *= 0xBF58476D1CE4E5B9ULL;
    z ^= z >> 27;
    z *= 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

void gd_perm_init(gd_perm *p, int64_t n, uint64_t seed, int64_t epoch)
{
    const uint64_t base = seed * GD_SHUF_C1 + (uint64_t)(epoch + 1) * GD_SHUF_C2;
    const uint64_t un = n > 0 ? (uint64_t)n : 0;
    uint64_t a = (uint64_t)sqrt((double)un);
    int j;
    /* a = ceil(sqrt(n)) exactly (the double root may be off by one) */
    while (a > 0 && (a - 1) * (a - 1) >= un) a--;
    while (a * a < un) a++;
    if (a < GD_PERM_MIN_SIDE) a = GD_PERM_MIN_SIDE;
    p->n = un;
    p->a = a;
    p->b = (un + a - 1) / a;
    if (p->b < GD_PERM_MIN_SIDE) p->b = GD_PERM_MIN_SIDE;
    for (j = 0; j < GD_PERM_ROUNDS; j++) {
        const uint64_t z = gd_splitmix64(base + (uint64_t)(j + 1) * GD_SHUF_C3);
        p->key[j] = (uint32_t)z;
        p->mul[j] = (uint32_t)(z >> 32) | 1u;
    }
}

int gd_shuffle_order(int64_t n, uint64_t seed, int64_t epoch, int64_t *order)
{
    gd_perm p;
    if (n < 0 || (n > 0 && order == NULL) || epoch < 0) return GD_EINVAL;
    if (n == 0) return GD_OK;
    gd_perm_init(&p, n, seed, epoch);
    gd_perm_fill(&p, order, 0, n);
    return GD_OK;
}
