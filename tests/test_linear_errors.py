"""Bad input to fit_linear is rejected up front, with messages naming it."""
import numpy as np
import pytest

import gdfast as gd
from gdfast import reference as ref

rng = np.random.default_rng(0)
X = rng.normal(size=(20, 3))
y = rng.normal(size=20)
yb = np.where(y > 0, 1.0, -1.0)


def with_nan(a, where=(0, 0)):
    a = a.copy()
    a[where] = np.nan
    return a


BAD = [
    # (args, kwargs, exception, message pattern)
    ((X.astype(np.int64), y), {}, TypeError, r"X must have dtype float32 or float64"),
    ((X.astype(np.float16), y), {}, TypeError, r"X must have dtype.*float16"),
    ((X[0], y), {}, ValueError, r"X must be 2-D"),
    ((np.empty((0, 3)), np.empty(0)), {}, ValueError, r"X is empty"),
    ((np.empty((20, 0)), y), {}, ValueError, r"X is empty"),
    ((with_nan(X), y), {}, ValueError, r"X contains NaN or infinity"),
    ((np.where(X > 1, np.inf, X), y), {}, ValueError, r"X contains NaN or infinity"),
    ((X, with_nan(y, 3)), {}, ValueError, r"y contains NaN or infinity"),
    ((X, y[:-1]), {}, ValueError, r"y has shape \(19,\) but X has 20 samples"),
    ((X, np.array(["a"] * 20)), {}, TypeError, r"y must be numeric"),
    ((X, np.c_[y, y]), {"loss": "huber"}, ValueError, r"y must be 1-D for loss='huber'"),
    ((X, y), {"loss": "squared"}, ValueError, r"Unknown loss: 'squared'"),
    ((X, y), {"loss": "log_loss"}, ValueError, r"loss='log_loss' takes y in \{-1, \+1\}"),
    ((X, yb + 1), {"loss": "hinge"}, ValueError, r"labels \[0.0, 2.0\]"),
    ((X, y), {"loss": "softmax"}, ValueError, r"integer class ids"),
    ((X, -np.ones(20)), {"loss": "softmax"}, ValueError, r"class ids 0..K-1.*got -1"),
    ((X, np.zeros(20)), {"loss": "softmax"}, ValueError, r"at least 2 classes"),
    ((X, y), {"batch_size": 0}, ValueError, r"Invalid batch_size: 0"),
    ((X, y), {"batch_size": 2.5}, TypeError, r"batch_size must be an int"),
    ((X, y), {"epochs": 0}, ValueError, r"Invalid epochs: 0"),
    ((X, y), {"lr": -1.0}, ValueError, r"Invalid learning rate: lr=-1.0"),
    ((X, y), {"lr": float("nan")}, ValueError, r"Invalid lr: nan"),
    ((X, y), {"momentum": 1.0}, ValueError, r"Invalid momentum value: momentum=1.0"),
    ((X, y), {"nesterov": True}, ValueError, r"Nesterov momentum requires a momentum"),
    ((X, y), {"debias": True}, ValueError, r"debias=True requires ema=True"),
    ((X, y), {"momentum": 0.5, "ema": True, "dampening": 0.1}, ValueError,
     r"dampening=0.1 cannot be combined with ema=True"),
    ((X, y), {"schedule": "cosine"}, ValueError, r"Unknown schedule: 'cosine'"),
    ((X, y), {"schedule": "optimal"}, ValueError, r"schedule='optimal' needs alpha > 0"),
    ((X, y), {"alpha": -0.1}, ValueError, r"Invalid alpha: -0.1"),
    ((X, y), {"l1_ratio": 1.5}, ValueError, r"Invalid l1_ratio: 1.5"),
    ((X, y), {"epsilon": -1}, ValueError, r"Invalid epsilon: -1"),
    ((X, y), {"sample_weight": np.ones(19)}, ValueError,
     r"sample_weight has shape \(19,\) but X has 20 samples"),
    ((X, y), {"sample_weight": -np.ones(20)}, ValueError, r"sample_weight must be >= 0"),
    ((X, y), {"sample_weight": with_nan(np.ones(20), 2)}, ValueError,
     r"sample_weight contains NaN"),
    ((X, y), {"coef_init": np.zeros(4)}, ValueError,
     r"coef_init has shape \(4,\), expected \(3,\)"),
    ((X, y), {"intercept_init": np.zeros(2)}, ValueError, r"intercept_init has 2 values"),
    ((X, y), {"coef_init": np.full(3, np.inf)}, ValueError, r"coef_init contains NaN"),
    ((X, y), {"seed": -1}, ValueError, r"Invalid seed: -1"),
    ((X, y), {"seed": 1.5}, TypeError, r"seed must be None or an int"),
    ((X, y), {"average": -2}, ValueError, r"Invalid average: -2"),
    ((X, y), {"tol": -1.0}, ValueError, r"Invalid tol: -1.0"),
    ((X, y), {"n_iter_no_change": 0}, ValueError, r"Invalid n_iter_no_change: 0"),
    ((X, y), {"n_jobs": 0}, ValueError, r"Invalid n_jobs: 0"),
    ((X, y), {"callback": 3}, TypeError, r"callback must be callable"),
    ((X, y), {"fit_intercept": "yes"}, TypeError, r"fit_intercept must be True or False"),
]


@pytest.mark.parametrize("impl", [gd.fit_linear, ref.fit_linear], ids=["c", "reference"])
@pytest.mark.parametrize("args,kwargs,exc,match", BAD,
                         ids=[f"{i}" for i in range(len(BAD))])
def test_bad_input_is_rejected(impl, args, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        impl(*args, **kwargs)


def test_sparse_X_of_int_dtype_is_named():
    sparse = pytest.importorskip("scipy.sparse")
    with pytest.raises(TypeError, match=r"X must have dtype float32 or float64, got int64"):
        gd.fit_linear(sparse.csr_matrix(np.ones((4, 3), dtype=np.int64)), np.ones(4))


def test_check_input_false_skips_the_scan_only():
    # the finite scan is skipped, everything else is still validated
    with pytest.raises(ValueError, match=r"y has shape"):
        gd.fit_linear(X, y[:-1], check_input=False)
    res = gd.fit_linear(X, y, check_input=False, epochs=2, seed=0)
    np.testing.assert_array_equal(res.coef, gd.fit_linear(X, y, epochs=2, seed=0).coef)


def test_lists_are_accepted_as_float64():
    res = gd.fit_linear(X.tolist(), y.tolist(), epochs=2, seed=0)
    assert res.coef.dtype == np.float64
    np.testing.assert_array_equal(res.coef, gd.fit_linear(X, y, epochs=2, seed=0).coef)


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("batch_size", [1, 7, None], ids=["per-sample", "mini", "full"])
@pytest.mark.parametrize("loss,K", [("squared_error", 1), ("log_loss", 1),
                                    ("squared_error", 3), ("softmax", 3)])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("check_input", [True, False])
def test_nonfinite_X_is_found_in_the_loop_and_named_by_row(dtype, batch_size, loss, K, bad,
                                                           check_input):
    # the C loop checks X inside its first pass (each row's prediction); the
    # row it names is a row holding the NaN/inf, and nothing passed is modified
    r = np.random.default_rng(1)
    Xb = r.normal(size=(300, 4)).astype(dtype)
    Xb[123, 2] = bad
    Xb[251, 0] = bad
    if loss == "softmax":
        yb = r.integers(0, K, size=300)
    elif loss == "log_loss":
        yb = np.where(r.normal(size=300) > 0, 1.0, -1.0)
    else:
        yb = r.normal(size=(300, K) if K > 1 else 300)
    coef_init = np.ones((4, K) if K > 1 else 4)
    X0, c0 = Xb.copy(), coef_init.copy()
    with pytest.raises(ValueError, match=r"X contains NaN or infinity \(row (123|251)\)"):
        gd.fit_linear(Xb, yb, loss=loss, batch_size=batch_size, epochs=3, seed=0,
                      coef_init=coef_init, check_input=check_input)
    np.testing.assert_array_equal(Xb, X0)
    np.testing.assert_array_equal(coef_init, c0)
    with pytest.raises(ValueError, match=r"X contains NaN or infinity"):
        ref.fit_linear(Xb, yb, loss=loss, batch_size=batch_size, epochs=3, seed=0)


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_nonfinite_X_row_is_the_same_for_any_thread_count(n_jobs):
    # a full batch large enough to split into blocks (threads when n_jobs=2):
    # the named row is the first bad one in block order, whatever the threads
    r = np.random.default_rng(2)
    Xb = r.normal(size=(6000, 40))
    Xb[[4100, 900, 5999], [3, 0, 39]] = np.nan
    with pytest.raises(ValueError, match=r"\(row 900\)"):
        gd.fit_linear(Xb, r.normal(size=6000), batch_size=None, shuffle=False, n_jobs=n_jobs)
