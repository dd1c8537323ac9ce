"""gdfast.reference: the pure-NumPy twin of every rule and loop in the C core.

Written for reading, not for speed. It is the test suite's oracle (the C
paths are compared to it step by step) and the benchmarks' NumPy baseline.
Arithmetic happens in the arrays' own dtype, as in the C core.
"""
from .linear import fit_linear, shuffle_order
from .rule import SGD, sgd_step

__all__ = ["SGD", "fit_linear", "sgd_step", "shuffle_order"]
