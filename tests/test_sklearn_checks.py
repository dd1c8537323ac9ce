"""scikit-learn's estimator checks on gdfast.sklearn's estimators.

The default instances are allowed exactly the two expected failures that
scikit-learn itself records for its own SGD estimators (sample-weight
equivalence: per-sample SGD visits a row of weight 2 once, the repeated data
twice). With batches the gradient is the sample-weighted mean
(sum s_i g_i / sum s_i), so full batch without shuffling (batch_size=None,
shuffle=False) makes an integer weight exactly a repetition: those instances
must pass the two checks as well.
"""
import pytest

pytest.importorskip("sklearn")

from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

from gdfast.sklearn import SGDClassifier, SGDRegressor  # noqa: E402

SW_CHECKS = ("check_sample_weight_equivalence_on_dense_data",
             "check_sample_weight_equivalence_on_sparse_data")
SW_REASON = "sample_weight is not equivalent to removing/repeating samples."


def _expected_failures(est):
    if est.batch_size is None and not est.shuffle:
        return {}
    return {name: SW_REASON for name in SW_CHECKS}


ESTIMATORS = [
    SGDClassifier(max_iter=5, random_state=0),
    SGDRegressor(max_iter=5, random_state=0),
    SGDClassifier(max_iter=5, random_state=0, batch_size=8, momentum=0.9, nesterov=True,
                  learning_rate="adaptive", eta0=0.001),
    SGDClassifier(batch_size=None, shuffle=False, learning_rate="adaptive", eta0=0.01,
                  tol=1e-9),
    SGDRegressor(batch_size=None, shuffle=False, learning_rate="adaptive", eta0=0.01,
                 tol=1e-9),
]


# max_iter=5 (scikit-learn's own setting for these checks) ends most fits by
# the epoch budget, which warns
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@parametrize_with_checks(ESTIMATORS, expected_failed_checks=_expected_failures)
def test_sklearn_compatible(estimator, check):
    check(estimator)
