/*
 * gdcore: the compiled core of gdfast. Plain C11, no Python headers.
 *
 * Every function works over raw pointers and 64-bit lengths and returns a
 * status code (GD_OK == 0). Each numeric routine exists as a float (_f32) and
 * a double (_f64) variant, stamped from one template per dtype.
 *
 * Hot routines are compiled once per instruction set (baseline, AVX2+FMA,
 * AVX-512) and reached through a table of function pointers chosen at run
 * time (gd_kernels()); see dispatch.c.
 */
#ifndef GDCORE_H
#define GDCORE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- status codes ------------------------------------------------------ */
enum {
    GD_OK = 0,
    GD_EINVAL = 1,      /* an argument the caller should have validated */
    GD_ENOMEM = 2,      /* an allocation failed */
    GD_ENONFINITE = 3,  /* a loss or weight became NaN or infinite */
    GD_EINTERRUPT = 4,  /* the interrupt hook asked the loop to stop */
    GD_ESTOP = 5        /* a user hook asked the loop to stop (not an error) */
};

const char *gd_status_message(int status);

/* ---- the update rule --------------------------------------------------- */
/*
 * One vocabulary shared by every layer (DESIGN.md). With ema == 0 the rule is
 * torch.optim.SGD's:
 *     g = -g if maximize;  g += weight_decay * w
 *     v = g (first step) | momentum * v + (1 - dampening) * g
 *     g = g + momentum * v if nesterov else v
 *     w -= lr * g
 * With ema != 0, v is the exponential moving average of g started from zero:
 *     v = momentum * v + (1 - momentum) * g
 *     c = 1 - momentum**t if debias else 1
 *     u = momentum * v / c + (1 - momentum) * g if nesterov else v / c
 *     w -= lr * u
 */
typedef struct gd_rule {
    double lr;
    double momentum;
    double dampening;
    double weight_decay;
    int nesterov;
    int maximize;
    int ema;
    int debias;
} gd_rule;

/*
 * One fused pass over w (and v) for step number t (1-based; used by debias).
 * `first` says that v holds no history yet: heavy-ball then sets v = g, the
 * EMA form treats v as zero. v may be NULL when momentum == 0.
 * Thread-parallel (OpenMP) above gd_get_parallel_min() bytes; the result is
 * bit-identical for any thread count because every element is independent.
 */
int gd_sgd_step_f32(int64_t n, float *w, const float *g, float *v,
                    const gd_rule *rule, int64_t t, int first);
int gd_sgd_step_f64(int64_t n, double *w, const double *g, double *v,
                    const gd_rule *rule, int64_t t, int first);

/* ---- threads ----------------------------------------------------------- */
/* Thread count used by every parallel loop; n < 1 resets to the default
 * (the number of processors OpenMP sees). Returns the count now in force. */
int gd_set_num_threads(int n);
int gd_get_num_threads(void);
int gd_openmp_enabled(void);
/* Registers the fork handler; called by the thread functions above. After a
 * fork() the child runs single-threaded (libgomp's pool does not survive
 * fork), and gd_get_num_threads() returns 1 there. */
void gd_init_threads(void);
int gd_in_forked_child(void);

/* Array size in bytes under which element-wise updates stay on one thread:
 * below it the fork/join costs more than the second core saves. */
int64_t gd_get_parallel_min(void);
void gd_set_parallel_min(int64_t n);

/* ---- run-time instruction-set dispatch --------------------------------- */
enum { GD_ISA_BASELINE = 0, GD_ISA_AVX2 = 1, GD_ISA_AVX512 = 2, GD_ISA_COUNT = 3 };

/* The function table every ISA variant fills in. */
typedef struct gd_kernel_table {
    const char *isa_name;
    void (*sgd_step_f32)(int64_t begin, int64_t end, float *w, const float *g,
                         float *v, const gd_rule *rule, int64_t t, int first);
    void (*sgd_step_f64)(int64_t begin, int64_t end, double *w, const double *g,
                         double *v, const gd_rule *rule, int64_t t, int first);
    float (*dot_f32)(int64_t n, const float *x, const float *y);
    double (*dot_f64)(int64_t n, const double *x, const double *y);
} gd_kernel_table;

/* The active table: chosen once, on first use, from the CPU's features and
 * the GDFAST_ISA environment variable ("baseline", "avx2", "avx512"). */
const gd_kernel_table *gd_kernels(void);
/* Force a variant (GD_ISA_*); returns GD_EINVAL if the CPU or build lacks it. */
int gd_select_isa(int isa);
int gd_active_isa(void);
/* Whether this build compiled the variant and this CPU can run it. */
int gd_isa_available(int isa);
const char *gd_isa_name(int isa);
/* The compiler that built the core, e.g. "GCC 12.2.0". */
const char *gd_compiler(void);

#ifdef __cplusplus
}
#endif
#endif /* GDCORE_H */
