"""The update rule of DESIGN.md, in NumPy, one array at a time."""
from __future__ import annotations

import numpy as np

from .._validation import check_rule


def sgd_step(w, g, v, *, t, first, lr, momentum=0.0, dampening=0.0, nesterov=False,
             weight_decay=0.0, maximize=False, ema=False, debias=False):
    """One step of the rule, updating ``w`` (and ``v``) in place.

    ``t`` is this step's number (1-based); ``first`` says that ``v`` holds no
    history yet (heavy-ball then copies the gradient into it; the EMA form
    treats it as zero). ``v`` may be None when ``momentum == 0``.

    With ``ema=False`` (torch.optim.SGD)::

        g = -g if maximize else g
        g = g + weight_decay * w
        v = g at the first step, momentum * v + (1 - dampening) * g after it
        g = g + momentum * v if nesterov else v
        w = w - lr * g

    With ``ema=True``::

        v = momentum * v + (1 - momentum) * g        (v = 0 before the first step)
        c = 1 - momentum**t if debias else 1
        u = momentum * (v / c) + (1 - momentum) * g if nesterov else v / c
        w = w - lr * u
    """
    dt = w.dtype.type
    lr, momentum, dampening, weight_decay = (dt(lr), dt(momentum), dt(dampening),
                                             dt(weight_decay))
    g = -g if maximize else g
    g = g + weight_decay * w
    if momentum != 0:
        if not ema:
            if first:
                v[...] = g
            else:
                v[...] = momentum * v + (dt(1) - dampening) * g
            u = g + momentum * v if nesterov else v
        else:
            if first:
                v[...] = 0
            v[...] = momentum * v + (dt(1) - momentum) * g
            c = dt(1.0 - float(momentum) ** t) if debias else dt(1)
            u = momentum * (v / c) + (dt(1) - momentum) * g if nesterov else v / c
        g = u
    w -= lr * g
    return w


class SGD:
    """The readable twin of gdfast.SGD: same constructor, step and state."""

    def __init__(self, params, lr=0.01, momentum=0.0, dampening=0.0, nesterov=False,
                 weight_decay=0.0, maximize=False, ema=False, debias=False):
        self.single = isinstance(params, np.ndarray)
        self.params = [params] if self.single else list(params)
        self.hyper = check_rule(lr, momentum, dampening, nesterov, weight_decay, maximize,
                                ema, debias)
        self.t = 0
        self.velocity = None
        self.first = True

    def step(self, grads):
        grads = [grads] if self.single and isinstance(grads, np.ndarray) else list(grads)
        if self.hyper["momentum"] != 0 and self.velocity is None:
            self.velocity = [np.zeros_like(p) for p in self.params]
            self.first = True
        self.t += 1
        for k, (w, g) in enumerate(zip(self.params, grads)):
            v = None if self.velocity is None else self.velocity[k]
            sgd_step(w, g, v, t=self.t, first=self.first, **self.hyper)
        if self.velocity is not None:
            self.first = False
