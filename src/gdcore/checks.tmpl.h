/*
 * Whole-array checks used between updates (gdfast.minimize): finiteness and
 * the squared 2-norm. Included once per dtype (GD_T, GD_SFX) in
 * checks_kernels.c, which is compiled once per ISA; see gd_template.h.
 */

/*
 * 1 when every x[i] is finite, 0 when any is NaN or +-inf.
 *
 * The test is one ordered compare per element, |x| <= max, which is false for
 * NaN, folded with OR: an OR reduction has no floating-point ordering to
 * respect, so it vectorizes at full width without -ffast-math, and it does
 * not branch, so a clean array (the common case) costs one streaming pass.
 */
static int GD_FN(all_finite)(int64_t n, const GD_T *GD_RESTRICT x)
{
    const GD_T big = GD_CHECK_MAX;
    int bad = 0;
    int64_t i;
    GD_CHECK_SIMD_OR(bad)
    for (i = 0; i < n; i++) bad |= !(GD_CHECK_FABS(x[i]) <= big);
    return !bad;
}

/*
 * sum x[i]**2, accumulated in double for both dtypes so a float32 gradient's
 * norm neither overflows nor loses its small terms. Only used for gtol, so
 * the ISA-dependent summation order (vector width) is harmless.
 */
static double GD_FN(sumsq)(int64_t n, const GD_T *GD_RESTRICT x)
{
    double s = 0.0;
    int64_t i;
    GD_SIMD_SUM(s)
    for (i = 0; i < n; i++) s += (double)x[i] * (double)x[i];
    return s;
}
