"""gdfast: gradient descent with a compiled core.

Full-batch, stochastic and mini-batch gradient descent with momentum, run as
whole loops in C over contiguous float arrays, behind a thin NumPy API.
"""
__version__ = "0.1.0"

from . import _core
from ._config import config, get_isa, get_num_threads, set_isa, set_num_threads, show_config
from ._linear import FitResult, fit_linear
from ._minimize import minimize
from ._optim import SGD
from . import reference  # the NumPy twin, reachable as gdfast.reference

_config._check_env_isa()

__all__ = [
    "FitResult",
    "SGD",
    "config",
    "fit_linear",
    "get_isa",
    "get_num_threads",
    "minimize",
    "reference",
    "set_isa",
    "set_num_threads",
    "show_config",
]
