/*
 * Private to the core: the per-ISA table of the whole-array checks
 * (checks_kernels.c), dispatched by checks.c. The public entry points are
 * declared in gdcore.h.
 */
#ifndef GD_CHECKS_H
#define GD_CHECKS_H

#include <stdint.h>

typedef struct gd_check_table {
    int (*all_finite_f32)(int64_t n, const float *x);
    int (*all_finite_f64)(int64_t n, const double *x);
    double (*sumsq_f32)(int64_t n, const float *x);
    double (*sumsq_f64)(int64_t n, const double *x);
} gd_check_table;

#endif /* GD_CHECKS_H */
