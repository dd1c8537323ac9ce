# Declarations of the linear-model loops (gdlinear.h) for the Cython binding.
from libc.stdint cimport int32_t, int64_t, uint64_t

cdef extern from "gdlinear.h" nogil:
    enum:
        GD_LOSS_SQUARED_ERROR
        GD_LOSS_HUBER
        GD_LOSS_EPSILON_INSENSITIVE
        GD_LOSS_SQUARED_EPSILON_INSENSITIVE
        GD_LOSS_LOG_LOSS
        GD_LOSS_HINGE
        GD_LOSS_SQUARED_HINGE
        GD_LOSS_MODIFIED_HUBER
        GD_LOSS_PERCEPTRON
        GD_LOSS_SOFTMAX
        GD_LOSS_COUNT
        GD_SCHEDULE_CONSTANT
        GD_SCHEDULE_INVSCALING
        GD_SCHEDULE_OPTIMAL
        GD_SCHEDULE_ADAPTIVE
        GD_SCHEDULE_EPOCH
        GD_EPOCH_BEGIN
        GD_EPOCH_END

    ctypedef int (*gd_interrupt_hook)(void *ctx) noexcept nogil
    ctypedef int (*gd_epoch_hook)(void *ctx, int phase, int64_t epoch, double loss, double lr,
                                  int64_t n_updates, double *lr_out) noexcept nogil

    ctypedef struct gd_linear_data:
        int64_t n, d, k
        const void *X
        const void *y
        const void *sample_weight
        void *coef
        void *intercept
        void *avg_coef
        void *avg_intercept
        double *loss_history
        const int64_t *indptr
        const int32_t *indices
        void *velocity

    ctypedef struct gd_linear_opts:
        int loss
        double epsilon
        int64_t batch_size
        int64_t epochs
        double lr, momentum, dampening
        int nesterov, ema, debias
        int schedule
        double power_t, optimal_t0
        double alpha, l1_ratio
        int fit_intercept, shuffle
        uint64_t seed
        int64_t average
        int use_tol
        double tol
        int64_t n_iter_no_change
        int n_threads
        gd_interrupt_hook interrupt
        void *interrupt_ctx
        gd_epoch_hook epoch_hook
        void *epoch_ctx
        int64_t t_start
        int velocity_started
        double optimal_alpha
        int weight_mean

    ctypedef struct gd_linear_result:
        int64_t n_epochs
        int64_t n_updates
        int converged
        int averaged
        double lr
        int64_t bad_row

    int gd_fit_linear_f32(const gd_linear_data *data, const gd_linear_opts *opts,
                          gd_linear_result *res) noexcept
    int gd_fit_linear_f64(const gd_linear_data *data, const gd_linear_opts *opts,
                          gd_linear_result *res) noexcept
    int gd_shuffle_order(int64_t n, uint64_t seed, int64_t epoch, int64_t *order) noexcept
