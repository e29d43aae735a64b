"""pointlab's MLPClassifier against scikit-learn's own estimator checks (`parametrize_with_checks`).

Every check runs. The instance checked is small (a hidden layer of 16, 60 epochs at a learning rate
of 0.01) so the ~50 checks take seconds; the checks about learning (accuracy on blobs, predicting
every class of the training set) still have to pass with it.
"""

from __future__ import annotations

import pytest

pytest.importorskip("sklearn")

from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

from pointlab.sklearn import MLPClassifier  # noqa: E402

# Expected failures, each with its reason.
EXPECTED_FAILED_CHECKS: dict[str, str] = {
    "check_sample_weight_equivalence_on_dense_data": (
        "the engine trains in float32: integer weights and repeated rows agree to about 1e-7 "
        "relative, just outside this check's rtol of 1e-7 (scikit-learn runs it on its own "
        "MLPClassifier with solver='lbfgs' only); test_sklearn.py checks both equivalences at 1e-5"
    ),
}


@parametrize_with_checks(
    [MLPClassifier(hidden_layer_sizes=(16,), learning_rate_init=0.01, max_iter=60)],
    expected_failed_checks=lambda estimator: EXPECTED_FAILED_CHECKS,
)
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)
