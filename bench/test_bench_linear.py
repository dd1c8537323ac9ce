"""Linear-model loops side by side: gdfast.fit_linear vs scikit-learn, the
NumPy reference loop, PyTorch, and the read floor. Cases:
gdfast.benchcases.linear. A few rounds each (one epoch is tens of ms for
gdfast, seconds for the per-sample NumPy loop); run with
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE pytest bench/test_bench_linear.py
"""
import pytest

from gdfast.benchcases import linear

CASES = linear.cases()
IMPLS = ["gdfast", "sklearn", "numpy", "torch", "floor"]


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("case", CASES, ids=[c.group for c in CASES])
def test_linear(run_impl, case, impl):
    if impl not in case.impls:
        pytest.skip(f"{case.group} has no {impl} implementation")
    slow = impl == "numpy" and case.params.get("batch_size") == 1
    run_impl(case, impl, rounds=1 if slow else 3)
