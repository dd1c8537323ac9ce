"""Benchmark cases for the linear-model loops (issue: gdfast.fit_linear).

One epoch over n=200000 rows of d=100 features, float32 and float64,
regression (squared_error) and logistic (log_loss):

- per-sample: gdfast against scikit-learn's SGDRegressor/SGDClassifier
  (max_iter=1, tol=None, constant lr) and the NumPy reference loop;
- mini-batch 32 and 256, with and without momentum: gdfast against the NumPy
  reference loop and a PyTorch loop (index, forward, loss, backward, step);
  with momentum also against gdfast without it (momentum's cost);
- one full-batch iteration: gdfast against NumPy's X.T @ (X @ w - y), on one
  and two threads, and the read floor (one NumPy pass over X's bytes).

Every gdfast and NumPy run uses the same seed, so they do the same updates.
"""
from __future__ import annotations

import warnings

import numpy as np

from ._case import Case, Skip

N, D = 200_000, 100
LR = 1e-3
_DATA = {}


def _data(dtype, task):
    key = (np.dtype(dtype).name, task)
    if key not in _DATA:
        rng = np.random.default_rng(0)
        X = rng.standard_normal((N, D)).astype(dtype)
        w = rng.standard_normal(D) / np.sqrt(D)
        z = X.astype(np.float64) @ w + 0.1 * rng.standard_normal(N)
        y = (z if task == "regression" else np.where(z > 0, 1.0, -1.0)).astype(dtype)
        _DATA[key] = (X, y)
    return _DATA[key]


def _loss(task):
    return "squared_error" if task == "regression" else "log_loss"


def _gdfast(dtype, task, batch_size, momentum=0.0, n_jobs=1, check_input=True):
    def factory():
        import gdfast

        X, y = _data(dtype, task)
        kw = dict(loss=_loss(task), batch_size=batch_size, epochs=1, lr=LR, momentum=momentum,
                  seed=0, n_jobs=n_jobs, check_input=check_input)
        return lambda: gdfast.fit_linear(X, y, **kw)

    return factory


def _reference(dtype, task, batch_size, momentum=0.0):
    def factory():
        from gdfast.reference import fit_linear

        X, y = _data(dtype, task)
        kw = dict(loss=_loss(task), batch_size=batch_size, epochs=1, lr=LR, momentum=momentum,
                  seed=0)
        return lambda: fit_linear(X, y, **kw)

    return factory


def _sklearn(dtype, task):
    def factory():
        try:
            from sklearn.exceptions import ConvergenceWarning
            from sklearn.linear_model import SGDClassifier, SGDRegressor
        except ImportError:
            raise Skip("scikit-learn is not installed") from None
        X, y = _data(dtype, task)
        kw = dict(max_iter=1, tol=None, learning_rate="constant", eta0=LR, penalty=None,
                  random_state=0, shuffle=True)
        est = SGDRegressor(**kw) if task == "regression" else SGDClassifier(loss="log_loss", **kw)

        def run():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                est.fit(X, y)

        return run

    return factory


def _torch(dtype, task, batch_size, momentum):
    def factory():
        try:
            import torch
        except ImportError:
            raise Skip("torch is not installed") from None
        X, y = _data(dtype, task)
        Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
        w = torch.zeros(D, dtype=Xt.dtype, requires_grad=True)
        b = torch.zeros(1, dtype=Xt.dtype, requires_grad=True)
        opt = torch.optim.SGD([w, b], lr=LR, momentum=momentum)
        gen = torch.Generator().manual_seed(0)

        def run():
            order = torch.randperm(N, generator=gen)
            for lo in range(0, N, batch_size):
                idx = order[lo:lo + batch_size]
                p = Xt[idx] @ w + b
                if task == "regression":
                    loss = 0.5 * torch.mean((p - yt[idx]) ** 2)
                else:
                    loss = torch.nn.functional.softplus(-yt[idx] * p).mean()
                opt.zero_grad(set_to_none=False)
                loss.backward()
                opt.step()

        return run

    return factory


def _numpy_full(dtype, nt):
    """The two BLAS calls of one full-batch gradient, on nt BLAS threads."""

    def factory():
        X, y = _data(dtype, "regression")
        w = np.zeros(D, dtype=dtype)
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:
            return lambda: X.T @ (X @ w - y)

        def run():
            with threadpool_limits(nt):
                return X.T @ (X @ w - y)

        return run

    return factory


def _floor(dtype):
    """One read pass over X's bytes (a vectorised sum)."""

    def factory():
        X, _ = _data(dtype, "regression")
        return lambda: np.add.reduce(X, axis=None)

    return factory


def cases(quick=False):
    dtypes = [np.float32] if quick else [np.float32, np.float64]
    tasks = ["regression"] if quick else ["regression", "logistic"]
    out = []
    for dt in dtypes:
        dn = np.dtype(dt).name
        for task in tasks:
            out.append(Case(
                group=f"linear/per-sample/{dn}/{task}",
                impls={"gdfast": _gdfast(dt, task, 1), "sklearn": _sklearn(dt, task),
                       # the per-sample NumPy loop takes seconds: not in --quick
                       **({} if quick else {"numpy": _reference(dt, task, 1)})},
                threads=1, work=N, unit="samples", quick=True,
                params=dict(dtype=dn, task=task, batch_size=1)))
            for bs in (32, 256):
                for mom in (0.0, 0.9):
                    if quick and mom:
                        continue
                    # with momentum, gdfast without it too: the cost of
                    # momentum, timed in turns with the rest of the case
                    plain = {"gdfast-no-momentum": _gdfast(dt, task, bs, 0.0)} if mom else {}
                    out.append(Case(
                        group=f"linear/mini-batch{bs}/{dn}/{task}/momentum={mom}",
                        impls={"gdfast": _gdfast(dt, task, bs, mom), **plain,
                               "numpy": _reference(dt, task, bs, mom),
                               "torch": _torch(dt, task, bs, mom)},
                        threads=1, work=N, unit="samples", quick=True,
                        params=dict(dtype=dn, task=task, batch_size=bs, momentum=mom)))
        for nt in (1, 2):
            out.append(Case(
                group=f"linear/full-batch/{dn}/{nt}thr",
                impls={"gdfast": _gdfast(dt, "regression", None, n_jobs=nt, check_input=False),
                       "numpy": _numpy_full(dt, nt), "floor": _floor(dt)},
                threads=nt, work=N, unit="samples", quick=nt == 1,
                params=dict(dtype=dn, batch_size=None, threads=nt)))
    return out
