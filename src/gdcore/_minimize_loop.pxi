# ---- gdfast.minimize: the iteration loop (issue 4) --------------------------
#
# Included at the end of _core.pyx so it shares the module's one copy of the
# static C core (ISA choice, thread count) and its helpers (format_kind,
# GIL_RELEASE_MIN). gdfast._minimize validates every argument and then runs
# one MinimizeLoop; only fun, jac, a callable lr and the callback are Python
# calls inside the loop. Per iteration the loop does: call the user's
# function, take the gradient's buffer (checking dtype and shape), check the
# loss and the gradient are finite, snapshot x, run the fused C step, check x
# is finite (restoring the snapshot if the update overflowed).
from cpython.exc cimport PyErr_CheckSignals
from cpython.float cimport PyFloat_Check, PyFloat_AS_DOUBLE, PyFloat_AsDouble
from cpython.tuple cimport PyTuple_Check, PyTuple_GET_SIZE
from cpython.buffer cimport PyBUF_ND
from libc.string cimport memcpy
from libc.math cimport sqrt, pow, fabs, isfinite, NAN

cdef enum:
    SCHED_CONSTANT = 0
    SCHED_INVSCALING = 1
    SCHED_CALLABLE = 2

# run outcomes, mapped to scipy-style status/message by gdfast._minimize
cdef enum:
    END_BUDGET = 0        # max_iter or epochs used up
    END_TOL = 1           # |change of the loss| <= tol
    END_GTOL = 2          # ||grad|| <= gtol
    END_CALLBACK = 3      # the callback raised StopIteration

END_NAMES = ("budget", "tol", "gtol", "callback")
cdef object _NP_FLOAT32 = np.float32


cdef class MinimizeLoop:
    """The compiled side of one gdfast.minimize run (construct it there).

    Owns the working x (a fresh C-contiguous copy of x0), its read-only view
    handed to the callables, the velocity, the snapshot used to keep the last
    finite x, the rule and the counters.
    """
    cdef gd_rule rule
    cdef int kind
    cdef int ndim
    cdef int64_t n
    cdef Py_ssize_t itemsize
    cdef object x, xview, v, save, scratch
    cdef char *xp
    cdef char *vp
    cdef char *sp
    cdef char *scp
    cdef object shape
    cdef Py_ssize_t[8] shp
    cdef object fun, jac, lr_fn, callback, cb_style, result_type
    cdef object fun_name, jac_name
    cdef bint jac_is_fun
    cdef int sched
    cdef double lr0, power_t, tol, gtol
    cdef int64_t t                 # updates done
    cdef bint first
    cdef readonly int64_t nfev, njev
    cdef readonly object history   # list of floats (per iteration, or per epoch with data)
    cdef object explain_grad, explain_loss, explain_lr

    def __init__(self, x, fun, jac, bint jac_is_fun, str fun_name, str jac_name,
                 double lr, object lr_fn, int sched, double power_t,
                 double momentum, double dampening, double weight_decay, bint nesterov,
                 bint maximize, bint ema, bint debias, double tol, double gtol,
                 callback, cb_style, result_type, explain_grad, explain_loss, explain_lr):
        cdef Py_buffer b
        cdef int i
        self.x = x
        if x.ndim > 8:
            raise ValueError(f"x0 has {x.ndim} dimensions; at most 8 are supported")
        self.kind = KIND_F32 if x.dtype == np.float32 else KIND_F64
        self.itemsize = x.itemsize
        self.n = x.size
        self.ndim = x.ndim
        self.shape = x.shape
        for i in range(self.ndim):
            self.shp[i] = x.shape[i]
        # The callables get one read-only view of the working array, made once:
        # no per-iteration copy, and no way for a callable to corrupt the state.
        self.xview = x.view()
        self.xview.flags.writeable = False
        self.save = np.empty_like(x)
        self.scratch = None
        self.v = np.zeros_like(x) if momentum != 0.0 else None
        self.xp = self._ptr(x)
        self.sp = self._ptr(self.save)
        self.vp = self._ptr(self.v) if self.v is not None else NULL
        self.scp = NULL
        self.fun = fun
        self.jac = jac
        self.jac_is_fun = jac_is_fun
        self.fun_name = fun_name
        self.jac_name = jac_name
        self.rule.lr = lr
        self.rule.momentum = momentum
        self.rule.dampening = dampening
        self.rule.weight_decay = weight_decay
        self.rule.nesterov = nesterov
        self.rule.maximize = maximize
        self.rule.ema = ema
        self.rule.debias = debias
        self.lr0 = lr
        self.lr_fn = lr_fn
        self.sched = sched
        self.power_t = power_t
        self.tol = tol
        self.gtol = gtol
        self.callback = callback
        self.cb_style = cb_style
        self.result_type = result_type
        self.explain_grad = explain_grad
        self.explain_loss = explain_loss
        self.explain_lr = explain_lr
        self.t = 0
        self.first = True
        self.nfev = 0
        self.njev = 0
        self.history = []

    cdef char *_ptr(self, object a) except NULL:
        cdef Py_buffer b
        PyObject_GetBuffer(a, &b, PyBUF_WRITABLE | PyBUF_C_CONTIGUOUS)
        # arrays private to this object, never resized: the pointer stays valid
        cdef char *p = <char *>b.buf
        PyBuffer_Release(&b)
        if p == NULL:
            p = <char *>1  # size-0 arrays; never dereferenced (n == 0)
        return p

    @property
    def x_view(self):
        return self.xview

    @property
    def nit(self):
        return self.t

    # -- one evaluation: call, validate, acquire the gradient's buffer --------

    cdef double _evaluate(self, object call_args, Py_buffer *gb, int64_t it) except? -1.0:
        """Call the user's function(s) at the current x and validate the result.

        On success the gradient's buffer is held in gb (the caller releases
        it) and the loss is returned. Every error names the callable, the
        iteration and the shapes; the callable's own exceptions pass through.
        """
        cdef object res, loss_obj, g
        cdef double loss
        if self.jac_is_fun:
            res = self.fun(*call_args)
            self.nfev += 1
            self.njev += 1
            if PyTuple_Check(res) and PyTuple_GET_SIZE(res) == 2:
                loss_obj = (<tuple>res)[0]
                g = (<tuple>res)[1]
            else:
                loss_obj, g = self.explain_loss(res, self.fun_name, it, self.xview, True)
        else:
            loss_obj = self.fun(*call_args)
            self.nfev += 1
            g = self.jac(*call_args)
            self.njev += 1
        if PyFloat_Check(loss_obj):            # float and np.float64
            loss = PyFloat_AS_DOUBLE(loss_obj)
        elif type(loss_obj) is _NP_FLOAT32:      # a float32 model's loss: no Python detour
            loss = PyFloat_AsDouble(loss_obj)
        else:
            loss = self.explain_loss(loss_obj, self.fun_name, it, self.xview, False)
        self._acquire_grad(g, gb, it)
        if not isfinite(loss):
            PyBuffer_Release(gb)
            self._raise_nonfinite(f"{self.fun_name} returned a non-finite loss ({loss!r}) at "
                                  f"iteration {it}", it)
        return loss

    cdef int _acquire_grad(self, object g, Py_buffer *gb, int64_t it) except -1:
        cdef int i
        cdef bint ok = False
        try:
            PyObject_GetBuffer(g, gb, PyBUF_FORMAT | PyBUF_C_CONTIGUOUS)
            ok = True
        except (BufferError, TypeError, ValueError):
            pass
        if ok:
            if format_kind(gb.format) == self.kind and gb.ndim == self.ndim:
                for i in range(self.ndim):
                    if gb.shape[i] != self.shp[i]:
                        ok = False
                        break
            else:
                ok = False
            if not ok:
                PyBuffer_Release(gb)
        if not ok:
            # the slow path raises a descriptive error, or returns a
            # C-contiguous copy of a valid but strided gradient
            g = self.explain_grad(g, self.xview, self.jac_name, it)
            PyObject_GetBuffer(g, gb, PyBUF_FORMAT | PyBUF_C_CONTIGUOUS)
        return 0

    cdef int _raise_nonfinite(self, str msg, int64_t it) except -1:
        err = FloatingPointError(msg + "; the exception's .x holds the last finite x")
        err.x = self.x.copy()
        err.iteration = it
        raise err

    # -- one update --------------------------------------------------------

    cdef int _update(self, Py_buffer *gb, int64_t it) except -1:
        cdef int64_t t = self.t + 1
        cdef int status = 0
        cdef int first = self.first
        cdef const char *gp = <const char *>gb.buf
        cdef double lr
        if self.sched == SCHED_INVSCALING:
            self.rule.lr = self.lr0 / pow(<double>t, self.power_t)
        elif self.sched == SCHED_CALLABLE:
            lr_obj = self.lr_fn(t)
            if PyFloat_Check(lr_obj):
                lr = PyFloat_AS_DOUBLE(lr_obj)
                if not (isfinite(lr) and lr >= 0.0):
                    lr = self.explain_lr(lr_obj, t)
            else:
                lr = self.explain_lr(lr_obj, t)
            self.rule.lr = lr
        if gp == self.xp and self.n > 0:
            # a gradient that is x itself (e.g. the gradient of ||x||^2 / 2):
            # the fused kernel assumes w and g do not alias, so step from a copy
            if self.scratch is None:
                self.scratch = np.empty_like(self.x)
                self.scp = self._ptr(self.scratch)
            memcpy(self.scp, gp, self.n * self.itemsize)
            gp = self.scp
        if self.n >= GIL_RELEASE_MIN:
            with nogil:
                status = self._guarded_step(gp, t, first)
        else:
            status = self._guarded_step(gp, t, first)
        if status == 1:
            self._raise_nonfinite(f"{self.jac_name} returned a non-finite gradient at "
                                  f"iteration {it}", it)
        if status == 2:
            self._raise_nonfinite(f"the update at iteration {it} overflowed (lr={self.rule.lr!r}); "
                                  "x was restored to the point before it", it)
        if status != 0:
            raise_status(status - 10, "minimize")
        self.t = t
        self.first = False
        return 0

    cdef int _guarded_step(self, const char *gp, int64_t t, int first) noexcept nogil:
        """0: stepped; 1: non-finite gradient, x untouched; 2: the update
        overflowed, x restored from the snapshot; other: a gd status + 10."""
        cdef int64_t n = self.n
        cdef int st
        cdef size_t nbytes = <size_t>n * <size_t>self.itemsize
        if self.kind == KIND_F32:
            if not gd_all_finite_f32(n, <const float *>gp):
                return 1
            memcpy(self.sp, self.xp, nbytes)
            st = gd_sgd_step_f32(n, <float *>self.xp, <const float *>gp, <float *>self.vp,
                                 &self.rule, t, first)
            if st != GD_OK:
                memcpy(self.xp, self.sp, nbytes)
                return st + 10
            if not gd_all_finite_f32(n, <const float *>self.xp):
                memcpy(self.xp, self.sp, nbytes)
                return 2
            return 0
        if not gd_all_finite_f64(n, <const double *>gp):
            return 1
        memcpy(self.sp, self.xp, nbytes)
        st = gd_sgd_step_f64(n, <double *>self.xp, <const double *>gp, <double *>self.vp,
                             &self.rule, t, first)
        if st != GD_OK:
            memcpy(self.xp, self.sp, nbytes)
            return st + 10
        if not gd_all_finite_f64(n, <const double *>self.xp):
            memcpy(self.xp, self.sp, nbytes)
            return 2
        return 0

    cdef double _grad_norm(self, Py_buffer *gb) noexcept:
        if self.kind == KIND_F32:
            return sqrt(gd_sumsq_f32(self.n, <const float *>gb.buf))
        return sqrt(gd_sumsq_f64(self.n, <const double *>gb.buf))

    cdef int _call_callback(self, double loss, int64_t epoch) except -1:
        """Returns 1 when the callback asked to stop (StopIteration)."""
        try:
            if self.cb_style == "result":
                if epoch >= 0:
                    info = self.result_type(x=self.x.copy(), fun=loss, nit=self.t,
                                            nfev=self.nfev, njev=self.njev, epoch=epoch)
                else:
                    info = self.result_type(x=self.x.copy(), fun=loss, nit=self.t,
                                            nfev=self.nfev, njev=self.njev)
                self.callback(intermediate_result=info)
            else:
                self.callback(self.x.copy())
        except StopIteration:
            return 1
        return 0

    cdef int _interrupted(self, object exc, int64_t it) except -1:
        # Ctrl-C keeps what was reached: x is consistent (updates are atomic
        # with respect to Python code), so hand a copy to the caller
        try:
            exc.x = self.x.copy()
            exc.iteration = it
        except Exception:
            pass
        return 0

    # -- the two loops -----------------------------------------------------

    def run_plain(self, tuple args, int64_t max_iter):
        """Without data: iteration k evaluates x_k, then updates it.

        The evaluation at the last x doubles as the final function value, so
        ``res.fun`` needs no separate call. Returns (end, loss_at_x, grad_at_x).
        """
        cdef Py_buffer gb
        cdef bint held = False
        cdef double loss, prev = NAN
        cdef int64_t it
        cdef int end = END_BUDGET
        cdef tuple call_args = (self.xview,) + args
        cdef object hist = self.history
        cdef object g_at_x = None
        try:
            while True:
                PyErr_CheckSignals()
                it = self.t + 1
                loss = self._evaluate(call_args, &gb, it)
                held = True
                hist.append(loss)
                if self.callback is not None and self.t > 0:
                    if self._call_callback(loss, -1):
                        end = END_CALLBACK
                        break
                if self.gtol >= 0.0 and self._grad_norm(&gb) <= self.gtol:
                    end = END_GTOL
                    break
                if self.tol >= 0.0 and self.t > 0 and fabs(loss - prev) <= self.tol:
                    end = END_TOL
                    break
                if self.t >= max_iter:
                    end = END_BUDGET
                    break
                self._update(&gb, it)
                PyBuffer_Release(&gb)
                held = False
                prev = loss
            g_at_x = self._copy_grad(&gb)
        except KeyboardInterrupt as exc:
            self._interrupted(exc, self.t + 1)
            raise
        finally:
            if held:
                PyBuffer_Release(&gb)
        return end, loss, g_at_x

    cdef object _copy_grad(self, Py_buffer *gb):
        cdef object out = np.empty_like(self.x)
        cdef char *p = self._ptr(out)
        memcpy(p, gb.buf, self.n * self.itemsize)
        return out

    def run_data(self, tuple data, tuple args, int64_t n_samples, int64_t batch_size,
                 int64_t max_iter, int64_t max_epochs, object order_fn):
        """With data: batches of rows, epoch after epoch.

        order_fn(epoch) gives the epoch's row order (None: the rows in order,
        as contiguous views). The epoch loss is the mean of the batch losses
        weighted by batch size, each taken at the x before its update.
        Returns (end, last epoch loss, last batch gradient, epochs begun).
        """
        cdef Py_buffer gb
        cdef bint held = False
        cdef double loss = NAN, ep_sum, last_epoch_loss = NAN
        cdef int64_t it, ep_cnt, s, e, nb, b
        cdef int64_t epoch = 0
        cdef int end = END_BUDGET
        cdef bint stop = False
        cdef bint whole = batch_size >= n_samples
        cdef object hist = self.history
        cdef object g_last = None
        cdef tuple head = (self.xview,)
        cdef tuple batch
        nb = (n_samples + batch_size - 1) // batch_size
        try:
            while max_epochs < 0 or epoch < max_epochs:
                if self.t >= max_iter:
                    break
                order = None if whole else order_fn(epoch)
                ep_sum = 0.0
                ep_cnt = 0
                for b in range(nb):
                    if self.t >= max_iter:
                        stop = True
                        break
                    PyErr_CheckSignals()
                    it = self.t + 1
                    if whole:
                        batch = data
                        s, e = 0, n_samples
                    else:
                        s = b * batch_size
                        e = min(s + batch_size, n_samples)
                        if order is None:
                            batch = tuple([a[s:e] for a in data])
                        else:
                            idx = order[s:e]
                            # one gather per array per batch (take is the cheapest
                            # ndarray gather; sparse matrices index rows)
                            batch = tuple([a.take(idx, 0) if type(a) is np.ndarray else a[idx]
                                           for a in data])
                    loss = self._evaluate(head + batch + args, &gb, it)
                    held = True
                    ep_sum += loss * <double>(e - s)
                    ep_cnt += e - s
                    if self.gtol >= 0.0 and self._grad_norm(&gb) <= self.gtol:
                        end = END_GTOL
                        g_last = self._copy_grad(&gb)
                        stop = True
                        break
                    self._update(&gb, it)
                    if self.t >= max_iter or b == nb - 1:
                        g_last = self._copy_grad(&gb)
                    PyBuffer_Release(&gb)
                    held = False
                    if self.callback is not None and self._call_callback(loss, epoch):
                        end = END_CALLBACK
                        stop = True
                        break
                if ep_cnt > 0:
                    last_epoch_loss = ep_sum / <double>ep_cnt
                    hist.append(last_epoch_loss)
                    epoch += 1
                if stop:
                    break
                # (the module compiles with wraparound=False: no negative indices)
                if (self.tol >= 0.0 and len(hist) >= 2
                        and fabs(<double>hist[len(hist) - 1] - <double>hist[len(hist) - 2])
                        <= self.tol):
                    end = END_TOL
                    break
        except KeyboardInterrupt as exc:
            self._interrupted(exc, self.t + 1)
            raise
        finally:
            if held:
                PyBuffer_Release(&gb)
        return end, last_epoch_loss, g_last, epoch
