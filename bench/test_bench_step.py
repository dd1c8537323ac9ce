"""One optimizer step, side by side: gdfast vs NumPy vs torch (fused, foreach)
vs the memory-bandwidth floor. Cases: gdfast.benchcases.step."""
import pytest

from gdfast.benchcases import step

CASES = step.cases()
IMPLS = ["gdfast", "numpy", "torch-fused", "torch-foreach", "floor", "floor-inplace"]


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("case", CASES, ids=[c.group for c in CASES])
def test_step(run_impl, case, impl):
    run_impl(case, impl)
