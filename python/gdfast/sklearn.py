"""scikit-learn drop-in estimators whose training loops run in gdfast's C core.

    from gdfast.sklearn import SGDClassifier, SGDRegressor

They are subclasses of scikit-learn's ``SGDClassifier`` / ``SGDRegressor``
with the same parameters, defaults, attributes and prediction methods; only
the training (the epochs over the data) is replaced: it runs in gdfast's C
loops (``gdfast._core.fit_linear``) with the GIL released. They add

- ``batch_size`` (default 1, scikit-learn's per-sample updates; ``k`` for
  mini-batches of k rows, ``None`` for full batch), and
- ``momentum``, ``nesterov``, ``ema``: gdfast's update rule (DESIGN.md).

The objective is scikit-learn's, with the class and sample weights as
per-sample multipliers ``s_i``:

    (1/n) sum_i s_i L(y_i, x_i.w + b) + alpha ((1 - l1_ratio)/2 ||w||^2 + l1_ratio ||w||_1)

per-sample updates are scikit-learn's (weight-scale L2 shrink, cumulative
truncated-gradient L1, averaged SGD), mini-/full-batch updates take the mean
gradient of the batch and a proximal L1 step. SciPy CSR input goes to the C
core as CSR (O(nnz) per-sample updates).

Differences from scikit-learn, on purpose:

- the epoch order comes from gdfast's shuffle (a pure function of the seed
  drawn from ``random_state``), so results equal scikit-learn's only with
  ``shuffle=False``;
- sparse input gets no intercept damping (scikit-learn multiplies the
  intercept's updates by 0.01 for sparse X), so the sparse and dense paths
  give the same model;
- the ``tol`` test compares the epoch's mean sample-weighted loss plus the
  penalty at the epoch's end (scikit-learn: unweighted loss plus the running
  penalty);
- ``t_`` is 1 + the number of updates actually made (scikit-learn adds
  ``n_iter_ * n_samples``, counting the validation rows too).

Needs scikit-learn (``pip install gdfast[sklearn]``); ``import gdfast`` does not.
"""
from __future__ import annotations

import copy
import functools
import math
import os
import warnings
from concurrent.futures import ThreadPoolExecutor
from numbers import Integral, Real

import numpy as np

try:
    import scipy.sparse as _sp
    from sklearn.linear_model import SGDClassifier as _SkSGDClassifier
    from sklearn.linear_model import SGDRegressor as _SkSGDRegressor
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.utils import check_random_state, compute_class_weight
    from sklearn.utils._param_validation import Interval
    from sklearn.utils.multiclass import _check_partial_fit_first_call
    from sklearn.utils.validation import _check_sample_weight, check_array, validate_data
except ImportError as exc:  # pragma: no cover - exercised only without sklearn
    raise ImportError("gdfast.sklearn needs scikit-learn: pip install 'gdfast[sklearn]'") from exc

from . import _core
from ._validation import check_rule

__all__ = ["SGDClassifier", "SGDRegressor"]

_MAX_INT = np.iinfo(np.int32).max
_STATUS_NONFINITE = 3  # GD_ENONFINITE
# loss names of scikit-learn's SGD -> the C core's; perceptron is hinge at 0
_LOSSES = ("squared_error", "huber", "epsilon_insensitive", "squared_epsilon_insensitive",
           "log_loss", "hinge", "squared_hinge", "modified_huber", "perceptron")

_GD_CONSTRAINTS = {
    "momentum": [Interval(Real, 0, 1, closed="left")],
    "nesterov": ["boolean"],
    "ema": ["boolean"],
    "batch_size": [Interval(Integral, 1, None, closed="left"), None],
}


class DivergenceError(ValueError, FloatingPointError):
    """Training produced a non-finite loss or weight.

    A ``ValueError`` with scikit-learn's message (what scikit-learn's SGD
    raises) and a ``FloatingPointError`` (what gdfast raises); ``.epoch`` is
    the 1-based epoch."""


def _optimal_t0(loss, alpha, epsilon):
    """scikit-learn's t0 for learning_rate='optimal': the first step is
    eta0 = typw / max(1, -dloss(y=1, p=-typw)), typw = sqrt(1/sqrt(alpha)),
    and t0 = 1 / (eta0 * alpha)."""
    typw = math.sqrt(1.0 / math.sqrt(alpha))
    p, y = -typw, 1.0
    if loss == "log_loss":
        g = -y / (math.exp(p * y) + 1.0)
    elif loss == "hinge":
        g = -y if p * y <= 1.0 else 0.0
    elif loss == "perceptron":
        g = -y if p * y <= 0.0 else 0.0
    elif loss == "squared_hinge":
        z = 1.0 - p * y
        g = -2.0 * y * z if z > 0 else 0.0
    elif loss == "modified_huber":
        z = p * y
        g = 0.0 if z >= 1 else (2.0 * (1.0 - z) * -y if z >= -1 else -4.0 * y)
    elif loss == "squared_error":
        g = p - y
    elif loss == "huber":
        r = p - y
        g = r if abs(r) <= epsilon else (epsilon if r > 0 else -epsilon)
    elif loss == "epsilon_insensitive":
        r = y - p
        g = -1.0 if r > epsilon else (1.0 if -r > epsilon else 0.0)
    else:  # squared_epsilon_insensitive
        r = y - p
        g = -2.0 * (r - epsilon) if r > epsilon else (2.0 * (-r - epsilon) if r < -epsilon
                                                       else 0.0)
    # scikit-learn takes max(1, cy_gradient) with the sign of the gradient
    # w.r.t. p; for every loss above it is <= 0 at (1, -typw), so the max is 1
    # unless the gradient is positive
    eta0 = typw / max(1.0, g)
    return 1.0 / (eta0 * alpha)


def _penalty(est):
    pen = "none" if est.penalty is None else str(est.penalty).lower()
    if pen == "l2":
        return 0.0
    if pen == "l1":
        return 1.0
    if pen == "elasticnet":
        return float(est.l1_ratio)
    return None  # no penalty: alpha is ignored


def _n_workers(n_jobs, n_tasks):
    if n_jobs is None:
        return 1
    n = int(n_jobs)
    if n < 0:
        n = max(1, (os.cpu_count() or 1) + 1 + n)
    return max(1, min(n, n_tasks))


class _GdParams:
    """What both estimators add to scikit-learn's parameter checks: gdfast's
    batch_size, momentum, nesterov and ema."""

    def _more_validate_params(self, for_partial_fit=False):
        super()._more_validate_params(for_partial_fit=for_partial_fit)
        _check_gd_params(self)


class _Data:
    """X (dense or CSR) as the C core takes it."""

    __slots__ = ("X", "indptr", "indices", "n", "d", "dtype")

    def __init__(self, X):
        self.n, self.d = X.shape
        if _sp.issparse(X):
            X = X.tocsr() if X.format != "csr" else X
            self.X = np.ascontiguousarray(X.data)
            self.indptr = np.ascontiguousarray(X.indptr, dtype=np.int64)
            if X.indices.dtype != np.int32:
                self.indices = np.ascontiguousarray(X.indices, dtype=np.int32)
            else:
                self.indices = np.ascontiguousarray(X.indices)
        else:
            self.X = np.ascontiguousarray(X)
            self.indptr = self.indices = None
        self.dtype = self.X.dtype


def _train_rows(X, keep):
    return X[keep] if not _sp.issparse(X) else X.tocsr()[keep]


def _run(est, X, y, sample_weight, coef, intercept, avg_coef, avg_intercept, velocity, *,
         loss, learning_rate, alpha, max_iter, seed, validation_mask, score_cb, n_threads):
    """One binary / single-output training run in C, in place on coef
    (d,), intercept (1,), the averages and the velocity. Returns
    (n_iter, n_updates).

    When ``est._gd_X_unchecked`` is set, X has not been checked for NaN or
    infinity: the C loop's first epoch checks every row's prediction (NaN and
    infinity in a row always reach it), and a non-finite stop re-checks X
    with scikit-learn's own check, which raises its exact error."""
    X_all = X
    if validation_mask is not None and validation_mask.any():
        keep = ~validation_mask
        X, y, sample_weight = _train_rows(X, keep), y[keep], sample_weight[keep]
    data = _Data(X)
    dtype = data.dtype
    Y = np.ascontiguousarray(y, dtype=dtype)
    S = np.ascontiguousarray(sample_weight, dtype=dtype)
    if np.all(S == 1):
        S = None  # the unweighted loop skips a load and a multiply per row
    l1_ratio = _penalty(est)
    if l1_ratio is None:
        alpha_c, l1_c = 0.0, 0.0
    else:
        alpha_c, l1_c = float(alpha), l1_ratio
    rule = check_rule(est.eta0, est.momentum, 0.0, est.nesterov, 0.0, False, est.ema, False)

    tol = est.tol
    early = bool(est.early_stopping)
    schedule = learning_rate
    use_tol = tol is not None and not early
    begin = end = None
    if learning_rate == "adaptive" and (early or tol is None):
        # scikit-learn's adaptive rate reacts to the validation score (early
        # stopping) or never changes (tol=None): the epoch hook sets it
        schedule = "callable"
    state = {"eta": float(est.eta0), "best": -np.inf, "bad": 0}
    if schedule == "callable":
        def begin(epoch):
            return state["eta"]
    if early:
        n_iter_no_change = int(est.n_iter_no_change)

        def end(epoch, loss_e, lr, n_updates):
            score = score_cb(coef.copy(), intercept[0])
            if tol is not None and score < state["best"] + tol:
                state["bad"] += 1
            else:
                state["bad"] = 0
            if score > state["best"]:
                state["best"] = score
            if state["bad"] >= n_iter_no_change:
                if learning_rate == "adaptive" and state["eta"] > 1e-6:
                    state["eta"] /= 5.0
                    state["bad"] = 0
                    return False
                return True
            return False

    coefT = coef.reshape(1, -1)
    history = np.zeros(int(max_iter), dtype=np.float64)
    t_start = int(est.t_) - 1
    status, n_epochs, n_updates, _, _, _, _ = _core.fit_linear(
        data.X, Y, S, coefT, intercept,
        avg_coef.reshape(1, -1) if avg_coef is not None else None, avg_intercept, history,
        loss=_core.LINEAR_LOSSES[loss], epsilon=float(est.epsilon),
        batch_size=0 if est.batch_size is None else int(est.batch_size),
        epochs=int(max_iter), lr=rule["lr"], momentum=rule["momentum"], dampening=0.0,
        nesterov=rule["nesterov"], ema=rule["ema"], debias=False,
        schedule=_core.LINEAR_SCHEDULES[schedule], power_t=float(est.power_t),
        optimal_t0=_optimal_t0(loss, float(alpha), est.epsilon) if schedule == "optimal" else 0.0,
        optimal_alpha=float(alpha), weight_mean=True,
        alpha=alpha_c, l1_ratio=l1_c, fit_intercept=bool(est.fit_intercept),
        shuffle=bool(est.shuffle), seed=int(seed), average=int(est.average),
        use_tol=use_tol, tol=float(tol) if use_tol else 0.0,
        n_iter_no_change=int(est.n_iter_no_change), n_threads=n_threads, begin=begin,
        end=end, indptr=data.indptr, indices=data.indices, n_features=data.d,
        velocity=velocity, t_start=t_start, velocity_started=t_start > 0)
    if status == _STATUS_NONFINITE:
        if getattr(est, "_gd_X_unchecked", False):
            try:
                check_array(X_all, accept_sparse="csr", dtype=None, ensure_all_finite=True,
                            input_name="X", estimator=est)
            except ValueError as exc:
                exc._gd_bad_input = True  # fit restores the estimator's prior state
                raise
        err = DivergenceError(
            f"Floating-point under-/overflow occurred at epoch #{n_epochs + 1}. Scaling "
            "input data with StandardScaler or MinMaxScaler might help.")
        err.epoch = n_epochs + 1
        raise err
    return n_epochs, n_updates - t_start


def _restore_on_bad_X(fit):
    """fit leaves X's NaN/inf check to the C loop's first pass; when that pass
    finds one, the estimator is put back as it was before fit, so a rejected
    X changes nothing, as with scikit-learn's up-front check."""

    @functools.wraps(fit)
    def wrapper(self, *args, **kwargs):
        before = copy.deepcopy(self.__dict__)
        try:
            return fit(self, *args, **kwargs)
        except ValueError as exc:
            if getattr(exc, "_gd_bad_input", False):
                self.__dict__.clear()
                self.__dict__.update(before)
            raise

    return wrapper


def _classes(y):
    """np.unique(y) for a 1-d label array. Integer labels in a range no wider
    than the data take a bincount (two linear passes) instead of NumPy's
    hash/sort: the same sorted array of the same dtype, ~8x less time for
    200000 binary labels."""
    if (isinstance(y, np.ndarray) and y.ndim == 1 and y.size
            and y.dtype.kind in "iu" and y.dtype.itemsize <= 8):
        lo, hi = int(y.min()), int(y.max())
        if hi - lo <= max(1024, y.size):
            shifted = y - y.dtype.type(lo) if lo else y
            present = np.flatnonzero(np.bincount(shifted.astype(np.intp, copy=False),
                                                 minlength=hi - lo + 1))
            return (present + lo).astype(y.dtype)
    return np.unique(y)


def _warm_start_inits(est, coef_init, intercept_init):
    """scikit-learn's _fit prologue: with warm_start, the last fit's
    coefficients start this one (unless given); else they are cleared."""
    if est.warm_start and getattr(est, "coef_", None) is not None:
        if coef_init is None:
            coef_init = est.coef_
        if intercept_init is None:
            intercept_init = est.intercept_
    else:
        est.coef_ = None
        est.intercept_ = None
    return coef_init, intercept_init


def _fit_warnings(est):
    """scikit-learn's warnings at the end of fit (1.9)."""
    if est.tol is not None and est.tol > -np.inf and est.n_iter_ == est.max_iter:
        warnings.warn("Maximum number of iteration reached before convergence. Consider "
                      "increasing max_iter to improve the fit.", ConvergenceWarning)
    if est.power_t < 0:
        warnings.warn("Negative values for `power_t` are deprecated in version 1.8 and will "
                      "raise an error in 1.10. Use values in the range [0.0, inf) instead.",
                      FutureWarning)


def _validate_Xy(est, X, y, reset, defer_finite):
    """scikit-learn's validate_data of _partial_fit. With defer_finite (fit
    without a validation split) X's NaN/inf scan is left to the C loop, which
    checks every row's prediction in its first epoch (see _run): one read of
    X fewer. y and the sample weights are still checked here."""
    return validate_data(est, X, y, accept_sparse="csr", dtype=[np.float64, np.float32],
                         order="C", accept_large_sparse=False, reset=reset,
                         ensure_all_finite=not defer_finite)


def _defer_finite(est):
    # the C loop sees every row only when none is held out for validation
    return not est.early_stopping


def _check_gd_params(est):
    check_rule(est.eta0, est.momentum, 0.0, est.nesterov, 0.0, False, est.ema, False)
    if est.learning_rate in ("pa1", "pa2"):
        raise ValueError(f"learning_rate={est.learning_rate!r} (passive-aggressive) is not "
                         "implemented by gdfast; use scikit-learn's estimator for it")


def _velocity(est, n_rows, d, dtype):
    """The momentum state, (n_rows, d + 1), kept across partial_fit calls and
    reset whenever t_ restarts at 1 (fit)."""
    if est.momentum == 0.0:
        return None
    v = getattr(est, "_gd_velocity", None)
    if int(est.t_) <= 1 or v is None or v.shape != (n_rows, d + 1) or v.dtype != dtype:
        v = np.zeros((n_rows, d + 1), dtype=dtype)
        est._gd_velocity = v
    return v


def _n_threads(n_workers):
    return 1 if n_workers > 1 else _core.get_num_threads()


class SGDClassifier(_GdParams, _SkSGDClassifier):
    __doc__ = (
        "scikit-learn's SGDClassifier, trained by gdfast's C core.\n\n"
        "Extra parameters: batch_size (1: per sample, k: mini-batch, None: full batch),\n"
        "momentum in [0, 1), nesterov, ema (gdfast's update rule). One-vs-rest classes\n"
        "train on n_jobs threads with the GIL released. See gdfast.sklearn's module\n"
        "docstring for the differences from scikit-learn.\n\n"
        "Raises ValueError (scikit-learn's messages) for invalid parameters or input,\n"
        "DivergenceError (a ValueError and FloatingPointError) naming the epoch when\n"
        "training diverges; warns ConvergenceWarning when max_iter is reached.\n\n"
        + (_SkSGDClassifier.__doc__ or ""))

    _parameter_constraints: dict = {**_SkSGDClassifier._parameter_constraints,
                                    **_GD_CONSTRAINTS}

    def __init__(self, loss="hinge", *, penalty="l2", alpha=0.0001, l1_ratio=0.15,
                 fit_intercept=True, max_iter=1000, tol=1e-3, shuffle=True, verbose=0,
                 epsilon=0.1, n_jobs=None, random_state=None, learning_rate="optimal",
                 eta0=0.01, power_t=0.5, early_stopping=False, validation_fraction=0.1,
                 n_iter_no_change=5, class_weight=None, warm_start=False, average=False,
                 batch_size=1, momentum=0.0, nesterov=False, ema=False):
        super().__init__(loss=loss, penalty=penalty, alpha=alpha, l1_ratio=l1_ratio,
                         fit_intercept=fit_intercept, max_iter=max_iter, tol=tol,
                         shuffle=shuffle, verbose=verbose, epsilon=epsilon, n_jobs=n_jobs,
                         random_state=random_state, learning_rate=learning_rate, eta0=eta0,
                         power_t=power_t, early_stopping=early_stopping,
                         validation_fraction=validation_fraction,
                         n_iter_no_change=n_iter_no_change, class_weight=class_weight,
                         warm_start=warm_start, average=average)
        self.batch_size = batch_size
        self.momentum = momentum
        self.nesterov = nesterov
        self.ema = ema

    @_restore_on_bad_X
    def _fit(self, X, y, alpha, loss, learning_rate, coef_init=None, intercept_init=None,
             sample_weight=None):
        # scikit-learn's SGDClassifier._fit (1.9) with the classes found by
        # _classes and X's finiteness checked by the C loop
        if hasattr(self, "classes_"):
            delattr(self, "classes_")
        y = validate_data(self, y=y)
        classes = _classes(y)
        coef_init, intercept_init = _warm_start_inits(self, coef_init, intercept_init)
        if self.average > 0:
            self._standard_coef = self.coef_
            self._standard_intercept = self.intercept_
            self._average_coef = None
            self._average_intercept = None
        self.t_ = 1.0
        self._partial_fit(X, y, alpha, loss, learning_rate, self.max_iter, classes,
                          sample_weight, coef_init, intercept_init, _from_fit=True)
        _fit_warnings(self)
        return self

    def _partial_fit(self, X, y, alpha, loss, learning_rate, max_iter, classes, sample_weight,
                     coef_init, intercept_init, *, _from_fit=False):
        # scikit-learn's SGDClassifier._partial_fit (1.9); from fit, the
        # classes are y's own (compute_class_weight's check that y has no
        # other label is skipped for uniform weights) and X's NaN/inf scan is
        # the C loop's
        first_call = not hasattr(self, "classes_")
        defer = _from_fit and _defer_finite(self)
        X, y = _validate_Xy(self, X, y, first_call, defer)
        n_samples, n_features = X.shape
        _check_partial_fit_first_call(self, classes)
        n_classes = self.classes_.shape[0]
        if _from_fit and (self.class_weight is None or len(self.class_weight) == 0):
            self._expanded_class_weight = np.ones(n_classes, dtype=np.float64)
        else:
            self._expanded_class_weight = compute_class_weight(
                self.class_weight, classes=self.classes_, y=y)
        sample_weight = _check_sample_weight(sample_weight, X, dtype=X.dtype,
                                             allow_all_zero_weights=self.early_stopping)
        if getattr(self, "coef_", None) is None or coef_init is not None:
            self._allocate_parameter_mem(n_classes=n_classes, n_features=n_features,
                                         input_dtype=X.dtype, coef_init=coef_init,
                                         intercept_init=intercept_init)
        elif n_features != self.coef_.shape[-1]:
            raise ValueError("Number of features %d does not match previous data %d."
                             % (n_features, self.coef_.shape[-1]))
        self._loss_function_ = self._get_loss_function(loss)
        if not hasattr(self, "t_"):
            self.t_ = 1.0
        if n_classes < 2:
            raise ValueError("The number of classes has to be greater than one; got %d class"
                             % n_classes)
        self._gd_X_unchecked = defer
        try:
            if n_classes > 2:
                self._fit_multiclass(X, y, alpha=alpha, learning_rate=learning_rate,
                                     sample_weight=sample_weight, max_iter=max_iter)
            else:
                self._fit_binary(X, y, alpha=alpha, learning_rate=learning_rate,
                                 sample_weight=sample_weight, max_iter=max_iter)
        finally:
            del self._gd_X_unchecked
        return self

    def _binary_task(self, i, X, y, alpha, learning_rate, max_iter, pos_weight, neg_weight,
                     sample_weight, validation_mask, seed, velocity, n_threads):
        """Train class i against the rest (scikit-learn's fit_binary)."""
        dtype = X.dtype
        y_i = np.where(y == self.classes_[i], dtype.type(1), dtype.type(-1))
        two = len(self.classes_) == 2
        if self.average:
            coef = self._standard_coef.reshape(-1, X.shape[1])[0 if two else i]
            intercept = self._standard_intercept.reshape(-1)[0 if two else i:][:1]
            avg_coef = self._average_coef.reshape(-1, X.shape[1])[0 if two else i]
            avg_int = self._average_intercept.reshape(-1)[0 if two else i:][:1]
        else:
            coef = self.coef_.reshape(-1, X.shape[1])[0 if two else i]
            intercept = self.intercept_.reshape(-1)[0 if two else i:][:1]
            avg_coef = avg_int = None
        if validation_mask is None:
            validation_mask = self._make_validation_split(y_i, sample_mask=sample_weight > 0)
        score_cb = self._make_validation_score_cb(
            validation_mask, X, y_i, sample_weight, classes=np.array([-1, 1], dtype=dtype))
        if pos_weight == 1.0 and neg_weight == 1.0:
            sw = sample_weight  # uniform class weights: no n-long product
        else:
            sw = sample_weight * np.where(y_i > 0, pos_weight, neg_weight).astype(dtype)
        return _run(self, X, y_i, sw, coef, intercept, avg_coef, avg_int, velocity,
                    loss=self.loss, learning_rate=learning_rate, alpha=alpha,
                    max_iter=max_iter, seed=seed, validation_mask=validation_mask,
                    score_cb=score_cb, n_threads=n_threads)

    def _prepare_params(self, dtype):
        # scikit-learn's _allocate_parameter_mem may keep coef_init's memory;
        # the C core writes in place, so own C-contiguous copies
        names = (("_standard_coef", "_standard_intercept", "_average_coef",
                  "_average_intercept") if self.average else ("coef_", "intercept_"))
        for name in names:
            a = getattr(self, name)
            setattr(self, name, np.array(a, dtype=dtype, order="C", copy=True))

    def _fit_binary(self, X, y, alpha, sample_weight, learning_rate, max_iter):
        d = X.shape[1]
        self._prepare_params(X.dtype)
        random_state = check_random_state(self.random_state)
        seed = random_state.randint(_MAX_INT)
        n_iter, n_updates = self._binary_task(
            1, X, y, alpha, learning_rate, max_iter, self._expanded_class_weight[1],
            self._expanded_class_weight[0], sample_weight, None, seed,
            None if self.momentum == 0.0 else _velocity(self, 1, d, X.dtype)[0],
            _n_threads(1))
        self.t_ += n_updates
        self.n_iter_ = n_iter
        if self.average > 0:
            if self.average <= self.t_ - 1:
                self.coef_ = self._average_coef.reshape(1, -1)
                self.intercept_ = self._average_intercept.reshape(1)
            else:
                self.coef_ = self._standard_coef.reshape(1, -1)
                self._standard_intercept = np.atleast_1d(self._standard_intercept)
                self.intercept_ = self._standard_intercept
        else:
            self.coef_ = self.coef_.reshape(1, -1)
            self.intercept_ = np.atleast_1d(self.intercept_)

    def _fit_multiclass(self, X, y, alpha, learning_rate, sample_weight, max_iter):
        d = X.shape[1]
        k = len(self.classes_)
        self._prepare_params(X.dtype)
        # the split uses the multiclass labels (stratified over all classes)
        validation_mask = self._make_validation_split(y, sample_mask=sample_weight > 0)
        random_state = check_random_state(self.random_state)
        seeds = random_state.randint(_MAX_INT, size=k)
        vel = _velocity(self, k, d, X.dtype)
        workers = _n_workers(self.n_jobs, k)
        nt = _n_threads(workers)

        def task(i):
            return self._binary_task(i, X, y, alpha, learning_rate, max_iter,
                                     self._expanded_class_weight[i], 1.0, sample_weight,
                                     validation_mask, seeds[i],
                                     None if vel is None else vel[i], nt)

        if workers > 1:
            # each class's C loop releases the GIL: the threads run in parallel
            with ThreadPoolExecutor(max_workers=workers) as pool:
                results = list(pool.map(task, range(k)))
        else:
            results = [task(i) for i in range(k)]
        n_iter = max(r[0] for r in results)
        self.t_ += max(r[1] for r in results)
        self.n_iter_ = n_iter
        if self.average > 0:
            if self.average <= self.t_ - 1.0:
                self.coef_ = self._average_coef
                self.intercept_ = self._average_intercept
            else:
                self.coef_ = self._standard_coef
                self.intercept_ = self._standard_intercept


class SGDRegressor(_GdParams, _SkSGDRegressor):
    __doc__ = (
        "scikit-learn's SGDRegressor, trained by gdfast's C core.\n\n"
        "Extra parameters: batch_size (1: per sample, k: mini-batch, None: full batch),\n"
        "momentum in [0, 1), nesterov, ema (gdfast's update rule). See gdfast.sklearn's\n"
        "module docstring for the differences from scikit-learn.\n\n"
        "Raises ValueError (scikit-learn's messages) for invalid parameters or input,\n"
        "DivergenceError (a ValueError and FloatingPointError) naming the epoch when\n"
        "training diverges; warns ConvergenceWarning when max_iter is reached.\n\n"
        + (_SkSGDRegressor.__doc__ or ""))

    _parameter_constraints: dict = {**_SkSGDRegressor._parameter_constraints,
                                    **_GD_CONSTRAINTS}

    def __init__(self, loss="squared_error", *, penalty="l2", alpha=0.0001, l1_ratio=0.15,
                 fit_intercept=True, max_iter=1000, tol=1e-3, shuffle=True, verbose=0,
                 epsilon=0.1, random_state=None, learning_rate="invscaling", eta0=0.01,
                 power_t=0.25, early_stopping=False, validation_fraction=0.1,
                 n_iter_no_change=5, warm_start=False, average=False, batch_size=1,
                 momentum=0.0, nesterov=False, ema=False):
        super().__init__(loss=loss, penalty=penalty, alpha=alpha, l1_ratio=l1_ratio,
                         fit_intercept=fit_intercept, max_iter=max_iter, tol=tol,
                         shuffle=shuffle, verbose=verbose, epsilon=epsilon,
                         random_state=random_state, learning_rate=learning_rate, eta0=eta0,
                         power_t=power_t, early_stopping=early_stopping,
                         validation_fraction=validation_fraction,
                         n_iter_no_change=n_iter_no_change, warm_start=warm_start,
                         average=average)
        self.batch_size = batch_size
        self.momentum = momentum
        self.nesterov = nesterov
        self.ema = ema

    @_restore_on_bad_X
    def _fit(self, X, y, alpha, loss, learning_rate, coef_init=None, intercept_init=None,
             sample_weight=None):
        # scikit-learn's SGDRegressor._fit (1.9), X's finiteness checked by
        # the C loop
        coef_init, intercept_init = _warm_start_inits(self, coef_init, intercept_init)
        self.t_ = 1.0
        self._partial_fit(X, y, alpha, loss, learning_rate, self.max_iter, sample_weight,
                          coef_init, intercept_init, _from_fit=True)
        _fit_warnings(self)
        return self

    def _partial_fit(self, X, y, alpha, loss, learning_rate, max_iter, sample_weight,
                     coef_init, intercept_init, *, _from_fit=False):
        # scikit-learn's SGDRegressor._partial_fit (1.9)
        first_call = getattr(self, "coef_", None) is None
        defer = _from_fit and _defer_finite(self)
        X, y = _validate_Xy(self, X, y, first_call, defer)
        y = y.astype(X.dtype, copy=False)
        n_samples, n_features = X.shape
        sample_weight = _check_sample_weight(sample_weight, X, dtype=X.dtype)
        if first_call:
            self._allocate_parameter_mem(n_classes=1, n_features=n_features,
                                         input_dtype=X.dtype, coef_init=coef_init,
                                         intercept_init=intercept_init)
        if self.average > 0 and getattr(self, "_average_coef", None) is None:
            self._average_coef = np.zeros(n_features, dtype=X.dtype, order="C")
            self._average_intercept = np.zeros(1, dtype=X.dtype, order="C")
        self._gd_X_unchecked = defer
        try:
            self._fit_regressor(X, y, alpha, loss, learning_rate, sample_weight, max_iter)
        finally:
            del self._gd_X_unchecked
        return self

    def _fit_regressor(self, X, y, alpha, loss, learning_rate, sample_weight, max_iter):
        d = X.shape[1]
        dtype = X.dtype
        if not hasattr(self, "t_"):
            self.t_ = 1.0
        validation_mask = self._make_validation_split(y, sample_mask=sample_weight > 0)
        score_cb = self._make_validation_score_cb(validation_mask, X, y, sample_weight)
        random_state = check_random_state(self.random_state)
        seed = random_state.randint(0, _MAX_INT)
        if self.average:
            coef = np.array(self._standard_coef, dtype=dtype, order="C").reshape(-1)
            intercept = np.array(self._standard_intercept, dtype=dtype).reshape(1)
            avg_coef = np.array(self._average_coef, dtype=dtype, order="C").reshape(-1)
            avg_int = np.array(self._average_intercept, dtype=dtype).reshape(1)
        else:
            coef = np.array(self.coef_, dtype=dtype, order="C").reshape(-1)
            intercept = np.array(self.intercept_, dtype=dtype).reshape(1)
            avg_coef = avg_int = None
        vel = _velocity(self, 1, d, dtype)
        self.n_iter_, n_updates = _run(
            self, X, y, sample_weight, coef, intercept, avg_coef, avg_int,
            None if vel is None else vel[0], loss=loss, learning_rate=learning_rate,
            alpha=alpha, max_iter=max_iter, seed=seed, validation_mask=validation_mask,
            score_cb=score_cb, n_threads=_n_threads(1))
        self.t_ += n_updates
        if self.average > 0:
            self._standard_coef = coef
            self._standard_intercept = intercept
            self._average_coef = avg_coef
            self._average_intercept = avg_int
            if self.average <= self.t_ - 1.0:
                self.coef_ = avg_coef
                self.intercept_ = avg_int
            else:
                self.coef_ = coef
                self.intercept_ = intercept
        else:
            self.coef_ = coef
            self.intercept_ = intercept
