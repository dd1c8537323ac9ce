"""Linear-model loops side by side: gdfast.fit_linear vs scikit-learn, the
NumPy reference loop, PyTorch, and the read floor. Cases:
gdfast.benchcases.linear. A few rounds each (one epoch is tens of ms for
gdfast, seconds for the per-sample NumPy loop); run with
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE pytest bench/test_bench_linear.py
"""
import pytest

from gdfast.benchcases import linear

CASES = linear.cases()
IMPLS = ["gdfast", "gdfast-no-momentum", "sklearn", "numpy", "torch", "floor"]


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("case", CASES, ids=[c.group for c in CASES])
def test_linear(run_impl, case, impl):
    if impl not in case.impls:
        pytest.skip(f"{case.group} has no {impl} implementation")
    per_sample = case.params.get("batch_size") == 1
    if impl == "numpy" and per_sample:
        rounds = 1  # seconds per epoch
    elif per_sample:
        rounds = 7  # gdfast's epoch is memory-bound and the machine shared: more rounds
    else:
        rounds = 3
    run_impl(case, impl, rounds=rounds)
