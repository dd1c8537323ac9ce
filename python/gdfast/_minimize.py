"""gdfast.minimize: custom objectives through Python callables, the update in C."""
from __future__ import annotations

import inspect
import math
import numbers

import numpy as np

from . import _core
from ._shuffle import resolve_seed
from ._validation import FLOAT_DTYPES, check_bool, check_int, check_real, check_rule

_SCHEDULES = ("constant", "invscaling")
_INT64_MAX = (1 << 63) - 1
_END_BUDGET, _END_TOL, _END_GTOL, _END_CALLBACK = range(4)


class _FallbackOptimizeResult(dict):
    """scipy.optimize.OptimizeResult's interface, for when SciPy is absent:
    a dict whose keys are also attributes."""

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError as exc:
            raise AttributeError(name) from exc

    __setattr__ = dict.__setitem__
    __delattr__ = dict.__delitem__

    def __dir__(self):
        return list(self.keys())

    def __repr__(self):
        if not self:
            return f"{type(self).__name__}()"
        width = max(len(k) for k in self) + 1
        return "\n".join(f"{k.rjust(width)}: {v!r}" for k, v in self.items())


def _result_type():
    try:
        from scipy.optimize import OptimizeResult
    except ImportError:
        return _FallbackOptimizeResult
    return OptimizeResult


def _name(f, role):
    name = getattr(f, "__qualname__", None) or getattr(f, "__name__", None) or type(f).__name__
    return f"{role} ({name})"


# ---- the slow paths the compiled loop falls back to (they raise, or repair) ----

def _explain_grad(g, x, who, it):
    """Explain why ``g`` cannot be x's gradient, or return a C-contiguous copy
    of a valid but strided one (never a dtype conversion)."""
    where = f"at iteration {it}"
    if isinstance(g, np.generic):
        g = np.asarray(g)
    if not isinstance(g, np.ndarray):
        raise TypeError(f"{who} must return the gradient as a numpy.ndarray of shape {x.shape} "
                        f"and dtype {x.dtype}; {where} it returned {type(g).__name__}")
    if g.shape != x.shape:
        raise ValueError(f"{who} returned a gradient of shape {g.shape} {where}, but x has "
                         f"shape {x.shape}")
    if g.dtype != x.dtype:
        raise TypeError(f"{who} returned a gradient of dtype {g.dtype} and shape {g.shape} "
                        f"{where}, but x has dtype {x.dtype} and shape {x.shape}; gradients "
                        "are never converted")
    if not g.dtype.isnative:
        raise TypeError(f"{who} returned a gradient with non-native byte order ({g.dtype.str}) "
                        f"{where}")
    return np.ascontiguousarray(g)


def _explain_loss(obj, who, it, x, pair):
    """With pair=True, split fun's result into (loss, grad) or explain why it
    cannot be; with pair=False, return the loss as a float or explain."""
    where = f"at iteration {it}"
    if pair:
        if isinstance(obj, (tuple, list)) and len(obj) == 2:
            return obj[0], obj[1]
        got = (f"a {type(obj).__name__} of length {len(obj)}"
               if isinstance(obj, (tuple, list)) else type(obj).__name__)
        raise TypeError(f"with jac=True, {who} must return (loss, gradient); {where} it "
                        f"returned {got} (x has shape {x.shape})")
    if isinstance(obj, (bool, np.bool_)):
        raise TypeError(f"{who} returned a bool as the loss {where}; it must be a real scalar")
    if isinstance(obj, np.ndarray):
        if obj.ndim != 0:
            raise ValueError(f"{who} must return a scalar loss; {where} it returned an array of "
                             f"shape {obj.shape} (x has shape {x.shape})")
        if obj.dtype.kind not in "fiu":
            raise TypeError(f"{who} returned a loss of dtype {obj.dtype} {where}; it must be real")
        return float(obj)
    if isinstance(obj, numbers.Real):
        return float(obj)
    raise TypeError(f"{who} must return a real scalar loss; {where} it returned "
                    f"{type(obj).__name__}")


def _explain_lr(obj, t):
    if isinstance(obj, (bool, np.bool_)) or not isinstance(obj, numbers.Real):
        raise TypeError(f"lr(t) must return a real number; lr({t}) returned {obj!r}")
    v = float(obj)
    if not math.isfinite(v) or v < 0.0:
        raise ValueError(f"Invalid learning rate: lr({t}) returned {obj!r} (must be finite "
                         "and >= 0)")
    return v


# ---- argument checks ----------------------------------------------------------

def _check_x0(x0):
    if isinstance(x0, np.ndarray):
        dt = x0.dtype
        if dt.kind == "f" and dt.newbyteorder("=") in FLOAT_DTYPES:
            dt = dt.newbyteorder("=")
        else:
            raise TypeError(f"x0 must have dtype float32 or float64 (it is never converted), "
                            f"got {x0.dtype}")
        x = np.array(x0, dtype=dt, order="C", copy=True)
    else:
        a = np.asarray(x0)
        if a.dtype in FLOAT_DTYPES:
            x = np.array(a, dtype=a.dtype, order="C", copy=True)
        elif a.dtype.kind in "iu":
            # Python numbers and integer lists become float64, as in scipy.optimize
            x = np.array(a, dtype=np.float64, order="C", copy=True)
        else:
            raise TypeError(f"x0 must be a float32 or float64 array (or numbers), got "
                            f"{type(x0).__name__} of dtype {a.dtype}")
    if x.size == 0:
        raise ValueError(f"x0 is empty (shape {x.shape}); there is nothing to minimize")
    if not np.isfinite(x).all():
        raise ValueError("x0 contains NaN or infinite values")
    return x


def _check_data(data):
    if isinstance(data, np.ndarray) or not isinstance(data, (tuple, list)):
        data = (data,)
    if len(data) == 0:
        raise ValueError("data is empty; pass data=(X, y, ...) or data=None")
    out = []
    for i, a in enumerate(data):
        if _is_sparse(a):
            a = a.tocsr()
        else:
            if not isinstance(a, np.ndarray):
                a = np.asarray(a)
            if a.dtype == object:
                raise TypeError(f"data[{i}] must be a numeric array, got dtype object")
        if a.ndim < 1:
            raise ValueError(f"data[{i}] must have at least one dimension (the samples), "
                             f"got shape {a.shape}")
        out.append(a)
    n = out[0].shape[0]
    for i, a in enumerate(out):
        if a.shape[0] != n:
            raise ValueError(f"data arrays must share their first axis: data[0] has {n} rows "
                             f"but data[{i}] has {a.shape[0]}")
    if n == 0:
        raise ValueError("data has no samples (first axis of length 0)")
    return tuple(out), n


def _is_sparse(a):
    try:
        import scipy.sparse as sp
    except ImportError:
        return False
    return sp.issparse(a)


def _check_tol(name, value):
    if value is None:
        return -1.0
    return check_real(name, value, low=0.0)


def _callback_style(callback):
    # scipy's rule (optimize._optimize._wrap_callback): a callback whose only
    # parameter is named intermediate_result gets the OptimizeResult, any
    # other gets a copy of x
    try:
        params = set(inspect.signature(callback).parameters)
    except (TypeError, ValueError):
        return "x"
    return "result" if params == {"intermediate_result"} else "x"


def minimize(fun, x0, args=(), jac=True, data=None, batch_size=None, epochs=None,
             max_iter=1000, lr=0.01, momentum=0.0, dampening=0.0, nesterov=False,
             weight_decay=0.0, maximize=False, ema=False, debias=False, schedule="constant",
             power_t=0.25, shuffle=True, seed=None, tol=None, gtol=None, callback=None):
    r"""Minimize a function given by Python callables with gradient descent in C.

    SciPy's calling convention: with ``jac=True``, ``fun(x, *args)`` returns
    ``(loss, grad)``; with a callable ``jac``, ``fun(x, *args)`` returns the
    loss and ``jac(x, *args)`` the gradient. With ``data=(X, y, ...)`` the
    callables are called once per batch as ``fun(x, X_b, y_b, ..., *args)``.

    Each iteration evaluates the gradient :math:`g_k` at :math:`x_k` and makes
    one update with the rule of :class:`gdfast.SGD` (``ema=False`` is exactly
    ``torch.optim.SGD``):

    .. math::
        g &\leftarrow -g \text{ if maximize}, \qquad g \leftarrow g + \lambda x_k \\
        v_k &= g \text{ at the first step}, \quad
               v_k = \mu v_{k-1} + (1 - \tau) g \text{ after it} \\
        u_k &= g + \mu v_k \text{ if nesterov else } v_k \\
        x_{k+1} &= x_k - \gamma_k u_k

    and with ``ema=True``: :math:`v_k = \mu v_{k-1} + (1-\mu) g` from
    :math:`v_0 = 0`, :math:`c_k = 1 - \mu^k` if ``debias`` else 1,
    :math:`u_k = \mu v_k / c_k + (1-\mu) g` if ``nesterov`` else :math:`v_k / c_k`.
    The step size is :math:`\gamma_k` = ``lr`` (``schedule="constant"``),
    ``lr / k**power_t`` (``"invscaling"``), or ``lr(k)`` for a callable ``lr``,
    with :math:`k = 1, 2, \ldots` counting updates.

    Parameters
    ----------
    fun : callable
        ``fun(x, *batch, *args) -> (loss, grad)`` (``jac=True``) or ``-> loss``.
        ``loss`` is a real scalar (Python or NumPy float, or a 0-d array);
        ``grad`` an ndarray of x's shape and dtype (never converted).
        ``x`` is a *read-only view* of the optimizer's working array: it is
        updated in place between calls (copy it to keep it). Handing the same
        view every time costs nothing per iteration and keeps the callables
        from corrupting the optimizer's state.
    x0 : array_like
        The start, of any shape; float32 and float64 are kept (numbers and
        integer lists become float64). Never modified: the run works on a copy.
    args : tuple
        Extra arguments passed after the batch (a non-tuple becomes ``(args,)``).
    jac : True or callable
        ``True``: ``fun`` returns the gradient too. Finite differences are not
        offered.
    data : tuple of arrays, optional
        ``(X, y, ...)``, arrays (or SciPy sparse matrices) sharing their first
        axis. Without shuffling the batches are contiguous row views; with it,
        each batch is one gather (``take``) per array in the epoch's order
        (the same order as :func:`gdfast.fit_linear` for a given seed).
    batch_size : int or None
        ``1`` per-sample, ``k`` mini-batches (the last, shorter batch is
        used), ``None`` the full data each iteration. Needs ``data``.
    epochs : int or None
        With ``data``, the most passes over it. ``max_iter`` also bounds the
        run; whichever ends first ends it. ``max_iter=None`` leaves only
        ``epochs``.
    max_iter : int or None
        The most updates (``0`` only evaluates ``x0``).
    lr : float or callable
        The step size, or ``lr(k) -> float`` for ``k = 1, 2, ...``.
    momentum, dampening, nesterov, weight_decay, maximize, ema, debias
        The update rule of :class:`gdfast.SGD`.
    schedule : {"constant", "invscaling"}
        With a numeric ``lr``; ``power_t`` is the invscaling exponent.
    shuffle : bool
        With ``data`` and batches smaller than the data: shuffle each epoch.
    seed : int or None
        The shuffle seed in [0, 2**64); None draws one from the OS.
    tol : float or None
        Stop (success) when the loss changes by at most ``tol`` between two
        iterations (without data), or the epoch loss between two epochs.
    gtol : float or None
        Stop (success) when the gradient's 2-norm is at most ``gtol`` (the
        batch gradient, with data); x is then not updated with it.
    callback : callable, optional
        Called after every update. As in SciPy, a callback whose one parameter
        is named ``intermediate_result`` gets an OptimizeResult with ``x`` (a
        copy), ``fun``, ``nit``, ``nfev``, ``njev`` (and ``epoch`` with data);
        any other callback gets a copy of x. Without data ``fun`` is the loss
        at that x (the evaluation the next iteration needs anyway); with data
        it is the loss of the batch the update used, at the x before it.
        Raising ``StopIteration`` ends the run with ``success=True``.

    Returns
    -------
    res : scipy.optimize.OptimizeResult
        (or an equivalent dict with attributes when SciPy is not installed)

        - ``x``: the solution, x0's shape and dtype.
        - ``fun``: without data, the loss at ``x`` (the run's last evaluation,
          counted in ``nfev``); with data, the mean batch loss of the last
          (possibly partial) epoch, batches weighted by their size.
        - ``jac``: without data, the gradient at ``x``; with data, the last
          batch's gradient.
        - ``nit`` (updates made), ``nfev``, ``njev`` (calls of fun and of the
          gradient; with ``jac=True`` they are equal).
        - ``success``: False only when a requested ``tol``/``gtol`` was not
          met before the budget ran out; ``status``: 0 success, 1 budget
          exhausted before the tolerance, 99 the callback raised
          StopIteration (success True); ``message`` says which.
        - ``loss_history``: float64 array; without data the loss at
          :math:`x_0, x_1, \ldots, x_{nit}` (its last entry is ``fun``); with
          data one entry per epoch (the size-weighted mean of the batch
          losses, each taken at the x before its update).
        - ``n_epochs`` (with data): epochs begun (the last may be partial).

    Raises
    ------
    TypeError
        ``fun``/``jac``/``callback``/``lr`` of the wrong kind, ``x0`` or a
        data array of an unsupported dtype, a non-integer count; during the
        run, a gradient of the wrong type or dtype, a non-real loss, a ``fun``
        that does not return ``(loss, grad)`` with ``jac=True``, each naming
        the callable, the iteration and the shapes.
    ValueError
        The rule's bad values (as :class:`gdfast.SGD`), a bad schedule,
        ``power_t``, ``tol``, ``gtol``, seed or count, an empty or non-finite
        ``x0``, data arrays of different lengths, ``batch_size``/``epochs``
        without data, no bound on the run; during the run, a gradient of the
        wrong shape or a non-scalar loss (naming callable, iteration, shapes),
        or a callable ``lr`` returning a negative or non-finite value.
    FloatingPointError
        A non-finite loss or gradient, or an update that overflows; it names
        the iteration, and carries ``.x`` (the last finite x, which the
        update never spoiled) and ``.iteration``.
    KeyboardInterrupt
        Ctrl-C stops between calls; the exception carries ``.x`` (a copy of
        the x reached, consistent) and ``.iteration``.

    Any exception raised by ``fun``, ``jac``, ``lr`` or ``callback`` (other
    than the callback's StopIteration) propagates unchanged.

    Notes
    -----
    Iteration ``i`` (1-based, as errors name it) evaluates the callables at
    the x reached after ``i - 1`` updates.
    """
    if not callable(fun):
        raise TypeError(f"fun must be callable, got {type(fun).__name__}")
    if jac is True:
        jac_is_fun, jac_fn = True, None
    elif callable(jac):
        jac_is_fun, jac_fn = False, jac
    else:
        raise ValueError(f"jac must be True (fun returns (loss, grad)) or a callable returning "
                         f"the gradient, got {jac!r}; gdfast.minimize does not estimate "
                         "gradients by finite differences")
    if not isinstance(args, tuple):
        args = (args,)
    x = _check_x0(x0)

    lr_fn = None
    if callable(lr):
        lr_fn, lr_value = lr, 0.0
        sched = 2
    else:
        lr_value = lr
        sched = None
    rule = check_rule(lr_value, momentum, dampening, nesterov, weight_decay, maximize, ema,
                      debias)
    if not isinstance(schedule, str) or schedule not in _SCHEDULES:
        raise ValueError(f"Invalid schedule: {schedule!r} (must be one of {_SCHEDULES})")
    power_t = check_real("power_t", power_t)
    if sched is None:
        sched = 0 if schedule == "constant" else 1
    elif schedule != "constant":
        raise ValueError(f"schedule={schedule!r} cannot be combined with a callable lr "
                         "(the callable is the schedule)")
    tol_v = _check_tol("tol", tol)
    gtol_v = _check_tol("gtol", gtol)
    shuffle = check_bool("shuffle", shuffle)
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be callable or None, got {type(callback).__name__}")
    max_iter = check_int("max_iter", max_iter, 0, allow_none=True)
    epochs = check_int("epochs", epochs, 1, allow_none=True)
    batch_size = check_int("batch_size", batch_size, 1, allow_none=True)

    if data is None:
        if epochs is not None:
            raise ValueError(f"epochs={epochs!r} needs data; without data use max_iter")
        if batch_size is not None:
            raise ValueError(f"batch_size={batch_size!r} needs data=(X, y, ...)")
        if max_iter is None:
            raise ValueError("max_iter=None needs data and epochs to bound the run")
        seed_v = None
    else:
        data, n_samples = _check_data(data)
        if max_iter is None and epochs is None:
            raise ValueError("max_iter=None and epochs=None leave the run unbounded; set one")
        seed_v = resolve_seed(seed)

    result_type = _result_type()
    loop = _core.MinimizeLoop(
        x, fun, jac_fn, jac_is_fun, _name(fun, "fun"),
        _name(fun, "fun") if jac_is_fun else _name(jac, "jac"),
        rule["lr"], lr_fn, sched, power_t, rule["momentum"], rule["dampening"],
        rule["weight_decay"], rule["nesterov"], rule["maximize"], rule["ema"], rule["debias"],
        tol_v, gtol_v, callback, _callback_style(callback) if callback else None, result_type,
        _explain_grad, _explain_loss, _explain_lr)

    extra = {}
    if data is None:
        end, fun_x, jac_x = loop.run_plain(args, max_iter)
        budget_name = f"max_iter={max_iter}"
    else:
        bs = n_samples if batch_size is None else min(batch_size, n_samples)
        if shuffle:
            def order_fn(epoch):
                return _core.shuffle_order(n_samples, seed_v, epoch)
        else:
            def order_fn(epoch):
                return None
        mi = _INT64_MAX if max_iter is None else max_iter
        end, fun_x, jac_x, n_epochs = loop.run_data(data, args, n_samples, bs, mi,
                                                    -1 if epochs is None else epochs, order_fn)
        extra["n_epochs"] = n_epochs
        budget_name = (f"max_iter={max_iter}" if max_iter is not None and loop.nit >= max_iter
                       else f"epochs={epochs}")

    requested = [name for name, v in (("tol", tol_v), ("gtol", gtol_v)) if v >= 0.0]
    if end == _END_TOL:
        status, success = 0, True
        message = (f"The {'epoch ' if data is not None else ''}loss changed by at most "
                   f"tol={tol!r}")
    elif end == _END_GTOL:
        status, success = 0, True
        message = f"The gradient norm fell to gtol={gtol!r} or below"
    elif end == _END_CALLBACK:
        status, success = 99, True
        message = "`callback` raised `StopIteration`."
    elif requested:
        status, success = 1, False
        message = (f"The budget ({budget_name}) ran out before "
                   f"{' or '.join(requested)} was met")
    else:
        status, success = 0, True
        message = f"Completed the budget ({budget_name})"

    return result_type(x=x, fun=float(fun_x), jac=jac_x, nit=int(loop.nit),
                       nfev=int(loop.nfev), njev=int(loop.njev), success=success,
                       status=status, message=message,
                       loss_history=np.asarray(loop.history, dtype=np.float64), **extra)
