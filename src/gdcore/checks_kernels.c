/*
 * The whole-array checks of checks.tmpl.h, compiled once per instruction set
 * like kernels.c. Each build exports gd_check_table_<isa>; checks.c picks the
 * one matching the active kernel table (gd_active_isa()).
 */
#include <float.h>
#include <math.h>

#include "gdcore.h"
#include "gd_checks.h"
#include "gd_template.h"

#if defined(_OPENMP) || defined(GD_OPENMP_SIMD)
#define GD_CHECK_SIMD_OR(var) GD_PRAGMA(omp simd reduction(| : var))
#else
#define GD_CHECK_SIMD_OR(var)
#endif

#define GD_T float
#define GD_SFX f32
#define GD_CHECK_MAX FLT_MAX
#define GD_CHECK_FABS fabsf
#include "checks.tmpl.h"
#undef GD_T
#undef GD_SFX
#undef GD_CHECK_MAX
#undef GD_CHECK_FABS

#define GD_T double
#define GD_SFX f64
#define GD_CHECK_MAX DBL_MAX
#define GD_CHECK_FABS fabs
#include "checks.tmpl.h"
#undef GD_T
#undef GD_SFX
#undef GD_CHECK_MAX
#undef GD_CHECK_FABS

#define GD_CHECK_TABLE_NAME GD_CAT(gd_check_table_, GD_ISA)
#define GD_KFN(name, sfx) GD_CAT(GD_CAT3(gd_, name, _), GD_CAT3(sfx, _, GD_ISA))

const gd_check_table GD_CHECK_TABLE_NAME = {
    GD_KFN(all_finite, f32),
    GD_KFN(all_finite, f64),
    GD_KFN(sumsq, f32),
    GD_KFN(sumsq, f64),
};
