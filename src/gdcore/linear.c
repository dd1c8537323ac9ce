/*
 * The public entry points of the linear-model loops (dispatching to the
 * per-ISA variants built from linear_kernels.c) and the epoch shuffle.
 *
 * The shuffle is a pure function of (seed, epoch, row) so that the NumPy
 * reference reproduces it with a few vectorised uint64 operations and a
 * stable argsort: no generator state, no dependence on how many epochs ran.
 */
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
         * range; the Python layer guarantees this, the check is O(nnz) once */
        int64_t i, j;
        if (D->indptr[0] != 0 || (D->indptr[D->n] > 0 && D->indices == NULL)) return GD_EINVAL;
        for (i = 0; i < D->n; i++)
            if (D->indptr[i + 1] < D->indptr[i]) return GD_EINVAL;
        for (j = 0; j < D->indptr[D->n]; j++)
            if (D->indices[j] < 0 || (int64_t)D->indices[j] >= D->d) return GD_EINVAL;
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

/* ---- the epoch shuffle ------------------------------------------------- */

#define GD_SHUF_C1 0x9E3779B97F4A7C15ULL
#define GD_SHUF_C2 0xBF58476D1CE4E5B9ULL
#define GD_SHUF_C3 0x94D049BB133111EBULL

static inline uint32_t gd_shuffle_key(uint64_t base, uint64_t i)
{
    uint64_t z = base + i * GD_SHUF_C3;
    z ^= z >> 30;
    z *= 0xBF58476D1CE4E5B9ULL;
    z ^= z >> 27;
    z *= 0x94D049BB133111EBULL;
    z ^= z >> 31;
    return (uint32_t)(z >> 32);
}

/* Stable LSD radix sort on the 32-bit keys in three 11-bit digits: 2048
 * buckets keep the counters and the scatter targets in L1/L2 even for
 * millions of rows, where 16-bit digits would scatter over 65536 streams. */
#define GD_RADIX_BITS 11
#ifndef GD_RADIX16_MAX_N
#define GD_RADIX16_MAX_N ((int64_t)1 << 22)
#endif
#define GD_RADIX_SIZE (1 << GD_RADIX_BITS)

void gd_shuffle_order_ws(int64_t n, uint64_t seed, int64_t epoch, int64_t *order,
                         uint32_t *keys, uint32_t *keys_tmp, int64_t *order_tmp)
{
    static const int shifts[3] = {0, GD_RADIX_BITS, 2 * GD_RADIX_BITS};
    int64_t count[3][GD_RADIX_SIZE];
    const uint64_t base = seed * GD_SHUF_C1 + (uint64_t)(epoch + 1) * GD_SHUF_C2;
    int64_t i;
    int pass;
    uint32_t *ksrc, *kdst;
    int64_t *osrc, *odst;

    if (n <= 0) return;
    memset(count, 0, sizeof(count));
    if (n <= GD_RADIX16_MAX_N) {
        /* up to a few million rows: two 16-bit digits. The 65536 counters
         * (uint32, 256 KiB each digit) stay in L2 and the scatter targets
         * (n * 8 bytes) in L2/L3, so two passes beat three 11-bit ones. */
        uint32_t *cnt = (uint32_t *)calloc(2 * 65536, sizeof(uint32_t));
        if (cnt != NULL) {
            uint32_t *c0 = cnt, *c1 = cnt + 65536, s0 = 0, s1 = 0;
            uint64_t *a = (uint64_t *)order_tmp;
            for (i = 0; i < n; i++) {
                const uint32_t k = gd_shuffle_key(base, (uint64_t)i);
                c0[k & 0xFFFFu]++;
                c1[k >> 16]++;
            }
            for (i = 0; i < 65536; i++) {
                const uint32_t a0 = c0[i], a1 = c1[i];
                c0[i] = s0;
                c1[i] = s1;
                s0 += a0;
                s1 += a1;
            }
            /* rehashing is cheaper than storing the keys and loading them back */
            for (i = 0; i < n; i++) {
                const uint32_t k = gd_shuffle_key(base, (uint64_t)i);
                a[c0[k & 0xFFFFu]++] = (uint64_t)k << 32 | (uint64_t)i;
            }
            for (i = 0; i < n; i++) {
                const uint64_t v = a[i];
                order[c1[v >> 48]++] = (int64_t)(v & 0xFFFFFFFFULL);
            }
            free(cnt);
            (void)keys;
            (void)keys_tmp;
            return;
        }
    }
    if ((uint64_t)n <= 0xFFFFFFFFULL) {
        /* rows fit in 32 bits: sort (key << 32 | row) words, 8 bytes moved
         * per element and pass instead of 12; order and order_tmp are the
         * two buffers, the last pass unpacks the rows into order */
        uint64_t *a = (uint64_t *)order_tmp, *bb = (uint64_t *)order;
        for (i = 0; i < n; i++) {
            uint32_t k = gd_shuffle_key(base, (uint64_t)i);
            count[0][k & (GD_RADIX_SIZE - 1)]++;
            count[1][(k >> GD_RADIX_BITS) & (GD_RADIX_SIZE - 1)]++;
            count[2][k >> (2 * GD_RADIX_BITS)]++;
        }
        /* the keys are cheaper to hash again than to store and reload: the
         * first pass scatters them straight from the hash */
        {
            int64_t *c = count[0], sum = 0, b;
            for (b = 0; b < GD_RADIX_SIZE; b++) {
                int64_t cb = c[b];
                c[b] = sum;
                sum += cb;
            }
            for (i = 0; i < n; i++) {
                uint32_t k = gd_shuffle_key(base, (uint64_t)i);
                bb[c[k & (GD_RADIX_SIZE - 1)]++] = (uint64_t)k << 32 | (uint64_t)i;
            }
        }
        /* pass 0 landed in order; pass 1 goes to order_tmp, pass 2 back */
        {
            uint64_t *tp = a;
            a = bb;
            bb = tp;
        }
        for (pass = 1; pass < 3; pass++) {
            int64_t *c = count[pass], sum = 0, b;
            const int sh = 32 + shifts[pass];
            for (b = 0; b < GD_RADIX_SIZE; b++) {
                int64_t cb = c[b];
                c[b] = sum;
                sum += cb;
            }
            if (pass == 2) {
                for (i = 0; i < n; i++) {
                    const uint64_t v = a[i];
                    order[c[v >> sh]++] = (int64_t)(v & 0xFFFFFFFFULL);
                }
            } else {
                for (i = 0; i < n; i++) {
                    const uint64_t v = a[i];
                    bb[c[(v >> sh) & (GD_RADIX_SIZE - 1)]++] = v;
                }
                {
                    uint64_t *tp = a;
                    a = bb;
                    bb = tp;
                }
            }
        }
        (void)keys;
        (void)keys_tmp;
        return;
    }
    /* the keys start in the scratch arrays so that the third (last) pass
     * lands in `order` */
    for (i = 0; i < n; i++) {
        uint32_t k = gd_shuffle_key(base, (uint64_t)i);
        keys_tmp[i] = k;
        order_tmp[i] = i;
        count[0][k & (GD_RADIX_SIZE - 1)]++;
        count[1][(k >> GD_RADIX_BITS) & (GD_RADIX_SIZE - 1)]++;
        count[2][k >> (2 * GD_RADIX_BITS)]++;
    }
    ksrc = keys_tmp;
    osrc = order_tmp;
    kdst = keys;
    odst = order;
    for (pass = 0; pass < 3; pass++) {
        int64_t *c = count[pass], sum = 0, b;
        const int sh = shifts[pass];
        for (b = 0; b < GD_RADIX_SIZE; b++) {
            int64_t cb = c[b];
            c[b] = sum;
            sum += cb;
        }
        for (i = 0; i < n; i++) {
            uint32_t k = ksrc[i];
            int64_t pos = c[(k >> sh) & (GD_RADIX_SIZE - 1)]++;
            kdst[pos] = k;
            odst[pos] = osrc[i];
        }
        {
            uint32_t *kt = ksrc;
            int64_t *ot = osrc;
            ksrc = kdst;
            osrc = odst;
            kdst = kt;
            odst = ot;
        }
    }
    /* after three passes the sorted rows are in `order` (osrc) */
}

int gd_shuffle_order(int64_t n, uint64_t seed, int64_t epoch, int64_t *order)
{
    uint32_t *keys, *keys_tmp;
    int64_t *order_tmp;
    if (n < 0 || (n > 0 && order == NULL) || epoch < 0) return GD_EINVAL;
    if (n == 0) return GD_OK;
    /* the separate key arrays are only used when rows need more than 32 bits */
    const int wide = (uint64_t)n > 0xFFFFFFFFULL;
    keys = wide ? (uint32_t *)malloc((size_t)n * sizeof(uint32_t)) : NULL;
    keys_tmp = wide ? (uint32_t *)malloc((size_t)n * sizeof(uint32_t)) : NULL;
    order_tmp = (int64_t *)malloc((size_t)n * sizeof(int64_t));
    if ((wide && (keys == NULL || keys_tmp == NULL)) || order_tmp == NULL) {
        free(keys);
        free(keys_tmp);
        free(order_tmp);
        return GD_ENOMEM;
    }
    gd_shuffle_order_ws(n, seed, epoch, order, keys, keys_tmp, order_tmp);
    free(keys);
    free(keys_tmp);
    free(order_tmp);
    return GD_OK;
}
