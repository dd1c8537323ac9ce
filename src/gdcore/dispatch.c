/*
 * Run-time instruction-set dispatch, threads, and the public entry points
 * that split work across threads and call the chosen kernels.
 *
 * The ISA is picked once: the best variant that this build compiled and this
 * CPU runs, unless GDFAST_ISA names another ("baseline", "avx2", "avx512"),
 * which tests use to run every variant.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif
#if defined(__unix__) || defined(__APPLE__)
#include <pthread.h>
#define GD_HAVE_ATFORK 1
#endif

#include "gdcore.h"
#include "gd_template.h"

extern const gd_kernel_table gd_kernel_table_baseline;
#ifdef GD_HAVE_AVX2
extern const gd_kernel_table gd_kernel_table_avx2;
#endif
#ifdef GD_HAVE_AVX512
extern const gd_kernel_table gd_kernel_table_avx512;
#endif

static const gd_kernel_table *gd_table_for(int isa)
{
    switch (isa) {
    case GD_ISA_BASELINE: return &gd_kernel_table_baseline;
#ifdef GD_HAVE_AVX2
    case GD_ISA_AVX2: return &gd_kernel_table_avx2;
#endif
#ifdef GD_HAVE_AVX512
    case GD_ISA_AVX512: return &gd_kernel_table_avx512;
#endif
    default: return NULL;
    }
}

static int gd_cpu_has(int isa)
{
    if (isa == GD_ISA_BASELINE) return 1;
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
    __builtin_cpu_init();
    if (isa == GD_ISA_AVX2)
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    if (isa == GD_ISA_AVX512)
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
               __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx2") &&
               __builtin_cpu_supports("fma");
#endif
    return 0;
}

int gd_isa_available(int isa)
{
    return isa >= 0 && isa < GD_ISA_COUNT && gd_table_for(isa) != NULL && gd_cpu_has(isa);
}

const char *gd_isa_name(int isa)
{
    static const char *names[GD_ISA_COUNT] = {"baseline", "avx2", "avx512"};
    return (isa >= 0 && isa < GD_ISA_COUNT) ? names[isa] : "unknown";
}

/* Written once under the GIL (first use happens from Python's import). */
static const gd_kernel_table *gd_active = NULL;
static int gd_active_id = -1;

static void gd_pick_default(void)
{
    int isa, forced = -1;
    const char *env = getenv("GDFAST_ISA");
    if (env && *env) {
        for (isa = 0; isa < GD_ISA_COUNT; isa++)
            if (strcmp(env, gd_isa_name(isa)) == 0) forced = isa;
    }
    if (forced >= 0 && gd_isa_available(forced)) {
        gd_active_id = forced;
    } else {
        /* an unknown or unavailable request falls back to the best variant;
         * the Python layer warns about it */
        for (isa = GD_ISA_COUNT - 1; isa >= 0; isa--)
            if (gd_isa_available(isa)) break;
        gd_active_id = isa;
    }
    gd_active = gd_table_for(gd_active_id);
}

const gd_kernel_table *gd_kernels(void)
{
    if (GD_UNLIKELY(gd_active == NULL)) gd_pick_default();
    return gd_active;
}

int gd_select_isa(int isa)
{
    if (!gd_isa_available(isa)) return GD_EINVAL;
    gd_active_id = isa;
    gd_active = gd_table_for(isa);
    return GD_OK;
}

int gd_active_isa(void)
{
    if (gd_active == NULL) gd_pick_default();
    return gd_active_id;
}

const char *gd_compiler(void)
{
#if defined(__clang__)
    return "Clang " __clang_version__;
#elif defined(__GNUC__)
    return "GCC " GD_STR(__GNUC__) "." GD_STR(__GNUC_MINOR__) "." GD_STR(__GNUC_PATCHLEVEL__);
#elif defined(_MSC_VER)
    return "MSVC " GD_STR(_MSC_VER);
#else
    return "unknown";
#endif
}

const char *gd_status_message(int status)
{
    switch (status) {
    case GD_OK: return "ok";
    case GD_EINVAL: return "invalid argument";
    case GD_ENOMEM: return "out of memory";
    case GD_ENONFINITE: return "non-finite value";
    case GD_EINTERRUPT: return "interrupted";
    case GD_ESTOP: return "stopped";
    default: return "unknown status";
    }
}

/* ---- threads ----------------------------------------------------------- */

static int gd_threads = 0; /* 0: not yet set, use the default */

/* GNU libgomp's thread pool does not survive fork(): a child that enters a
 * parallel region after its parent used one waits forever. A forked child
 * (multiprocessing, pytest-xdist, ...) therefore runs every loop on its own
 * thread; results are the same, since they never depend on the thread count. */
static volatile int gd_forked_child = 0;
#ifdef GD_HAVE_ATFORK
static void gd_after_fork_child(void) { gd_forked_child = 1; }
#endif

void gd_init_threads(void)
{
    static int done = 0;
    if (done) return;
    done = 1;
#ifdef GD_HAVE_ATFORK
    pthread_atfork(NULL, NULL, gd_after_fork_child);
#endif
}

int gd_in_forked_child(void) { return gd_forked_child; }

/* In bytes per array. Measured on the 2-core development machine (heavy-ball
 * step, 1 vs 2 threads, float32 and float64): one thread wins below about
 * 256 KiB per array (2**16 float32, 2**15 float64), where the OpenMP
 * fork/join (~1-2 us) outweighs the second core's share. */
static int64_t gd_parallel_min = (int64_t)1 << 18;

static int gd_default_threads(void)
{
#ifdef _OPENMP
    int n = omp_get_max_threads();
    return n > 0 ? n : 1;
#else
    return 1;
#endif
}

int gd_set_num_threads(int n)
{
    gd_init_threads();
    gd_threads = n < 1 ? gd_default_threads() : n;
    return gd_threads;
}

int gd_get_num_threads(void)
{
    if (gd_threads < 1) {
        gd_init_threads();
        gd_threads = gd_default_threads();
    }
    return gd_forked_child ? 1 : gd_threads;
}

int gd_openmp_enabled(void)
{
#ifdef _OPENMP
    return 1;
#else
    return 0;
#endif
}

int64_t gd_get_parallel_min(void) { return gd_parallel_min; }
void gd_set_parallel_min(int64_t n) { gd_parallel_min = n < 0 ? 0 : n; }

/* ---- public entry points ----------------------------------------------- */

/* Chunks start on 64-byte boundaries of the index space so each thread's
 * vector loop runs unpeeled and no two threads share a cache line. */
#define GD_DEFINE_SGD_STEP(T, SFX)                                                    \
    int gd_sgd_step_##SFX(int64_t n, T *w, const T *g, T *v, const gd_rule *rule,     \
                          int64_t t, int first)                                       \
    {                                                                                 \
        const gd_kernel_table *k = gd_kernels();                                      \
        int nt;                                                                       \
        if (n < 0 || rule == NULL || (n > 0 && (w == NULL || g == NULL)) ||           \
            (rule->momentum != 0.0 && n > 0 && v == NULL))                            \
            return GD_EINVAL;                                                         \
        if (n == 0) return GD_OK;                                                     \
        nt = gd_get_num_threads();                                                    \
        if (nt <= 1 || n * (int64_t)sizeof(T) < gd_parallel_min) {                                         \
            k->sgd_step_##SFX(0, n, w, g, v, rule, t, first);                         \
            return GD_OK;                                                             \
        }                                                                             \
        GD_PARALLEL_SPLIT(T, n, nt, k->sgd_step_##SFX(b, e, w, g, v, rule, t, first)); \
        return GD_OK;                                                                 \
    }

#ifdef _OPENMP
#define GD_PARALLEL_SPLIT(T, n, nt, CALL)                                             \
    do {                                                                              \
        const int64_t align_ = 64 / (int64_t)sizeof(T);                               \
        int64_t per_ = ((n) + (nt)-1) / (nt);                                         \
        per_ = (per_ + align_ - 1) / align_ * align_;                                 \
        _Pragma("omp parallel num_threads(nt)")                                       \
        {                                                                             \
            int64_t b = (int64_t)omp_get_thread_num() * per_;                         \
            int64_t e = b + per_ < (n) ? b + per_ : (n);                              \
            if (b < e) CALL;                                                          \
        }                                                                             \
    } while (0)
#else
#define GD_PARALLEL_SPLIT(T, n, nt, CALL)                                             \
    do {                                                                              \
        int64_t b = 0, e = (n);                                                       \
        (void)(nt);                                                                   \
        CALL;                                                                         \
    } while (0)
#endif

GD_DEFINE_SGD_STEP(float, f32)
GD_DEFINE_SGD_STEP(double, f64)
