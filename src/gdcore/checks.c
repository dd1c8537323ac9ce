/*
 * Public entry points of the whole-array checks: they follow the kernel
 * table's ISA choice (gd_active_isa(), which honours GDFAST_ISA and
 * gd_select_isa), so forcing a variant forces it here too.
 */
#include "gdcore.h"
#include "gd_checks.h"

extern const gd_check_table gd_check_table_baseline;
#ifdef GD_HAVE_AVX2
extern const gd_check_table gd_check_table_avx2;
#endif
#ifdef GD_HAVE_AVX512
extern const gd_check_table gd_check_table_avx512;
#endif

static const gd_check_table *gd_checks(void)
{
    switch (gd_active_isa()) {
#ifdef GD_HAVE_AVX2
    case GD_ISA_AVX2: return &gd_check_table_avx2;
#endif
#ifdef GD_HAVE_AVX512
    case GD_ISA_AVX512: return &gd_check_table_avx512;
#endif
    default: return &gd_check_table_baseline;
    }
}

int gd_all_finite_f32(int64_t n, const float *x)
{
    return n <= 0 ? 1 : gd_checks()->all_finite_f32(n, x);
}

int gd_all_finite_f64(int64_t n, const double *x)
{
    return n <= 0 ? 1 : gd_checks()->all_finite_f64(n, x);
}

double gd_sumsq_f32(int64_t n, const float *x)
{
    return n <= 0 ? 0.0 : gd_checks()->sumsq_f32(n, x);
}

double gd_sumsq_f64(int64_t n, const double *x)
{
    return n <= 0 ? 0.0 : gd_checks()->sumsq_f64(n, x);
}
