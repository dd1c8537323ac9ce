"""fit_linear in plain NumPy: the readable twin of the C loops.

Same arguments, same validation, same epoch orders for a given seed, same
arithmetic dtype; the C core must agree with it to rounding. It is also the
"NumPy loop" the benchmarks compare against, so each batch is vectorised.
"""
from __future__ import annotations

import time

import numpy as np

from .._linear import FitResult, _make_hooks, _nonfinite_error, _out_coef, _prepare
from .._shuffle import epoch_order
from .rule import sgd_step

MAX_DLOSS = 1e12


def shuffle_order(n, seed, epoch):
    """Rows of epoch ``epoch`` (0-based) in visiting order (gdfast._shuffle:
    a keyed Feistel permutation evaluated position by position, as in the C
    core)."""
    return epoch_order(n, seed, epoch)


def loss_and_dloss(loss, P, Y, epsilon):
    """Per-row loss L(y, p) and dL/dp for one output (P, Y of shape (b,)),
    scikit-learn's _sgd_fast formulas, in P's dtype; dL/dp clipped to 1e12."""
    eps = P.dtype.type(epsilon)
    with np.errstate(over="ignore", invalid="ignore"):
        if loss == "squared_error":
            r = P - Y
            L, G = 0.5 * r * r, r
        elif loss == "huber":
            r = P - Y
            a = np.abs(r)
            small = a <= eps
            L = np.where(small, 0.5 * r * r, eps * a - 0.5 * eps * eps)
            G = np.where(small, r, np.where(r > 0, eps, -eps))
        elif loss == "epsilon_insensitive":
            r = Y - P
            L = np.maximum(np.abs(r) - eps, 0)
            G = np.where(r > eps, -1.0, np.where(-r > eps, 1.0, 0.0)).astype(P.dtype)
        elif loss == "squared_epsilon_insensitive":
            r = Y - P
            a = np.abs(r) - eps
            L = np.where(a > 0, a * a, 0)
            G = np.where(r > eps, -2 * (r - eps), np.where(r < -eps, 2 * (-r - eps), 0))
        elif loss == "log_loss":
            z = P * Y
            L = np.where(z > 18, np.exp(-z), np.where(z < -18, -z, np.log(1 + np.exp(-z))))
            G = np.where(z > 18, -Y * np.exp(-z), np.where(z < -18, -Y, -Y / (np.exp(z) + 1)))
        elif loss in ("hinge", "perceptron"):
            z = P * Y
            threshold = 1 if loss == "hinge" else 0
            hit = z <= threshold
            L = np.where(hit, threshold - z, 0)
            G = np.where(hit, -Y, 0)
        elif loss == "squared_hinge":
            z = 1 - P * Y
            hit = z > 0
            L = np.where(hit, z * z, 0)
            G = np.where(hit, -2 * Y * z, 0)
        elif loss == "modified_huber":
            z = P * Y
            L = np.where(z >= 1, 0, np.where(z >= -1, (1 - z) ** 2, -4 * z))
            G = np.where(z >= 1, 0, np.where(z >= -1, 2 * (1 - z) * -Y, -4 * Y))
        else:
            raise ValueError(f"unknown single-output loss {loss!r}")
    L = np.asarray(L, dtype=P.dtype)
    G = np.clip(np.asarray(G, dtype=P.dtype), -MAX_DLOSS, MAX_DLOSS)
    return L, G


def _batch_loss(p, P, Yb):
    """Loss per row and dL/dP (b, K) for a batch's predictions P (b, K)."""
    if p.loss == "softmax":
        cls = Yb.astype(np.int64)
        m = P.max(axis=1, keepdims=True)
        E = np.exp(P - m)
        s = E.sum(axis=1)
        rows = np.arange(len(cls))
        L = np.log(s) - (P[rows, cls] - m[:, 0])
        G = E / s[:, None]
        G[rows, cls] -= 1
        return L, np.clip(G, -MAX_DLOSS, MAX_DLOSS)
    if p.multi:  # multi-output squared error: the sum over outputs
        R = P - Yb
        return (0.5 * R * R).sum(axis=1), np.clip(R, -MAX_DLOSS, MAX_DLOSS)
    L, G = loss_and_dloss(p.loss, P[:, 0], Yb, p.epsilon)
    return L, G[:, None]


def _eta(p, base, t):
    if p.schedule == "invscaling":
        return base / float(t) ** p.power_t
    if p.schedule == "optimal":
        return 1.0 / (p.alpha * (p.optimal_t0 + t - 1.0))
    return base


def fit_linear(X, y, loss="squared_error", batch_size=32, epochs=10, lr=0.01, momentum=0.0,
               dampening=0.0, nesterov=False, ema=False, debias=False, schedule="constant",
               power_t=0.25, alpha=0.0, l1_ratio=0.0, epsilon=0.1, fit_intercept=True,
               shuffle=True, seed=None, average=False, tol=None, n_iter_no_change=5,
               sample_weight=None, coef_init=None, intercept_init=None, callback=None,
               verbose=False, n_jobs=1, check_input=True):
    """The NumPy twin of :func:`gdfast.fit_linear` (see its docstring)."""
    p = _prepare(X, y, loss=loss, batch_size=batch_size, epochs=epochs, lr=lr,
                 momentum=momentum, dampening=dampening, nesterov=nesterov, ema=ema,
                 debias=debias, schedule=schedule, power_t=power_t, alpha=alpha,
                 l1_ratio=l1_ratio, epsilon=epsilon, fit_intercept=fit_intercept,
                 shuffle=shuffle, seed=seed, average=average, tol=tol,
                 n_iter_no_change=n_iter_no_change, sample_weight=sample_weight,
                 coef_init=coef_init, intercept_init=intercept_init, callback=callback,
                 verbose=verbose, n_jobs=n_jobs, check_input=check_input)
    start = time.perf_counter()
    X, Y, n, dt = p.X, p.Y, p.n, p.dtype.type
    if p.sparse:
        # the twin works on the dense matrix: the same sums, except that the
        # C core applies per-sample cumulative L1 lazily, to a row's stored
        # columns only (as scikit-learn does for sparse input)
        X = X.toarray()
    W, b = p.coefT, p.intercept            # W is (K, d): one row per output
    S = p.S if p.S is not None else np.ones(n, dtype=p.dtype)
    rule = dict(p.rule)
    alpha2 = p.alpha * (1.0 - p.l1_ratio)  # the L2 part, applied by the rule
    l1 = p.alpha * p.l1_ratio
    cumulative_l1 = p.B == 1 and l1 > 0
    vW = np.zeros_like(W) if rule["momentum"] else None
    vb = np.zeros_like(b) if rule["momentum"] else None
    q = np.zeros_like(W)                   # L1 actually received (cumulative penalty)
    u = 0.0                                # L1 that could have been received
    avgW, avgb = np.zeros_like(W), np.zeros_like(b)
    begin, end = _make_hooks(p, W, b)
    history = []
    t, first, eta, eta_base = 0, True, rule["lr"], rule["lr"]
    best, no_improve, converged = np.inf, 0, False

    # overflow is not an error here: a diverging run is caught by the finite
    # check at the epoch's end, as in C
    with np.errstate(over="ignore", invalid="ignore"):
        for epoch in range(p.epochs):
            if begin is not None:
                eta_base = begin(epoch)
            W0, b0 = W.copy(), b.copy()
            # storage order uses slices (views, no copy of X); a shuffled
            # epoch gathers each batch's rows once
            order = shuffle_order(n, p.seed, epoch) if p.shuffle and not p.full else None
            sumloss = 0.0
            for lo in range(0, n, p.B):
                rows = slice(lo, lo + p.B) if order is None else order[lo:lo + p.B]
                Xb, Yb, sb = X[rows], Y[rows], S[rows]
                P = Xb @ W.T + b
                L, G = _batch_loss(p, P, Yb)
                sumloss += float(np.sum((sb * L).astype(np.float64)))
                G = G * sb[:, None]
                gW = (G.T @ Xb) / dt(len(Xb))
                gb = G.sum(axis=0) / dt(len(Xb))
                t += 1
                eta = _eta(p, eta_base, t)
                sgd_step(W, gW, vW, t=t, first=first, **{**rule, "lr": eta,
                                                         "weight_decay": alpha2})
                if p.fit_intercept:
                    sgd_step(b, gb, vb, t=t, first=first, **{**rule, "lr": eta,
                                                             "weight_decay": 0.0})
                first = False
                if cumulative_l1:
                    u += eta * l1
                    z = W.copy()
                    pos, neg = z > 0, z < 0
                    W[pos] = np.maximum(0, W[pos] - (u + q[pos]))
                    W[neg] = np.minimum(0, W[neg] + (u - q[neg]))
                    q += W - z
                elif l1 > 0:
                    W[...] = np.sign(W) * np.maximum(np.abs(W) - dt(eta * l1), 0)
                if p.average and t >= p.average:
                    cnt = dt(t - p.average + 1)
                    avgW += (W - avgW) / cnt
                    avgb += (b - avgb) / cnt
            w64 = W.astype(np.float64)
            penalty = p.alpha * ((1 - p.l1_ratio) * 0.5 * float(np.sum(w64 * w64))
                                 + p.l1_ratio * float(np.sum(np.abs(w64))))
            loss_e = sumloss / n + penalty
            history.append(loss_e)
            if not (np.isfinite(loss_e) and np.isfinite(W).all() and np.isfinite(b).all()):
                raise _nonfinite_error(p, epoch, W0, b0)
            stop = False
            if p.tol is not None or p.schedule == "adaptive":
                tol = 0.0 if p.tol is None else p.tol
                no_improve = no_improve + 1 if loss_e > best - tol else 0
                best = min(best, loss_e)
                if no_improve >= p.n_iter_no_change:
                    if p.schedule == "adaptive":
                        eta_base /= 5.0
                        no_improve = 0
                        stop = eta_base < 1e-6
                    else:
                        stop = True
                    converged = stop
            if end is not None and end(epoch, loss_e, eta, t):
                stop = True
            if stop:
                break

    if p.average and t >= p.average:
        W, b = avgW, avgb
    return FitResult(_out_coef(p, W), b.copy(), np.array(history, dtype=np.float64),
                     len(history), t, converged, time.perf_counter() - start)
