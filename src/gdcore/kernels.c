/*
 * The hot kernels, compiled once per instruction set. CMake builds this file
 * three times with -DGD_ISA=baseline|avx2|avx512 and the matching -m flags;
 * each build exports one table, gd_kernel_table_<isa>, that dispatch.c picks
 * from at run time. Nothing here may be called directly from outside.
 */
#include <math.h>

#include "gdcore.h"
#include "gd_template.h"

#define GD_T float
#define GD_SFX f32
#include "sgd_step.tmpl.h"
#undef GD_T
#undef GD_SFX

#define GD_T double
#define GD_SFX f64
#include "sgd_step.tmpl.h"
#undef GD_T
#undef GD_SFX

#define GD_TABLE_NAME GD_CAT(gd_kernel_table_, GD_ISA)
#define GD_KFN(name, sfx) GD_CAT(GD_CAT3(gd_, name, _), GD_CAT3(sfx, _, GD_ISA))

const gd_kernel_table GD_TABLE_NAME = {
    GD_STR(GD_ISA),
    GD_KFN(sgd_step, f32),
    GD_KFN(sgd_step, f64),
    GD_KFN(dot, f32),
    GD_KFN(dot, f64),
};
