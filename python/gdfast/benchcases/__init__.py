"""Benchmark case definitions, one per comparison, shared by the pytest
benchmarks in bench/ and by `gdfast bench`."""
from ._case import Case, Skip, run_case, settle, threads, time_callable

AREAS = ["step", "linear", "minimize"]


def all_cases(quick=False):
    import importlib

    out = []
    for area in AREAS:
        mod = importlib.import_module(f"{__name__}.{area}")
        out.extend(mod.cases(quick=quick))
    return out


__all__ = ["AREAS", "Case", "Skip", "all_cases", "run_case", "settle", "threads", "time_callable"]
