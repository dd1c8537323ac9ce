"""pytest-benchmark glue: every bench_*.py test times one implementation of
one case from gdfast.benchcases; this file records the machine with the
results and prints the side-by-side ratio table at the end of the run.

Run with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset (in that command only),
e.g.  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE pytest bench/ --benchmark-only
"""
from __future__ import annotations

import collections

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


@pytest.fixture
def run_impl(benchmark):
    """run_impl(case, impl): time case.impls[impl] under the case's thread count."""

    def run(case, impl, rounds=None):
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
        _CASES[case.group] = case
        _RESULTS.setdefault(case.group, {})[impl] = benchmark.stats.stats.median

    return run


def pytest_terminal_summary(terminalreporter):
    if not _RESULTS:
        return
    tr = terminalreporter
    tr.write_sep("=", "gdfast side by side (median time; ratio = impl time / gdfast time)")
    for group, res in _RESULTS.items():
        case = _CASES[group]
        base = res.get(case.baseline)
        cells = []
        for impl, sec in res.items():
            ratio = f" ({sec / base:.2f}x)" if base else ""
            cells.append(f"{impl} {fmt_seconds(sec)}{ratio}")
        tr.write_line(f"{group:<40} " + " | ".join(cells))

