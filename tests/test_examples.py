"""The examples in examples/ run as scripts and do what they say."""
import importlib.util
import os
import re
import subprocess
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = os.path.join(ROOT, "examples")


def run_example(name, *args, timeout=120):
    proc = subprocess.run([sys.executable, os.path.join(EXAMPLES, name), *args],
                          capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout + proc.stderr  # notes such as "no plot" go to stderr


def load_example(name):
    spec = importlib.util.spec_from_file_location(name[:-3], os.path.join(EXAMPLES, name))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_mlp_minibatch_script_trains_and_plots(tmp_path):
    png = tmp_path / "curve.png"
    out = run_example("mlp_minibatch.py", "--epochs", "15", "--plot", str(png))
    losses = [float(m.group(1)) for m in re.finditer(r"^\s*\d+\s+([0-9.]+)$", out, re.M)]
    assert len(losses) == 15, out
    assert losses[-1] < losses[0] / 3, out
    acc = float(re.search(r"accuracy ([0-9.]+), \d+ updates", out).group(1))
    assert acc >= 0.9, out
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert "no plot" in out
    else:
        assert png.stat().st_size > 1000


def test_mlp_minibatch_gradient_is_right():
    ex = load_example("mlp_minibatch.py")
    x, y = ex.make_spirals(10, seed=1)
    net = ex.TwoLayerNet(2, 5, 3)
    w = net.init(seed=2)
    loss, grad = net.loss_and_grad(w, x, y, 1e-2)
    eps = 1e-6
    num = np.empty_like(w)
    for i in range(w.size):
        d = np.zeros_like(w)
        d[i] = eps
        num[i] = (net.loss_and_grad(w + d, x, y, 1e-2)[0]
                  - net.loss_and_grad(w - d, x, y, 1e-2)[0]) / (2 * eps)
    np.testing.assert_allclose(grad, num, rtol=1e-5, atol=1e-8)
    # the gradient keeps x's dtype, as minimize requires
    for dtype in (np.float32, np.float64):
        assert net.loss_and_grad(w.astype(dtype), x.astype(dtype), y, 1e-2)[1].dtype == dtype


def test_mlp_minibatch_main_float32():
    ex = load_example("mlp_minibatch.py")
    res, acc = ex.main(["--epochs", "25", "--float32", "--samples", "100"])
    assert res.x.dtype == np.float32 and res.n_epochs == 25
    assert acc > 0.8
