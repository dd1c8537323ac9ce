/*
 * Name-pasting helpers for the per-dtype and per-ISA templates.
 *
 * A template file is included once per dtype with
 *     #define GD_T float / double      (the element type)
 *     #define GD_SFX f32 / f64         (the name suffix, as NumPy's loops use)
 * and the translation unit that includes it is compiled once per ISA with
 *     -DGD_ISA=baseline|avx2|avx512
 * so GD_FN(sgd_step) names e.g. gd_sgd_step_f32_avx2.
 */
#ifndef GD_TEMPLATE_H
#define GD_TEMPLATE_H

#define GD_CAT_(a, b) a##b
#define GD_CAT(a, b) GD_CAT_(a, b)
#define GD_CAT3(a, b, c) GD_CAT(GD_CAT(a, b), c)
#define GD_STR_(a) #a
#define GD_STR(a) GD_STR_(a)

#ifndef GD_ISA
#define GD_ISA baseline
#endif

/* gd_<name>_<sfx>_<isa>: a kernel of this ISA for this dtype */
#define GD_FN(name) GD_CAT(GD_CAT3(gd_, name, _), GD_CAT3(GD_SFX, _, GD_ISA))

#if defined(__GNUC__)
#define GD_RESTRICT __restrict__
#define GD_LIKELY(x) __builtin_expect(!!(x), 1)
#define GD_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define GD_PREFETCH(p) __builtin_prefetch((p), 0, 1)
#define GD_ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define GD_RESTRICT
#define GD_LIKELY(x) (x)
#define GD_UNLIKELY(x) (x)
#define GD_PREFETCH(p) ((void)0)
#define GD_ALWAYS_INLINE inline
#endif

#if defined(_OPENMP) || defined(GD_OPENMP_SIMD)
#define GD_PRAGMA(x) _Pragma(#x)
#define GD_SIMD GD_PRAGMA(omp simd)
#define GD_SIMD_SUM(var) GD_PRAGMA(omp simd reduction(+ : var))
#else
#define GD_SIMD
#define GD_SIMD_SUM(var)
#endif

#endif /* GD_TEMPLATE_H */
