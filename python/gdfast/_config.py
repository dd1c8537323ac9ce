"""Build and run-time configuration: ISA, threads, versions."""
from __future__ import annotations

import os
import platform
import sys
import warnings

from . import _core

_VALID_ISA = ("baseline", "avx2", "avx512")


def _check_env_isa():
    want = os.environ.get("GDFAST_ISA", "")
    if want and want != _core.isa():
        warnings.warn(f"GDFAST_ISA={want!r} is not available on this CPU or build "
                      f"(available: {', '.join(_core.available_isas())}); using "
                      f"{_core.isa()!r}", RuntimeWarning, stacklevel=3)


def set_num_threads(n):
    """Set the thread count of every parallel C loop (n >= 1); returns it.

    Results do not depend on it: element-wise updates are independent and
    every reduction uses a fixed blocking.
    """
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"n must be an int, got {n!r}")
    if n < 1:
        raise ValueError(f"Invalid thread count: n={n!r} (must be >= 1)")
    return _core.set_num_threads(n)


def get_num_threads():
    """The thread count in force (default: the processors OpenMP sees)."""
    return _core.get_num_threads()


def get_isa():
    """The instruction-set variant the kernels run: 'avx512', 'avx2' or 'baseline'."""
    return _core.isa()


def set_isa(name):
    """Force a kernel variant (tests and benchmarks); ValueError if unavailable."""
    _core.select_isa(name)


def config():
    """The configuration as a dict (what show_config prints)."""
    import numpy as np

    from . import __version__
    return {
        "gdfast": __version__,
        "isa": _core.isa(),
        "isa_available": list(_core.available_isas()),
        "isa_forced": os.environ.get("GDFAST_ISA") or None,
        "threads": _core.get_num_threads(),
        "openmp": _core.openmp_enabled(),
        "parallel_min_bytes": _core.get_parallel_min(),
        "compiler": _core.compiler(),
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
    }


def show_config(file=None):
    """Print the chosen ISA, threads, compiler and versions."""
    cfg = config()
    out = file if file is not None else sys.stdout
    width = max(len(k) for k in cfg)
    for k, v in cfg.items():
        if isinstance(v, list):
            v = ", ".join(v)
        print(f"{k:<{width}} : {v}", file=out)
