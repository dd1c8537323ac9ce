"""gdfast.fit_linear: the C loops against the NumPy reference, and the
properties the issue asks for (convergence, determinism, dtypes, safety)."""
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import gdfast as gd
from gdfast import reference as ref

BINARY = ("log_loss", "hinge", "squared_hinge", "modified_huber", "perceptron")
REGRESSION = ("squared_error", "huber", "epsilon_insensitive", "squared_epsilon_insensitive")
LOSSES = REGRESSION + BINARY + ("softmax", "multi_output")
MODES = {"sample": 1, "mini7": 7, "full": None}
RULES = {
    "plain": {},
    "heavy_ball": dict(momentum=0.9),
    "dampening": dict(momentum=0.6, dampening=0.3),
    "nesterov": dict(momentum=0.9, nesterov=True),
    "ema": dict(momentum=0.8, ema=True),
    "ema_debias": dict(momentum=0.8, ema=True, debias=True),
    "ema_nesterov": dict(momentum=0.8, ema=True, nesterov=True, debias=True),
}
PENALTIES = {"none": {}, "l2": dict(alpha=0.01), "elastic": dict(alpha=0.02, l1_ratio=0.4)}
SCHEDULES = {
    "constant": dict(schedule="constant"),
    "invscaling": dict(schedule="invscaling", power_t=0.5, lr=0.05),
    "optimal": dict(schedule="optimal", alpha=0.1),
    "adaptive": dict(schedule="adaptive", tol=10.0, n_iter_no_change=1),
    "callable": dict(schedule=lambda e: 0.02 / (1 + e)),
}
DTYPES = (np.float64, np.float32)


def make_data(loss, n=61, d=5, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)).astype(dtype)
    w = rng.normal(size=d)
    z = X.astype(np.float64) @ w
    if loss in BINARY:
        y = np.where(z + 0.3 * rng.normal(size=n) > 0, 1.0, 0.0)  # {0, 1} labels
    elif loss == "softmax":
        y = (X.astype(np.float64) @ rng.normal(size=(d, 3))).argmax(axis=1)
    elif loss == "multi_output":
        y = X.astype(np.float64) @ rng.normal(size=(d, 2)) + [0.5, -1.0]
    else:
        y = z + 0.5 + 0.1 * rng.normal(size=n)
    return X, y


def loss_name(loss):
    return "squared_error" if loss == "multi_output" else loss


def assert_agree(a, b, dtype):
    """C result a and reference result b agree to rounding."""
    if dtype == np.float64:
        rtol, atol = 1e-10, 1e-12
    else:
        rtol, atol = 1e-4, 1e-5
    scale = max(1.0, float(np.max(np.abs(b.coef))), float(np.max(np.abs(b.intercept))))
    assert a.coef.dtype == dtype and a.intercept.dtype == dtype
    assert a.coef.shape == b.coef.shape and a.intercept.shape == b.intercept.shape
    np.testing.assert_allclose(a.coef, b.coef, rtol=rtol, atol=atol * scale)
    np.testing.assert_allclose(a.intercept, b.intercept, rtol=rtol, atol=atol * scale)
    np.testing.assert_allclose(a.loss_history, b.loss_history, rtol=rtol, atol=atol)
    assert (a.n_epochs, a.n_updates, a.converged) == (b.n_epochs, b.n_updates, b.converged)


def both(X, y, **kw):
    return gd.fit_linear(X, y, **kw), ref.fit_linear(X, y, **kw)


# ---- the shuffle -----------------------------------------------------------------

@pytest.mark.parametrize("n", [1, 2, 7, 300, 5000])
@pytest.mark.parametrize("seed", [0, 12345, 2 ** 64 - 1])
def test_shuffle_order_c_equals_reference(n, seed):
    for epoch in (0, 1, 9):
        c = gd._core.shuffle_order(n, seed, epoch)
        r = ref.shuffle_order(n, seed, epoch)
        np.testing.assert_array_equal(c, r)
        assert np.array_equal(np.sort(c), np.arange(n))
    if n > 100:
        assert not np.array_equal(gd._core.shuffle_order(n, seed, 0),
                                  gd._core.shuffle_order(n, seed, 1))


@pytest.mark.parametrize("n", [2, 7, 10, 33, 300, 5000])
def test_shuffle_order_is_uniform_over_seeds(n):
    """Every row is equally likely at every position: chi-square over 3000
    seeds at the first, second, middle and last positions (fixed seeds, so
    the test is deterministic; p < 1e-4 fails it). And neighbours are
    unrelated: ascending and descending steps are equally frequent."""
    stats = pytest.importorskip("scipy.stats")
    seeds = 3000
    orders = np.array([gd._core.shuffle_order(n, s, 0) for s in range(seeds)])
    for pos in sorted({0, 1, n // 2, n - 1}):
        counts = np.bincount(orders[:, pos], minlength=n)
        chi2 = ((counts - seeds / n) ** 2 / (seeds / n)).sum()
        assert stats.chi2.sf(chi2, n - 1) > 1e-4, (n, pos, counts)
    assert abs((np.diff(orders, axis=1) > 0).mean() - 0.5) < 0.04


# ---- C against the reference -----------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("loss", LOSSES)
def test_losses_match_reference(loss, mode, dtype):
    i = LOSSES.index(loss) + list(MODES).index(mode)
    rule = list(RULES.values())[i % len(RULES)]
    pen = list(PENALTIES.values())[i % len(PENALTIES)]
    X, y = make_data(loss, dtype=dtype, seed=i)
    kw = dict(loss=loss_name(loss), batch_size=MODES[mode], epochs=3, lr=0.02, seed=7,
              epsilon=0.2, **rule, **pen)
    a, b = both(X, y, **kw)
    assert_agree(a, b, dtype)
    assert np.all(np.isfinite(a.loss_history)) and len(a.loss_history) == 3


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_per_sample_log_loss_over_long_epochs_matches_reference(weighted, dtype):
    """The per-sample log_loss loop folds the loss terms into a product taken
    out with one log per 512 rows: epochs of 1300 rows cross that boundary,
    and scaled-up X with large weights sends predictions past |z| > 18,
    scikit-learn's two asymptotic branches, on both sides."""
    X, y = make_data("log_loss", n=1300, d=4, dtype=dtype, seed=3)
    X = (X * 8).astype(dtype)
    sw = np.random.default_rng(1).uniform(0.5, 2, size=len(X)) if weighted else None
    kw = dict(loss="log_loss", batch_size=1, epochs=3, lr=0.002, seed=2, sample_weight=sw,
              coef_init=np.full(4, 2.0, dtype=dtype))
    a, b = both(X, y, **kw)
    assert_agree(a, b, dtype)
    # the first rows visited meet nearly the initial weights: both branches there
    first = ref.shuffle_order(len(X), 2, 0)[:50]
    z0 = (X[first].astype(np.float64) @ np.full(4, 2.0)) * np.where(y[first] > 0, 1, -1)
    assert (z0 > 18).any() and (z0 < -18).any() and (np.abs(z0) < 18).any()


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
@pytest.mark.parametrize("penalty", list(PENALTIES))
@pytest.mark.parametrize("rule", list(RULES))
@pytest.mark.parametrize("mode", list(MODES))
def test_rules_and_penalties_match_reference(mode, rule, penalty, dtype):
    i = list(RULES).index(rule) + list(PENALTIES).index(penalty)
    loss = ("squared_error", "log_loss", "huber", "softmax")[i % 4]
    X, y = make_data(loss, n=50, dtype=dtype, seed=i)
    a, b = both(X, y, loss=loss, batch_size=MODES[mode], epochs=4, lr=0.02, seed=11,
                **RULES[rule], **PENALTIES[penalty])
    assert_agree(a, b, dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
@pytest.mark.parametrize("schedule", list(SCHEDULES))
@pytest.mark.parametrize("mode", list(MODES))
def test_schedules_match_reference(mode, schedule, dtype):
    loss = "hinge" if schedule == "optimal" else "squared_error"
    X, y = make_data(loss, n=40, dtype=dtype, seed=3)
    kw = dict(loss=loss, batch_size=MODES[mode], epochs=5, lr=0.02, seed=5)
    kw.update(SCHEDULES[schedule])
    a, b = both(X, y, **kw)
    assert_agree(a, b, dtype)


def test_adaptive_schedule_divides_lr_and_stops():
    X, y = make_data("squared_error", n=40)
    seen = []
    res = gd.fit_linear(X, y, batch_size=4, epochs=200, lr=0.05, schedule="adaptive", tol=1e9,
                        n_iter_no_change=1, seed=0, verbose=False,
                        callback=lambda e, c, b, loss: seen.append(e) and False)
    # after the first epoch (which sets the best loss) every epoch fails to
    # improve by 1e9: lr drops by 5 each epoch until it is below 1e-6
    assert res.converged
    k = next(k for k in range(1, 50) if 0.05 / 5 ** k < 1e-6)
    assert res.n_epochs == k + 1
    assert seen == list(range(k + 1))
    assert_agree(res, ref.fit_linear(X, y, batch_size=4, epochs=200, lr=0.05,
                                     schedule="adaptive", tol=1e9, n_iter_no_change=1,
                                     seed=0), np.float64)


@pytest.mark.parametrize("n", [1, 7])
@pytest.mark.parametrize("mode", list(MODES))
def test_tiny_data_sets(n, mode):
    X, y = make_data("log_loss", n=n, d=3)
    y[0] = 1.0
    for loss in ("log_loss", "squared_error"):
        a, b = both(X, y, loss=loss, batch_size=MODES[mode], epochs=3, lr=0.1, seed=1,
                    momentum=0.5)
        assert_agree(a, b, np.float64)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
@pytest.mark.parametrize("mode", list(MODES))
def test_options_match_reference(mode, dtype):
    """average, sample_weight, no intercept, no shuffle, initial weights."""
    X, y = make_data("squared_error", n=45, dtype=dtype, seed=2)
    rng = np.random.default_rng(0)
    sw = rng.uniform(0.0, 2.0, size=len(y))
    cases = [
        dict(average=True),
        dict(average=20, momentum=0.5),
        dict(sample_weight=sw, alpha=0.01),
        dict(fit_intercept=False),
        dict(shuffle=False, l1_ratio=1.0, alpha=0.05),
        dict(coef_init=rng.normal(size=X.shape[1]), intercept_init=0.7),
        dict(tol=1e-3, n_iter_no_change=2, epochs=30),
    ]
    for extra in cases:
        a, b = both(X, y, **{**dict(batch_size=MODES[mode], epochs=4, lr=0.02, seed=9),
                             **extra})
        assert_agree(a, b, dtype)


@pytest.mark.skipif(len(gd._core.available_isas()) < 2, reason="one ISA variant only")
@pytest.mark.parametrize("isa", gd._core.available_isas())
def test_every_isa_variant_matches_reference(isa):
    before = gd.get_isa()
    gd.set_isa(isa)
    try:
        for loss in ("squared_error", "log_loss", "softmax"):
            for mode in MODES.values():
                X, y = make_data(loss, n=70, d=37)
                a, b = both(X, y, loss=loss, batch_size=mode, epochs=2, lr=0.02, seed=2,
                            momentum=0.9, alpha=1e-3)
                assert_agree(a, b, np.float64)
    finally:
        gd.set_isa(before)


# Row lengths around every vector count the storage-order loops specialise on
# (AVX-512 holds a row of up to 13 64-byte vectors in registers: 104 float64
# or 208 float32 features), plus one past the last.
ROW_LENGTHS = {np.float64: (1, 3, 7, 8, 9, 16, 17, 31, 33, 63, 64, 65, 99, 100, 104, 105, 131),
               np.float32: (1, 5, 15, 16, 17, 32, 33, 100, 127, 129, 200, 208, 209, 263)}


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
@pytest.mark.parametrize("loss", ["squared_error", "log_loss", "hinge", "huber"])
def test_storage_order_rows_of_every_length_match_reference(loss, dtype):
    for d in ROW_LENGTHS[dtype]:
        X, y = make_data(loss, n=45, d=d, dtype=dtype, seed=d)
        for kw in (dict(batch_size=None), dict(batch_size=8, shuffle=False),
                   dict(batch_size=None, sample_weight=np.linspace(0.5, 1.5, 45))):
            a, b = both(X, y, loss=loss, epochs=3, lr=0.05, seed=1, **kw)
            assert_agree(a, b, dtype)


FMA_ISAS = [isa for isa in ("avx2", "avx512") if isa in gd._core.available_isas()]


@pytest.mark.skipif(len(FMA_ISAS) < 2, reason="needs both the avx2 and the avx512 variant")
@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
def test_avx2_and_avx512_give_the_same_bits(dtype):
    """The AVX-512 build runs storage-order rows through a loop of its own
    (the row held in registers); it makes the same sums as the group loop the
    AVX2 build runs, so the two agree bit for bit."""
    before = gd.get_isa()
    try:
        for d in ROW_LENGTHS[dtype]:
            for loss in ("squared_error", "log_loss", "hinge", "huber"):
                X, y = make_data(loss, n=203, d=d, dtype=dtype, seed=d)
                kws = (dict(batch_size=None, epochs=3), dict(batch_size=16, shuffle=False, epochs=2),
                       dict(batch_size=None, epochs=2, n_jobs=2))
                for kw in kws:
                    out = []
                    for isa in FMA_ISAS:
                        gd.set_isa(isa)
                        out.append(gd.fit_linear(X, y, loss=loss, lr=0.01, seed=0, **kw))
                    a, b = out
                    np.testing.assert_array_equal(a.coef, b.coef, err_msg=f"d={d} {loss} {kw}")
                    np.testing.assert_array_equal(a.intercept, b.intercept)
                    np.testing.assert_array_equal(a.loss_history, b.loss_history)
    finally:
        gd.set_isa(before)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
@pytest.mark.parametrize("d", [3, 100, 131])
def test_a_non_finite_row_is_named_in_a_full_batch(d, dtype):
    X, y = make_data("squared_error", n=300, d=d, dtype=dtype)
    X[157, d // 2] = np.nan
    with pytest.raises(ValueError, match=r"X contains NaN or infinity \(row 157\)"):
        gd.fit_linear(X, y, batch_size=None, epochs=2, check_input=False)


# ---- properties ------------------------------------------------------------------

def test_batch_size_n_is_full_batch():
    X, y = make_data("squared_error", n=33)
    full = gd.fit_linear(X, y, batch_size=None, epochs=5, lr=0.1, momentum=0.9, seed=1)
    for bs in (33, 34, 1000):
        other = gd.fit_linear(X, y, batch_size=bs, epochs=5, lr=0.1, momentum=0.9, seed=2)
        np.testing.assert_array_equal(full.coef, other.coef)
        np.testing.assert_array_equal(full.intercept, other.intercept)
        np.testing.assert_array_equal(full.loss_history, other.loss_history)
    assert full.n_updates == 5


def test_full_batch_converges_to_lstsq():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(200, 6))
    y = X @ rng.normal(size=6) + 1.5 + 0.3 * rng.normal(size=200)
    res = gd.fit_linear(X, y, batch_size=None, epochs=400, lr=0.5, momentum=0.5)
    sol = np.linalg.lstsq(np.c_[X, np.ones(len(X))], y, rcond=None)[0]
    np.testing.assert_allclose(res.coef, sol[:-1], rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(res.intercept, sol[-1:], rtol=1e-7)
    # full batch: the history is the objective at each iteration's start, and
    # plain gradient descent with a small enough step never increases it
    plain = gd.fit_linear(X, y, batch_size=None, epochs=50, lr=0.3)
    assert np.all(np.diff(plain.loss_history) <= 1e-12)
    Xc = np.c_[X, np.ones(len(X))]
    w = np.r_[plain.coef, plain.intercept]
    last = gd.fit_linear(X, y, batch_size=None, epochs=1, lr=0.3, coef_init=plain.coef,
                         intercept_init=plain.intercept)
    np.testing.assert_allclose(last.loss_history[0], np.mean(0.5 * (Xc @ w - y) ** 2))


def test_log_loss_reaches_logistic_regression_objective():
    sklearn_lm = pytest.importorskip("sklearn.linear_model")
    rng = np.random.default_rng(5)
    n, d, alpha = 300, 5, 0.01
    X = rng.normal(size=(n, d))
    y = np.where(X @ rng.normal(size=d) + 0.5 * rng.normal(size=n) > 0, 1, -1)

    def objective(w, b):
        z = y * (X @ w + b)
        return np.mean(np.logaddexp(0, -z)) + alpha / 2 * w @ w

    lr_model = sklearn_lm.LogisticRegression(C=1.0 / (n * alpha), tol=1e-10, max_iter=1000)
    lr_model.fit(X, y)
    target = objective(lr_model.coef_[0], lr_model.intercept_[0])
    res = gd.fit_linear(X, y, loss="log_loss", batch_size=None, epochs=300, lr=1.0,
                        momentum=0.9, alpha=alpha)
    assert objective(res.coef, res.intercept[0]) <= target + 1e-6
    # the history's last entry is that objective at the last iteration's start
    assert abs(res.loss_history[-1] - target) < 1e-4


def test_momentum_needs_fewer_epochs_in_a_valley():
    # an ill-conditioned quadratic: feature scales 1 and 0.05 (condition 400)
    rng = np.random.default_rng(6)
    X = rng.normal(size=(400, 2))
    X = (X - X.mean(0)) / X.std(0) * [1.0, 0.05]
    y = X @ np.array([1.0, 20.0])
    target = 0.01 * np.mean(0.5 * (y - y.mean()) ** 2)

    def epochs_to_target(**rule):
        res = gd.fit_linear(X, y, batch_size=None, epochs=3000, lr=1.0, tol=None, **rule)
        hit = np.nonzero(res.loss_history <= target)[0]
        return hit[0] if len(hit) else np.inf

    plain = epochs_to_target()
    heavy = epochs_to_target(momentum=0.9)
    nesterov = epochs_to_target(momentum=0.9, nesterov=True)
    assert heavy < plain / 3 and nesterov < plain / 3, (plain, heavy, nesterov)


@pytest.mark.parametrize("loss", LOSSES)
def test_float32_in_float32_out(loss):
    X, y = make_data(loss, dtype=np.float32)
    for bs in (1, 8, None):
        res = gd.fit_linear(X, y, loss=loss_name(loss), batch_size=bs, epochs=2, seed=0,
                            average=True)
        assert res.coef.dtype == np.float32 and res.intercept.dtype == np.float32
        assert res.loss_history.dtype == np.float64
    k = {"softmax": 3, "multi_output": 2}.get(loss)
    assert res.coef.shape == ((5, k) if k else (5,))
    assert res.intercept.shape == ((k,) if k else (1,))


def test_inputs_are_not_modified_and_layout_does_not_matter():
    X, y = make_data("log_loss", n=50)
    sw = np.linspace(0.5, 1.5, 50)
    c0, b0 = np.full(5, 0.1), np.array([0.2])
    copies = [a.copy() for a in (X, y, sw, c0, b0)]
    kw = dict(loss="log_loss", epochs=3, seed=4, sample_weight=sw, coef_init=c0,
              intercept_init=b0)
    a = gd.fit_linear(X, y, **kw)
    for orig, copy in zip((X, y, sw, c0, b0), copies):
        np.testing.assert_array_equal(orig, copy)
    b = gd.fit_linear(np.asfortranarray(X), y, **kw)
    c = gd.fit_linear(np.repeat(X, 2, axis=0)[::2], y, **kw)
    np.testing.assert_array_equal(a.coef, b.coef)
    np.testing.assert_array_equal(a.coef, c.coef)
    # {0, 1} and {-1, +1} labels are the same problem
    d = gd.fit_linear(X, np.where(y > 0, 1, -1), **kw)
    np.testing.assert_array_equal(a.coef, d.coef)


@pytest.mark.parametrize("mode", list(MODES))
def test_determinism_and_thread_independence(mode):
    X, y = make_data("squared_error", n=4000, d=20, seed=8)
    kw = dict(batch_size={"sample": 1, "mini7": 1500, "full": None}[mode], epochs=2, lr=0.01,
              momentum=0.9, seed=123)
    first = gd.fit_linear(X, y, n_jobs=1, **kw)
    for n_jobs in (1, 2, 3):
        again = gd.fit_linear(X, y, n_jobs=n_jobs, **kw)
        np.testing.assert_array_equal(first.coef, again.coef)
        np.testing.assert_array_equal(first.intercept, again.intercept)
        np.testing.assert_array_equal(first.loss_history, again.loss_history)
    if mode != "full":
        other = gd.fit_linear(X, y, n_jobs=1, **{**kw, "seed": 124})
        assert not np.array_equal(first.coef, other.coef)
        unseeded = [gd.fit_linear(X, y, **{**kw, "seed": None}).coef for _ in range(2)]
        assert not np.array_equal(*unseeded)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_full_batch_at_the_block_cap_is_thread_independent(dtype):
    # 60000 rows x 21 coefficients split into the most blocks a batch gets
    # (64), each read in storage order with the fetch ahead: the same sums
    # on 1, 2 and 3 threads, and the reference's
    X, y = make_data("squared_error", n=60000, d=20, seed=5)
    X, y = X.astype(dtype), y.astype(dtype)
    kw = dict(batch_size=None, epochs=3, lr=0.05, momentum=0.5)
    first = gd.fit_linear(X, y, n_jobs=1, **kw)
    for n_jobs in (2, 3):
        again = gd.fit_linear(X, y, n_jobs=n_jobs, **kw)
        np.testing.assert_array_equal(first.coef, again.coef)
        np.testing.assert_array_equal(first.loss_history, again.loss_history)
    assert_agree(first, gd.reference.fit_linear(X, y, **kw), dtype)


def test_shuffle_false_visits_storage_order():
    X, y = make_data("squared_error", n=20)
    seen = []
    # with lr=0 nothing moves, so the per-sample losses show the visiting order
    res = gd.fit_linear(X, y, batch_size=1, epochs=1, lr=0.0, shuffle=False)
    seen.append(res.loss_history[0])
    np.testing.assert_allclose(seen[0], np.mean(0.5 * y ** 2))
    a = gd.fit_linear(X, y, batch_size=1, epochs=2, lr=0.05, shuffle=False, seed=1)
    b = gd.fit_linear(X, y, batch_size=1, epochs=2, lr=0.05, shuffle=False, seed=2)
    np.testing.assert_array_equal(a.coef, b.coef)


def test_l1_gives_exact_zeros():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(200, 10))
    y = X[:, 0] * 3.0 + 0.1 * rng.normal(size=200)
    for bs in (1, 16, None):
        res = gd.fit_linear(X, y, batch_size=bs, epochs=30, lr=0.05, alpha=0.2, l1_ratio=1.0,
                            seed=0)
        assert np.sum(res.coef == 0.0) >= 5, (bs, res.coef)
        assert res.coef[0] > 1.0


def test_callback_verbose_and_stop(capsys):
    X, y = make_data("squared_error", n=30)
    calls = []

    def cb(epoch, coef, intercept, loss):
        calls.append((epoch, coef.shape, intercept.shape, loss))
        coef[:] = 1e9  # a copy: must not affect training
        return epoch == 2

    res = gd.fit_linear(X, y, epochs=10, callback=cb, verbose=True, seed=0)
    assert res.n_epochs == 3 and not res.converged
    assert [c[0] for c in calls] == [0, 1, 2]
    assert all(c[1] == (5,) and c[2] == (1,) for c in calls)
    assert [c[3] for c in calls] == list(res.loss_history)
    assert np.all(np.abs(res.coef) < 100)
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 3 and out[0].startswith("epoch 1/10") and "samples/s" in out[0]


def test_callback_exception_propagates():
    X, y = make_data("squared_error", n=30)

    def cb(epoch, coef, intercept, loss):
        raise RuntimeError("from the callback")

    with pytest.raises(RuntimeError, match="from the callback"):
        gd.fit_linear(X, y, epochs=3, callback=cb)


def test_callable_schedule_called_once_per_epoch():
    X, y = make_data("squared_error", n=30)
    calls = []

    def sched(epoch):
        calls.append(epoch)
        return 0.01

    a = gd.fit_linear(X, y, epochs=4, schedule=sched, seed=1, batch_size=4)
    b = gd.fit_linear(X, y, epochs=4, lr=0.01, seed=1, batch_size=4)
    assert calls == [0, 1, 2, 3]
    np.testing.assert_array_equal(a.coef, b.coef)
    with pytest.raises(ValueError, match=r"schedule\(2\) returned -1"):
        gd.fit_linear(X, y, epochs=4, schedule=lambda e: -1.0 if e == 2 else 0.01)
    with pytest.raises(ValueError, match=r"schedule\(0\) returned nan"):
        ref.fit_linear(X, y, epochs=4, schedule=lambda e: float("nan"))


def test_tol_stops_and_reports_converged():
    X, y = make_data("squared_error", n=100)
    res = gd.fit_linear(X, y, epochs=500, lr=0.05, tol=1e-3, n_iter_no_change=3, seed=0)
    assert res.converged and 3 < res.n_epochs < 500
    h = res.loss_history
    best_before = np.minimum.accumulate(h)[:-1]   # best_before[e - 1]: best before epoch e
    stalled = h[1:] > best_before - 1e-3
    assert np.all(stalled[-3:]) and not np.all(stalled[-4:])
    res2 = gd.fit_linear(X, y, epochs=20, lr=0.05, tol=None, seed=0)
    assert not res2.converged and res2.n_epochs == 20
    assert "FitResult(" in repr(res) and "converged=True" in repr(res)


# ---- safety ----------------------------------------------------------------------

@pytest.mark.parametrize("impl", [gd.fit_linear, ref.fit_linear], ids=["c", "reference"])
@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
@pytest.mark.parametrize("mode", list(MODES))
def test_divergence_raises_floating_point_error(impl, mode, dtype):
    X, y = make_data("squared_error", n=50, dtype=dtype)
    # dloss is clipped at 1e12 (so a large lr alone only grows the weights
    # linearly); with lr * alpha > 2 the weight decay oscillates and explodes
    kw = dict(lr=50.0, alpha=1.0, momentum=0.5)
    with pytest.raises(FloatingPointError, match=r"epoch \d+.*scale X.*lower lr") as info:
        impl(X, y, batch_size=MODES[mode], epochs=500, seed=0, **kw)
    err = info.value
    assert isinstance(err.epoch, int) and 0 <= err.epoch < 500
    assert np.all(np.isfinite(err.coef)) and np.all(np.isfinite(err.intercept))
    assert err.coef.shape == (5,) and err.coef.dtype == dtype


def test_divergence_keeps_the_weights_of_the_epoch_start():
    X, y = make_data("squared_error", n=50)
    kw = dict(batch_size=None, lr=50.0, alpha=1.0, seed=0)
    with pytest.raises(FloatingPointError) as info:
        gd.fit_linear(X, y, epochs=1000, **kw)
    err = info.value
    assert err.epoch > 10
    good = gd.fit_linear(X, y, epochs=err.epoch, **kw)
    np.testing.assert_array_equal(err.coef, good.coef)
    np.testing.assert_array_equal(err.intercept, good.intercept)
    assert np.all(np.isfinite(good.loss_history))


INTERRUPT_CHILD = textwrap.dedent("""
    import sys, time
    import numpy as np
    import gdfast as gd
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20000, 40))
    y = rng.normal(size=20000)
    print("ready", flush=True)
    t0 = time.perf_counter()
    try:
        gd.fit_linear(X, y, batch_size={bs}, epochs=10**6, lr=1e-4, check_input=False,
                      n_jobs=2)
    except KeyboardInterrupt:
        print("caught", flush=True)
        sys.exit(0)
    print("finished", flush=True)
""")


@pytest.mark.parametrize("bs", ["1", "64", "None"])
def test_ctrl_c_interrupts_a_long_fit(bs):
    with subprocess.Popen([sys.executable, "-c", INTERRUPT_CHILD.format(bs=bs)],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as child:
        try:
            assert child.stdout.readline().strip() == "ready"
            time.sleep(0.5)  # well inside the fit, which would run for hours
            sent = time.perf_counter()
            child.send_signal(signal.SIGINT)
            line = child.stdout.readline().strip()
            waited = time.perf_counter() - sent
            _, err = child.communicate(timeout=10)
            assert line == "caught", err
            assert waited < 3.0, waited  # "responds", not a timing benchmark
            assert child.returncode == 0
        finally:
            if child.poll() is None:
                os.kill(child.pid, signal.SIGKILL)
                child.communicate()
