"""gdfast.sklearn against scikit-learn: exact parity where the visiting order
is the same (shuffle=False), score parity where it is not, and the estimator
behaviours scikit-learn's own SGD tests check (partial_fit, warm_start,
dtypes, pickling, n_jobs, divergence, input errors), plus sparse == dense."""
import pickle
import warnings

import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn")
sp = pytest.importorskip("scipy.sparse")

import sklearn.linear_model as sk  # noqa: E402
from sklearn.datasets import make_classification, make_regression  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from gdfast.sklearn import DivergenceError, SGDClassifier, SGDRegressor  # noqa: E402


def _cls_data(n=400, d=12, classes=2, seed=0, dtype=np.float64):
    X, y = make_classification(n, d, n_informative=6, n_classes=classes, random_state=seed)
    return StandardScaler().fit_transform(X).astype(dtype), y


def _reg_data(n=400, d=12, seed=0, dtype=np.float64):
    X, y = make_regression(n, d, noise=1.0, random_state=seed)
    return StandardScaler().fit_transform(X).astype(dtype), (y / y.std()).astype(dtype)


def _sparse_data(n=600, d=300, density=0.03, classes=2, seed=0):
    rng = np.random.RandomState(seed)
    X = sp.random(n, d, density=density, format="csr", random_state=rng)
    W = rng.randn(d, classes)
    y = np.asarray(X @ W).argmax(axis=1) if classes > 2 else (X @ W[:, 0] > 0).astype(int)
    return X, y


def _fit_both(cls_gd, cls_sk, X, y, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        a = cls_gd(**kw).fit(X, y)
        b = cls_sk(**kw).fit(X, y)
    return a, b


# ---- exact parity: same order of samples -> the same arithmetic ------------

CLS_SETTINGS = [
    dict(),
    dict(loss="log_loss", learning_rate="constant", eta0=0.01),
    dict(loss="modified_huber", learning_rate="constant", eta0=0.01, alpha=0.01),
    dict(loss="squared_hinge", learning_rate="invscaling", eta0=0.01),
    dict(loss="perceptron", penalty=None),
    dict(penalty="l1"),
    dict(penalty="elasticnet", l1_ratio=0.5),
    dict(average=True),
    dict(average=150),
    dict(class_weight="balanced"),
    dict(class_weight={0: 3.0}),
    dict(fit_intercept=False),
    dict(learning_rate="adaptive", eta0=0.05, tol=1e-2, n_iter_no_change=2),
]


@pytest.mark.parametrize("classes", [2, 3])
@pytest.mark.parametrize("kw", CLS_SETTINGS, ids=lambda kw: ",".join(f"{k}={v}" for k, v in
                                                                   kw.items()) or "default")
def test_classifier_matches_sklearn_without_shuffle(kw, classes):
    X, y = _cls_data(classes=classes)
    kw = {"shuffle": False, "max_iter": 6, "tol": None, **kw}
    a, b = _fit_both(SGDClassifier, sk.SGDClassifier, X, y, **kw)
    scale = np.abs(b.coef_).max()
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=0, atol=1e-9 * scale)
    np.testing.assert_allclose(a.intercept_, b.intercept_, rtol=0, atol=1e-9 * max(scale, 1))
    assert a.n_iter_ == b.n_iter_
    if not kw.get("early_stopping"):
        assert a.t_ == b.t_
    np.testing.assert_array_equal(a.classes_, b.classes_)
    np.testing.assert_array_equal(a.predict(X), b.predict(X))


REG_SETTINGS = [
    dict(),
    dict(loss="huber", epsilon=0.5),
    dict(loss="epsilon_insensitive", epsilon=0.05),
    dict(loss="squared_epsilon_insensitive", penalty="l1"),
    dict(learning_rate="constant", eta0=0.002, penalty="elasticnet"),
    dict(average=True),
    dict(early_stopping=True, n_iter_no_change=2, random_state=1, tol=1e-3),
]


@pytest.mark.parametrize("kw", REG_SETTINGS, ids=lambda kw: ",".join(f"{k}={v}" for k, v in
                                                                   kw.items()) or "default")
def test_regressor_matches_sklearn_without_shuffle(kw):
    X, y = _reg_data()
    sw = np.random.RandomState(0).uniform(0.5, 2.0, size=len(y))
    kw = {"shuffle": False, "max_iter": 6, "tol": None, **kw}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        a = SGDRegressor(**kw).fit(X, y, sample_weight=sw)
        b = sk.SGDRegressor(**kw).fit(X, y, sample_weight=sw)
    scale = np.abs(b.coef_).max()
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=0, atol=1e-9 * scale)
    np.testing.assert_allclose(a.intercept_, b.intercept_, rtol=0, atol=1e-9 * scale)
    assert a.n_iter_ == b.n_iter_


# ---- score parity with shuffling (different random orders) -----------------

@pytest.mark.parametrize("problem", ["binary", "multiclass", "sparse-binary",
                                     "sparse-multiclass"])
@pytest.mark.parametrize("kw", [dict(), dict(loss="log_loss"), dict(average=True)],
                         ids=["hinge", "log_loss", "asgd"])
def test_classifier_score_within_1pct_of_sklearn(problem, kw):
    classes = 3 if "multi" in problem else 2
    if problem.startswith("sparse"):
        X, y = _sparse_data(n=3000, d=400, classes=classes, seed=1)
    else:
        X, y = _cls_data(n=3000, d=20, classes=classes, seed=1)
    n = X.shape[0] * 2 // 3
    # per-sample SGD's final model varies with the visiting order by a few
    # percent: compare means over five orders
    sa = sb = 0.0
    for seed in range(5):
        a, b = _fit_both(SGDClassifier, sk.SGDClassifier, X[:n], y[:n], random_state=seed,
                         **kw)
        sa += a.score(X[n:], y[n:]) / 5
        sb += b.score(X[n:], y[n:]) / 5
    assert sa >= sb - 0.01, (sa, sb)


@pytest.mark.parametrize("sparse", [False, True])
def test_regressor_score_within_1pct_of_sklearn(sparse):
    X, y = _reg_data(n=3000, d=20, seed=2)
    if sparse:
        X = sp.csr_matrix(np.where(np.abs(X) > 1.0, X, 0.0))
    n = 2000
    a, b = _fit_both(SGDRegressor, sk.SGDRegressor, X[:n], y[:n], random_state=0)
    sa, sb = a.score(X[n:], y[n:]), b.score(X[n:], y[n:])
    assert sa >= sb - 0.01 * abs(sb), (sa, sb)


# ---- sparse CSR == dense ----------------------------------------------------

@pytest.mark.parametrize("kw", [
    dict(),
    dict(average=True),
    dict(batch_size=16, learning_rate="constant", eta0=0.05),
    dict(batch_size=None, learning_rate="constant", eta0=0.5),
    dict(momentum=0.9, nesterov=True, learning_rate="constant", eta0=0.005),
    dict(batch_size=8, momentum=0.5, ema=True, learning_rate="constant", eta0=0.05,
         penalty="elasticnet"),
], ids=["per-sample", "asgd", "mini-batch", "full-batch", "nesterov", "ema-l1-batch"])
@pytest.mark.parametrize("classes", [2, 3])
def test_sparse_matches_dense(kw, classes):
    X, y = _sparse_data(classes=classes)
    kw = {"random_state": 0, "max_iter": 4, "tol": None, **kw}
    a = SGDClassifier(**kw).fit(X, y)
    b = SGDClassifier(**kw).fit(X.toarray(), y)
    scale = np.abs(b.coef_).max()
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=0, atol=1e-10 * scale)
    np.testing.assert_allclose(a.intercept_, b.intercept_, rtol=0, atol=1e-10 * scale)


@pytest.mark.parametrize("seed", [0, 6])
def test_sparse_per_sample_l1_is_lazy_but_close_to_dense(seed):
    # per sample, a feature's L1 penalty is applied when the feature appears
    # (scikit-learn's sparse semantics), so the paths differ. After 5 epochs
    # the coefficients can differ by tens of percent (scikit-learn's own
    # sparse and dense fits differ by ~40% here), so compare what both
    # minimise: the L1-penalised hinge objective, and the accuracy
    X, y = _sparse_data()
    alpha = 1e-4
    kw = dict(random_state=seed, max_iter=5, tol=None, penalty="l1", alpha=alpha)
    a = SGDClassifier(**kw).fit(X, y)
    b = SGDClassifier(**kw).fit(X.toarray(), y)
    assert not np.array_equal(a.coef_, b.coef_)

    def objective(m):
        z = (2 * y - 1) * m.decision_function(X)
        return np.maximum(0, 1 - z).mean() + alpha * np.abs(m.coef_).sum()

    assert abs(objective(a) - objective(b)) < 0.05 * objective(b)
    assert abs(a.score(X, y) - b.score(X, y)) < 0.02


def test_sparse_input_accepts_csc_and_is_not_modified():
    X, y = _sparse_data()
    before = (X.data.copy(), X.indices.copy(), X.indptr.copy())
    a = SGDClassifier(random_state=0, max_iter=3, tol=None).fit(X, y)
    b = SGDClassifier(random_state=0, max_iter=3, tol=None).fit(X.tocsc(), y)
    np.testing.assert_array_equal(a.coef_, b.coef_)
    for got, want in zip((X.data, X.indices, X.indptr), before):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("Est,data", [(SGDClassifier, _cls_data), (SGDRegressor, _reg_data)])
def test_early_stopping_trains_on_sklearns_split_and_stops(Est, data):
    # the split is scikit-learn's (stratified for classifiers, from
    # random_state); the model equals a plain fit on the training rows for
    # the epochs early stopping ran
    from sklearn.model_selection import ShuffleSplit, StratifiedShuffleSplit
    X, y = data()
    kw = dict(shuffle=False, random_state=7, validation_fraction=0.2, tol=1e-3,
              n_iter_no_change=2, max_iter=200)
    es = Est(early_stopping=True, **kw).fit(X, y)
    assert es.n_iter_ < 200
    split = (StratifiedShuffleSplit if Est is SGDClassifier else ShuffleSplit)(
        test_size=0.2, random_state=7)
    train, _ = next(split.split(np.zeros((len(y), 1)), y))
    train = np.sort(train)
    kw.update(max_iter=es.n_iter_, tol=None)
    plain = Est(**kw).fit(X[train], y[train])
    np.testing.assert_allclose(es.coef_, plain.coef_, rtol=1e-12, atol=1e-12)


# ---- scikit-learn's SGD test behaviours -----------------------------------

@pytest.mark.parametrize("kw", [dict(), dict(average=True),
                                dict(momentum=0.9, learning_rate="constant", eta0=0.001),
                                dict(batch_size=16, momentum=0.8, learning_rate="invscaling",
                                     eta0=0.05)],
                         ids=["sgd", "asgd", "momentum", "batch-momentum"])
@pytest.mark.parametrize("classes", [2, 3])
def test_partial_fit_twice_equals_fit_two_epochs(kw, classes):
    X, y = _cls_data(classes=classes)
    full = SGDClassifier(max_iter=2, shuffle=False, tol=None, **kw).fit(X, y)
    part = SGDClassifier(shuffle=False, tol=None, **kw)
    for _ in range(2):
        part.partial_fit(X, y, classes=np.unique(y))
    assert part.t_ == full.t_
    np.testing.assert_allclose(part.coef_, full.coef_, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(part.intercept_, full.intercept_, rtol=1e-12, atol=1e-12)


def test_regressor_partial_fit_over_halves_continues_t():
    X, y = _reg_data()
    h = len(y) // 2
    full = SGDRegressor(shuffle=False, max_iter=1, tol=None).fit(X, y)
    part = SGDRegressor(shuffle=False).partial_fit(X[:h], y[:h]).partial_fit(X[h:], y[h:])
    assert part.t_ == full.t_ == len(y) + 1
    np.testing.assert_allclose(part.coef_, full.coef_, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("Est,data", [(SGDClassifier, _cls_data), (SGDRegressor, _reg_data)])
def test_warm_start_equals_coef_init(Est, data):
    X, y = data()
    kw = dict(random_state=0, max_iter=3, tol=None)
    first = Est(**kw).fit(X, y)
    warm = Est(warm_start=True, **kw).fit(X, y).fit(X, y)
    init = Est(**kw).fit(X, y, coef_init=first.coef_, intercept_init=first.intercept_)
    np.testing.assert_array_equal(warm.coef_, init.coef_)
    np.testing.assert_array_equal(warm.intercept_, init.intercept_)


@pytest.mark.parametrize("Est,data", [(SGDClassifier, _cls_data), (SGDRegressor, _reg_data)])
def test_float32_stays_float32_and_agrees_with_float64(Est, data):
    X, y = data()
    kw = dict(random_state=0, max_iter=4, tol=None, shuffle=False)
    a = Est(**kw).fit(X.astype(np.float32), y)
    b = Est(**kw).fit(X, y)
    assert a.coef_.dtype == np.float32 and a.intercept_.dtype == np.float32
    assert b.coef_.dtype == np.float64
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=2e-3, atol=2e-3 * np.abs(b.coef_).max())


def test_pickle_round_trip():
    X, y = _cls_data(classes=3)
    est = SGDClassifier(random_state=0, max_iter=5, tol=None, momentum=0.5,
                        learning_rate="constant").fit(X, y)
    est2 = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(est.decision_function(X), est2.decision_function(X))
    # the momentum state travels too: continuing gives the same model
    est.partial_fit(X, y)
    est2.partial_fit(X, y)
    np.testing.assert_array_equal(est.coef_, est2.coef_)


@pytest.mark.parametrize("X_kind", ["dense", "sparse"])
def test_n_jobs_gives_the_same_result(X_kind):
    X, y = _sparse_data(classes=4) if X_kind == "sparse" else _cls_data(classes=4)
    kw = dict(random_state=0, max_iter=5, tol=None)
    one = SGDClassifier(n_jobs=1, **kw).fit(X, y)
    many = SGDClassifier(n_jobs=3, **kw).fit(X, y)
    np.testing.assert_array_equal(one.coef_, many.coef_)
    np.testing.assert_array_equal(one.intercept_, many.intercept_)
    assert one.n_iter_ == many.n_iter_


def test_same_random_state_same_model_and_shuffle_changes_it():
    X, y = _cls_data()
    a = SGDClassifier(random_state=5, max_iter=3, tol=None).fit(X, y)
    b = SGDClassifier(random_state=5, max_iter=3, tol=None).fit(X, y)
    c = SGDClassifier(random_state=6, max_iter=3, tol=None).fit(X, y)
    np.testing.assert_array_equal(a.coef_, b.coef_)
    assert not np.array_equal(a.coef_, c.coef_)


@pytest.mark.parametrize("Est,Sk", [(SGDClassifier, sk.SGDClassifier),
                                    (SGDRegressor, sk.SGDRegressor)])
def test_divergence_raises_sklearn_error_naming_the_epoch(Est, Sk):
    # scikit-learn's test_underflow_or_overlow setting
    X, y = _cls_data()
    X[:, :2] *= 1e300
    kw = dict(loss="squared_hinge" if Est is SGDClassifier else "squared_error",
              learning_rate="constant", eta0=1e10, shuffle=False, max_iter=5, tol=None)
    with pytest.raises(ValueError, match=r"Floating-point under-/overflow occurred at epoch #1"
                       ) as info:
        Est(**kw).fit(X, y)
    assert isinstance(info.value, FloatingPointError)
    assert isinstance(info.value, DivergenceError) and info.value.epoch == 1
    with pytest.raises(ValueError, match=r"Floating-point under-/overflow occurred at epoch #1"):
        Sk(**kw).fit(X, y)


def test_convergence_warning_when_max_iter_reached():
    X, y = _cls_data()
    with pytest.warns(ConvergenceWarning, match="Maximum number of iteration"):
        SGDClassifier(max_iter=2, tol=1e-12, random_state=0).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est = SGDClassifier(max_iter=1000, tol=1e-3, random_state=0).fit(X, y)
    assert est.n_iter_ < 1000


def _message(fn):
    try:
        fn()
    except (ValueError, TypeError) as exc:
        return type(exc), str(exc)
    raise AssertionError("no error raised")


@pytest.mark.parametrize("case", ["empty", "nan", "inf_y", "one_d", "n_features", "one_class",
                                  "bad_loss", "bad_lr", "optimal_alpha0",
                                  "pf_balanced", "pf_early"])
def test_input_errors_match_sklearn(case):
    X, y = _cls_data()
    Xn = X.copy()
    Xn[3, 2] = np.nan

    def run(Est):
        est = Est(random_state=0, max_iter=3, tol=None)
        if case == "empty":
            est.fit(X[:0], y[:0])
        elif case == "nan":
            est.fit(Xn, y)
        elif case == "one_d":
            est.fit(X[:, 0], y)
        elif case == "n_features":
            est.fit(X, y).predict(X[:, :5])
        elif case == "one_class":
            est.fit(X, np.zeros_like(y))
        elif case == "bad_loss":
            est.set_params(loss="nope").fit(X, y)
        elif case == "bad_lr":
            est.set_params(learning_rate="fast").fit(X, y)
        elif case == "optimal_alpha0":
            est.set_params(alpha=0.0).fit(X, y)
        elif case == "pf_balanced":
            est.set_params(class_weight="balanced").partial_fit(X, y, classes=[0, 1])
        elif case == "pf_early":
            est.set_params(early_stopping=True).partial_fit(X, y, classes=[0, 1])

    if case == "inf_y":  # a regression target (class labels cannot be inf)
        assert _message(lambda: SGDRegressor().fit(X, np.where(y == 1, np.inf, 0.0))) == \
            _message(lambda: sk.SGDRegressor().fit(X, np.where(y == 1, np.inf, 0.0)))
        return
    assert _message(lambda: run(SGDClassifier)) == _message(lambda: run(sk.SGDClassifier))


@pytest.mark.parametrize("kw,match", [
    (dict(nesterov=True), "Nesterov momentum requires a momentum"),
    (dict(momentum=1.0), "momentum"),
    (dict(batch_size=0), "batch_size"),
    (dict(ema="yes"), "ema"),
    (dict(learning_rate="pa1", loss="hinge", momentum=0.5), "passive-aggressive"),
])
def test_gdfast_parameters_are_validated(kw, match):
    X, y = _cls_data()
    with pytest.raises(ValueError, match=match):
        SGDClassifier(**kw).fit(X, y)


def test_inputs_not_modified_and_attributes():
    X, y = _cls_data(classes=3)
    sw = np.linspace(0.5, 1.5, len(y))
    Xc, yc, swc = X.copy(), y.copy(), sw.copy()
    est = SGDClassifier(loss="log_loss", random_state=0, max_iter=3, tol=None)
    est.fit(X, y, sample_weight=sw)
    np.testing.assert_array_equal(X, Xc)
    np.testing.assert_array_equal(y, yc)
    np.testing.assert_array_equal(sw, swc)
    assert est.coef_.shape == (3, X.shape[1]) and est.intercept_.shape == (3,)
    assert est.n_features_in_ == X.shape[1] and est.n_iter_ == 3
    assert est.t_ == 3 * len(y) + 1
    proba = est.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_allclose(est.predict_log_proba(X), np.log(proba))
    assert not hasattr(SGDClassifier(loss="hinge").fit(X, y), "predict_proba")
    assert isinstance(est, sk.SGDClassifier)


def test_mini_batch_and_full_batch_train():
    X, y = _cls_data(n=1000, classes=2)
    base = SGDClassifier(random_state=0).fit(X, y).score(X, y)
    for kw in [dict(batch_size=32, momentum=0.9, learning_rate="constant", eta0=0.01),
               dict(batch_size=None, learning_rate="constant", eta0=0.1, max_iter=300)]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            est = SGDClassifier(random_state=0, loss="log_loss", **kw).fit(X, y)
        assert est.score(X, y) >= base - 0.03
        assert est.t_ - 1 == est.n_iter_ * (-(-len(y) // (kw["batch_size"] or len(y))))


# ---- fit leaves X's NaN/inf scan to the C loop: same errors as scikit-learn ----

@pytest.mark.parametrize("layout", ["dense", "dense32", "csr"])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("kw", [dict(), dict(batch_size=8, momentum=0.9),
                                dict(average=True), dict(n_jobs=2)])
@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
def test_nonfinite_X_in_fit_raises_sklearns_error(layout, bad, kw, task):
    if task == "regression":
        if "n_jobs" in kw:
            return
        X, y = _reg_data()
        Est, Sk = SGDRegressor, sk.SGDRegressor
    else:
        X, y = _cls_data(classes=3 if task == "multiclass" else 2)
        Est, Sk = SGDClassifier, sk.SGDClassifier
    # the last row in storage order: the shuffled first epoch must still reach it
    X[-1, 5] = bad
    if layout == "dense32":
        X = X.astype(np.float32)
    elif layout == "csr":
        X = sp.csr_matrix(X)
    sk_kw = {k: v for k, v in kw.items() if k not in ("batch_size", "momentum")}
    got = _message(lambda: Est(max_iter=2, tol=None, random_state=0, **kw).fit(X, y))
    want = _message(lambda: Sk(max_iter=2, tol=None, random_state=0, **sk_kw).fit(X, y))
    assert got == want
    assert "NaN" in got[1] or "infinity" in got[1]


def test_nonfinite_X_in_partial_fit_and_early_stopping_raises_before_training():
    X, y = _cls_data()
    X[7, 1] = np.nan
    for fit in (lambda E: E(random_state=0).partial_fit(X, y, classes=[0, 1]),
                lambda E: E(random_state=0, early_stopping=True).fit(X, y)):
        assert _message(lambda: fit(SGDClassifier)) == _message(lambda: fit(sk.SGDClassifier))


@pytest.mark.parametrize("y", [
    np.array([3, 1, 3, 1, 1], dtype=np.int64), np.array([0, 1, 0], dtype=np.int8),
    np.array([-5, 7, 2, -5], dtype=np.int32), np.array([2, 9], dtype=np.uint16),
    np.array([0, 10 ** 12, 5], dtype=np.int64),        # range wider than the data: np.unique
    np.array([np.iinfo(np.int64).min, np.iinfo(np.int64).max, 0]),
    np.array([1.0, 0.0, 1.0]), np.array(["b", "a", "b"]), np.array([True, False]),
])
def test_classes_equals_np_unique(y):
    from gdfast.sklearn import _classes

    got, want = _classes(y), np.unique(y)
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)


def test_fit_classes_and_weights_as_sklearn():
    X, y = _cls_data(classes=3)
    y = np.array([10, -2, 7])[y]
    a, b = _fit_both(SGDClassifier, sk.SGDClassifier, X, y, max_iter=3, tol=None,
                     shuffle=False, random_state=0)
    np.testing.assert_array_equal(a.classes_, b.classes_)
    assert a.classes_.dtype == b.classes_.dtype
    np.testing.assert_array_equal(a._expanded_class_weight, b._expanded_class_weight)
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("Est", ["SGDClassifier", "SGDRegressor"])
@pytest.mark.parametrize("warm_start", [False, True])
def test_fit_on_nan_X_leaves_the_fitted_estimator_unchanged(Est, warm_start):
    # X's NaN/inf check runs inside the C loop's first pass; a rejected X must
    # leave the estimator exactly as it was, as scikit-learn's up-front check does
    import gdfast.sklearn as gsk

    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 5))
    y = (X[:, 0] > 0).astype(int) if Est == "SGDClassifier" else X[:, 0]
    est = getattr(gsk, Est)(random_state=0, warm_start=warm_start).fit(X, y)
    before = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in vars(est).items()}
    Xb = X.copy()
    Xb[150, 2] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        est.fit(Xb, y)
    after = vars(est)
    assert set(after) == set(before)
    for k, v in before.items():
        if isinstance(v, np.ndarray):
            np.testing.assert_array_equal(after[k], v, err_msg=k)
        elif isinstance(v, (int, float, str, bool, tuple, type(None))):
            assert after[k] == v or (v != v and after[k] != after[k]), k
        else:  # e.g. the loss object: restored as an equal copy
            assert type(after[k]) is type(v), k
