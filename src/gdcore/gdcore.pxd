# Declarations of the plain-C core (gdcore.h) for the Cython binding.
from libc.stdint cimport int64_t

cdef extern from "gdcore.h" nogil:
    enum:
        GD_OK
        GD_EINVAL
        GD_ENOMEM
        GD_ENONFINITE
        GD_EINTERRUPT
        GD_ESTOP
        GD_ISA_BASELINE
        GD_ISA_AVX2
        GD_ISA_AVX512
        GD_ISA_COUNT

    ctypedef struct gd_rule:
        double lr
        double momentum
        double dampening
        double weight_decay
        int nesterov
        int maximize
        int ema
        int debias

    const char *gd_status_message(int status) noexcept
    int gd_sgd_step_f32(int64_t n, float *w, const float *g, float *v,
                        const gd_rule *rule, int64_t t, int first) noexcept
    int gd_sgd_step_f64(int64_t n, double *w, const double *g, double *v,
                        const gd_rule *rule, int64_t t, int first) noexcept

    int gd_set_num_threads(int n) noexcept
    int gd_get_num_threads() noexcept
    int gd_openmp_enabled() noexcept
    void gd_init_threads() noexcept
    int gd_in_forked_child() noexcept
    int64_t gd_get_parallel_min() noexcept
    void gd_set_parallel_min(int64_t n) noexcept

    int gd_select_isa(int isa) noexcept
    int gd_active_isa() noexcept
    int gd_isa_available(int isa) noexcept
    const char *gd_isa_name(int isa) noexcept
    const char *gd_compiler() noexcept
