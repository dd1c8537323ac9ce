"""gdfast.sklearn vs scikit-learn fit time. Cases: gdfast.benchcases.sklearn."""
import pytest

from gdfast.benchcases import sklearn as skcases

CASES = skcases.cases()
IMPLS = ["gdfast", "sklearn"]


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("case", CASES, ids=[c.group for c in CASES])
def test_fit(run_impl, case, impl):
    run_impl(case, impl, rounds=3)


def test_epochs_to_score(capsys):
    """Not a timing: the epochs each setting needs to reach the same
    validation accuracy (printed; recorded as the test's output)."""
    X, y = skcases._dense(60_000, 100, "classification", seed=1)
    target, epochs = skcases.epochs_to_score(X[:50_000], y[:50_000], X[50_000:], y[50_000:])
    with capsys.disabled():
        print(f"\nepochs to reach validation accuracy {target:.4f}:")
        for name, e in epochs.items():
            print(f"  {name:32s} {e if e is not None else '> max'}")
    assert epochs["sklearn per-sample"] is not None
