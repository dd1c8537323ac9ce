"""fit_linear on SciPy sparse X: CSR in the C core, the same model as dense."""
import numpy as np
import pytest

import gdfast as gd
from gdfast import reference as ref

sp = pytest.importorskip("scipy.sparse")


def make(n=120, d=30, density=0.2, dtype=np.float64, seed=0, task="regression"):
    rng = np.random.default_rng(seed)
    X = sp.random(n, d, density=density, format="csr", random_state=seed, dtype=np.float64)
    X.data = rng.standard_normal(X.nnz)
    X = X.astype(dtype)
    z = X @ rng.standard_normal(d)
    y = z if task == "regression" else np.where(z > 0, 1.0, -1.0)
    return X, y.astype(dtype)


CASES = [
    dict(loss="squared_error", batch_size=1),
    dict(loss="squared_error", batch_size=1, alpha=0.01),
    dict(loss="log_loss", batch_size=1, momentum=0.9),
    dict(loss="hinge", batch_size=8, momentum=0.9, nesterov=True, alpha=0.01, l1_ratio=0.5),
    dict(loss="squared_error", batch_size=None, momentum=0.9, ema=True, debias=True),
    dict(loss="huber", batch_size=16, average=True),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("kw", CASES, ids=lambda k: ",".join(f"{a}={b}" for a, b in k.items()))
def test_csr_matches_dense_and_reference(kw, dtype):
    task = "regression" if kw["loss"] in ("squared_error", "huber") else "classification"
    X, y = make(dtype=dtype, task=task)
    common = dict(epochs=3, lr=0.01, seed=3, **kw)
    data_before = X.data.copy()
    sparse = gd.fit_linear(X, y, **common)
    dense = gd.fit_linear(X.toarray(), y, **common)
    twin = ref.fit_linear(X, y, **common)
    assert sparse.coef.dtype == dtype
    rtol = 1e-4 if dtype == np.float32 else 1e-9
    np.testing.assert_allclose(sparse.coef, dense.coef, rtol=rtol, atol=rtol)
    np.testing.assert_allclose(sparse.intercept, dense.intercept, rtol=rtol, atol=rtol)
    np.testing.assert_allclose(sparse.coef, twin.coef, rtol=rtol, atol=rtol)
    np.testing.assert_allclose(sparse.loss_history, twin.loss_history, rtol=rtol)
    np.testing.assert_array_equal(X.data, data_before)


def test_csr_other_formats_and_duplicates_are_accepted_unmodified():
    X, y = make()
    coo = X.tocoo()
    # a duplicated entry: CSR with duplicates means their sum
    rows = np.concatenate([coo.row, coo.row[:1]])
    cols = np.concatenate([coo.col, coo.col[:1]])
    vals = np.concatenate([coo.data, [1.0]])
    dup = sp.csr_matrix((vals, (rows, cols)), shape=X.shape)
    dup.has_canonical_format = False
    a = gd.fit_linear(dup, y, epochs=2, lr=0.01, seed=1)
    b = gd.fit_linear(dup.toarray(), y, epochs=2, lr=0.01, seed=1)
    np.testing.assert_allclose(a.coef, b.coef, rtol=1e-9)
    c = gd.fit_linear(X.tocsc(), y, epochs=2, lr=0.01, seed=1)
    d = gd.fit_linear(X, y, epochs=2, lr=0.01, seed=1)
    np.testing.assert_array_equal(c.coef, d.coef)


def test_csr_bad_input():
    X, y = make()
    with pytest.raises(TypeError, match="dtype float32 or float64"):
        gd.fit_linear(X.astype(np.int64), y)
    Xn = X.copy()
    Xn.data[3] = np.nan
    with pytest.raises(ValueError, match="NaN or infinity"):
        gd.fit_linear(Xn, y)
    with pytest.raises(ValueError, match="empty"):
        gd.fit_linear(sp.csr_matrix((0, 5)), np.zeros(0))


@pytest.mark.parametrize("bad", [7, -1])
def test_csr_column_index_out_of_range_is_named(bad):
    # SciPy builds this without complaint; the C core refuses to write
    # outside coef, and the error names the index
    X = sp.csr_matrix((np.ones(3), np.array([0, bad, 1], dtype=np.int32),
                       np.array([0, 1, 2, 3])), shape=(3, 4))
    for batch_size in (1, 2, None):
        with pytest.raises(ValueError, match=rf"column index out of range: {bad} is not in \[0, 4\)"):
            gd.fit_linear(X, np.ones(3), batch_size=batch_size, epochs=1)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("loss,alpha,lr,average", [
    ("hinge", 0.0, 0.05, True),
    ("log_loss", 1e-4, 0.05, 50),
    ("squared_error", 0.01, 0.1, True),
    # eta * alpha = 0.1: the weight scale falls by 10 decades within an epoch
    ("hinge", 0.2, 0.5, True),
    # eta * alpha > 1: the scale is clamped to zero at every row
    ("hinge", 1.5, 1.0, 10),
])
def test_csr_per_sample_average_is_lazy_and_equals_dense(loss, alpha, lr, average, dtype):
    # per sample over CSR rows the average is kept as g * AW + b * W and costs
    # O(nnz) per row; it must still be the dense path's running mean
    X, y = make(n=600, d=40, density=0.1, dtype=dtype, task="classification")
    if loss == "squared_error":
        y = (X @ np.linspace(-1, 1, 40)).astype(dtype)
    kw = dict(loss=loss, batch_size=1, epochs=3, lr=lr, alpha=alpha, average=average, seed=4)
    a = gd.fit_linear(X, y, **kw)
    b = gd.fit_linear(X.toarray(), y, **kw)
    rtol = 1e-12 if dtype == np.float64 else 1e-5
    scale = max(float(np.abs(b.coef).max()), 1e-3)
    np.testing.assert_allclose(a.coef, b.coef, rtol=0, atol=rtol * scale)
    np.testing.assert_allclose(a.intercept, b.intercept, rtol=rtol, atol=rtol)
    assert a.coef.dtype == dtype and np.all(np.isfinite(a.coef))
