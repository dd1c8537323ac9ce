"""gdfast.fit_linear: whole training loops for linear models in the C core."""
from __future__ import annotations

import math
import numbers
import sys
import time

import numpy as np

from . import _core
from ._validation import FLOAT_DTYPES, check_bool, check_int, check_real, check_rule

LOSSES = tuple(_core.LINEAR_LOSSES)
BINARY_LOSSES = ("log_loss", "hinge", "squared_hinge", "modified_huber", "perceptron")
REGRESSION_LOSSES = ("squared_error", "huber", "epsilon_insensitive",
                     "squared_epsilon_insensitive")
SCHEDULES = ("constant", "invscaling", "optimal", "adaptive")

_STATUS_NONFINITE = 3  # GD_ENONFINITE


class FitResult:
    """What :func:`fit_linear` returns.

    Attributes
    ----------
    coef : ndarray, (n_features,) for one output or (n_features, K) for K
    intercept : ndarray, (1,) or (K,)
        Both in X's dtype; the averaged weights when ``average`` is on and
        averaging has started.
    loss_history : ndarray of float64, (n_epochs,)
        The mean training objective of each epoch.
    n_epochs, n_updates : int
    converged : bool
        True when ``tol``/``n_iter_no_change`` (or the adaptive schedule's
        floor) ended training before the epoch budget.
    seconds : float
        Wall time of the training loop.
    """

    __slots__ = ("coef", "intercept", "loss_history", "n_epochs", "n_updates", "converged",
                 "seconds")

    def __init__(self, coef, intercept, loss_history, n_epochs, n_updates, converged, seconds):
        self.coef = coef
        self.intercept = intercept
        self.loss_history = loss_history
        self.n_epochs = int(n_epochs)
        self.n_updates = int(n_updates)
        self.converged = bool(converged)
        self.seconds = float(seconds)

    def __repr__(self):
        last = f"{self.loss_history[-1]:.6g}" if len(self.loss_history) else "n/a"
        return (f"FitResult(coef: {self.coef.shape} {self.coef.dtype}, intercept: "
                f"{np.array2string(self.intercept, precision=4, threshold=6)}, n_epochs="
                f"{self.n_epochs}, n_updates={self.n_updates}, converged={self.converged}, "
                f"final loss={last}, seconds={self.seconds:.4g})")


# ---- validation ----------------------------------------------------------------

def _all_finite(a):
    """One vectorised C pass over a float array (no temporaries, GIL released);
    anything else (integers, strided views) goes through NumPy."""
    if (isinstance(a, np.ndarray) and a.dtype in (np.float32, np.float64)
            and a.dtype.isnative and a.flags.c_contiguous):
        return _core.all_finite(a)
    if a.dtype.kind not in "fc":
        return True
    return bool(np.isfinite(a).all())


def _is_sparse(X):
    return hasattr(X, "tocsr") and hasattr(X, "nnz") and hasattr(X, "format")


def _check_X_kind(X):
    """dtype and shape of X, dense or sparse: float32/float64, 2-D, non-empty."""
    if X.dtype.kind != "f" or X.dtype.itemsize not in (4, 8):
        raise TypeError(f"X must have dtype float32 or float64, got {X.dtype} "
                        "(convert it explicitly; fit_linear never casts X)")
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D (n_samples, n_features), got shape {X.shape}")
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"X is empty (shape {X.shape}); need at least one sample and "
                         "one feature")


def _as_csr(X):
    """A SciPy sparse X as the C core takes it: CSR in X's own float dtype,
    canonical (sorted, no duplicates), int32 column indices, int64 row
    pointers. The caller's matrix is never modified."""
    _check_X_kind(X)
    if X.shape[1] >= 2 ** 31:
        raise ValueError(f"X has {X.shape[1]} columns; CSR input takes fewer than 2**31")
    X = X.tocsr()
    if not X.has_canonical_format:
        X = X.copy()
        X.sum_duplicates()
    return X


def _as_X(X):
    if _is_sparse(X):
        return _as_csr(X)
    if not isinstance(X, np.ndarray):
        X = np.asarray(X)
        if X.dtype.kind in "iub":
            X = X.astype(np.float64)
    _check_X_kind(X)
    if not X.dtype.isnative:
        X = X.astype(X.dtype.newbyteorder("="))
    # an F-ordered or strided X is copied once, in its own dtype
    return np.require(X, requirements=("C", "A"))


def _as_numeric(name, a, dtype):
    a = np.asarray(a)
    if a.dtype.kind not in "iufb":
        raise TypeError(f"{name} must be numeric, got dtype {a.dtype}")
    return np.array(a, dtype=dtype, order="C", copy=True)


def _prepare_y(y, loss, n, dtype):
    """y in X's dtype as the C loop wants it, and the output count K."""
    y_arr = np.asarray(y)
    if y_arr.dtype.kind not in "iufb":
        raise TypeError(f"y must be numeric, got dtype {y_arr.dtype}")
    if y_arr.ndim == 0 or y_arr.shape[0] != n:
        raise ValueError(f"y has shape {y_arr.shape} but X has {n} samples")
    if y_arr.ndim > 2 or (y_arr.ndim == 2 and loss != "squared_error"):
        raise ValueError(f"y must be 1-D for loss={loss!r}, got shape {y_arr.shape}"
                         + (" (only squared_error takes 2-D y)" if y_arr.ndim == 2 else ""))
    if y_arr.dtype.kind == "f" and not _all_finite(y_arr):
        raise ValueError("y contains NaN or infinity")
    if loss == "softmax":
        if y_arr.dtype.kind == "f" and not np.all(y_arr == np.round(y_arr)):
            raise ValueError("y must hold integer class ids 0..K-1 for loss='softmax', "
                             "got non-integer values")
        lo, hi = (int(y_arr.min()), int(y_arr.max()))
        if lo < 0:
            raise ValueError(f"y must hold class ids 0..K-1 for loss='softmax', got {lo}")
        K = hi + 1
        if K < 2:
            raise ValueError(f"loss='softmax' needs at least 2 classes, y's largest id is {hi}")
        if K > 2 ** 24 and dtype == np.float32:
            raise ValueError(f"{K} classes cannot be represented exactly in float32")
        return np.array(y_arr, dtype=dtype, order="C"), K, True
    if loss in BINARY_LOSSES:
        labels = set(np.unique(y_arr).tolist())
        if not (labels <= {-1, 1} or labels <= {0, 1}):
            shown = sorted(labels)[:6]
            raise ValueError(f"loss={loss!r} takes y in {{-1, +1}} or {{0, 1}}, got labels "
                             f"{shown}{' ...' if len(labels) > 6 else ''}")
        yy = np.array(y_arr, dtype=dtype, order="C")
        yy[yy == 0] = -1
        return yy, 1, False
    if y_arr.ndim == 2:
        if y_arr.shape[1] == 0:
            raise ValueError(f"y has shape {y_arr.shape}: no outputs")
        return np.array(y_arr, dtype=dtype, order="C"), y_arr.shape[1], True
    return np.array(y_arr, dtype=dtype, order="C"), 1, False


def _optimal_t0(loss, alpha, epsilon):
    """scikit-learn's t0 for the 'optimal' schedule: the first step size is
    eta0 = typw / max(1, dloss(-typw, 1)), typw = sqrt(1 / sqrt(alpha))."""
    from .reference.linear import loss_and_dloss
    typw = math.sqrt(1.0 / math.sqrt(alpha))
    base = "log_loss" if loss == "softmax" else loss
    _, g = loss_and_dloss(base, np.array([-typw]), np.array([1.0]), epsilon)
    eta0 = typw / max(1.0, float(g[0]))
    return 1.0 / (eta0 * alpha)


class _Problem:
    """Everything fit_linear and its NumPy twin need, validated and converted."""


def _prepare(X, y, *, loss, batch_size, epochs, lr, momentum, dampening, nesterov, ema,
             debias, schedule, power_t, alpha, l1_ratio, epsilon, fit_intercept, shuffle, seed,
             average, tol, n_iter_no_change, sample_weight, coef_init, intercept_init,
             callback, verbose, n_jobs, check_input=True, scan_X=True):
    """scan_X=False leaves X's NaN/inf check to the C loop (its first pass
    checks every row's prediction; see _run_c); the NumPy twin scans."""
    p = _Problem()
    if not isinstance(loss, str) or loss not in LOSSES:
        raise ValueError(f"Unknown loss: {loss!r}; choose one of {', '.join(LOSSES)}")
    p.loss = loss
    X = _as_X(X)
    n, d = X.shape
    dtype = X.dtype
    p.sparse = _is_sparse(X)
    if check_input and scan_X and not _all_finite(X.data if p.sparse else X):
        raise ValueError("X contains NaN or infinity")
    p.X, p.n, p.d, p.dtype = X, n, d, dtype
    p.Y, p.K, p.multi = _prepare_y(y, loss, n, dtype)

    if batch_size is None:
        p.batch_size = None
    else:
        p.batch_size = check_int("batch_size", batch_size, 1)
    p.full = p.batch_size is None or p.batch_size >= n
    p.B = n if p.full else p.batch_size
    p.epochs = check_int("epochs", epochs, 1)
    p.rule = check_rule(lr, momentum, dampening, nesterov, 0.0, False, ema, debias)

    p.alpha = check_real("alpha", alpha, low=0.0)
    p.l1_ratio = check_real("l1_ratio", l1_ratio, low=0.0, high=1.0)
    p.epsilon = check_real("epsilon", epsilon, low=0.0)
    p.power_t = check_real("power_t", power_t)
    if callable(schedule):
        p.schedule, p.schedule_fn = "callable", schedule
    elif isinstance(schedule, str) and schedule in SCHEDULES:
        p.schedule, p.schedule_fn = schedule, None
    else:
        raise ValueError(f"Unknown schedule: {schedule!r}; choose one of "
                         f"{', '.join(SCHEDULES)} or pass a callable epoch -> lr")
    if p.schedule == "optimal" and p.alpha <= 0.0:
        raise ValueError("schedule='optimal' needs alpha > 0 (its step size is "
                         f"1 / (alpha * (t0 + t))), got alpha={alpha!r}")
    p.optimal_t0 = _optimal_t0(loss, p.alpha, p.epsilon) if p.schedule == "optimal" else 0.0

    p.fit_intercept = check_bool("fit_intercept", fit_intercept)
    p.shuffle = check_bool("shuffle", shuffle)
    if seed is None:
        seed = np.random.SeedSequence().entropy & (2 ** 64 - 1)
    elif isinstance(seed, (bool, np.bool_)) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"seed must be None or an int, got {seed!r}")
    elif not 0 <= int(seed) < 2 ** 64:
        raise ValueError(f"Invalid seed: {seed!r} (must be in [0, 2**64))")
    p.seed = int(seed)

    if isinstance(average, (bool, np.bool_)):
        p.average = 1 if average else 0
    else:
        p.average = check_int("average", average, 0)
    if tol is None:
        p.tol = None
    else:
        p.tol = check_real("tol", tol, low=0.0)
    p.n_iter_no_change = check_int("n_iter_no_change", n_iter_no_change, 1)

    if sample_weight is None:
        p.S = None
    else:
        S = _as_numeric("sample_weight", sample_weight, dtype)
        if S.shape != (n,):
            raise ValueError(f"sample_weight has shape {S.shape} but X has {n} samples "
                             f"(expected ({n},))")
        if not _all_finite(S):
            raise ValueError("sample_weight contains NaN or infinity")
        if (S < 0).any():
            raise ValueError(f"sample_weight must be >= 0, got {float(S.min())!r}")
        p.S = S

    K = p.K
    coef_shape = (d, K) if p.multi else (d,)
    if coef_init is None:
        coefT = np.zeros((K, d), dtype=dtype)
    else:
        c = _as_numeric("coef_init", coef_init, dtype)
        if c.shape != coef_shape:
            raise ValueError(f"coef_init has shape {c.shape}, expected {coef_shape}")
        if not _all_finite(c):
            raise ValueError("coef_init contains NaN or infinity")
        coefT = np.ascontiguousarray(c.reshape(d, K).T)
    if intercept_init is None:
        intercept = np.zeros(K, dtype=dtype)
    else:
        b = _as_numeric("intercept_init", intercept_init, dtype).reshape(-1)
        if b.shape == (1,) and K > 1:
            b = np.repeat(b, K)
        if b.shape != (K,):
            raise ValueError(f"intercept_init has {b.size} values, expected {K}")
        if not _all_finite(b):
            raise ValueError("intercept_init contains NaN or infinity")
        intercept = b
    p.coefT, p.intercept, p.coef_shape = coefT, intercept, coef_shape

    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be callable or None, got {callback!r}")
    p.callback = callback
    if isinstance(verbose, (bool, np.bool_)):
        p.verbose = bool(verbose)
    else:
        p.verbose = check_int("verbose", verbose, 0) > 0
    if n_jobs is None:
        p.n_jobs = _core.get_num_threads()
    else:
        p.n_jobs = check_int("n_jobs", n_jobs, 1)
    return p


# ---- shared pieces of the loop (used by the C driver and the NumPy twin) --------

def _out_coef(p, coefT):
    """The (K, d) working weights in the public shape, as a new array."""
    return coefT.T.reshape(p.coef_shape).copy()


def _make_hooks(p, coefT, intercept):
    """The per-epoch Python work: the callable schedule (begin) and the
    callback / progress line (end). Either may be None."""
    begin = None
    if p.schedule_fn is not None:
        fn = p.schedule_fn

        def begin(epoch):
            lr = fn(epoch)
            if (isinstance(lr, (bool, np.bool_)) or not isinstance(lr, numbers.Real)
                    or not math.isfinite(float(lr)) or float(lr) < 0.0):
                raise ValueError(f"schedule({epoch}) returned {lr!r}; the learning rate must "
                                 "be a finite number >= 0")
            return float(lr)

    end = None
    if p.callback is not None or p.verbose:
        clock = {"last": time.perf_counter()}
        cb, verbose, n = p.callback, p.verbose, p.n

        def end(epoch, loss, lr, n_updates):
            if verbose:
                now = time.perf_counter()
                secs = now - clock["last"]
                clock["last"] = now
                rate = n / secs if secs > 0 else float("inf")
                print(f"epoch {epoch + 1}/{p.epochs}  loss {loss:.6g}  lr {lr:.4g}  "
                      f"{secs:.3f} s  {rate:.4g} samples/s", file=sys.stdout, flush=True)
            if cb is not None:
                return bool(cb(epoch, _out_coef(p, coefT), intercept.copy(), loss))
            return False
    return begin, end


def _nonfinite_error(p, epoch, coefT, intercept):
    err = FloatingPointError(
        f"non-finite loss or weights at epoch {epoch}: training diverged; scale X "
        f"(e.g. standardize the features) or lower lr (lr={p.rule['lr']!r})")
    err.epoch = int(epoch)
    err.coef = _out_coef(p, coefT)
    err.intercept = intercept.copy()
    return err


def fit_linear(X, y, loss="squared_error", batch_size=32, epochs=10, lr=0.01, momentum=0.0,
               dampening=0.0, nesterov=False, ema=False, debias=False, schedule="constant",
               power_t=0.25, alpha=0.0, l1_ratio=0.0, epsilon=0.1, fit_intercept=True,
               shuffle=True, seed=None, average=False, tol=None, n_iter_no_change=5,
               sample_weight=None, coef_init=None, intercept_init=None, callback=None,
               verbose=False, n_jobs=1, check_input=True):
    r"""Train a linear model by gradient descent, the whole loop in C.

    Minimises scikit-learn's SGD objective

    .. math::
        F(w, b) = \frac{1}{n}\sum_i s_i\, L(y_i,\ x_i^\top w + b)
                  + \alpha\Big(\frac{1-\rho}{2}\lVert w\rVert_2^2 + \rho \lVert w\rVert_1\Big)

    (:math:`s_i` = ``sample_weight``, :math:`\rho` = ``l1_ratio``) with one
    update per batch :math:`B` of consecutive rows of the epoch's order:

    .. math::
        g = \frac{1}{|B|}\sum_{i\in B} s_i\, \partial_p L(y_i, p_i)\, x_i,
        \qquad p_i = x_i^\top w + b \text{ at the weights before the update}

    then gdfast's rule (the one :class:`gdfast.SGD` runs, every momentum
    variant) with ``lr`` = the schedule's :math:`\eta_t` and
    ``weight_decay`` = :math:`\alpha(1-\rho)` on ``coef`` (the intercept gets
    its own velocity and no penalty). :math:`\partial_p L` is clipped to
    :math:`\pm 10^{12}` as scikit-learn does.

    ``batch_size=1`` is stochastic (per-sample) descent, ``batch_size=k``
    mini-batch (the last, shorter batch is used), ``batch_size=None`` (or
    ``>= n``) full batch: one fused pass over X per iteration, never shuffled.

    The L1 part: after each mini-batch or full-batch update the proximal
    soft-threshold :math:`w \leftarrow \mathrm{sign}(w)\max(|w| - \eta\alpha\rho, 0)`
    (exact zeros); per sample, scikit-learn's cumulative-penalty truncated
    gradient (Tsuruoka, Tsujii and Ananiadou, 2009). Per sample without
    momentum the L2 shrink is O(1) per update: the weights are kept as a
    scale times a vector (Bottou; scikit-learn's ``WeightVector``), the scale
    clamped at zero when :math:`\eta\alpha(1-\rho) > 1`.

    Parameters
    ----------
    X : ndarray (n_samples, n_features), float32 or float64, or SciPy sparse
        Never cast; an F-ordered or strided X is copied once. A sparse X goes
        to the core as CSR (never densified): per-sample updates cost O(nnz)
        per row (weight-scale L2, lazy cumulative L1 on the row's columns).
    y : ndarray
        (n,) targets; (n, k) for multi-output ``squared_error``; labels in
        {-1, +1} or {0, 1} for the binary losses (0 is mapped to -1); class
        ids 0..K-1 for ``softmax`` (K = max(y) + 1). Converted to X's dtype.
    loss : str
        ``squared_error`` (p-y)^2/2, ``huber`` (``epsilon``),
        ``epsilon_insensitive`` max(0, |y-p|-epsilon),
        ``squared_epsilon_insensitive`` max(0, |y-p|-epsilon)^2,
        ``log_loss`` log(1+exp(-yp)), ``hinge`` max(0, 1-yp),
        ``squared_hinge`` max(0, 1-yp)^2, ``modified_huber``,
        ``perceptron`` max(0, -yp), ``softmax`` logsumexp(p) - p_y with
        ``coef`` of shape (n_features, K).
    batch_size : int >= 1 or None
    epochs : int >= 1
    lr, momentum, dampening, nesterov, ema, debias
        The update rule, as in :class:`gdfast.SGD`.
    schedule : str or callable
        With t = 1, 2, ... counting updates across epochs: ``constant``
        :math:`\eta=` lr; ``invscaling`` lr / t**power_t; ``optimal``
        1 / (alpha (t0 + t - 1)) with scikit-learn's t0 (needs alpha > 0);
        ``adaptive`` lr until ``n_iter_no_change`` epochs in a row fail to
        improve the epoch loss by ``tol`` (0 when None), then lr / 5, ending
        training (converged) once it falls below 1e-6; or a callable
        ``epoch -> lr`` (epoch from 0), called once per epoch.
    alpha, l1_ratio : float
        Elastic-net penalty on coef (never on the intercept).
    epsilon : float
        For huber and the epsilon-insensitive losses.
    fit_intercept, shuffle : bool
        ``shuffle=False`` visits rows in storage order; ``shuffle=True`` in a
        fresh pseudorandom permutation each epoch, a pure function of
        (``seed``, epoch) (``gdfast.reference.shuffle_order``).
    seed : int in [0, 2**64) or None
        The epoch orders are a pure function of (seed, epoch): the same seed
        gives bit-identical results, for any ``n_jobs``. None draws one.
    average : bool or int
        Averaged SGD: the result is the mean of the iterates from update
        ``average`` on (True = 1), scikit-learn's ASGD. Per sample over CSR
        rows the mean is kept lazily (two scalars and a vector, Xu 2011), so
        a row still costs O(its stored values), not O(n_features).
    tol, n_iter_no_change
        Stop (``converged=True``) when ``n_iter_no_change`` epochs in a row
        have loss > best loss - tol. ``tol=None`` never stops early.
    sample_weight : ndarray (n,), non-negative, or None
    coef_init, intercept_init : initial weights (copied), shapes as the result's
    callback : callable(epoch, coef, intercept, loss) or None
        Called after every epoch with copies of the current (not averaged)
        weights; a true return value ends training.
    verbose : bool
        Print one line per epoch: epoch, loss, lr, seconds, samples/s.
    n_jobs : int >= 1 or None
        Threads for the mini-batch and full-batch gradients (None: gdfast's
        thread count). Per-sample training is sequential.
    check_input : bool
        Accepted for compatibility with :func:`gdfast.reference.fit_linear`
        (where False skips its up-front scan of X). Here X is always checked,
        at no extra cost and without a separate pass: the first epoch stops at
        the first row whose prediction :math:`x_i^\top w + b` is NaN/inf (a
        NaN or infinity in :math:`x_i` always reaches it), and that row is
        then inspected: if it holds a NaN/inf, ValueError; otherwise the
        weights diverged, FloatingPointError. y, sample_weight and the initial
        weights are always scanned up front.

    Returns
    -------
    FitResult
        ``coef``, ``intercept`` (X's dtype), ``loss_history`` (float64, the
        mean objective of each epoch, each sample's loss at the weights before
        the update that used it, plus the penalty at the epoch's end),
        ``n_epochs``, ``n_updates``, ``converged``, ``seconds``.

    Raises
    ------
    TypeError
        X not float32/float64 (dense or SciPy sparse), non-numeric y, a hyperparameter of
        the wrong type, a non-callable callback.
    ValueError
        X not 2-D or empty; NaN/inf in X (the message names a row holding
        one), y, sample_weight or the initial weights; shape mismatches; y of the wrong shape or labels outside the
        loss's set; unknown loss or schedule; batch_size < 1; epochs < 1; bad
        rule hyperparameters (see :class:`gdfast.SGD`); schedule='optimal'
        without alpha > 0; negative sample weights; a callable schedule
        returning a negative or non-finite lr.
    FloatingPointError
        The loss or the weights became non-finite. It names the epoch and
        carries ``.epoch`` and ``.coef``/``.intercept``, the weights at that
        epoch's start (the last finite ones).
    KeyboardInterrupt
        Ctrl-C during training (answered within about a millisecond of work).
    """
    p = _prepare(X, y, loss=loss, batch_size=batch_size, epochs=epochs, lr=lr,
                 momentum=momentum, dampening=dampening, nesterov=nesterov, ema=ema,
                 debias=debias, schedule=schedule, power_t=power_t, alpha=alpha,
                 l1_ratio=l1_ratio, epsilon=epsilon, fit_intercept=fit_intercept,
                 shuffle=shuffle, seed=seed, average=average, tol=tol,
                 n_iter_no_change=n_iter_no_change, sample_weight=sample_weight,
                 coef_init=coef_init, intercept_init=intercept_init, callback=callback,
                 verbose=verbose, n_jobs=n_jobs, check_input=check_input, scan_X=False)
    return _run_c(p)


def _run_core(p, X_values, coefT, intercept, avg_coef, avg_int, history, begin, end, csr):
    r = p.rule
    return _core.fit_linear(
        X_values, p.Y, p.S, coefT, intercept, avg_coef, avg_int, history,
        loss=_core.LINEAR_LOSSES[p.loss], epsilon=p.epsilon,
        batch_size=0 if p.full else p.B, epochs=p.epochs, lr=r["lr"],
        momentum=r["momentum"], dampening=r["dampening"], nesterov=r["nesterov"],
        ema=r["ema"], debias=r["debias"], schedule=_core.LINEAR_SCHEDULES[p.schedule],
        power_t=p.power_t, optimal_t0=p.optimal_t0, alpha=p.alpha, l1_ratio=p.l1_ratio,
        fit_intercept=p.fit_intercept, shuffle=p.shuffle, seed=p.seed, average=p.average,
        use_tol=p.tol is not None, tol=0.0 if p.tol is None else p.tol,
        n_iter_no_change=p.n_iter_no_change, n_threads=p.n_jobs, begin=begin, end=end, **csr)


def _explain_bad_csr(indptr, indices, d):
    """The C core's CSR check failed: say what is wrong with X (SciPy does
    not check a CSR matrix's column indices against its shape)."""
    if indices.size and (indices.min() < 0 or indices.max() >= d):
        bad = indices[(indices < 0) | (indices >= d)][0]
        raise ValueError(f"X (CSR) has a column index out of range: {bad} is not in [0, {d})")
    if indptr[0] != 0 or np.any(np.diff(indptr) < 0):
        raise ValueError("X (CSR) has invalid row pointers (indptr must rise from 0)")


def _run_c(p):
    coefT, intercept = p.coefT, p.intercept
    avg_coef = avg_int = None
    if p.average > 0:
        avg_coef = np.zeros_like(coefT)
        avg_int = np.zeros_like(intercept)
    history = np.zeros(p.epochs, dtype=np.float64)
    begin, end = _make_hooks(p, coefT, intercept)
    if p.sparse:
        Xc = p.X
        X_values = np.ascontiguousarray(Xc.data)
        csr = dict(indptr=np.ascontiguousarray(Xc.indptr, dtype=np.int64),
                   indices=np.ascontiguousarray(Xc.indices, dtype=np.int32), n_features=p.d)
    else:
        X_values, csr = p.X, {}
    start = time.perf_counter()
    try:
        out = _run_core(p, X_values, coefT, intercept, avg_coef, avg_int, history, begin, end,
                        csr)
    except _core.GdCoreError:
        if p.sparse:
            _explain_bad_csr(csr["indptr"], csr["indices"], p.d)
        raise
    status, n_epochs, n_updates, converged, averaged, _, bad_row = out
    seconds = time.perf_counter() - start
    if status == _STATUS_NONFINITE:
        # the loop stops at the first row whose prediction is NaN/inf: either
        # that row of X holds a NaN/inf (an input error; nothing the caller
        # passed was modified) or the weights diverged
        row = p.X[bad_row].toarray() if p.sparse and bad_row >= 0 else None
        if bad_row >= 0 and not _all_finite(row if p.sparse else p.X[bad_row]):
            raise ValueError(f"X contains NaN or infinity (row {bad_row})")
        raise _nonfinite_error(p, n_epochs, coefT, intercept)
    if averaged:
        coefT, intercept = avg_coef, avg_int
    return FitResult(_out_coef(p, coefT), intercept.copy(), history[:n_epochs].copy(),
                     n_epochs, n_updates, converged, seconds)
