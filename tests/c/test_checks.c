/*
 * A plain-C test of the whole-array checks (gd_all_finite_*, gd_sumsq_*),
 * with no Python: every available ISA variant, both dtypes, sizes around
 * the vector widths, a non-finite value (NaN, +inf, -inf) at every position,
 * and the largest finite values. Built by tests/test_c_checks.py.
 * Prints "N passed, 0 failed" and exits non-zero on any failure.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "gdcore.h"

static int failures = 0, passes = 0;

static void expect(int ok, const char *isa, const char *what, long n, long pos)
{
    if (ok) {
        passes++;
    } else {
        failures++;
        printf("FAIL %s %s n=%ld pos=%ld\n", isa, what, n, pos);
    }
}

#define CHECK_TYPE(T, SFX, BIG)                                                        \
    static void check_##SFX(const char *isa, int64_t n)                                \
    {                                                                                  \
        T *x = malloc(sizeof(T) * (size_t)(n + 1));                                    \
        const T bad[3] = {(T)NAN, (T)INFINITY, (T)-INFINITY};                          \
        double want = 0.0, got;                                                        \
        int64_t i, p;                                                                  \
        int b;                                                                         \
        for (i = 0; i < n; i++) {                                                      \
            x[i] = (T)((i % 7) - 3) * (T)0.5;                                          \
            want += (double)x[i] * (double)x[i];                                       \
        }                                                                              \
        expect(gd_all_finite_##SFX(n, x) == 1, isa, #SFX " finite", (long)n, -1);      \
        got = gd_sumsq_##SFX(n, x);                                                    \
        expect(fabs(got - want) <= 1e-12 * (want + 1.0), isa, #SFX " sumsq", (long)n, -1); \
        for (p = 0; p < n; p++) {                                                      \
            for (b = 0; b < 3; b++) {                                                  \
                T keep = x[p];                                                         \
                x[p] = bad[b];                                                         \
                expect(gd_all_finite_##SFX(n, x) == 0, isa, #SFX " non-finite", (long)n, (long)p); \
                x[p] = keep;                                                           \
            }                                                                          \
        }                                                                              \
        for (i = 0; i < n; i++) x[i] = (i & 1) ? BIG : -BIG;                           \
        expect(gd_all_finite_##SFX(n, x) == 1, isa, #SFX " max finite", (long)n, -1);  \
        free(x);                                                                       \
    }

CHECK_TYPE(float, f32, FLT_MAX)
CHECK_TYPE(double, f64, DBL_MAX)

int main(void)
{
    static const int64_t sizes[] = {0, 1, 3, 7, 8, 15, 16, 17, 31, 33, 64, 100, 1001};
    int isa;
    size_t k;
    for (isa = 0; isa < GD_ISA_COUNT; isa++) {
        if (!gd_isa_available(isa)) continue;
        if (gd_select_isa(isa) != GD_OK) {
            failures++;
            continue;
        }
        for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
            check_f32(gd_isa_name(isa), sizes[k]);
            check_f64(gd_isa_name(isa), sizes[k]);
        }
    }
    printf("%d passed, %d failed\n", passes, failures);
    return failures != 0;
}
