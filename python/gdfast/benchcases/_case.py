"""The benchmark case type shared by bench/ (pytest-benchmark) and `gdfast bench`.

A case is one comparison: the same work done by several implementations
(gdfast, the NumPy reference, scikit-learn, PyTorch, and the memory-bandwidth
floor). Each implementation is a factory that does the setup and returns a
zero-argument callable to time, so both runners time exactly the same thing.
"""
from __future__ import annotations

import contextlib
import statistics
import time
from dataclasses import dataclass, field
from typing import Callable, Dict


class Skip(Exception):
    """Raised by a factory whose peer library is not installed (or cannot run)."""


@dataclass
class Case:
    group: str
    impls: Dict[str, Callable[[], Callable[[], object]]]
    baseline: str = "gdfast"
    threads: int = 1
    work: int = 0
    unit: str = "elements"
    quick: bool = False
    params: dict = field(default_factory=dict)


@contextlib.contextmanager
def threads(n):
    """Run with n threads in gdfast and torch (when installed), then restore."""
    import gdfast

    old = gdfast.get_num_threads()
    torch = None
    try:
        import torch  # noqa: F401
        old_t = torch.get_num_threads()
    except Exception:  # torch missing or broken: nothing to set
        torch = None
    gdfast.set_num_threads(n)
    if torch is not None:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        gdfast.set_num_threads(old)
        if torch is not None:
            torch.set_num_threads(old_t)


#: Seconds to wait before timing an implementation. OpenBLAS's worker threads
#: spin for ~0.1 s after a multi-threaded call (the NumPy peer's, or the
#: matrix-vector product that makes a case's data) and take the core a
#: two-thread run needs: right after two-thread BLAS calls, a two-thread
#: float32 full-batch iteration measured a median of 2.8 ms (calls of up to
#: 16 ms) against 1.46 ms two seconds later.
SETTLE = 0.25


def settle():
    """Let other thread pools' spin-waits end before a timing starts."""
    time.sleep(SETTLE)


def time_callable(fn, *, min_time=0.2, repeats=5, max_number=1 << 20):
    """Median seconds per call: calibrate a loop count so one sample lasts
    about min_time / repeats, then take the median over repeats."""
    fn()  # warm-up (first-touch pages, caches, lazy imports)
    number = 1
    while number < max_number:
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        dt = time.perf_counter() - t0
        if dt >= min_time / repeats:
            break
        number *= 2 if dt == 0 else max(2, min(10, int(min_time / repeats / dt) + 1))
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        samples.append((time.perf_counter() - t0) / number)
    return statistics.median(samples)


def run_case(case, *, min_time=0.2, repeats=5):
    """Time every implementation of a case; returns {impl: seconds or 'skipped: why'}."""
    out = {}
    with threads(case.threads):
        for name, factory in case.impls.items():
            try:
                fn = factory()
            except Skip as e:
                out[name] = f"skipped: {e}"
                continue
            settle()
            out[name] = time_callable(fn, min_time=min_time, repeats=repeats)
    return out
