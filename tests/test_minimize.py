"""gdfast.minimize: convergence, parity with the NumPy twin, data batches,
stopping rules, the scipy conventions, dtypes, and every error it promises."""
import _thread
import gc
import math
import sys
import threading
import time
import traceback

import numpy as np
import pytest

import gdfast as gd
from gdfast import reference
from gdfast._shuffle import epoch_order, resolve_seed, splitmix64_finalizer

DTYPES = [np.float32, np.float64]


# ---- objectives ---------------------------------------------------------------

def rosen(x):
    f = np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)
    g = np.zeros_like(x)
    g[:-1] = -400 * x[:-1] * (x[1:] - x[:-1] ** 2) - 2 * (1 - x[:-1])
    g[1:] += 200 * (x[1:] - x[:-1] ** 2)
    return f, g


def make_quadratic(n=20, cond=100.0, seed=0):
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    a = (q * np.logspace(0, np.log10(cond), n)) @ q.T
    b = rng.standard_normal(n)

    def quad(x):
        r = a @ x
        return 0.5 * x @ r - b @ x, r - b

    return quad, np.linalg.solve(a, b)


def least_squares(w, xb, yb):
    """(1/|B|) sum (x.w - y)^2 / 2, fit_linear's squared_error objective."""
    r = xb @ w - yb
    return 0.5 * np.mean(r * r), xb.T @ r / len(yb)


def make_regression(n=120, d=5, dtype=np.float64, noise=0.1, seed=1):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d))
    w = rng.standard_normal(d)
    y = x @ w + noise * rng.standard_normal(n)
    return x.astype(dtype), y.astype(dtype)


def rtol_for(dtype):
    return 2e-5 if dtype == np.float32 else 1e-11


# ---- convergence --------------------------------------------------------------

ROSEN_RULES = {
    "gd": dict(lr=1e-3),
    "heavy_ball": dict(lr=1e-3, momentum=0.9),
    "nesterov": dict(lr=1e-3, momentum=0.9, nesterov=True),
    "ema": dict(lr=1e-2, momentum=0.9, ema=True),
    "ema_nesterov": dict(lr=1e-2, momentum=0.9, ema=True, nesterov=True),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("rule", list(ROSEN_RULES))
def test_rosenbrock_converges(rule, dtype):
    gtol = 1e-4 if dtype == np.float64 else 1e-3
    res = gd.minimize(rosen, np.array([-1.2, 1.0], dtype), max_iter=60000, gtol=gtol,
                      **ROSEN_RULES[rule])
    assert res.success and res.status == 0, res.message
    assert res.x.dtype == dtype
    np.testing.assert_allclose(res.x, [1.0, 1.0], atol=5e-3)
    assert np.linalg.norm(res.jac) <= gtol
    assert res.nit < 60000


QUAD_RULES = {
    "gd": dict(lr=1e-2),
    "heavy_ball": dict(lr=5e-3, momentum=0.8),
    "nesterov": dict(lr=5e-3, momentum=0.8, nesterov=True),
    "ema": dict(lr=1e-2, momentum=0.8, ema=True),
}


@pytest.mark.parametrize("rule", list(QUAD_RULES))
def test_ill_conditioned_quadratic_converges(rule):
    quad, x_star = make_quadratic(cond=100.0)
    res = gd.minimize(quad, np.zeros(20), max_iter=20000, gtol=1e-8, **QUAD_RULES[rule])
    assert res.success, res.message
    np.testing.assert_allclose(res.x, x_star, atol=1e-7)


def test_momentum_beats_plain_gd_on_ill_conditioned_quadratic():
    quad, _ = make_quadratic(cond=100.0)
    plain = gd.minimize(quad, np.zeros(20), max_iter=20000, gtol=1e-8, lr=1e-2)
    heavy = gd.minimize(quad, np.zeros(20), max_iter=20000, gtol=1e-8, lr=5e-3, momentum=0.8)
    assert heavy.nit < plain.nit / 2


def test_large_x_releases_gil_path_matches_reference():
    # n above the GIL-release threshold takes the nogil branch of the step
    n = 20000
    rng = np.random.default_rng(3)
    d = rng.uniform(0.5, 2.0, n)
    c = rng.standard_normal(n)

    def f(x):
        r = x - c
        return 0.5 * np.sum(d * r * r), d * r

    kw = dict(max_iter=30, lr=0.1, momentum=0.9, nesterov=True)
    res = gd.minimize(f, np.zeros(n), **kw)
    ref = reference.minimize(f, np.zeros(n), **kw)
    np.testing.assert_allclose(res.x, ref["x"], rtol=1e-12, atol=1e-14)


# ---- parity with the NumPy twin: every rule option -----------------------------

RULE_CASES = {
    "plain": dict(lr=0.05),
    "weight_decay": dict(lr=0.05, weight_decay=0.1),
    "maximize": dict(lr=0.05, maximize=True),
    "heavy_ball": dict(lr=0.02, momentum=0.9),
    "dampening": dict(lr=0.02, momentum=0.9, dampening=0.3, weight_decay=0.01),
    "nesterov": dict(lr=0.02, momentum=0.9, nesterov=True, weight_decay=0.01),
    "ema": dict(lr=0.05, momentum=0.8, ema=True),
    "ema_debias": dict(lr=0.05, momentum=0.8, ema=True, debias=True),
    "ema_debias_nesterov": dict(lr=0.05, momentum=0.8, ema=True, debias=True, nesterov=True),
    "invscaling": dict(lr=0.1, momentum=0.5, schedule="invscaling", power_t=0.5),
    "callable_lr": dict(lr=lambda t: 0.1 / (1.0 + 0.1 * t), momentum=0.5),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", list(RULE_CASES))
def test_matches_reference_every_rule(case, dtype):
    quad, _ = make_quadratic(n=8, cond=10.0, seed=2)
    kw = RULE_CASES[case]
    if kw.get("maximize"):
        def f(x):
            v, g = quad(x)
            return -v, -g
    else:
        f = quad

    def f_typed(x):
        v, g = f(x.astype(np.float64))
        return float(v), g.astype(dtype)

    x0 = np.linspace(-1, 1, 8).astype(dtype)
    res = gd.minimize(f_typed, x0, max_iter=60, **kw)
    ref = reference.minimize(f_typed, x0, max_iter=60, **kw)
    assert res.x.dtype == dtype
    assert res.nit == ref["nit"] == 60
    np.testing.assert_allclose(res.x, ref["x"], rtol=rtol_for(dtype), atol=1e-6 if dtype ==
                               np.float32 else 1e-13)
    np.testing.assert_allclose(res.loss_history, ref["loss_history"], rtol=1e-4 if dtype ==
                               np.float32 else 1e-10)
    # the loop really used the step sizes: the result moved toward the optimum
    assert res.fun < res.loss_history[0] if not kw.get("maximize") else True


def test_matches_gdfast_sgd_step_by_step():
    # the update is the C kernel of gdfast.SGD: same arithmetic, bit for bit
    quad, _ = make_quadratic(n=16, seed=4)
    x0 = np.linspace(-1, 1, 16)
    res = gd.minimize(quad, x0, max_iter=40, lr=0.01, momentum=0.9, nesterov=True)
    w = x0.copy()
    opt = gd.SGD(w, lr=0.01, momentum=0.9, nesterov=True)
    for _ in range(40):
        opt.step(quad(w)[1])
    np.testing.assert_array_equal(res.x, w)


# ---- the result ---------------------------------------------------------------

def test_result_is_scipy_optimize_result():
    from scipy.optimize import OptimizeResult
    quad, _ = make_quadratic(n=5)
    res = gd.minimize(quad, np.zeros(5), max_iter=25, lr=0.01)
    assert isinstance(res, OptimizeResult)
    for key in ("x", "fun", "jac", "nit", "nfev", "njev", "success", "status", "message",
                "loss_history"):
        assert key in res
    assert res.nit == 25
    # without data: res.fun is the loss at res.x, from one more call of fun
    assert res.nfev == res.njev == 26
    fx, gx = quad(res.x)
    assert res.fun == fx
    np.testing.assert_array_equal(res.jac, gx)
    assert res.loss_history.shape == (26,) and res.loss_history[-1] == res.fun
    assert res.loss_history[0] == quad(np.zeros(5))[0]
    assert res.success and res.status == 0


def test_fallback_result_without_scipy(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_scipy(name, *args, **kwargs):
        if name == "scipy" or name.startswith("scipy."):
            raise ImportError("no scipy here")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_scipy)
    quad, _ = make_quadratic(n=3)
    res = gd.minimize(quad, np.zeros(3), max_iter=5, lr=0.01)
    assert type(res).__module__ == "gdfast._minimize"
    assert isinstance(res, dict)
    assert res.nit == res["nit"] == 5
    assert res.x is res["x"]
    with pytest.raises(AttributeError):
        res.hess_inv
    assert "nit" in dir(res) and "nit: 5" in repr(res)


def test_x0_not_modified_any_shape_and_dtype_kept():
    for dtype in DTYPES:
        x0 = np.arange(12, dtype=dtype).reshape(3, 4)
        keep = x0.copy()
        seen = []

        def f(x):
            seen.append((x.shape, x.dtype, x.flags.writeable))
            return float(np.sum(x * x)), (2 * x).astype(dtype)

        res = gd.minimize(f, x0, max_iter=5, lr=0.1)
        np.testing.assert_array_equal(x0, keep)
        assert res.x.shape == (3, 4) and res.x.dtype == dtype and res.jac.dtype == dtype
        assert not np.shares_memory(res.x, x0)
        assert set(seen) == {((3, 4), np.dtype(dtype), False)}
        np.testing.assert_allclose(res.x, keep * 0.8 ** 5, rtol=1e-6)


@pytest.mark.parametrize("make_loss", [float, np.float32, np.float64, np.float16, int,
                                       np.int32, np.array])
def test_loss_scalar_kinds(make_loss):
    calls = []

    def f(x):
        calls.append(1)
        return make_loss(3 * len(calls)), 2 * x

    res = gd.minimize(f, np.array([1.5, -0.5], np.float32), max_iter=2, lr=0.25)
    assert res.loss_history.tolist() == [3.0, 6.0, 9.0] and res.fun == 9.0
    np.testing.assert_array_equal(res.x, [0.375, -0.125])


def test_x0_fortran_order_and_non_native_byte_order():
    x0 = np.asfortranarray(np.arange(6.0).reshape(2, 3))
    res = gd.minimize(lambda x: (float(x.sum()), np.ones_like(x)), x0, max_iter=3, lr=1.0)
    np.testing.assert_array_equal(res.x, x0 - 3)
    x0 = np.arange(4.0).astype(">f8")
    res = gd.minimize(lambda x: (float(x.sum()), np.ones_like(x)), x0, max_iter=1, lr=1.0)
    assert res.x.dtype == np.float64 and res.x.dtype.isnative
    np.testing.assert_array_equal(res.x, np.arange(4.0) - 1)


def test_x0_numbers_and_scalar():
    res = gd.minimize(lambda x: (float((x - 3) @ (x - 3)), 2 * (x - 3)), [0, 0], max_iter=200,
                      lr=0.1)
    assert res.x.dtype == np.float64
    np.testing.assert_allclose(res.x, [3, 3])
    # a 0-d x: the gradient may come back as a NumPy scalar
    res = gd.minimize(lambda x: ((x - 3) ** 2, 2 * (x - 3)), 0.0, max_iter=200, lr=0.1)
    assert res.x.shape == ()
    np.testing.assert_allclose(res.x, 3.0)
    res = gd.minimize(lambda x: ((x - 3) ** 2, 2 * (x - 3)), np.float32(0.0), max_iter=200,
                      lr=0.1)
    assert res.x.dtype == np.float32


def test_callable_may_keep_and_read_x_view():
    views = []

    def f(x):
        views.append(x)
        return float(x.sum()), np.ones_like(x)

    res = gd.minimize(f, np.zeros(3), max_iter=4, lr=1.0)
    # one read-only view of the working array, made once: it follows the updates
    assert all(v is views[0] for v in views)
    np.testing.assert_array_equal(views[0], res.x)
    with pytest.raises(ValueError):
        views[0][0] = 1.0


def test_gradient_that_is_x_itself():
    # grad of ||x||^2/2 is x: the step must not read a half-updated gradient
    res = gd.minimize(lambda x: (0.5 * float(x @ x), x), np.ones(64), max_iter=3, lr=0.5,
                      momentum=0.5, nesterov=True)
    ref = reference.minimize(lambda x: (0.5 * float(x @ x), x.copy()), np.ones(64), max_iter=3,
                             lr=0.5, momentum=0.5, nesterov=True)
    np.testing.assert_array_equal(res.x, ref["x"])


def test_strided_gradient_accepted():
    def f(x):
        g = np.zeros((x.size, 2))
        g[:, 0] = 2 * x
        return float(x @ x), g[:, 0]           # a strided view

    res = gd.minimize(f, np.ones(5), max_iter=10, lr=0.25)
    np.testing.assert_allclose(res.x, 0.5 ** 10)


# ---- scipy conventions ----------------------------------------------------------

def test_jac_callable_matches_jac_true():
    quad, _ = make_quadratic(n=6)
    calls = {"fun": 0, "jac": 0}

    def fun(x, scale):
        calls["fun"] += 1
        return scale * quad(x)[0]

    def jac(x, scale):
        calls["jac"] += 1
        return scale * quad(x)[1]

    a = gd.minimize(lambda x, s: tuple(s * v for v in quad(x)), np.zeros(6), args=(2.0,),
                    max_iter=30, lr=0.01, momentum=0.5)
    b = gd.minimize(fun, np.zeros(6), args=(2.0,), jac=jac, max_iter=30, lr=0.01, momentum=0.5)
    np.testing.assert_array_equal(a.x, b.x)
    np.testing.assert_array_equal(a.loss_history, b.loss_history)
    assert a.fun == b.fun and a.nit == b.nit
    assert b.nfev == calls["fun"] == 31 and b.njev == calls["jac"] == 31


def test_args_non_tuple_is_wrapped():
    res = gd.minimize(lambda x, c: (float(((x - c) ** 2).sum()), 2 * (x - c)), np.zeros(2),
                      args=np.array([1.0, 2.0]), max_iter=300, lr=0.1)
    np.testing.assert_allclose(res.x, [1.0, 2.0])


def test_same_answer_as_scipy_on_convex_problem():
    from scipy.optimize import minimize as sp_minimize
    quad, x_star = make_quadratic(n=10, cond=20.0)
    ours = gd.minimize(quad, np.zeros(10), lr=0.05, momentum=0.9, max_iter=5000, gtol=1e-10)
    theirs = sp_minimize(quad, np.zeros(10), jac=True, method="BFGS", tol=1e-12)
    np.testing.assert_allclose(ours.x, theirs.x, atol=1e-8)
    assert abs(ours.fun - theirs.fun) < 1e-12


# ---- stopping rules -------------------------------------------------------------

def test_tol_stops_on_loss_change():
    quad, _ = make_quadratic(n=10, cond=10.0)
    res = gd.minimize(quad, np.zeros(10), lr=0.01, max_iter=100000, tol=1e-9)
    assert res.success and res.status == 0 and "tol" in res.message
    h = res.loss_history
    assert len(h) == res.nit + 1 < 100000
    assert abs(h[-1] - h[-2]) <= 1e-9 < abs(h[-2] - h[-3])
    assert res.fun == h[-1] and res.nfev == res.nit + 1


def test_gtol_stops_without_updating():
    quad, _ = make_quadratic(n=10, cond=10.0)
    res = gd.minimize(quad, np.zeros(10), lr=0.05, max_iter=100000, gtol=1e-6)
    assert res.success and "gtol" in res.message
    assert np.linalg.norm(res.jac) <= 1e-6
    np.testing.assert_array_equal(res.jac, quad(res.x)[1])
    ref = reference.minimize(quad, np.zeros(10), lr=0.05, max_iter=100000, gtol=1e-6)
    assert res.nit == ref["nit"]


def test_budget_without_tolerance_is_success_with_tolerance_is_not():
    quad, _ = make_quadratic(n=10, cond=100.0)
    ok = gd.minimize(quad, np.zeros(10), lr=1e-3, max_iter=10)
    assert ok.success and ok.status == 0 and "max_iter=10" in ok.message
    bad = gd.minimize(quad, np.zeros(10), lr=1e-3, max_iter=10, gtol=1e-12)
    assert not bad.success and bad.status == 1
    assert "max_iter=10" in bad.message and "gtol" in bad.message
    bad = gd.minimize(quad, np.zeros(10), lr=1e-3, max_iter=10, tol=0.0)
    assert not bad.success and "tol" in bad.message


def test_max_iter_zero_evaluates_x0_only():
    quad, _ = make_quadratic(n=4)
    res = gd.minimize(quad, np.ones(4), max_iter=0)
    assert res.nit == 0 and res.nfev == 1
    np.testing.assert_array_equal(res.x, np.ones(4))
    assert res.fun == quad(np.ones(4))[0]


def test_callback_intermediate_result_and_stop_iteration():
    quad, _ = make_quadratic(n=4)
    got = []

    def callback(intermediate_result):
        got.append(intermediate_result)
        if intermediate_result.nit == 7:
            raise StopIteration

    res = gd.minimize(quad, np.zeros(4), lr=0.01, max_iter=100, callback=callback)
    assert res.success and res.status == 99 and "StopIteration" in res.message
    assert res.nit == 7 and [r.nit for r in got] == list(range(1, 8))
    for r in got:
        # without data, fun is the loss at x
        assert r.fun == quad(r.x)[0]
    np.testing.assert_array_equal(got[-1].x, res.x)
    assert not np.shares_memory(got[-1].x, res.x)
    assert res.fun == got[-1].fun


def test_callback_old_style_gets_x_copy():
    xs = []
    gd.minimize(lambda x: (float(x.sum()), np.ones_like(x)), np.zeros(2), lr=1.0, max_iter=3,
                callback=lambda xk: xs.append(xk))
    np.testing.assert_array_equal(np.array(xs), [[-1, -1], [-2, -2], [-3, -3]])


# ---- data: batches, shuffling, least squares -------------------------------------

def naive_minibatch(x, y, w0, epochs, batch_size, lr, momentum, seed, shuffle=True):
    """The hand-written NumPy loop: same shuffle, same rule (torch's heavy ball)."""
    w = w0.copy()
    v = np.zeros_like(w)
    t = 0
    n = len(y)
    for e in range(epochs):
        order = epoch_order(n, seed, e) if shuffle else np.arange(n)
        for s in range(0, n, batch_size):
            idx = order[s:s + batch_size]
            _, g = least_squares(w, x[idx], y[idx])
            v = g if t == 0 else momentum * v + g
            w = w - lr * v
            t += 1
    return w


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("batch_size", [1, 16, None])
def test_least_squares_with_data_matches_naive_loop_and_lstsq(batch_size, dtype):
    x, y = make_regression(dtype=dtype)
    w0 = np.zeros(5, dtype)
    epochs = 400 if batch_size is None else 20
    kw = dict(lr=0.01 if batch_size == 1 else 0.05, momentum=0.5)
    res = gd.minimize(least_squares, w0, data=(x, y), batch_size=batch_size, epochs=epochs,
                      max_iter=None, seed=7, **kw)
    bs = len(y) if batch_size is None else batch_size
    naive = naive_minibatch(x, y, w0, epochs, bs, seed=7, **kw)
    assert res.x.dtype == dtype
    np.testing.assert_allclose(res.x, naive, rtol=1e-4 if dtype == np.float32 else 1e-9,
                               atol=1e-5 if dtype == np.float32 else 1e-12)
    w_ls = np.linalg.lstsq(x.astype(np.float64), y.astype(np.float64), rcond=None)[0]
    # SGD with a constant step hovers around the solution; full batch reaches it
    atol = 2e-3 if batch_size is None else 0.05
    np.testing.assert_allclose(res.x, w_ls, atol=atol)
    assert res.n_epochs == epochs and len(res.loss_history) == epochs
    assert res.nit == epochs * -(-len(y) // bs)


@pytest.mark.parametrize("shuffle", [True, False])
def test_data_matches_reference_minimize(shuffle):
    x, y = make_regression(n=50)
    kw = dict(data=(x, y), batch_size=8, epochs=3, max_iter=None, lr=0.05, momentum=0.9,
              nesterov=True, seed=11, shuffle=shuffle)
    res = gd.minimize(least_squares, np.zeros(5), **kw)
    ref = reference.minimize(least_squares, np.zeros(5), **kw)
    np.testing.assert_allclose(res.x, ref["x"], rtol=1e-12)
    np.testing.assert_allclose(res.loss_history, ref["loss_history"], rtol=1e-12)
    np.testing.assert_allclose(res.jac, ref["jac"], rtol=1e-12)
    assert res.fun == res.loss_history[-1]
    assert (res.nit, res.nfev, res.n_epochs) == (ref["nit"], ref["nfev"], ref["n_epochs"])


def test_batches_views_gathers_and_epoch_order():
    n = 23
    x = np.arange(n * 2, dtype=np.float64).reshape(n, 2)
    y = np.arange(n, dtype=np.float64)
    seen = []

    def f(w, xb, yb):
        seen.append((xb, yb))
        return 0.0, np.zeros_like(w)

    gd.minimize(f, np.zeros(1), data=(x, y), batch_size=5, epochs=2, max_iter=None,
                shuffle=False)
    assert [len(b[1]) for b in seen] == [5, 5, 5, 5, 3] * 2
    for xb, yb in seen:
        # contiguous views of the caller's arrays, no copies
        assert np.shares_memory(xb, x) and np.shares_memory(yb, y)
    np.testing.assert_array_equal(np.concatenate([b[1] for b in seen[:5]]), y)

    seen.clear()
    gd.minimize(f, np.zeros(1), data=(x, y), batch_size=5, epochs=2, max_iter=None, seed=3)
    for e in range(2):
        rows = np.concatenate([b[1] for b in seen[5 * e:5 * e + 5]]).astype(np.int64)
        np.testing.assert_array_equal(rows, epoch_order(n, 3, e))
        for xb, yb in seen[5 * e:5 * e + 5]:
            np.testing.assert_array_equal(xb[:, 0], 2 * yb)   # rows stay paired
    assert not np.array_equal(seen[0][1], seen[5][1])      # epochs differ

    seen.clear()
    gd.minimize(f, np.zeros(1), data=(x, y), batch_size=1, max_iter=3, seed=3)
    assert [b[0].shape for b in seen] == [(1, 2)] * 3       # per-sample keeps the batch axis

    seen.clear()
    gd.minimize(f, np.zeros(1), data=(x, y), max_iter=2)
    assert seen[0][0] is x and seen[0][1] is y               # full batch: the arrays themselves


def test_data_is_not_modified_and_single_array_and_args():
    x, y = make_regression(n=30)
    xk, yk = x.copy(), y.copy()
    xy = np.column_stack([x, y])

    def f(w, b, scale):
        return least_squares(w, b[:, :-1] * scale, b[:, -1] * scale)

    res = gd.minimize(f, np.zeros(5), data=xy, args=(1.0,), batch_size=4, epochs=2,
                      max_iter=None, seed=1)
    ref = gd.minimize(least_squares, np.zeros(5), data=(x, y), batch_size=4, epochs=2,
                      max_iter=None, seed=1)
    np.testing.assert_allclose(res.x, ref.x, rtol=1e-12)
    np.testing.assert_array_equal(x, xk)
    np.testing.assert_array_equal(y, yk)


def test_data_sparse_rows():
    sp = pytest.importorskip("scipy.sparse")
    x, y = make_regression(n=40)
    xs = sp.csr_matrix(x)

    def f(w, xb, yb):
        r = xb @ w - yb
        return 0.5 * np.mean(r * r), xb.T @ r / len(yb)

    kw = dict(batch_size=8, epochs=2, max_iter=None, seed=5, lr=0.05)
    res = gd.minimize(f, np.zeros(5), data=(xs, y), **kw)
    ref = gd.minimize(least_squares, np.zeros(5), data=(x, y), **kw)
    np.testing.assert_allclose(res.x, ref.x, rtol=1e-12)


def test_data_epochs_max_iter_and_epoch_loss():
    x, y = make_regression(n=20)
    res = gd.minimize(least_squares, np.zeros(5), data=(x, y), batch_size=6, epochs=10,
                      max_iter=9, seed=0)
    # 4 batches per epoch: max_iter=9 ends inside the third epoch
    assert res.nit == 9 and res.n_epochs == 3 and len(res.loss_history) == 3
    assert res.success and "max_iter=9" in res.message
    res = gd.minimize(least_squares, np.zeros(5), data=(x, y), batch_size=6, epochs=2,
                      seed=0)
    assert res.nit == 8 and "epochs=2" in res.message
    # the epoch loss weighs batches by size: the short batch counts for its 2 rows
    losses = []
    gd.minimize(least_squares, np.zeros(5), data=(x, y), batch_size=6, epochs=1, seed=0,
                callback=lambda intermediate_result: losses.append(intermediate_result.fun))
    sizes = np.array([6, 6, 6, 2])
    assert res.loss_history[0] == pytest.approx(np.dot(losses, sizes) / 20, rel=1e-12)


def test_data_tol_on_epoch_loss():
    x, y = make_regression(n=40, noise=0.0)
    res = gd.minimize(least_squares, np.zeros(5), data=(x, y), lr=0.1, max_iter=None,
                      epochs=10000, tol=1e-10)
    assert res.success and "epoch loss" in res.message
    h = res.loss_history
    assert abs(h[-1] - h[-2]) <= 1e-10 < abs(h[-2] - h[-3])
    assert res.n_epochs == len(h) < 10000


def test_matches_fit_linear_when_available():
    if not hasattr(gd, "fit_linear"):
        pytest.skip("gdfast.fit_linear is not on this branch yet")
    x, y = make_regression(n=64)
    kw = dict(batch_size=8, epochs=5, lr=0.01, momentum=0.9, seed=3)
    fl = gd.fit_linear(x, y, loss="squared_error", alpha=0.0, fit_intercept=False,
                       schedule="constant", **kw)
    res = gd.minimize(least_squares, np.zeros(5), data=(x, y), max_iter=None, **kw)
    np.testing.assert_allclose(res.x, fl.coef, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(res.loss_history, fl.loss_history, rtol=1e-9)
    if hasattr(reference, "fit_linear"):
        ref = reference.fit_linear(x, y, loss="squared_error", alpha=0.0, fit_intercept=False,
                                   schedule="constant", **kw)
        np.testing.assert_allclose(res.x, ref.coef, rtol=1e-9, atol=1e-12)


# ---- the epoch shuffle ----------------------------------------------------------

def _splitmix_scalar(z):
    m = (1 << 64) - 1
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & m
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & m
    return z ^ (z >> 31)


def _epoch_order_scalar(n, seed, epoch):
    """The shuffle's definition (gdfast._shuffle's docstring) in plain ints."""
    m, m32 = (1 << 64) - 1, (1 << 32) - 1
    a = max(math.isqrt(n - 1) + 1, 16)
    b = max(-(-n // a), 16)
    base = (seed * 0x9E3779B97F4A7C15 + (epoch + 1) * 0xBF58476D1CE4E5B9) & m
    z = [_splitmix_scalar((base + (j + 1) * 0x94D049BB133111EB) & m) for j in range(4)]
    key, mul = [v & m32 for v in z], [(v >> 32) | 1 for v in z]

    def grid(x):
        L, R = divmod(x, b)
        side, other = a, b
        for j in range(4):
            f = ((((R ^ key[j]) * mul[j]) & m32) * side) >> 32
            L, R = R, (L + f) % side
            side, other = other, side
        return L * b + R

    out = []
    for r in range(n):
        x = grid(r)
        while x >= n:
            x = grid(x)
        out.append(x)
    return out


def test_epoch_order_definition():
    m = (1 << 64) - 1
    for n, seed, epoch in [(50, 0, 0), (50, 12345, 3), (50, m, 7), (7, 1, 0), (300, 9, 2),
                           (1000, 2, 5)]:
        order = epoch_order(n, seed, epoch)
        assert order.dtype == np.int64
        np.testing.assert_array_equal(order, _epoch_order_scalar(n, seed, epoch))
    assert splitmix64_finalizer(np.uint64(0)) == 0
    o = epoch_order(1000, 1, 0)
    assert o.dtype == np.int64 and np.array_equal(np.sort(o), np.arange(1000))
    assert not np.array_equal(o, epoch_order(1000, 1, 1))
    assert not np.array_equal(o, epoch_order(1000, 2, 0))
    np.testing.assert_array_equal(o, epoch_order(1000, 1, 0))
    assert epoch_order(0, 1, 0).shape == (0,)


def test_seed_none_draws_and_seed_checks():
    s = resolve_seed(None)
    assert 0 <= s < 2 ** 64 and s != resolve_seed(None)
    assert resolve_seed(np.uint64(5)) == 5
    with pytest.raises(ValueError, match="seed"):
        resolve_seed(-1)
    with pytest.raises(TypeError, match="seed"):
        resolve_seed(1.5)


# ---- errors ----------------------------------------------------------------------

class Boom(Exception):
    pass


def test_callable_exception_propagates_unchanged_and_nothing_leaks():
    x0 = np.zeros(4)
    x, y = make_regression(n=10, d=4)
    raised = []

    def fun(w, xb, yb):
        if len(raised) == 0 and np.any(w != 0):
            err = Boom("from inside")
            raised.append(err)
            raise err
        return least_squares(w, xb, yb)

    before = [sys.getrefcount(a) for a in (x0, x, y, fun)]
    for _ in range(3):
        raised.clear()
        with pytest.raises(Boom) as info:
            gd.minimize(fun, x0, data=(x, y), batch_size=2, epochs=1, max_iter=None, seed=0)
        assert info.value is raised[0]
        assert "fun" in [fr.name for fr in traceback.extract_tb(info.value.__traceback__)]
        del info
    raised.clear()
    gc.collect()
    assert [sys.getrefcount(a) for a in (x0, x, y, fun)] == before
    np.testing.assert_array_equal(x0, 0)


def _raiser(exc):
    def callback(intermediate_result):
        raise exc

    return callback


def test_gradient_buffers_released_on_every_path():
    # the loop holds the gradient's buffer while it checks and steps; every
    # exit (success, each error) must let go of it
    cases = [
        (np.ones(3), None, {}),
        (np.ones(3), None, dict(gtol=10.0)),
        (np.ones(3), None, dict(callback=_raiser(StopIteration))),
        (np.ones(4), ValueError, {}),
        (np.ones(3, np.float32), TypeError, {}),
        (np.array([1.0, np.nan, 1.0]), FloatingPointError, {}),
        (np.full(3, 1e308), FloatingPointError, dict(lr=10.0)),
        (np.ones(3), Boom, dict(callback=_raiser(Boom))),
    ]
    for g, exc, kw in cases:
        before = sys.getrefcount(g)
        kw = dict(dict(max_iter=3, lr=0.1), **kw)
        if exc is None:
            gd.minimize(lambda x: (1.0, g), np.zeros(3), **kw)
        else:
            with pytest.raises(exc):
                gd.minimize(lambda x: (1.0, g), np.zeros(3), **kw)
        gc.collect()
        assert sys.getrefcount(g) == before, (g, exc, kw)


def test_jac_and_callback_and_lr_exceptions_propagate():
    quad, _ = make_quadratic(n=3)

    def bad(*a, **k):
        raise Boom("mine")

    with pytest.raises(Boom, match="mine"):
        gd.minimize(lambda x: quad(x)[0], np.zeros(3), jac=bad, max_iter=3)
    with pytest.raises(Boom, match="mine"):
        gd.minimize(quad, np.zeros(3), max_iter=3, callback=bad)
    with pytest.raises(Boom, match="mine"):
        gd.minimize(quad, np.zeros(3), max_iter=3, lr=bad)


def bad_grad_fun(kind, dtype=np.float64):
    def named_objective(x):
        if kind == "shape":
            return 1.0, np.zeros(x.size + 1, x.dtype)
        if kind == "dtype":
            return 1.0, np.zeros(x.shape, np.float64 if dtype == np.float32 else np.float32)
        if kind == "type":
            return 1.0, [0.0] * x.size
        if kind == "loss_array":
            return np.ones(3), np.zeros_like(x)
        if kind == "loss_str":
            return "1.0", np.zeros_like(x)
        if kind == "not_pair":
            return 1.0
        if kind == "triple":
            return 1.0, np.zeros_like(x), 2
    return named_objective


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind, exc, words", [
    ("shape", ValueError, ["shape (4,)", "shape (3,)"]),
    ("dtype", TypeError, ["dtype", "shape (3,)"]),
    ("type", TypeError, ["numpy.ndarray", "list", "shape (3,)"]),
    ("loss_array", ValueError, ["scalar loss", "shape (3,)"]),
    ("loss_str", TypeError, ["real scalar loss", "str"]),
    ("not_pair", TypeError, ["(loss, gradient)", "float"]),
    ("triple", TypeError, ["(loss, gradient)", "tuple of length 3"]),
])
def test_bad_results_name_callable_iteration_and_shapes(kind, exc, words, dtype):
    with pytest.raises(exc) as info:
        gd.minimize(bad_grad_fun(kind, dtype), np.zeros(3, dtype), max_iter=5)
    msg = str(info.value)
    assert "named_objective" in msg and "iteration 1" in msg, msg
    for w in words:
        assert w in msg, msg


def test_bad_gradient_later_iteration_and_from_jac():
    def jac(x):
        return np.zeros(2) if np.all(x == 0) else np.zeros((2, 1))

    with pytest.raises(ValueError) as info:
        gd.minimize(lambda x: 1.0, np.zeros(2), jac=lambda x: np.ones(2) if x[0] == 0 else
                    np.ones(3), max_iter=5)
    msg = str(info.value)
    assert "jac (" in msg and "<lambda>)" in msg and "iteration 2" in msg, msg
    with pytest.raises(ValueError, match=r"shape \(2, 1\)"):
        gd.minimize(lambda x: 1.0, np.ones(2), jac=jac, max_iter=5)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("where", ["loss", "grad_first", "grad_last", "grad_middle"])
def test_non_finite_raises_with_last_finite_x(where, bad, dtype):
    n = 37                                      # odd: exercises the kernels' scalar tails
    calls = []

    def f(x):
        calls.append(x.copy())
        g = np.full(n, 0.5, dtype)
        loss = 1.0
        if len(calls) == 4:
            if where == "loss":
                loss = bad
            else:
                g[{"grad_first": 0, "grad_last": n - 1, "grad_middle": n // 2}[where]] = bad
        return loss, g

    with pytest.raises(FloatingPointError) as info:
        gd.minimize(f, np.zeros(n, dtype), lr=0.1, momentum=0.5, max_iter=10)
    err = info.value
    assert err.iteration == 4 and "iteration 4" in str(err)
    assert ("loss" if where == "loss" else "gradient") in str(err)
    assert err.x.dtype == dtype and np.isfinite(err.x).all()
    np.testing.assert_array_equal(err.x, calls[-1])   # x where the bad values appeared


@pytest.mark.parametrize("isa", gd._core.available_isas())
def test_non_finite_gradient_detected_on_every_isa(isa):
    old = gd.get_isa()
    try:
        gd.set_isa(isa)
        for dtype in DTYPES:
            for n in (1, 7, 8, 16, 33, 1000):
                for pos in {0, n // 2, n - 1}:
                    g = np.ones(n, dtype)
                    g[pos] = np.nan
                    with pytest.raises(FloatingPointError):
                        gd.minimize(lambda x, g=g: (0.0, g), np.zeros(n, dtype), max_iter=1)
                # the largest finite values are finite
                g = np.full(n, np.finfo(dtype).max, dtype)
                res = gd.minimize(lambda x, g=g: (0.0, g), np.zeros(n, dtype), lr=0.0,
                                  max_iter=1)
                assert res.nit == 1
    finally:
        gd.set_isa(old)


@pytest.mark.parametrize("dtype", DTYPES)
def test_overflowing_update_restores_x(dtype):
    big = np.finfo(dtype).max / 4

    def f(x):
        return 1.0, np.full(3, big, dtype)

    with pytest.raises(FloatingPointError) as info:
        gd.minimize(f, np.zeros(3, dtype), lr=1.0, max_iter=10)
    err = info.value
    assert "overflow" in str(err) and err.iteration == 5
    np.testing.assert_array_equal(err.x, np.full(3, -4 * big, dtype))
    assert np.isfinite(err.x).all()


def test_keyboard_interrupt_is_prompt_and_keeps_x():
    quad, _ = make_quadratic(n=50)
    timer = threading.Timer(0.3, _thread.interrupt_main)
    t0 = time.perf_counter()
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt) as info:
            gd.minimize(quad, np.zeros(50), lr=1e-3, max_iter=10 ** 9)
    finally:
        timer.cancel()
    assert time.perf_counter() - t0 < 10.0
    err = info.value
    assert np.isfinite(err.x).all() and err.iteration > 1
    # x is consistent: it is exactly the reference after iteration-1 updates
    ref = reference.minimize(quad, np.zeros(50), lr=1e-3, max_iter=err.iteration - 1)
    np.testing.assert_allclose(err.x, ref["x"], rtol=1e-12, atol=1e-15)


def test_lr_callable_bad_values():
    quad, _ = make_quadratic(n=3)
    with pytest.raises(ValueError, match=r"lr\(3\) returned -1"):
        gd.minimize(quad, np.zeros(3), max_iter=5, lr=lambda t: 0.01 if t < 3 else -1.0)
    with pytest.raises(ValueError, match=r"lr\(1\) returned nan"):
        gd.minimize(quad, np.zeros(3), max_iter=5, lr=lambda t: float("nan"))
    with pytest.raises(TypeError, match=r"lr\(1\) returned 'x'"):
        gd.minimize(quad, np.zeros(3), max_iter=5, lr=lambda t: "x")
    res = gd.minimize(quad, np.zeros(3), max_iter=5, lr=lambda t: np.float32(0.01))
    assert res.nit == 5


QUAD3 = make_quadratic(n=3)[0]


@pytest.mark.parametrize("kwargs, exc, match", [
    (dict(fun=42), TypeError, "fun must be callable"),
    (dict(jac=False), ValueError, "finite differences"),
    (dict(jac="2-point"), ValueError, "jac must be True"),
    (dict(x0=np.zeros(3, np.int64)), TypeError, "x0 must have dtype"),
    (dict(x0=np.zeros(3, np.float16)), TypeError, "float16"),
    (dict(x0=np.zeros(0)), ValueError, "x0 is empty"),
    (dict(x0=np.array([1.0, np.nan, 0.0])), ValueError, "x0 contains NaN"),
    (dict(x0=["a", "b", "c"]), TypeError, "x0 must be"),
    (dict(lr=-1.0), ValueError, "lr=-1.0"),
    (dict(momentum=1.0), ValueError, "momentum=1.0"),
    (dict(nesterov=True), ValueError, "Nesterov"),
    (dict(debias=True), ValueError, "debias"),
    (dict(momentum=0.5, ema=True, dampening=0.1), ValueError, "dampening"),
    (dict(weight_decay=-1), ValueError, "weight_decay"),
    (dict(schedule="optimal"), ValueError, "schedule: 'optimal'"),
    (dict(lr=lambda t: 0.1, schedule="invscaling"), ValueError, "callable lr"),
    (dict(power_t=float("inf")), ValueError, "power_t"),
    (dict(tol=-1.0), ValueError, "tol"),
    (dict(gtol=float("nan")), ValueError, "gtol"),
    (dict(max_iter=-1), ValueError, "max_iter: -1"),
    (dict(max_iter=2.5), TypeError, "max_iter must be an int"),
    (dict(max_iter=None), ValueError, "max_iter=None"),
    (dict(epochs=3), ValueError, "epochs=3 needs data"),
    (dict(batch_size=3), ValueError, "batch_size=3 needs data"),
    (dict(shuffle=1), TypeError, "shuffle"),
    (dict(callback=5), TypeError, "callback must be callable"),
    (dict(data=(np.zeros((4, 2)), np.zeros(5))), ValueError, "share their first axis"),
    (dict(data=(np.zeros((0, 2)),)), ValueError, "no samples"),
    (dict(data=(np.float64(1.0),)), ValueError, "at least one dimension"),
    (dict(data=()), ValueError, "data is empty"),
    (dict(data=(np.zeros(4),), batch_size=0), ValueError, "batch_size: 0"),
    (dict(data=(np.zeros(4),), epochs=0), ValueError, "epochs: 0"),
    (dict(data=(np.zeros(4),), max_iter=None), ValueError, "unbounded"),
    (dict(data=(np.zeros(4),), seed=-3), ValueError, "seed"),
])
def test_argument_errors_before_any_call(kwargs, exc, match):
    calls = []

    def fun(x, *rest):
        calls.append(1)
        return QUAD3(x)

    kw = dict(fun=fun, x0=np.zeros(3))
    kw.update(kwargs)
    with pytest.raises(exc, match=match):
        gd.minimize(**kw)
    assert calls == []
