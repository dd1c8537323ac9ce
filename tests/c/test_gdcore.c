/*
 * A plain-C test of the core, with no Python: every available ISA variant
 * runs every rule against a scalar double-precision evaluation of the rule,
 * for odd sizes, on 1 and 2 threads. Built by tests/test_c_core.py with the
 * system compiler (or by CMake with -DGDFAST_BUILD_CTEST=ON).
 * Prints "N passed, 0 failed" and exits non-zero on any failure.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gdcore.h"

static int failures = 0, passes = 0;

/* The rule for one element, in double, straight from DESIGN.md. */
static void rule_scalar(double *w, double g, double *v, const gd_rule *r, int64_t t, int first)
{
    double d = r->maximize ? -g : g, u;
    d += r->weight_decay * *w;
    if (r->momentum == 0.0) {
        u = d;
    } else if (!r->ema) {
        *v = first ? d : r->momentum * *v + (1.0 - r->dampening) * d;
        u = r->nesterov ? d + r->momentum * *v : *v;
    } else {
        double c = r->debias ? 1.0 - pow(r->momentum, (double)t) : 1.0;
        *v = (first ? 0.0 : r->momentum * *v) + (1.0 - r->momentum) * d;
        u = r->nesterov ? r->momentum * (*v / c) + (1.0 - r->momentum) * d : *v / c;
    }
    *w -= r->lr * u;
}

static double frand(unsigned *s)
{
    *s = *s * 1664525u + 1013904223u;
    return ((*s >> 8) / 16777216.0) * 2.0 - 1.0;
}

#define CHECK_TYPE(T, SFX, TOL)                                                          \
    static void check_##SFX(const gd_rule *r, int64_t n, const char *what)               \
    {                                                                                    \
        T *w = malloc(sizeof(T) * (n + 1)), *v = malloc(sizeof(T) * (n + 1));             \
        T *g = malloc(sizeof(T) * (n + 1));                                              \
        double *rw = malloc(sizeof(double) * (n + 1)), *rv = malloc(sizeof(double) * (n + 1)); \
        unsigned seed = 12345u;                                                          \
        int64_t i, t;                                                                    \
        double worst = 0.0;                                                              \
        for (i = 0; i < n; i++) { w[i] = (T)frand(&seed); rw[i] = w[i]; v[i] = 0; rv[i] = 0; } \
        for (t = 1; t <= 10; t++) {                                                      \
            for (i = 0; i < n; i++) g[i] = (T)frand(&seed);                              \
            if (gd_sgd_step_##SFX(n, w, g, r->momentum != 0.0 ? v : NULL, r, t, t == 1) != GD_OK) { \
                failures++; printf("FAIL status %s\n", what); goto done;                 \
            }                                                                            \
            for (i = 0; i < n; i++) rule_scalar(&rw[i], g[i], &rv[i], r, t, t == 1);     \
        }                                                                                \
        for (i = 0; i < n; i++) {                                                        \
            double e = fabs(w[i] - rw[i]) / (fabs(rw[i]) + 1.0);                         \
            if (e > worst) worst = e;                                                    \
        }                                                                                \
        if (worst > TOL) { failures++; printf("FAIL %s n=%lld err=%g\n", what, (long long)n, worst); } \
        else passes++;                                                                   \
    done:                                                                                \
        free(w); free(v); free(g); free(rw); free(rv);                                   \
    }
CHECK_TYPE(float, f32, 2e-5)
CHECK_TYPE(double, f64, 1e-13)

int main(void)
{
    gd_rule rules[] = {
        {0.05, 0.0, 0.0, 0.0, 0, 0, 0, 0},
        {0.05, 0.0, 0.0, 0.1, 0, 1, 0, 0},
        {0.05, 0.9, 0.0, 0.0, 0, 0, 0, 0},
        {0.05, 0.9, 0.3, 0.05, 0, 0, 0, 0},
        {0.05, 0.8, 0.0, 0.1, 1, 0, 0, 0},
        {0.05, 0.9, 0.0, 0.0, 0, 0, 1, 0},
        {0.05, 0.9, 0.0, 0.01, 0, 1, 1, 1},
        {0.05, 0.7, 0.0, 0.0, 1, 0, 1, 1},
    };
    int64_t sizes[] = {0, 1, 7, 1000, 70001};
    int isa, ri, si, th;
    char what[128];
    float dummy = 0.0f;
    /* argument checks come back as a status, never a crash */
    if (gd_sgd_step_f32(-1, &dummy, &dummy, NULL, &rules[0], 1, 1) != GD_EINVAL) failures++;
    if (gd_sgd_step_f32(1, &dummy, &dummy, NULL, &rules[2], 1, 1) != GD_EINVAL) failures++;
    gd_set_parallel_min(0);
    for (isa = 0; isa < GD_ISA_COUNT; isa++) {
        if (!gd_isa_available(isa)) continue;
        gd_select_isa(isa);
        for (th = 1; th <= 2; th++) {
            gd_set_num_threads(th);
            for (ri = 0; ri < (int)(sizeof rules / sizeof rules[0]); ri++)
                for (si = 0; si < (int)(sizeof sizes / sizeof sizes[0]); si++) {
                    snprintf(what, sizeof what, "%s rule%d threads=%d f32", gd_isa_name(isa), ri, th);
                    check_f32(&rules[ri], sizes[si], what);
                    snprintf(what, sizeof what, "%s rule%d threads=%d f64", gd_isa_name(isa), ri, th);
                    check_f64(&rules[ri], sizes[si], what);
                }
        }
    }
    printf("%d passed, %d failed\n", passes, failures);
    return failures != 0;
}
