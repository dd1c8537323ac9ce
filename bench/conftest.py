"""pytest-benchmark glue: every bench_*.py test times one implementation of
one case from gdfast.benchcases; this file records the machine with the
results and prints the side-by-side ratio table at the end of the run.

The side-by-side table does not come from those tests' own timings: the
first test of a case times all of the case's implementations in turns
(interleaved blocks, see _interleaved), so that a busy spell of the shared
machine, which can last a second or two, falls on every side of a ratio
rather than on one implementation's window.

Run with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset (in that command only),
e.g.  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE pytest bench/ --benchmark-only
"""
from __future__ import annotations

import collections
import statistics
import time

import pytest

from gdfast.benchcases import Skip, settle, threads
from gdfast.cli._util import fmt_seconds

_RESULTS = collections.OrderedDict()  # group -> {impl: median seconds}
_CASES = {}


def pytest_benchmark_update_machine_info(config, machine_info):
    import gdfast

    machine_info["gdfast"] = gdfast.config()
    try:
        import threadpoolctl

        machine_info["threadpools"] = threadpoolctl.threadpool_info()
    except ImportError:
        pass


#: Interleaved timing: each implementation runs in BLOCKS blocks of about
#: BLOCK_SECONDS, the implementations taking turns (who goes first rotates),
#: each block after a settle(); a sample is a loop of calls lasting at least
#: SAMPLE_SECONDS (one call for slow implementations), and an implementation
#: whose call takes over SLOW_SECONDS is timed once, after its warm-up call.
BLOCKS = 4
BLOCK_SECONDS = 0.15
SAMPLE_SECONDS = 1e-3
SLOW_SECONDS = 2.0


def _sample(fn, calls):
    t0 = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - t0) / calls


def _interleaved(case):
    """{impl: median seconds per call} for every implementation the case has."""
    fns = {}
    for impl, factory in case.impls.items():
        try:
            fns[impl] = factory()
        except Skip:
            continue
    names = list(fns)
    est, times = {}, {impl: [] for impl in names}
    with threads(case.threads):
        for impl in names:
            first = _sample(fns[impl], 1)  # warm-up: first-touch pages, lazy imports
            est[impl] = first if first > SLOW_SECONDS else min(first, _sample(fns[impl], 1))
            if est[impl] > SLOW_SECONDS:
                settle()
                times[impl].append(_sample(fns[impl], 1))
        for b in range(BLOCKS):
            for impl in names[b % len(names):] + names[:b % len(names)]:
                if est[impl] > SLOW_SECONDS:
                    continue
                calls = max(1, int(SAMPLE_SECONDS / max(est[impl], 1e-9)))
                samples = max(1, int(BLOCK_SECONDS / (calls * max(est[impl], 1e-9))))
                settle()
                times[impl].extend(_sample(fns[impl], calls) for _ in range(samples))
    return {impl: statistics.median(ts) for impl, ts in times.items()}


@pytest.fixture
def run_impl(benchmark):
    """run_impl(case, impl): time case.impls[impl] under the case's thread count."""

    def run(case, impl, rounds=None):
        if case.group not in _RESULTS:
            _CASES[case.group] = case
            _RESULTS[case.group] = _interleaved(case)
        benchmark.group = case.group
        benchmark.extra_info.update(case.params, impl=impl, threads=case.threads)
        with threads(case.threads):
            try:
                fn = case.impls[impl]()
            except Skip as e:
                pytest.skip(str(e))
            settle()  # the previous implementation's thread pools go idle
            if rounds is None:
                benchmark(fn)
            else:
                benchmark.pedantic(fn, rounds=rounds, iterations=1, warmup_rounds=1)

    return run


def pytest_terminal_summary(terminalreporter):
    if not _RESULTS:
        return
    tr = terminalreporter
    tr.write_sep("=", "gdfast side by side (median time over interleaved turns; "
                      "ratio = impl time / gdfast time)")
    for group, res in _RESULTS.items():
        case = _CASES[group]
        base = res.get(case.baseline)
        cells = []
        for impl, sec in res.items():
            ratio = f" ({sec / base:.2f}x)" if base else ""
            cells.append(f"{impl} {fmt_seconds(sec)}{ratio}")
        tr.write_line(f"{group:<40} " + " | ".join(cells))

