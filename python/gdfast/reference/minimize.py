"""gdfast.minimize in plain NumPy: the same loop, written for reading.

It is the tests' oracle for gdfast.minimize (same iterations, same batches,
same stopping rules, the rule from reference.rule.sgd_step) and the
benchmarks' hand-written NumPy loop. Arguments are assumed valid.
"""
from __future__ import annotations

import numpy as np

from .._shuffle import epoch_order
from .rule import sgd_step


def minimize(fun, x0, args=(), jac=True, data=None, batch_size=None, epochs=None,
             max_iter=1000, lr=0.01, momentum=0.0, dampening=0.0, nesterov=False,
             weight_decay=0.0, maximize=False, ema=False, debias=False, schedule="constant",
             power_t=0.25, shuffle=True, seed=0, tol=None, gtol=None, callback=None):
    """Returns a dict with x, fun, jac, nit, nfev, njev, status, loss_history
    (and n_epochs with data); ``status`` is "budget", "tol", "gtol" or
    "callback". ``callback(x_copy, loss)`` may raise StopIteration."""
    if not isinstance(args, tuple):
        args = (args,)
    x = np.array(x0, order="C", copy=True)
    v = np.zeros_like(x) if momentum else None
    rule = dict(momentum=momentum, dampening=dampening, nesterov=nesterov,
                weight_decay=weight_decay, maximize=maximize, ema=ema, debias=debias)
    counts = {"nfev": 0, "njev": 0}

    def evaluate(*batch):
        if jac is True:
            loss, g = fun(x, *batch, *args)
            counts["njev"] += 1
        else:
            loss = fun(x, *batch, *args)
            g = jac(x, *batch, *args)
            counts["njev"] += 1
        counts["nfev"] += 1
        loss = float(loss)
        if not np.isfinite(loss) or not np.isfinite(g).all():
            raise FloatingPointError("non-finite loss or gradient")
        return loss, g

    def step_size(t):
        if callable(lr):
            return float(lr(t))
        return lr / t ** power_t if schedule == "invscaling" else lr

    def update(g, t):
        sgd_step(x, g, v, t=t, first=(t == 1), lr=step_size(t), **rule)
        if not np.isfinite(x).all():
            raise FloatingPointError("the update overflowed")

    history = []
    t = 0
    if data is None:
        prev = None
        while True:
            loss, g = evaluate()
            history.append(loss)
            if callback is not None and t > 0:
                try:
                    callback(x.copy(), loss)
                except StopIteration:
                    status = "callback"
                    break
            if gtol is not None and np.linalg.norm(g.astype(np.float64).ravel()) <= gtol:
                status = "gtol"
                break
            if tol is not None and prev is not None and abs(loss - prev) <= tol:
                status = "tol"
                break
            if t >= max_iter:
                status = "budget"
                break
            t += 1
            update(g, t)
            prev = loss
        return dict(x=x, fun=loss, jac=np.array(g), nit=t, status=status,
                    loss_history=np.array(history), **counts)

    n = data[0].shape[0]
    bs = n if batch_size is None else min(batch_size, n)
    max_iter = np.inf if max_iter is None else max_iter
    status = "budget"
    epoch = 0
    g_last = None
    while epochs is None or epoch < epochs:
        if t >= max_iter:
            break
        order = epoch_order(n, seed, epoch) if (shuffle and bs < n) else np.arange(n)
        total, count, stop = 0.0, 0, False
        for s in range(0, n, bs):
            if t >= max_iter:
                stop = True
                break
            idx = order[s:s + bs]
            batch = tuple(a[idx] for a in data)
            loss, g = evaluate(*batch)
            total += loss * len(idx)
            count += len(idx)
            g_last = np.array(g)
            if gtol is not None and np.linalg.norm(g.astype(np.float64).ravel()) <= gtol:
                status, stop = "gtol", True
                break
            t += 1
            update(g, t)
            if callback is not None:
                try:
                    callback(x.copy(), loss)
                except StopIteration:
                    status, stop = "callback", True
                    break
        if count:
            history.append(total / count)
            epoch += 1
        if stop:
            break
        if tol is not None and len(history) >= 2 and abs(history[-1] - history[-2]) <= tol:
            status = "tol"
            break
    return dict(x=x, fun=history[-1], jac=g_last, nit=t, status=status,
                loss_history=np.array(history), n_epochs=epoch, **counts)
