"""Benchmark cases for one optimizer step (issue: the fused step).

Per size, dtype, rule and thread count: gdfast.SGD.step against the best
in-place NumPy sequence (gdfast.reference.sgd_step), torch.optim.SGD with
fused=True and foreach=True, and the memory-bandwidth floor: a NumPy copy of
the bytes one step must move (read w, g, v; write w, v).
"""
from __future__ import annotations

import numpy as np

from ._case import Case, Skip

RULES = {
    "heavy": dict(momentum=0.9),
    "nesterov": dict(momentum=0.9, nesterov=True),
    "ema": dict(momentum=0.9, ema=True, debias=True),
}
_LR = 1e-6  # small, so thousands of repeated steps stay finite and in range


def _arrays(n, dtype, seed=0):
    rng = np.random.default_rng(seed)
    w = rng.standard_normal(n).astype(dtype)
    g = rng.standard_normal(n).astype(dtype)
    return w, g


def _gdfast(n, dtype, rule):
    def factory():
        import gdfast

        w, g = _arrays(n, dtype)
        opt = gdfast.SGD(w, lr=_LR, **rule)
        opt.step(g)
        return lambda: opt.step(g)

    return factory


def _numpy(n, dtype, rule):
    def factory():
        from gdfast.reference import sgd_step

        w, g = _arrays(n, dtype)
        v = np.zeros_like(w)
        full = dict(lr=_LR, **rule)
        state = {"t": 1}
        sgd_step(w, g, v, t=1, first=True, **full)

        def run():
            state["t"] += 1
            sgd_step(w, g, v, t=state["t"], first=False, **full)

        return run

    return factory


def _torch(n, dtype, rule, mode):
    def factory():
        try:
            import torch
        except ImportError:
            raise Skip("torch is not installed") from None
        if rule.get("ema"):
            raise Skip("torch.optim.SGD has no EMA momentum")
        w, g = _arrays(n, dtype)
        p = torch.nn.Parameter(torch.from_numpy(w))
        p.grad = torch.from_numpy(g)
        kw = {"fused": True} if mode == "fused" else {"foreach": True}
        opt = torch.optim.SGD([p], lr=_LR, **rule, **kw)
        opt.step()
        return opt.step

    return factory


def _floor(n, dtype):
    """The bytes one momentum step moves: reads w, g, v and writes w, v, i.e.
    5 n items. A NumPy copy of 2.5 n items reads 2.5 n and writes 2.5 n."""

    def factory():
        src = np.ones(int(2.5 * n), dtype)
        dst = np.zeros_like(src)
        return lambda: np.copyto(dst, src)

    return factory


def _floor_inplace(n, dtype):
    """The same bytes moved as a step moves them, read-modify-write in place:
    a copy's stores go to other cache lines than its loads (and pay a read for
    ownership unless streamed), an in-place update's do not. On the 2-core
    development machine this is the faster of the two floors."""

    def factory():
        buf = np.ones(int(2.5 * n), dtype)
        one = dtype(1)
        return lambda: np.multiply(buf, one, out=buf)

    return factory


def cases(quick=False):
    sizes = [1_000, 100_000, 1_000_000, 10_000_000]
    dtypes = [np.float32, np.float64]
    rules = list(RULES)
    thread_counts = [1, 2]
    if quick:
        sizes = [1_000, 1_000_000]
        dtypes = [np.float32]
        rules = ["heavy"]
    out = []
    for n in sizes:
        for dt in dtypes:
            for r in rules:
                for nt in thread_counts:
                    rule = RULES[r]
                    dname = np.dtype(dt).name
                    out.append(Case(
                        group=f"step/{dname}/n={n:.0e}/{r}/{nt}thr".replace("+0", ""),
                        impls={
                            "gdfast": _gdfast(n, dt, rule),
                            "numpy": _numpy(n, dt, rule),
                            "torch-fused": _torch(n, dt, rule, "fused"),
                            "torch-foreach": _torch(n, dt, rule, "foreach"),
                            "floor": _floor(n, dt),
                            "floor-inplace": _floor_inplace(n, dt),
                        },
                        threads=nt, work=n, unit="elements",
                        quick=(n in (1_000, 1_000_000) and dt is np.float32 and r == "heavy"),
                        params=dict(n=n, dtype=dname, rule=r),
                    ))
    return out
