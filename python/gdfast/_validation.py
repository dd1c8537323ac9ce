"""Up-front validation shared by every entry point: errors name the argument
and the bad value, and are raised before any C runs."""
from __future__ import annotations

import math
import numbers

import numpy as np

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def check_real(name, value, *, low=None, high=None, low_open=False, high_open=False):
    """Return ``value`` as a float if it is a finite real number in range."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    v = float(value)
    if not math.isfinite(v):
        raise ValueError(f"Invalid {name}: {value!r} (must be finite)")
    if low is not None and (v < low or (low_open and v == low)):
        raise ValueError(f"Invalid {name}: {value!r}")
    if high is not None and (v > high or (high_open and v == high)):
        raise ValueError(f"Invalid {name}: {value!r}")
    return v


def check_int(name, value, low, allow_none=False):
    """Return ``value`` as an int >= low (or None when allowed); TypeError for
    a non-integer (bools included), ValueError below ``low``."""
    if value is None:
        if allow_none:
            return None
        raise TypeError(f"{name} must be an int, got None")
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int{' or None' if allow_none else ''}, got {value!r}")
    value = int(value)
    if value < low:
        raise ValueError(f"Invalid {name}: {value!r} (must be >= {low})")
    return value


def check_bool(name, value):
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def check_rule(lr, momentum, dampening, nesterov, weight_decay, maximize, ema, debias):
    """Validate the update-rule vocabulary (DESIGN.md) and return it normalised.

    Raises ValueError for negative or non-finite lr, momentum outside [0, 1),
    negative weight_decay, nesterov without momentum or with dampening,
    dampening with ema, debias without ema; TypeError for non-numbers.
    """
    lr = check_real("lr", lr)
    if lr < 0.0:
        raise ValueError(f"Invalid learning rate: lr={lr!r} (must be >= 0)")
    momentum = check_real("momentum", momentum)
    if not 0.0 <= momentum < 1.0:
        raise ValueError(f"Invalid momentum value: momentum={momentum!r} (must be in [0, 1))")
    dampening = check_real("dampening", dampening)
    if not 0.0 <= dampening <= 1.0:
        raise ValueError(f"Invalid dampening value: dampening={dampening!r} (must be in [0, 1])")
    weight_decay = check_real("weight_decay", weight_decay)
    if weight_decay < 0.0:
        raise ValueError(f"Invalid weight_decay value: weight_decay={weight_decay!r} "
                         "(must be >= 0)")
    nesterov = check_bool("nesterov", nesterov)
    maximize = check_bool("maximize", maximize)
    ema = check_bool("ema", ema)
    debias = check_bool("debias", debias)
    if nesterov and (momentum <= 0.0 or dampening != 0.0):
        raise ValueError(f"Nesterov momentum requires a momentum and zero dampening "
                         f"(got nesterov=True, momentum={momentum!r}, dampening={dampening!r})")
    if ema and dampening != 0.0:
        raise ValueError(f"dampening={dampening!r} cannot be combined with ema=True "
                         "(the EMA form already weighs the gradient by 1 - momentum)")
    if debias and not ema:
        raise ValueError("debias=True requires ema=True (bias correction applies to the "
                         "zero-started moving average)")
    return dict(lr=lr, momentum=momentum, dampening=dampening, nesterov=nesterov,
                weight_decay=weight_decay, maximize=maximize, ema=ema, debias=debias)


def check_param_array(name, a):
    """A parameter array: float32/float64 ndarray, C-contiguous, writeable."""
    if not isinstance(a, np.ndarray):
        raise TypeError(f"{name} must be a numpy.ndarray, got {type(a).__name__}")
    if a.dtype.kind != "f" or a.dtype.itemsize not in (4, 8):
        raise TypeError(f"{name} must have dtype float32 or float64, got {a.dtype}")
    if not a.dtype.isnative:
        raise TypeError(f"{name} has non-native byte order ({a.dtype.str}); "
                        "use a.astype(a.dtype.newbyteorder('='))")
    if not a.flags.c_contiguous:
        raise ValueError(f"{name} must be C-contiguous to be updated in place "
                         "(a copy would not update your array); use np.ascontiguousarray "
                         "and pass the copy")
    if not a.flags.writeable:
        raise ValueError(f"{name} is read-only; SGD updates parameters in place")
    return a
