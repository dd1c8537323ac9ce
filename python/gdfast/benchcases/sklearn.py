"""Benchmark cases for gdfast.sklearn (issue 6): fit time of gdfast's
SGDClassifier / SGDRegressor against scikit-learn's on the same settings.

Every case fits a fixed number of epochs (tol=None) so both sides do the same
number of updates: dense 200000 x 100 and sparse CSR 100000 x 50000 at 0.2%
density (the issue's sizes; --quick uses a tenth of the rows), per-sample
updates (scikit-learn's only timing), binary hinge and squared-error
regression. `epochs_to_score` reports, for the mini-batch + momentum
settings, how many epochs each needs to reach a validation score.
"""
from __future__ import annotations

import numpy as np

from ._case import Case, Skip

EPOCHS = 3


def _dense(n, d, task, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)).astype(dtype)
    w = rng.standard_normal(d)
    z = X @ w / np.sqrt(d)
    if task == "classification":
        y = (z + 0.3 * rng.standard_normal(n) > 0).astype(np.int64)
    else:
        y = (z + 0.1 * rng.standard_normal(n)).astype(dtype)
    return X, y


def _sparse(n, d, density, seed=0):
    import scipy.sparse as sp

    rng = np.random.default_rng(seed)
    nnz_row = max(1, int(round(d * density)))
    indices = rng.integers(0, d, size=(n, nnz_row)).astype(np.int32)
    indices.sort(axis=1)
    data = rng.standard_normal((n, nnz_row))
    indptr = np.arange(0, n * nnz_row + 1, nnz_row, dtype=np.int32)
    X = sp.csr_matrix((data.ravel(), indices.ravel(), indptr), shape=(n, d))
    X.sum_duplicates()
    w = rng.standard_normal(d)
    y = (X @ w + 0.3 * rng.standard_normal(n) > 0).astype(np.int64)
    return X, y


def _estimator(lib, task, **kw):
    if lib == "sklearn":
        try:
            import sklearn.linear_model as m
        except ImportError as exc:  # pragma: no cover
            raise Skip("scikit-learn is not installed") from exc
    else:
        try:
            import gdfast.sklearn as m
        except ImportError as exc:  # pragma: no cover
            raise Skip("scikit-learn is not installed") from exc
    cls = m.SGDClassifier if task == "classification" else m.SGDRegressor
    return cls(max_iter=EPOCHS, tol=None, random_state=0, **kw)


def _fit(lib, data, task):
    def factory():
        X, y = data()
        est = _estimator(lib, task)
        return lambda: est.fit(X, y)

    return factory


def cases(quick=False):
    out = []
    scale = 10 if quick else 1
    n_dense, n_sparse = 200_000 // scale, 100_000 // scale
    for task in ("classification", "regression"):
        data = (lambda task=task: _dense(n_dense, 100, task))
        out.append(Case(
            group=f"sklearn/per-sample/dense/f64/{task}/n={n_dense}",
            impls={"gdfast": _fit("gdfast", data, task), "sklearn": _fit("sklearn", data, task)},
            threads=1, work=EPOCHS * n_dense, unit="samples", quick=task == "classification",
            params=dict(n=n_dense, d=100, task=task, epochs=EPOCHS, layout="dense")))
    sdata = (lambda: _sparse(n_sparse, 50_000, 0.002))
    out.append(Case(
        group=f"sklearn/per-sample/csr/f64/classification/n={n_sparse}",
        impls={"gdfast": _fit("gdfast", sdata, "classification"),
               "sklearn": _fit("sklearn", sdata, "classification")},
        threads=1, work=EPOCHS * n_sparse, unit="samples", quick=True,
        params=dict(n=n_sparse, d=50_000, density=0.002, epochs=EPOCHS, layout="csr")))
    return out


def epochs_to_score(X, y, X_val, y_val, *, target=None, max_epochs=30, settings=None):
    """Epochs each setting needs to reach a validation accuracy.

    The target defaults to 99.5% of what scikit-learn's default SGDClassifier
    reaches after max_epochs. Each setting trains one epoch at a time
    (partial_fit continues t, the averages and the momentum state); returns
    {name: epochs or None if never reached}.
    """
    import warnings

    import sklearn.linear_model as skl
    from sklearn.exceptions import ConvergenceWarning

    import gdfast.sklearn as gds

    if settings is None:
        settings = {
            "sklearn per-sample": (skl.SGDClassifier, {}),
            "gdfast per-sample": (gds.SGDClassifier, {}),
            "gdfast batch=32 momentum=0.9": (gds.SGDClassifier, dict(
                batch_size=32, momentum=0.9, learning_rate="constant", eta0=0.01)),
            "gdfast batch=32 nesterov": (gds.SGDClassifier, dict(
                batch_size=32, momentum=0.9, nesterov=True, learning_rate="constant",
                eta0=0.01)),
            "gdfast batch=32 no momentum": (gds.SGDClassifier, dict(
                batch_size=32, learning_rate="constant", eta0=0.1)),
        }
    if target is None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            ref = skl.SGDClassifier(max_iter=max_epochs, tol=None, random_state=0).fit(X, y)
        target = 0.995 * ref.score(X_val, y_val)
    classes = np.unique(y)
    out = {}
    for name, (cls, kw) in settings.items():
        est = cls(random_state=0, **kw)
        out[name] = None
        for epoch in range(1, max_epochs + 1):
            est.partial_fit(X, y, classes=classes)
            if est.score(X_val, y_val) >= target:
                out[name] = epoch
                break
    return target, out
