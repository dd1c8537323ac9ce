"""Benchmark cases for gdfast.minimize (issue 4): the per-iteration overhead.

The user's callable is trivial (it returns a precomputed (loss, gradient)
pair), so what is timed is everything around it. Each implementation runs
ITERS iterations per timed call:

- gdfast: ``gdfast.minimize(fun, x0, max_iter=ITERS, ...)`` (its checks: the
  loss and gradient's type, dtype, shape and finiteness, the guarded step).
- numpy: the hand-written NumPy loop with the same rule, in-place updates
  (``v *= m; v += g; x -= lr * v``) and no checks at all.
- torch: the same loop around ``torch.optim.SGD`` (``fused=True`` for
  ``torch-fused``), the NumPy gradient handed over with ``torch.from_numpy``.
- floor: the bare callable, called ITERS times in a Python loop.

Overhead per iteration = (impl - floor) / ITERS; ``overhead_table`` prints it.
The data case does the same with mini-batches drawn from (X, y): gdfast's
shuffled gathers against a NumPy loop that gathers the same rows.
"""
from __future__ import annotations

import numpy as np

from ._case import Case, Skip

ITERS = 5000
_LR = 1e-6  # small, so thousands of repeated steps stay finite and in range

RULES = {
    "plain": dict(),
    "heavy": dict(momentum=0.9),
    "nesterov": dict(momentum=0.9, nesterov=True),
}


def _problem(n, dtype, seed=0):
    rng = np.random.default_rng(seed)
    x0 = rng.standard_normal(n).astype(dtype)
    g = rng.standard_normal(n).astype(dtype)
    result = (1.0, g)

    def fun(x, *batch):
        return result

    return x0, g, fun


def _gdfast(n, dtype, rule):
    def factory():
        import gdfast

        x0, _, fun = _problem(n, dtype)
        return lambda: gdfast.minimize(fun, x0, max_iter=ITERS, lr=_LR, **rule)

    return factory


def _numpy(n, dtype, rule):
    def factory():
        x0, _, fun = _problem(n, dtype)
        m = dtype(rule.get("momentum", 0.0))
        lr = dtype(_LR)
        nesterov = rule.get("nesterov", False)

        def run():
            x = x0.copy()
            v = None
            tmp = np.empty_like(x)
            for _ in range(ITERS):
                loss, g = fun(x)
                if m == 0:
                    np.multiply(g, lr, out=tmp)
                elif v is None:
                    v = g.copy()
                    np.multiply(g, lr * (1 + m) if nesterov else lr, out=tmp)
                else:
                    v *= m
                    v += g
                    if nesterov:
                        np.multiply(v, m, out=tmp)
                        tmp += g
                        tmp *= lr
                    else:
                        np.multiply(v, lr, out=tmp)
                x -= tmp
            return x

        return run

    return factory


def _torch(n, dtype, rule, fused):
    def factory():
        try:
            import torch
        except ImportError:
            raise Skip("torch is not installed") from None
        x0, _, fun = _problem(n, dtype)

        def run():
            p = torch.nn.Parameter(torch.from_numpy(x0.copy()))
            opt = torch.optim.SGD([p], lr=_LR, **rule, **({"fused": True} if fused else {}))
            x = p.detach().numpy()  # shares p's memory: the callable sees the updates
            for _ in range(ITERS):
                loss, g = fun(x)
                p.grad = torch.from_numpy(g)
                opt.step()
            return x

        return run

    return factory


def _floor(n, dtype):
    def factory():
        x0, _, fun = _problem(n, dtype)

        def run():
            x = x0
            for _ in range(ITERS):
                fun(x)

        return run

    return factory


# ---- the data path: mini-batches of a data set ---------------------------------

def _data(n_samples, d, dtype, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((n_samples, d)).astype(dtype),
            rng.standard_normal(n_samples).astype(dtype))


def _gdfast_data(n, dtype, rule, n_samples, batch):
    def factory():
        import gdfast

        x0, _, fun = _problem(n, dtype)
        data = _data(n_samples, 10, dtype)
        return lambda: gdfast.minimize(fun, x0, data=data, batch_size=batch, max_iter=ITERS,
                                       lr=_LR, seed=0, **rule)

    return factory


def _numpy_data(n, dtype, rule, n_samples, batch):
    def factory():
        from gdfast._shuffle import epoch_order

        x0, _, fun = _problem(n, dtype)
        xd, yd = _data(n_samples, 10, dtype)
        m = dtype(rule.get("momentum", 0.0))
        lr = dtype(_LR)

        def run():
            x = x0.copy()
            v = None
            t = 0
            epoch = 0
            while t < ITERS:
                order = epoch_order(n_samples, 0, epoch)
                for s in range(0, n_samples, batch):
                    if t == ITERS:
                        break
                    idx = order[s:s + batch]
                    loss, g = fun(x, xd.take(idx, 0), yd.take(idx, 0))
                    if v is None:
                        v = g.copy()
                    else:
                        v *= m
                        v += g
                    x -= lr * v
                    t += 1
                epoch += 1
            return x

        return run

    return factory


def cases(quick=False):
    out = []
    dtypes = [np.float64] if quick else [np.float64, np.float32]
    rules = ["heavy"] if quick else list(RULES)
    for dt in dtypes:
        for r in rules:
            rule = RULES[r]
            dname = np.dtype(dt).name
            n = 1000
            out.append(Case(
                group=f"minimize/overhead/{dname}/n=1e3/{r}",
                impls={
                    "gdfast": _gdfast(n, dt, rule),
                    "numpy": _numpy(n, dt, rule),
                    "torch": _torch(n, dt, rule, fused=False),
                    "torch-fused": _torch(n, dt, rule, fused=True),
                    "floor": _floor(n, dt),
                },
                threads=1, work=ITERS, unit="iterations",
                quick=(dt is np.float64 and r == "heavy"),
                params=dict(n=n, dtype=dname, rule=r, iters=ITERS),
            ))
    if not quick:
        n_samples, batch = 10_000, 32
        out.append(Case(
            group=f"minimize/minibatch/float64/n=1e3/b={batch}/heavy",
            impls={
                "gdfast": _gdfast_data(1000, np.float64, RULES["heavy"], n_samples, batch),
                "numpy": _numpy_data(1000, np.float64, RULES["heavy"], n_samples, batch),
                "floor": _floor(1000, np.float64),
            },
            threads=1, work=ITERS, unit="iterations",
            params=dict(n=1000, dtype="float64", rule="heavy", iters=ITERS, batch=batch),
        ))
    return out


def overhead_table(results):
    """Lines of per-iteration overhead: {group: {impl: seconds per run}} ->
    '(impl - floor) / ITERS' for every implementation, and its ratio to gdfast's."""
    lines = []
    for group, res in results.items():
        floor = res.get("floor")
        if not isinstance(floor, float):
            continue
        over = {k: (v - floor) / ITERS for k, v in res.items()
                if k != "floor" and isinstance(v, float)}
        base = over.get("gdfast")
        cells = [f"callable {floor / ITERS * 1e9:.0f}ns"]
        for k, o in over.items():
            ratio = f" ({o / base:.1f}x)" if base and base > 0 and k != "gdfast" else ""
            cells.append(f"{k} +{o * 1e9:.0f}ns{ratio}")
        lines.append(f"{group:<45} per iteration: " + " | ".join(cells))
    return lines
