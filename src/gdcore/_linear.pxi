# The binding of the linear-model loops (gdlinear.h); included by _core.pyx.
# gdfast._linear validates and prepares every array (dtype, C order,
# alignment, shapes) before calling in here; this layer only wires pointers
# and hooks, releases the GIL for the whole run, and maps statuses.
from libc.stdint cimport int32_t, uint64_t
from cpython.exc cimport PyErr_CheckSignals

from gdlinear cimport *

LINEAR_LOSSES = {
    "squared_error": GD_LOSS_SQUARED_ERROR,
    "huber": GD_LOSS_HUBER,
    "epsilon_insensitive": GD_LOSS_EPSILON_INSENSITIVE,
    "squared_epsilon_insensitive": GD_LOSS_SQUARED_EPSILON_INSENSITIVE,
    "log_loss": GD_LOSS_LOG_LOSS,
    "hinge": GD_LOSS_HINGE,
    "squared_hinge": GD_LOSS_SQUARED_HINGE,
    "modified_huber": GD_LOSS_MODIFIED_HUBER,
    "perceptron": GD_LOSS_PERCEPTRON,
    "softmax": GD_LOSS_SOFTMAX,
}

LINEAR_SCHEDULES = {
    "constant": GD_SCHEDULE_CONSTANT,
    "invscaling": GD_SCHEDULE_INVSCALING,
    "optimal": GD_SCHEDULE_OPTIMAL,
    "adaptive": GD_SCHEDULE_ADAPTIVE,
    "callable": GD_SCHEDULE_EPOCH,
}


cdef class _FitHooks:
    """What the C loop calls back into: Python callables, and the exception
    one of them raised (re-raised once the loop has returned)."""
    cdef object begin     # epoch -> lr (float) or None
    cdef object end       # (epoch, loss, lr, n_updates) -> truthy to stop
    cdef object exc


cdef int _interrupt_hook(void *ctx) noexcept nogil:
    # Polled by the C loop about every millisecond of work; KeyboardInterrupt
    # (or whatever a signal handler raises) is kept and re-raised after C.
    with gil:
        try:
            PyErr_CheckSignals()
        except BaseException as exc:
            (<_FitHooks>ctx).exc = exc
            return 1
    return 0


cdef int _epoch_hook(void *ctx, int phase, int64_t epoch, double loss, double lr,
                     int64_t n_updates, double *lr_out) noexcept nogil:
    with gil:
        hooks = <_FitHooks>ctx
        try:
            if phase == GD_EPOCH_BEGIN:
                if hooks.begin is not None:
                    lr_new = hooks.begin(epoch)
                    if lr_new is not None:
                        lr_out[0] = lr_new
            elif hooks.end is not None:
                if hooks.end(epoch, loss, lr, n_updates):
                    return GD_ESTOP
            PyErr_CheckSignals()
        except BaseException as exc:
            hooks.exc = exc
            return GD_EINTERRUPT
    return GD_OK


cdef inline void *_addr(object a) except? NULL:
    if a is None:
        return NULL
    return <void *><size_t>a.__array_interface__["data"][0]


def shuffle_order(int64_t n, uint64_t seed, int64_t epoch):
    """The C core's visiting order of n rows in epoch `epoch` (int64 array)."""
    if n < 0 or epoch < 0:
        raise ValueError(f"need n >= 0 and epoch >= 0, got n={n}, epoch={epoch}")
    out = np.empty(n, dtype=np.int64)
    cdef int status
    cdef int64_t *p = <int64_t *>_addr(out) if n > 0 else NULL
    with nogil:
        status = gd_shuffle_order(n, seed, epoch, p)
    raise_status(status, "shuffle_order")
    return out


def fit_linear(X, y, sample_weight, coef, intercept, avg_coef, avg_intercept, loss_history, *,
               int loss, double epsilon, int64_t batch_size, int64_t epochs, double lr,
               double momentum, double dampening, bint nesterov, bint ema, bint debias,
               int schedule, double power_t, double optimal_t0, double alpha, double l1_ratio,
               bint fit_intercept, bint shuffle, uint64_t seed, int64_t average, bint use_tol,
               double tol, int64_t n_iter_no_change, int n_threads, begin=None, end=None,
               indptr=None, indices=None, int64_t n_features=-1, velocity=None,
               int64_t t_start=0, bint velocity_started=False, double optimal_alpha=0.0,
               bint weight_mean=False):
    """Run the C training loop over prepared arrays (see gdfast._linear).

    X (n, d) and y ((n,) or (n, k)), sample_weight ((n,) or None), coef (k, d),
    intercept (k,), avg_coef/avg_intercept (or None) share X's dtype, are
    C-contiguous and aligned; coef, intercept, the averages and loss_history
    (float64, (epochs,)) are updated in place. Returns
    (status, n_epochs, n_updates, converged, averaged, lr, bad_row) where status
    is GD_OK or GD_ENONFINITE (bad_row >= 0: that row's prediction x.w + b was
    NaN/inf and stopped the epoch; -1: found at the epoch's end); a KeyboardInterrupt or an exception raised by a
    hook is re-raised here.

    Extensions (gdfast.sklearn): with indptr (int64, (n + 1,)) and indices
    (int32, (nnz,)) X is the CSR values array (nnz,) of an (n, n_features)
    matrix. velocity ((k*d + k,), X's dtype, or None) carries the momentum
    state in and out; velocity_started says it holds history. t_start is the
    number of updates already made (schedules and averaging continue).
    optimal_alpha > 0 replaces alpha in the 'optimal' schedule only.
    weight_mean: batch gradients and epoch losses are sample-weighted means.
    """
    cdef gd_linear_data data
    cdef gd_linear_opts o
    cdef gd_linear_result res
    cdef int status
    cdef bint f32 = X.dtype == np.float32
    cdef _FitHooks hooks = _FitHooks()
    hooks.begin = begin
    hooks.end = end
    hooks.exc = None

    memset(&data, 0, sizeof(data))
    memset(&o, 0, sizeof(o))
    memset(&res, 0, sizeof(res))
    if indptr is not None:
        data.n = indptr.shape[0] - 1
        data.d = n_features
        data.indptr = <const int64_t *>_addr(indptr)
        data.indices = <const int32_t *>_addr(indices)
    else:
        data.n = X.shape[0]
        data.d = X.shape[1]
    data.velocity = _addr(velocity)
    data.k = coef.shape[0]
    data.X = _addr(X)
    data.y = _addr(y)
    data.sample_weight = _addr(sample_weight)
    data.coef = _addr(coef)
    data.intercept = _addr(intercept)
    data.avg_coef = _addr(avg_coef)
    data.avg_intercept = _addr(avg_intercept)
    data.loss_history = <double *>_addr(loss_history)

    o.loss = loss
    o.epsilon = epsilon
    o.batch_size = batch_size
    o.epochs = epochs
    o.lr = lr
    o.momentum = momentum
    o.dampening = dampening
    o.nesterov = nesterov
    o.ema = ema
    o.debias = debias
    o.schedule = schedule
    o.power_t = power_t
    o.optimal_t0 = optimal_t0
    o.alpha = alpha
    o.l1_ratio = l1_ratio
    o.fit_intercept = fit_intercept
    o.shuffle = shuffle
    o.seed = seed
    o.average = average
    o.use_tol = use_tol
    o.tol = tol
    o.n_iter_no_change = n_iter_no_change
    o.n_threads = n_threads
    o.t_start = t_start
    o.velocity_started = velocity_started
    o.optimal_alpha = optimal_alpha
    o.weight_mean = weight_mean
    o.interrupt = _interrupt_hook
    o.interrupt_ctx = <void *>hooks
    if begin is not None or end is not None:
        o.epoch_hook = _epoch_hook
        o.epoch_ctx = <void *>hooks

    with nogil:
        if f32:
            status = gd_fit_linear_f32(&data, &o, &res)
        else:
            status = gd_fit_linear_f64(&data, &o, &res)
    if hooks.exc is not None:
        exc = hooks.exc
        hooks.exc = None
        raise exc
    if status != GD_OK and status != GD_ENONFINITE:
        raise_status(status, "fit_linear")
    return (status, res.n_epochs, res.n_updates, bool(res.converged), bool(res.averaged),
            res.lr, res.bad_row)
