"""The optimizer-step matrix: every rule x dtype x size x thread count, the C
kernels against gdfast.reference, step by step, params and velocity.

Imported by test_sgd.py, and run as a script in a subprocess per forced ISA
(GDFAST_ISA=...), since the ISA is chosen once per process from the
environment.
"""
from __future__ import annotations

import itertools
import sys

import numpy as np

RULES = {
    "plain": dict(),
    "weight_decay": dict(weight_decay=0.1),
    "maximize": dict(maximize=True, weight_decay=0.01),
    "heavy": dict(momentum=0.9),
    "dampening": dict(momentum=0.9, dampening=0.3, weight_decay=0.05),
    "nesterov": dict(momentum=0.8, nesterov=True, weight_decay=0.1),
    "nesterov_max": dict(momentum=0.5, nesterov=True, maximize=True),
    "ema": dict(momentum=0.9, ema=True),
    "ema_debias": dict(momentum=0.9, ema=True, debias=True, weight_decay=0.01),
    "ema_nesterov": dict(momentum=0.7, ema=True, debias=True, nesterov=True),
}
DTYPES = (np.float32, np.float64)
SIZES = (0, 1, 7, 1000, 100003)
THREADS = (1, 2)
STEPS = 12


def assert_close(actual, expected, dtype, what):
    # The C kernels contract multiply-adds into FMAs; NumPy rounds each
    # operation. The two agree to a few units of rounding per step.
    eps = np.finfo(dtype).eps
    np.testing.assert_allclose(actual, expected, rtol=32 * eps, atol=32 * eps, err_msg=what)


def run_one(rule_name, dtype, n, threads, parallel_min=None, lr=0.05, seed=0):
    import gdfast
    from gdfast import _core
    from gdfast import reference as ref

    rule = RULES[rule_name]
    rng = np.random.default_rng(seed)
    w0 = rng.standard_normal(n).astype(dtype)
    a, b = w0.copy(), w0.copy()
    old_t, old_min = gdfast.get_num_threads(), _core.get_parallel_min()
    gdfast.set_num_threads(threads)
    if parallel_min is not None:
        _core.set_parallel_min(parallel_min)
    try:
        fast = gdfast.SGD(a, lr=lr, **rule)
        slow = ref.SGD(b, lr=lr, **rule)
        for step in range(STEPS):
            g = rng.standard_normal(n).astype(dtype)
            g_copy = g.copy()
            fast.step(g)
            slow.step(g)
            tag = f"{rule_name} {np.dtype(dtype).name} n={n} threads={threads} step={step}"
            assert np.array_equal(g, g_copy), f"grads modified: {tag}"
            assert a.dtype == dtype
            assert_close(a, b, dtype, f"params: {tag}")
            if rule.get("momentum"):
                assert_close(fast.velocity[0], slow.velocity[0], dtype, f"velocity: {tag}")
            else:
                assert fast.velocity is None
    finally:
        gdfast.set_num_threads(old_t)
        _core.set_parallel_min(old_min)
    return a


def run_all():
    count = 0
    for rule_name, dtype, n, threads in itertools.product(RULES, DTYPES, SIZES, THREADS):
        run_one(rule_name, dtype, n, threads)
        count += 1
    # tiny arrays split across threads: odd chunk boundaries
    for rule_name, dtype, n in itertools.product(RULES, DTYPES, (7, 1000)):
        run_one(rule_name, dtype, n, 2, parallel_min=0)
        count += 1
    return count


if __name__ == "__main__":
    import gdfast

    want = sys.argv[1]
    if gdfast.get_isa() != want:
        print(f"ISA {gdfast.get_isa()} active, {want} requested", file=sys.stderr)
        sys.exit(3)
    n = run_all()
    print(f"isa={want} cases={n} ok")
