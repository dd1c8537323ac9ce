"""gdfast.SGD: the fused C step against the NumPy reference and torch.optim.SGD,
state handling, threads, ISA variants, and the errors of the API."""
from __future__ import annotations

import io
import os
import subprocess
import sys

import numpy as np
import pytest

import gdfast
from gdfast import _core
from gdfast import reference as ref

sys.path.insert(0, os.path.dirname(__file__))
import _sgd_matrix as matrix  # noqa: E402


# ---- the C kernels against the reference, step by step ---------------------

@pytest.mark.parametrize("threads", matrix.THREADS)
@pytest.mark.parametrize("n", matrix.SIZES)
@pytest.mark.parametrize("dtype", matrix.DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("rule", list(matrix.RULES))
def test_matches_reference(rule, dtype, n, threads):
    matrix.run_one(rule, dtype, n, threads)


@pytest.mark.parametrize("n", [7, 1000, 4099])
@pytest.mark.parametrize("rule", list(matrix.RULES))
def test_matches_reference_forced_parallel(rule, n):
    # parallel_min=0 splits even tiny arrays across threads
    matrix.run_one(rule, np.float32, n, 2, parallel_min=0)


@pytest.mark.parametrize("isa", _core.available_isas())
def test_every_isa_variant_matches_reference(isa):
    env = dict(os.environ, GDFAST_ISA=isa)
    proc = subprocess.run([sys.executable, matrix.__file__, isa], env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"isa={isa} cases=" in proc.stdout


def test_isa_variants_are_bit_identical_to_each_other_or_close():
    # every variant computes the same rule; switching in-process must keep agreement
    results = {}
    old = gdfast.get_isa()
    try:
        for isa in _core.available_isas():
            gdfast.set_isa(isa)
            assert gdfast.get_isa() == isa
            results[isa] = matrix.run_one("nesterov", np.float64, 1000, 1)
    finally:
        gdfast.set_isa(old)
    base = results["baseline"]
    for isa, w in results.items():
        matrix.assert_close(w, base, np.float64, isa)


def test_unavailable_isa_is_rejected():
    with pytest.raises(ValueError, match="isa must be one of"):
        gdfast.set_isa("sse9")


def test_unknown_env_isa_warns_and_falls_back():
    code = "import warnings; warnings.simplefilter('error'); import gdfast"
    env = dict(os.environ, GDFAST_ISA="sse9")
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert proc.returncode != 0 and "GDFAST_ISA='sse9'" in proc.stderr


# ---- threads -------------------------------------------------------------

@pytest.mark.parametrize("rule", ["heavy", "nesterov", "ema_debias"])
@pytest.mark.parametrize("dtype", matrix.DTYPES, ids=["f32", "f64"])
def test_thread_count_never_changes_the_result(rule, dtype):
    outs = [matrix.run_one(rule, dtype, 300_001, t, parallel_min=0) for t in (1, 2, 3)]
    assert np.array_equal(outs[0], outs[1]) and np.array_equal(outs[0], outs[2])


def test_num_threads_api():
    old = gdfast.get_num_threads()
    try:
        assert gdfast.set_num_threads(1) == 1 and gdfast.get_num_threads() == 1
        assert gdfast.set_num_threads(2) == 2
    finally:
        gdfast.set_num_threads(old)
    for bad in (0, -1):
        with pytest.raises(ValueError, match="thread count"):
            gdfast.set_num_threads(bad)
    with pytest.raises(TypeError):
        gdfast.set_num_threads(1.5)


# ---- torch.optim.SGD, the outside check ------------------------------------

TORCH_CONFIGS = [
    dict(lr=0.1),
    dict(lr=0.1, weight_decay=0.01),
    dict(lr=0.1, maximize=True),
    dict(lr=0.05, momentum=0.9),
    dict(lr=0.05, momentum=0.9, dampening=0.5),
    dict(lr=0.05, momentum=0.9, dampening=0.1, weight_decay=0.1, maximize=True),
    dict(lr=0.05, momentum=0.9, nesterov=True),
    dict(lr=0.05, momentum=0.5, nesterov=True, weight_decay=0.2, maximize=True),
]


@pytest.mark.parametrize("n", [1, 7, 1000, 100003])
@pytest.mark.parametrize("dtype", matrix.DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("cfg", TORCH_CONFIGS, ids=lambda c: ",".join(f"{k}={v}" for k, v in c.items()))
def test_matches_torch(cfg, dtype, n):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    w = rng.standard_normal(n).astype(dtype)
    p = torch.nn.Parameter(torch.from_numpy(w.copy()))
    topt = torch.optim.SGD([p], foreach=False, **cfg)
    opt = gdfast.SGD(w, **cfg)
    for step in range(12):
        g = rng.standard_normal(n).astype(dtype)
        p.grad = torch.from_numpy(g.copy())
        topt.step()
        opt.step(g)
        tag = f"step {step}"
        matrix.assert_close(w, p.detach().numpy(), dtype, tag)
        if cfg.get("momentum"):
            buf = topt.state[p]["momentum_buffer"].numpy()
            matrix.assert_close(opt.velocity[0], buf, dtype, tag)


# ---- the EMA form against a hand-computed sequence --------------------------

def test_ema_debias_hand_computed():
    # one weight, momentum 0.5, lr 0.1, gradients 1, 2, 3
    # t=1: v = 0.5*0 + 0.5*1 = 0.5,  c = 0.5,   u = 1,       w = 1 - 0.1 = 0.9
    # t=2: v = 0.25 + 1 = 1.25,      c = 0.75,  u = 5/3,     w = 0.9 - 1/6
    # t=3: v = 0.625 + 1.5 = 2.125,  c = 0.875, u = 17/7,    w = 0.9 - 1/6 - 17/70
    w = np.array([1.0])
    opt = gdfast.SGD(w, lr=0.1, momentum=0.5, ema=True, debias=True)
    expected_w = [0.9, 0.9 - 1 / 6, 0.9 - 1 / 6 - 17 / 70]
    expected_v = [0.5, 1.25, 2.125]
    for g, ew, ev in zip([1.0, 2.0, 3.0], expected_w, expected_v):
        opt.step(np.array([g]))
        assert w[0] == pytest.approx(ew, rel=1e-15)
        assert opt.velocity[0][0] == pytest.approx(ev, rel=1e-15)
    assert opt.step_count == 3


def test_ema_without_debias_and_nesterov_hand_computed():
    # momentum 0.5, lr 1: t=1 v = 0.5*g = 1 (g=2); nesterov u = 0.5*v + 0.5*g = 1.5
    w = np.array([0.0], dtype=np.float32)
    opt = gdfast.SGD(w, lr=1.0, momentum=0.5, ema=True, nesterov=True)
    opt.step(np.array([2.0], dtype=np.float32))
    assert w[0] == np.float32(-1.5) and opt.velocity[0][0] == np.float32(1.0)
    # t=2, g=4: v = 0.5 + 2 = 2.5; u = 1.25 + 2 = 3.25
    opt.step(np.array([4.0], dtype=np.float32))
    assert w[0] == np.float32(-4.75) and opt.velocity[0][0] == np.float32(2.5)


# ---- in place, dtypes, structure -----------------------------------------

@pytest.mark.parametrize("dtype", matrix.DTYPES, ids=["f32", "f64"])
def test_in_place_and_dtype_kept(dtype):
    w = np.ones((3, 4), dtype=dtype)
    ptr = w.__array_interface__["data"][0]
    opt = gdfast.SGD(w, lr=0.5, momentum=0.9)
    opt.step(np.ones((3, 4), dtype=dtype))
    assert w.dtype == dtype and w.__array_interface__["data"][0] == ptr
    assert opt.params[0] is w
    np.testing.assert_array_equal(w, 0.5)
    assert opt.velocity[0].dtype == dtype


def test_list_of_params_mixed_dtypes_and_shapes():
    a = np.ones(5, np.float32)
    b = np.ones((2, 3), np.float64)
    ra, rb = a.copy(), b.copy()
    opt = gdfast.SGD([a, b], lr=0.1, momentum=0.9, nesterov=True)
    twin = ref.SGD([ra, rb], lr=0.1, momentum=0.9, nesterov=True)
    rng = np.random.default_rng(3)
    for _ in range(5):
        ga = rng.standard_normal(5).astype(np.float32)
        gb = rng.standard_normal((2, 3))
        opt.step([ga, gb])
        twin.step((ga, gb))
    matrix.assert_close(a, ra, np.float32, "a")
    matrix.assert_close(b, rb, np.float64, "b")


def test_velocity_only_with_momentum():
    w = np.zeros(4)
    opt = gdfast.SGD(w, lr=0.1)
    opt.step(np.ones(4))
    assert opt.velocity is None
    opt.momentum = 0.9  # turned on between steps: starts from the next step
    opt.step(np.ones(4))
    np.testing.assert_array_equal(opt.velocity[0], 1.0)  # torch's first step: v = g


def test_readonly_and_strided_grads_are_accepted_unmodified():
    w = np.zeros(6)
    g = np.arange(12, dtype=np.float64)[::2]  # strided view
    g_ro = np.ones(6)
    g_ro.setflags(write=False)
    opt = gdfast.SGD(w, lr=1.0)
    opt.step(g)
    np.testing.assert_array_equal(w, -np.arange(12.0)[::2])
    opt.step(g_ro)
    np.testing.assert_array_equal(w, -np.arange(12.0)[::2] - 1)


def test_zero_size_is_a_noop():
    w = np.zeros((0, 3), np.float32)
    opt = gdfast.SGD(w, lr=0.1, momentum=0.9)
    opt.step(np.zeros((0, 3), np.float32))
    assert w.shape == (0, 3) and opt.step_count == 1


def test_hyperparameters_settable_between_steps():
    w = np.ones(3)
    opt = gdfast.SGD(w, lr=0.1)
    opt.step(np.ones(3))
    opt.lr = 0.5
    assert opt.lr == 0.5
    opt.step(np.ones(3))
    np.testing.assert_allclose(w, 1 - 0.1 - 0.5)
    with pytest.raises(ValueError, match="lr=-1"):
        opt.lr = -1.0
    assert opt.lr == 0.5  # a rejected value leaves the old one
    opt.set_hyperparameters(momentum=0.9, nesterov=True)
    assert opt.nesterov and opt.momentum == 0.9


# ---- state_dict -----------------------------------------------------------

@pytest.mark.parametrize("rule", ["plain", "heavy", "nesterov", "ema_debias"])
def test_state_dict_round_trip_is_exact(rule):
    rng = np.random.default_rng(5)
    grads = [rng.standard_normal(50) for _ in range(10)]
    w = rng.standard_normal(50)
    opt = gdfast.SGD(w, lr=0.05, **matrix.RULES[rule])
    for g in grads[:5]:
        opt.step(g)
    sd = opt.state_dict()
    w_mid = w.copy()
    for g in grads[5:]:
        opt.step(g)
    w2 = w_mid.copy()
    opt2 = gdfast.SGD(w2, lr=123.0)  # other hyperparameters: the state brings its own
    opt2.load_state_dict(sd)
    for g in grads[5:]:
        opt2.step(g)
    np.testing.assert_array_equal(w2, w)
    assert opt2.state_dict()["step"] == 10 and opt2.lr == 0.05


def test_state_dict_is_a_copy():
    w = np.zeros(3)
    opt = gdfast.SGD(w, lr=0.1, momentum=0.9)
    opt.step(np.ones(3))
    sd = opt.state_dict()
    sd["momentum_buffer"][0][:] = 99.0
    np.testing.assert_array_equal(opt.velocity[0], 1.0)
    sd2 = opt.state_dict()
    opt.load_state_dict(sd2)
    sd2["momentum_buffer"][0][:] = 7.0
    np.testing.assert_array_equal(opt.velocity[0], 1.0)


def test_state_dict_from_another_configuration_is_rejected():
    opt = gdfast.SGD(np.zeros(3), lr=0.1, momentum=0.9)
    opt.step(np.ones(3))
    sd = opt.state_dict()
    with pytest.raises(ValueError, match="shapes"):
        gdfast.SGD(np.zeros(4), lr=0.1).load_state_dict(sd)
    with pytest.raises(ValueError, match="dtypes"):
        gdfast.SGD(np.zeros(3, np.float32), lr=0.1).load_state_dict(sd)
    with pytest.raises(ValueError, match="shapes"):
        gdfast.SGD([np.zeros(3), np.zeros(3)], lr=0.1).load_state_dict(sd)
    bad = dict(sd)
    del bad["step"]
    with pytest.raises(ValueError, match="keys"):
        gdfast.SGD(np.zeros(3), lr=0.1).load_state_dict(bad)
    with pytest.raises(TypeError):
        gdfast.SGD(np.zeros(3), lr=0.1).load_state_dict([1, 2])


# ---- bad input --------------------------------------------------------------

BAD_RULES = [
    (dict(lr=-0.1), ValueError, "lr=-0.1"),
    (dict(lr=float("nan")), ValueError, "lr"),
    (dict(lr=float("inf")), ValueError, "lr"),
    (dict(lr="0.1"), TypeError, "lr"),
    (dict(momentum=1.0), ValueError, "momentum=1.0"),
    (dict(momentum=-0.1), ValueError, "momentum=-0.1"),
    (dict(weight_decay=-1e-3), ValueError, "weight_decay=-0.001"),
    (dict(nesterov=True), ValueError, "Nesterov"),
    (dict(nesterov=True, momentum=0.9, dampening=0.1), ValueError, "dampening=0.1"),
    (dict(momentum=0.9, ema=True, dampening=0.1), ValueError, "dampening=0.1"),
    (dict(debias=True, momentum=0.9), ValueError, "debias"),
    (dict(nesterov=1, momentum=0.9), TypeError, "nesterov"),
]


@pytest.mark.parametrize("kwargs,exc,msg", BAD_RULES)
def test_bad_hyperparameters(kwargs, exc, msg):
    w = np.ones(3)
    with pytest.raises(exc, match=msg):
        gdfast.SGD(w, **{"lr": 0.1, **kwargs})
    np.testing.assert_array_equal(w, 1.0)


BAD_PARAMS = [
    (np.ones(3, np.int64), TypeError, "float32 or float64"),
    (np.ones(3, np.float16), TypeError, "float32 or float64"),
    (np.ones((3, 4))[:, ::2], ValueError, "C-contiguous"),
    (np.ones((3, 4)).T, ValueError, "C-contiguous"),
    ([1.0, 2.0], TypeError, "numpy.ndarray"),
    ([], ValueError, "empty"),
    ("w", TypeError, "params"),
    (np.ones(3, dtype=">f8"), TypeError, "byte order"),
]


@pytest.mark.parametrize("params,exc,msg", BAD_PARAMS)
def test_bad_params(params, exc, msg):
    with pytest.raises(exc, match=msg):
        gdfast.SGD(params, lr=0.1)


def test_read_only_params_rejected():
    w = np.ones(3)
    w.setflags(write=False)
    with pytest.raises(ValueError, match="read-only"):
        gdfast.SGD(w, lr=0.1)


def test_aliased_params_rejected():
    w = np.ones(3)
    with pytest.raises(ValueError, match="shares memory"):
        gdfast.SGD([w, w], lr=0.1)


@pytest.mark.parametrize("grads,exc,msg", [
    (np.ones(4), ValueError, r"shape \(4,\)"),
    (np.ones(3, np.float32), TypeError, "dtype float32"),
    (np.ones(3, np.int64), TypeError, "dtype int64"),
    ([1.0, 2.0, 3.0], ValueError, "grads has 3 arrays but params has 1"),
    ([[1.0, 2.0, 3.0]], TypeError, "numpy.ndarray, got list"),
    ("g", TypeError, "grads"),
])
def test_bad_grads_leave_params_untouched(grads, exc, msg):
    w = np.ones(3)
    opt = gdfast.SGD(w, lr=0.1, momentum=0.9)
    with pytest.raises(exc, match=msg):
        opt.step(grads)
    np.testing.assert_array_equal(w, 1.0)
    assert opt.step_count == 0


def test_bad_grads_list():
    a, b = np.ones(3), np.ones(2, np.float32)
    opt = gdfast.SGD([a, b], lr=0.1)
    with pytest.raises(ValueError, match="grads has 1 arrays but params has 2"):
        opt.step([np.ones(3)])
    with pytest.raises(TypeError, match=r"grads\[1\] has dtype float64"):
        opt.step([np.ones(3), np.ones(2)])
    with pytest.raises(ValueError, match=r"grads\[0\] has shape \(2,\)"):
        opt.step([np.ones(2), np.ones(2, np.float32)])
    with pytest.raises(TypeError, match="list or tuple"):
        opt.step(np.ones(3))
    np.testing.assert_array_equal(a, 1.0)
    np.testing.assert_array_equal(b, 1.0)


def test_params_made_read_only_later():
    w = np.ones(3)
    opt = gdfast.SGD(w, lr=0.1)
    w.setflags(write=False)
    with pytest.raises(ValueError, match="writeable"):
        opt.step(np.ones(3))


# ---- configuration --------------------------------------------------------

def test_show_config_reports_isa_threads_versions():
    buf = io.StringIO()
    gdfast.show_config(file=buf)
    text = buf.getvalue()
    for key in ("isa", "threads", "compiler", "numpy", "openmp"):
        assert key in text
    assert gdfast.get_isa() in text
    cfg = gdfast.config()
    assert cfg["isa"] in cfg["isa_available"]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork()")
def test_forked_child_does_not_hang():
    # libgomp's pool does not survive fork(); the core must fall back to one thread
    code = """
import os, sys, numpy as np, gdfast
w = np.zeros(10**6, np.float32); g = np.ones_like(w)
opt = gdfast.SGD(w, lr=0.1, momentum=0.9)
gdfast.set_num_threads(2)
from gdfast import _core
_core.set_parallel_min(0)
opt.step(g)
pid = os.fork()
if pid == 0:
    opt.step(g)
    os._exit(0 if gdfast.get_num_threads() == 1 and abs(w[0] + 0.29) < 1e-6 else 1)
_, status = os.waitpid(pid, 0)
opt.step(g)
print('child', os.waitstatus_to_exitcode(status))
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "child 0" in proc.stdout


def test_public_names_of_the_design():
    import gdfast as gd

    for name in ("SGD", "fit_linear", "minimize", "reference", "set_num_threads",
                 "get_num_threads", "show_config"):
        assert hasattr(gd, name), name
    assert callable(gd.reference.fit_linear) and callable(gd.reference.sgd_step)
