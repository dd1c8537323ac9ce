/*
 * gdlinear: whole training loops for linear models inside the C core.
 *
 * gd_fit_linear_f32/_f64 run `epochs` passes of gradient descent over dense,
 * C-contiguous X (n rows of d features) for one of the built-in losses, with
 * the update applied after every sample (batch_size == 1), after every
 * mini-batch (1 < batch_size < n) or after the whole data set (batch_size 0
 * or >= n). The update is gdfast's rule (sgd_step.tmpl.h, shared with
 * gd_sgd_step_*), the shuffle order is a pure function of (seed, epoch,
 * position) (gd_perm, gd_shuffle_order), and every reduction uses a blocking fixed by the
 * problem's shape, so results are bit-identical for any thread count.
 *
 * Plain C11, no Python: the caller reaches back through two hooks, an
 * interrupt hook polled every ~1e6 multiply-adds (Ctrl-C) and an epoch hook
 * called at each epoch's start and end (callable schedules, callbacks,
 * progress lines). Both are optional (NULL).
 */
#ifndef GDLINEAR_H
#define GDLINEAR_H

#include <stdint.h>

#include "gdcore.h"

#ifdef __cplusplus
extern "C" {
#endif

/* scikit-learn's SGD loss names and definitions, p = x.coef + b */
enum {
    GD_LOSS_SQUARED_ERROR = 0,      /* (p - y)^2 / 2, also multi-output */
    GD_LOSS_HUBER = 1,              /* epsilon */
    GD_LOSS_EPSILON_INSENSITIVE = 2,
    GD_LOSS_SQUARED_EPSILON_INSENSITIVE = 3,
    GD_LOSS_LOG_LOSS = 4,           /* y in {-1, +1} */
    GD_LOSS_HINGE = 5,
    GD_LOSS_SQUARED_HINGE = 6,
    GD_LOSS_MODIFIED_HUBER = 7,
    GD_LOSS_PERCEPTRON = 8,
    GD_LOSS_SOFTMAX = 9,            /* y holds class ids 0..k-1 */
    GD_LOSS_COUNT = 10
};

/* learning-rate schedules; t = 1, 2, ... counts updates across epochs */
enum {
    GD_SCHEDULE_CONSTANT = 0,   /* lr */
    GD_SCHEDULE_INVSCALING = 1, /* lr / t**power_t */
    GD_SCHEDULE_OPTIMAL = 2,    /* 1 / (alpha * (optimal_t0 + t - 1)) */
    GD_SCHEDULE_ADAPTIVE = 3,   /* lr, divided by 5 when the loss stalls */
    GD_SCHEDULE_EPOCH = 4       /* the epoch hook sets lr at each epoch start */
};

enum { GD_EPOCH_BEGIN = 0, GD_EPOCH_END = 1 };

/* Returns nonzero to stop the loop (the loop then returns GD_EINTERRUPT). */
typedef int (*gd_interrupt_hook)(void *ctx);

/*
 * phase GD_EPOCH_BEGIN: before epoch `epoch` (0-based); with
 *     GD_SCHEDULE_EPOCH the hook must store the epoch's lr in *lr_out.
 * phase GD_EPOCH_END: after the epoch, loss = loss_history[epoch], lr = the
 *     last step size used, coef/intercept hold the epoch's weights.
 * Returns GD_OK to go on, GD_ESTOP to end training normally, any other
 * status to abort (the loop returns that status unchanged).
 */
typedef int (*gd_epoch_hook)(void *ctx, int phase, int64_t epoch, double loss, double lr,
                             int64_t n_updates, double *lr_out);

typedef struct gd_linear_data {
    int64_t n, d, k;            /* rows, features, outputs */
    const void *X;              /* (n, d) C-contiguous */
    const void *y;              /* (n,) or (n, k) for multi-output squared_error */
    const void *sample_weight;  /* (n,) non-negative, or NULL */
    void *coef;                 /* (k, d): one row of weights per output; in/out */
    void *intercept;            /* (k,); in/out */
    void *avg_coef;             /* (k, d) when average > 0, else NULL */
    void *avg_intercept;        /* (k,)  when average > 0, else NULL */
    double *loss_history;       /* (epochs,) */
    /* ---- extensions used by gdfast.sklearn (all optional: zero/NULL = off) ----
     * CSR input: when indptr is not NULL, X holds the CSR data (float values),
     * row i's values are X[indptr[i] .. indptr[i+1]) at the columns
     * indices[...] (each < d); per-sample updates then cost O(nnz) per row. */
    const int64_t *indptr;      /* (n + 1,) */
    const int32_t *indices;     /* (nnz,) */
    /* momentum state carried across calls (partial_fit): (k*d + k) entries,
     * coef part then intercept part; in/out. NULL: a fresh zero state. */
    void *velocity;
} gd_linear_data;

typedef struct gd_linear_opts {
    int loss;
    double epsilon;
    int64_t batch_size;         /* 1: per sample; 0 or >= n: full batch */
    int64_t epochs;
    /* the rule's hyperparameters (weight_decay comes from alpha) */
    double lr, momentum, dampening;
    int nesterov, ema, debias;
    int schedule;
    double power_t, optimal_t0;
    double alpha, l1_ratio;
    int fit_intercept, shuffle;
    uint64_t seed;
    int64_t average;            /* 0: off; k >= 1: average the iterates from update k */
    int use_tol;
    double tol;
    int64_t n_iter_no_change;
    int n_threads;
    gd_interrupt_hook interrupt;
    void *interrupt_ctx;
    gd_epoch_hook epoch_hook;
    void *epoch_ctx;
    /* ---- extensions used by gdfast.sklearn (zero = off) ---- */
    int64_t t_start;            /* updates already made (partial_fit, warm restarts):
                                 * schedules and averaging continue from t_start + 1 */
    int velocity_started;       /* data->velocity holds history (not the first step) */
    double optimal_alpha;       /* > 0: the alpha of the 'optimal' schedule when it differs
                                 * from the penalty's (scikit-learn's penalty=None) */
    int weight_mean;            /* with sample weights: a batch's gradient is
                                 * sum s_i g_i / sum s_i (not / |B|) and the epoch loss
                                 * is divided by sum s_i, so integer weights act as
                                 * repeated rows; per-sample updates are unchanged */
} gd_linear_opts;

typedef struct gd_linear_result {
    int64_t n_epochs;    /* epochs completed; on GD_ENONFINITE the failing epoch */
    int64_t n_updates;
    int converged;       /* stopped by tol / adaptive, not by the epoch budget */
    int averaged;        /* avg_coef/avg_intercept hold the answer */
    double lr;           /* the last step size used */
    int64_t bad_row;     /* on GD_ENONFINITE: the row (storage index) whose prediction
                          * x.w + b was NaN/inf, which stopped the epoch at once (a
                          * NaN/inf in X always shows there: NaN*w and inf*0 are NaN);
                          * -1 when the epoch's loss or weights were found non-finite
                          * at its end */
} gd_linear_result;

/*
 * Train in place. On GD_ENONFINITE coef/intercept hold the weights of the
 * failing epoch's start (the last finite ones) and res->bad_row names the
 * row that showed it (see gd_linear_result); the caller tells a NaN/inf in X
 * (that row is not finite) from divergence (it is). On GD_EINTERRUPT or a hook's
 * error they hold a consistent state (the weights after some whole update).
 * GD_EINVAL for arguments the Python layer validates (shapes, enums, ranges).
 */
int gd_fit_linear_f32(const gd_linear_data *data, const gd_linear_opts *opts,
                      gd_linear_result *res);
int gd_fit_linear_f64(const gd_linear_data *data, const gd_linear_opts *opts,
                      gd_linear_result *res);

/* ---- the epoch shuffle ---------------------------------------------------
 *
 * Epoch e visits row order[r] = pi(r) at position r, where pi is a keyed
 * pseudorandom permutation of [0, n) computed position by position: no sort,
 * no scratch memory, and any stretch of the order costs only its own length,
 * so the loops make it a few rows ahead of use, in the shadow of the row
 * loads (gd_perm_fill). pi is a Feistel network on an a x b grid (Black and
 * Rogaway's generalized Feistel cipher), cycle-walked into [0, n).
 * The definition (gdfast._shuffle is the NumPy twin):
 *
 *   a     = max(ceil(sqrt(n)), GD_PERM_MIN_SIDE), b = max(ceil(n / a), GD_PERM_MIN_SIDE)
 *   z_j   = splitmix64(seed*C1 + (epoch+1)*C2 + (j+1)*C3), j < GD_PERM_ROUNDS
 *   key_j = z_j mod 2^32, mul_j = (z_j >> 32) | 1
 *   grid(L, R), L < a, R < b: GD_PERM_ROUNDS rounds of
 *           f = ((((R ^ key_j) * mul_j) mod 2^32) * s) >> 32    (f < s)
 *           (L, R) = (R, (L + f) mod s)
 *       where s is L's side (a, then b, a, ...), and then x = L * b + R
 *   pi(r) = grid(r / b, r % b), then grid(x / b, x % b) again while x >= n
 *           (fewer than a * b - n < a of the a * b cells lie outside, so
 *           walking is rare: under 1/b of the rows for n >= 256).
 *
 * splitmix64 is SplitMix64's output function and C1..C3 its constants. */
#define GD_PERM_ROUNDS 4 /* even: the grid ends with L < a, R < b */
/* small n walk in a 16 x 16 grid: every row equally likely at every position
 * (tests/test_linear.py checks it) */
#define GD_PERM_MIN_SIDE 16

typedef struct gd_perm {
    uint64_t n, a, b;
    uint32_t key[GD_PERM_ROUNDS], mul[GD_PERM_ROUNDS];
} gd_perm;

/* The permutation of epoch `epoch` (n >= 0, epoch >= 0). */
void gd_perm_init(gd_perm *p, int64_t n, uint64_t seed, int64_t epoch);

static inline uint64_t gd_perm_grid(const gd_perm *p, uint64_t L, uint64_t R)
{
    uint64_t s = p->a, t = p->b;
    int j;
    for (j = 0; j < GD_PERM_ROUNDS; j++) {
        const uint32_t h = ((uint32_t)R ^ p->key[j]) * p->mul[j];
        const uint64_t f = ((uint64_t)h * s) >> 32, nr = L + f;
        const uint64_t u = s, nr_s = nr - s;
        L = R;
        R = nr_s < nr ? nr_s : nr; /* (L + f) mod s as an unsigned min */
        s = t;
        t = u;
    }
    return L * p->b + R;
}

/* order[r] = pi(r) for r in [lo, hi): runs of positions sharing r / b go
 * through the grid in a loop the compiler vectorises, then the rare cells
 * outside [0, n) walk on. */
static inline void gd_perm_fill(const gd_perm *p, int64_t *order, int64_t lo, int64_t hi)
{
    int64_t r = lo, i;
    while (r < hi) {
        const uint64_t L = (uint64_t)r / p->b, R0 = (uint64_t)r % p->b;
        const int64_t run = (int64_t)(p->b - R0) < hi - r ? (int64_t)(p->b - R0) : hi - r;
        int64_t *o = order + r;
        for (i = 0; i < run; i++) o[i] = (int64_t)gd_perm_grid(p, L, R0 + (uint64_t)i);
        r += run;
    }
    for (r = lo; r < hi; r++) {
        uint64_t x = (uint64_t)order[r];
        if (x >= p->n) {
            do x = gd_perm_grid(p, x / p->b, x % p->b);
            while (x >= p->n);
            order[r] = (int64_t)x;
        }
    }
}

/* The whole order of epoch `epoch`: order[r] = pi(r), r < n. */
int gd_shuffle_order(int64_t n, uint64_t seed, int64_t epoch, int64_t *order);

/* The table each ISA variant of linear_kernels.c exports. */
typedef struct gd_linear_table {
    const char *isa_name;
    int (*fit_f32)(const gd_linear_data *, const gd_linear_opts *, gd_linear_result *);
    int (*fit_f64)(const gd_linear_data *, const gd_linear_opts *, gd_linear_result *);
} gd_linear_table;

#ifdef __cplusplus
}
#endif
#endif /* GDLINEAR_H */
