"""gdfast.minimize's per-iteration overhead, side by side: gdfast vs a
hand-written NumPy loop vs a torch.optim.SGD loop vs the bare callable.
Cases: gdfast.benchcases.minimize. At the end of the module the overhead per
iteration ((impl - bare callable) / iterations) is printed."""
import pytest

from gdfast.benchcases import minimize

CASES = minimize.cases()
IMPLS = ["gdfast", "numpy", "torch", "torch-fused", "floor"]
_MEDIANS = {}


@pytest.fixture(scope="module", autouse=True)
def overhead_report(request):
    yield
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capman = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is None or not _MEDIANS:
        return
    # module teardown output is captured like a test's; print past the capture
    with capman.global_and_fixture_disabled():
        reporter.write_line("")
        reporter.write_sep("=", "gdfast.minimize overhead per iteration (impl - bare callable)")
        for line in minimize.overhead_table(_MEDIANS):
            reporter.write_line(line)


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("case", CASES, ids=[c.group for c in CASES])
def test_minimize(run_impl, benchmark, case, impl):
    if impl not in case.impls:
        pytest.skip(f"{case.group} has no {impl} implementation")
    run_impl(case, impl)
    _MEDIANS.setdefault(case.group, {})[impl] = benchmark.stats.stats.median
