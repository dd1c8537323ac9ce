"""gdfast.SGD: in-place fused optimizer steps over the caller's own arrays."""
from __future__ import annotations

import numpy as np

from . import _core
from ._validation import check_param_array, check_rule

_HYPER = ("lr", "momentum", "dampening", "nesterov", "weight_decay", "maximize", "ema",
          "debias")


def _hyper_property(name):
    def fget(self):
        return self._hyper[name]

    def fset(self, value):
        new = dict(self._hyper)
        new[name] = value
        self._apply(check_rule(**new))

    return property(fget, fset, doc=f"The {name} hyperparameter; settable between steps.")


class SGD(_core.SGDKernel):
    r"""Stochastic gradient descent with momentum, one fused C pass per array.

    For gradient :math:`g_t` and parameters :math:`w_t`, with ``ema=False``
    (exactly ``torch.optim.SGD``):

    .. math::
        g &\leftarrow -g \text{ if maximize}, \qquad g \leftarrow g + \lambda w \\
        v_t &= g \text{ at the first step}, \quad
               v_t = \mu v_{t-1} + (1 - \tau) g \text{ after it} \\
        u_t &= g + \mu v_t \text{ if nesterov else } v_t \\
        w_{t+1} &= w_t - \gamma u_t

    With ``ema=True`` the velocity is the exponential moving average of the
    gradients started from zero, optionally bias-corrected:

    .. math::
        v_t = \mu v_{t-1} + (1-\mu) g,\quad c_t = 1 - \mu^t \text{ (debias) or } 1,\quad
        u_t = \mu v_t / c_t + (1-\mu) g \text{ (nesterov) or } v_t / c_t

    Parameters
    ----------
    params : ndarray or list of ndarray
        float32 or float64, C-contiguous, writeable. Updated in place, never copied.
    lr, momentum, dampening, nesterov, weight_decay, maximize, ema, debias
        The update rule (:math:`\gamma, \mu, \tau, \lambda`). All are attributes
        that may be changed between steps.

    Raises
    ------
    TypeError
        params not ndarrays of float32/float64, or a hyperparameter of the wrong type.
    ValueError
        a non-contiguous or read-only array, an empty list, negative or non-finite
        lr, momentum outside [0, 1), negative weight_decay, nesterov without
        momentum or with dampening, dampening with ema, debias without ema.
    """

    def __init__(self, params, lr=0.01, momentum=0.0, dampening=0.0, nesterov=False,
                 weight_decay=0.0, maximize=False, ema=False, debias=False):
        single = isinstance(params, np.ndarray)
        if single:
            plist = [check_param_array("params", params)]
        else:
            if not isinstance(params, (list, tuple)):
                raise TypeError("params must be a numpy.ndarray or a list of them, "
                                f"got {type(params).__name__}")
            if len(params) == 0:
                raise ValueError("params is an empty list; SGD needs at least one array")
            plist = [check_param_array(f"params[{i}]", p) for i, p in enumerate(params)]
            seen = set()
            for i, p in enumerate(plist):
                base = p.__array_interface__["data"][0]
                if p.size and base in seen:
                    raise ValueError(f"params[{i}] shares memory with an earlier parameter")
                seen.add(base)
        rule = check_rule(lr, momentum, dampening, nesterov, weight_decay, maximize, ema, debias)
        self._bind(plist, single)
        self._apply(rule)

    def _apply(self, rule):
        self._hyper = rule
        self._set_rule(rule["lr"], rule["momentum"], rule["dampening"], rule["weight_decay"],
                       rule["nesterov"], rule["maximize"], rule["ema"], rule["debias"])

    lr = _hyper_property("lr")
    momentum = _hyper_property("momentum")
    dampening = _hyper_property("dampening")
    nesterov = _hyper_property("nesterov")
    weight_decay = _hyper_property("weight_decay")
    maximize = _hyper_property("maximize")
    ema = _hyper_property("ema")
    debias = _hyper_property("debias")

    @property
    def params(self):
        """The parameter arrays (the caller's own objects)."""
        return list(self._params)

    @property
    def step_count(self):
        """Number of steps taken so far (``t`` in the debias factor)."""
        return self._t

    @property
    def velocity(self):
        """Copies of the velocity buffers, or None before momentum is used."""
        if self._velocity is None:
            return None
        return [v.copy() for v in self._velocity]

    def hyperparameters(self):
        return dict(self._hyper)

    def set_hyperparameters(self, **kwargs):
        """Change several hyperparameters at once (checked together)."""
        unknown = set(kwargs) - set(_HYPER)
        if unknown:
            raise TypeError(f"unknown hyperparameter(s): {sorted(unknown)}")
        new = dict(self._hyper)
        new.update(kwargs)
        self._apply(check_rule(**new))

    def state_dict(self):
        """A deep copy of the optimizer's state: step count, velocity, hyperparameters."""
        return {
            "step": int(self._t),
            "momentum_buffer": self.velocity,
            "velocity_started": (self._velocity is not None) and not self._first,
            "hyperparameters": dict(self._hyper),
            "shapes": [tuple(p.shape) for p in self._params],
            "dtypes": [p.dtype.str for p in self._params],
        }

    def load_state_dict(self, state_dict):
        """Restore a state from :meth:`state_dict`; the arrays are copied in.

        Raises ValueError when the state comes from another configuration
        (another number of arrays, other shapes or dtypes, missing keys).
        """
        if not isinstance(state_dict, dict):
            raise TypeError(f"state_dict must be a dict, got {type(state_dict).__name__}")
        keys = {"step", "momentum_buffer", "velocity_started", "hyperparameters", "shapes",
                "dtypes"}
        if set(state_dict) != keys:
            raise ValueError(f"state_dict has keys {sorted(state_dict)}, expected {sorted(keys)}")
        shapes = [tuple(s) for s in state_dict["shapes"]]
        dtypes = list(state_dict["dtypes"])
        mine_s = [tuple(p.shape) for p in self._params]
        mine_d = [p.dtype.str for p in self._params]
        if shapes != mine_s or dtypes != mine_d:
            raise ValueError(f"state_dict is for parameters of shapes {shapes} and dtypes "
                             f"{dtypes}, but this optimizer has shapes {mine_s} and dtypes "
                             f"{mine_d}")
        hyper = state_dict["hyperparameters"]
        if not isinstance(hyper, dict) or set(hyper) != set(_HYPER):
            raise ValueError(f"state_dict['hyperparameters'] must name exactly {list(_HYPER)}")
        rule = check_rule(**hyper)
        step = state_dict["step"]
        if isinstance(step, bool) or not isinstance(step, (int, np.integer)) or step < 0:
            raise ValueError(f"state_dict['step'] must be a non-negative int, got {step!r}")
        bufs = state_dict["momentum_buffer"]
        velocity = None
        if bufs is not None:
            if not isinstance(bufs, (list, tuple)) or len(bufs) != len(self._params):
                raise ValueError("state_dict['momentum_buffer'] must be None or a list of "
                                 f"{len(self._params)} arrays")
            velocity = []
            for i, (b, p) in enumerate(zip(bufs, self._params)):
                b = np.asarray(b)
                if b.shape != p.shape or b.dtype != p.dtype:
                    raise ValueError(f"state_dict['momentum_buffer'][{i}] has shape {b.shape} "
                                     f"and dtype {b.dtype}; expected {p.shape} and {p.dtype}")
                velocity.append(np.array(b, dtype=p.dtype, order="C", copy=True))
        self._apply(rule)
        self._set_state(int(step), velocity,
                        not bool(state_dict["velocity_started"]) if velocity is not None else True)

    def zero_velocity(self):
        """Forget the momentum history (the next step starts it afresh)."""
        self._set_state(self._t, None, True)

    def __repr__(self):
        hp = ", ".join(f"{k}={v!r}" for k, v in self._hyper.items())
        shapes = [p.shape for p in self._params]
        return f"SGD({shapes}, {hp})"
