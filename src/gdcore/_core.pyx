# cython: language_level=3
"""gdfast._core: the Cython binding of the C core (gdcore).

It checks buffers, releases the GIL around the C loops, and turns status codes
into Python exceptions. No numerics live here; validation of hyperparameters
lives in the Python layer (gdfast._optim), which calls in here once per job.
"""
from cpython.buffer cimport (PyObject_GetBuffer, PyBuffer_Release, PyBUF_WRITABLE,
                             PyBUF_FORMAT, PyBUF_C_CONTIGUOUS)
from cpython.mem cimport PyMem_Malloc, PyMem_Free
from libc.stdint cimport int64_t
from libc.string cimport strcmp, memset

from gdcore cimport *

import numpy as np

# Below this many elements in one step the GIL stays held: releasing and
# re-taking it (~100-200 ns) costs more than any other thread could gain
# from such a short C call (python-xxhash makes the same trade).
cdef int64_t GIL_RELEASE_MIN = 1 << 14

# register the fork handler now, before any user code can fork
gd_init_threads()

ISA_NAMES = tuple(gd_isa_name(i).decode() for i in range(GD_ISA_COUNT))


class GdCoreError(RuntimeError):
    """A status from the C core that the Python layer should have prevented."""


cdef int raise_status(int status, str what) except -1:
    if status == GD_OK:
        return 0
    msg = gd_status_message(status).decode()
    if status == GD_EINTERRUPT:
        raise KeyboardInterrupt(f"{what}: {msg}")
    if status == GD_ENONFINITE:
        raise FloatingPointError(f"{what}: {msg}")
    if status == GD_ENOMEM:
        raise MemoryError(f"{what}: {msg}")
    raise GdCoreError(f"{what}: {msg} (status {status})")


# ---- configuration ---------------------------------------------------------

def isa():
    """Name of the instruction-set variant the kernels run ("avx512", ...)."""
    return gd_isa_name(gd_active_isa()).decode()


def available_isas():
    """Variants this build compiled and this CPU can run, best last."""
    return tuple(gd_isa_name(i).decode() for i in range(GD_ISA_COUNT) if gd_isa_available(i))


def select_isa(name):
    """Force a variant by name; ValueError if this build or CPU lacks it."""
    if name not in ISA_NAMES:
        raise ValueError(f"isa must be one of {ISA_NAMES}, got {name!r}")
    cdef int i = ISA_NAMES.index(name)
    if gd_select_isa(i) != GD_OK:
        raise ValueError(f"isa {name!r} is not available on this CPU or build; "
                         f"available: {available_isas()}")


def set_num_threads(int n):
    return gd_set_num_threads(n)


def get_num_threads():
    return gd_get_num_threads()


def openmp_enabled():
    return bool(gd_openmp_enabled())


def get_parallel_min():
    """Bytes per array below which element-wise updates stay on one thread."""
    return gd_get_parallel_min()


def set_parallel_min(int64_t n):
    gd_set_parallel_min(n)


def compiler():
    return gd_compiler().decode()


# ---- the fused optimizer step ---------------------------------------------

cdef enum:
    KIND_F32 = 0
    KIND_F64 = 1


cdef inline int format_kind(const char *fmt) noexcept:
    # NumPy exports native float32/float64 as "f"/"d" (possibly prefixed "=" or "@")
    if fmt == NULL:
        return -1
    if fmt[0] == b'=' or fmt[0] == b'@':
        fmt += 1
    if fmt[0] == b'f' and fmt[1] == 0:
        return KIND_F32
    if fmt[0] == b'd' and fmt[1] == 0:
        return KIND_F64
    return -1


cdef class SGDKernel:
    """The C side of gdfast.SGD: the rule, the velocity buffers, the step count.

    Construct through gdfast.SGD, which validates everything first.
    """
    cdef gd_rule rule
    cdef readonly list _params
    cdef readonly object _velocity       # list of ndarrays, or None
    cdef readonly int64_t _t             # steps taken
    cdef readonly bint _first            # velocity holds no history yet
    cdef readonly bint _single           # constructed from one array
    cdef Py_ssize_t count
    cdef int *kinds
    cdef int64_t *sizes
    cdef void **vptr
    cdef Py_buffer *wbuf
    cdef Py_buffer *gbuf

    def __cinit__(self, *args, **kwargs):
        self.count = 0
        self.kinds = NULL
        self.sizes = NULL
        self.vptr = NULL
        self.wbuf = NULL
        self.gbuf = NULL
        memset(&self.rule, 0, sizeof(gd_rule))

    def __dealloc__(self):
        PyMem_Free(self.kinds)
        PyMem_Free(self.sizes)
        PyMem_Free(self.vptr)
        PyMem_Free(self.wbuf)
        PyMem_Free(self.gbuf)

    def _bind(self, list params, bint single):
        """Take the (already validated) parameter arrays."""
        cdef Py_ssize_t k, n = len(params)
        self._params = params
        self._single = single
        self.count = n
        self.kinds = <int *>PyMem_Malloc(max(n, 1) * sizeof(int))
        self.sizes = <int64_t *>PyMem_Malloc(max(n, 1) * sizeof(int64_t))
        self.vptr = <void **>PyMem_Malloc(max(n, 1) * sizeof(void *))
        self.wbuf = <Py_buffer *>PyMem_Malloc(max(n, 1) * sizeof(Py_buffer))
        self.gbuf = <Py_buffer *>PyMem_Malloc(max(n, 1) * sizeof(Py_buffer))
        if not (self.kinds and self.sizes and self.vptr and self.wbuf and self.gbuf):
            raise MemoryError()
        for k in range(n):
            p = params[k]
            self.kinds[k] = KIND_F32 if p.dtype == np.float32 else KIND_F64
            self.sizes[k] = p.size
            self.vptr[k] = NULL
        self._velocity = None
        self._t = 0
        self._first = True

    def _set_rule(self, double lr, double momentum, double dampening, double weight_decay,
                  bint nesterov, bint maximize, bint ema, bint debias):
        self.rule.lr = lr
        self.rule.momentum = momentum
        self.rule.dampening = dampening
        self.rule.weight_decay = weight_decay
        self.rule.nesterov = nesterov
        self.rule.maximize = maximize
        self.rule.ema = ema
        self.rule.debias = debias

    def _set_state(self, int64_t t, velocity, bint first):
        """Install step count and velocity (a list of arrays we own, or None)."""
        cdef Py_ssize_t k
        cdef Py_buffer vb
        if velocity is not None:
            for k in range(self.count):
                PyObject_GetBuffer(velocity[k], &vb, PyBUF_WRITABLE | PyBUF_C_CONTIGUOUS)
                # the arrays are private to this object and never resized,
                # so their data pointers stay valid while we hold them
                self.vptr[k] = vb.buf
                PyBuffer_Release(&vb)
        else:
            for k in range(self.count):
                self.vptr[k] = NULL
        self._velocity = velocity
        self._t = t
        self._first = first

    cdef int _ensure_velocity(self) except -1:
        if self._velocity is None:
            self._set_state(self._t, [np.zeros_like(p) for p in self._params], True)
        return 0

    cdef int _acquire(self, Py_ssize_t k, object g) except -1:
        """Get the buffers of param k and grad g and check that they match."""
        cdef Py_buffer *wb = &self.wbuf[k]
        cdef Py_buffer *gb = &self.gbuf[k]
        cdef int i
        p = self._params[k]
        try:
            PyObject_GetBuffer(p, wb, PyBUF_WRITABLE | PyBUF_FORMAT | PyBUF_C_CONTIGUOUS)
        except (BufferError, ValueError):
            raise ValueError(f"params[{k}] is no longer a writeable C-contiguous array "
                             "(was it made read-only after the optimizer was built?)") from None
        try:
            PyObject_GetBuffer(g, gb, PyBUF_FORMAT | PyBUF_C_CONTIGUOUS)
        except (BufferError, TypeError):
            PyBuffer_Release(wb)
            raise
        if (format_kind(gb.format) != self.kinds[k] or gb.ndim != wb.ndim):
            PyBuffer_Release(wb)
            PyBuffer_Release(gb)
            raise ValueError("mismatch")
        for i in range(wb.ndim):
            if gb.shape[i] != wb.shape[i]:
                PyBuffer_Release(wb)
                PyBuffer_Release(gb)
                raise ValueError("mismatch")
        return 0

    cdef int _run(self, Py_ssize_t nbuf) except -1:
        cdef Py_ssize_t k
        cdef int64_t total = 0
        cdef int status = GD_OK
        cdef int64_t t = self._t + 1
        cdef int first = self._first
        cdef gd_rule *r = &self.rule
        for k in range(nbuf):
            total += self.sizes[k]
        if total >= GIL_RELEASE_MIN:
            with nogil:
                for k in range(nbuf):
                    status = self._step_one(k, r, t, first)
                    if status != GD_OK:
                        break
        else:
            for k in range(nbuf):
                status = self._step_one(k, r, t, first)
                if status != GD_OK:
                    break
        for k in range(nbuf):
            PyBuffer_Release(&self.wbuf[k])
            PyBuffer_Release(&self.gbuf[k])
        raise_status(status, "SGD.step")
        self._t = t
        if self.count > 0 and self.vptr[0] != NULL:
            self._first = False
        return 0

    cdef inline int _step_one(self, Py_ssize_t k, gd_rule *r, int64_t t, int first) noexcept nogil:
        if self.kinds[k] == KIND_F32:
            return gd_sgd_step_f32(self.sizes[k], <float *>self.wbuf[k].buf,
                                   <const float *>self.gbuf[k].buf, <float *>self.vptr[k],
                                   r, t, first)
        return gd_sgd_step_f64(self.sizes[k], <double *>self.wbuf[k].buf,
                               <const double *>self.gbuf[k].buf, <double *>self.vptr[k],
                               r, t, first)

    def step(self, grads):
        """Apply one fused update to every parameter array, in place.

        grads has the structure of params: one array, or a list/tuple of arrays
        of the same shapes and dtypes. Raises TypeError/ValueError naming the
        offending gradient before anything is modified.
        """
        cdef Py_ssize_t k, n = self.count
        if self.rule.momentum != 0.0 and self._velocity is None:
            self._ensure_velocity()
        if self._single and n == 1 and not isinstance(grads, (list, tuple)):
            try:
                self._acquire(0, grads)
            except (BufferError, TypeError, ValueError):
                grads = self._fix_grad(0, grads, "grads")
                self._acquire(0, grads)
            return self._run(1)
        if not isinstance(grads, (list, tuple)):
            raise TypeError(f"grads must be a list or tuple of {n} arrays matching params, "
                            f"got {type(grads).__name__}")
        if len(grads) != n:
            raise ValueError(f"grads has {len(grads)} arrays but params has {n}")
        grads = list(grads)
        for k in range(n):
            try:
                self._acquire(k, grads[k])
            except (BufferError, TypeError, ValueError):
                # release what was taken, then explain (or repair a layout)
                for j in range(k):
                    PyBuffer_Release(&self.wbuf[j])
                    PyBuffer_Release(&self.gbuf[j])
                grads[k] = self._fix_grad(k, grads[k], f"grads[{k}]")
                for j in range(k + 1):
                    self._acquire(j, grads[j])
        return self._run(n)

    def _fix_grad(self, Py_ssize_t k, g, str name):
        """The slow path: explain a bad gradient, or make a contiguous copy of
        a strided one (never a dtype conversion)."""
        p = self._params[k]
        if not isinstance(g, np.ndarray):
            raise TypeError(f"{name} must be a numpy.ndarray, got {type(g).__name__}")
        if g.dtype != p.dtype:
            raise TypeError(f"{name} has dtype {g.dtype} but the parameter has dtype {p.dtype}; "
                            "gradients are never converted")
        if g.shape != p.shape:
            raise ValueError(f"{name} has shape {g.shape} but the parameter has shape {p.shape}")
        if not g.dtype.isnative:
            raise TypeError(f"{name} has non-native byte order")
        # a strided gradient is read-only input: one contiguous copy is harmless
        return np.ascontiguousarray(g)


# ---- gdfast.fit_linear (issue 3) and gdfast.minimize (issue 4) ----
include "_linear.pxi"
include "_minimize_loop.pxi"


def all_finite(a):
    """True when every element of a C-contiguous float32/float64 array is
    finite: one vectorised C pass (the active ISA), GIL released."""
    cdef Py_buffer view
    cdef int ok = 1
    cdef int kind
    PyObject_GetBuffer(a, &view, PyBUF_FORMAT | PyBUF_C_CONTIGUOUS)
    try:
        kind = format_kind(view.format)
        if kind < 0:
            raise TypeError(f"all_finite takes float32/float64 arrays, got {view.format!r}")
        if kind == KIND_F32:
            with nogil:
                ok = gd_all_finite_f32(view.len // 4, <const float *>view.buf)
        else:
            with nogil:
                ok = gd_all_finite_f64(view.len // 8, <const double *>view.buf)
    finally:
        PyBuffer_Release(&view)
    return bool(ok)
