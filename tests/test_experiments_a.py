"""`pointlab experiment list` and its errors; memorize's Theorem 1 network. (Every experiment's
quick run is in `test_experiments_quick.py`.)"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from pointlab.cli import main
from pointlab.experiments import EXPERIMENTS
from pointlab.experiments.memorize import theorem1_error, theorem1_network


def test_list_names_every_experiment(capsys):
    assert main(["experiment", "list"]) == 0
    out = capsys.readouterr().out
    for name in EXPERIMENTS:
        assert name in out


def test_unknown_experiment_is_a_user_error(capsys):
    assert main(["experiment", "nope"]) == 2
    assert "unknown experiment" in capsys.readouterr().err


@pytest.mark.parametrize("n", [1, 7, 50, 100])
def test_theorem1_network_fits_random_labels(n):
    error, weights = theorem1_error(n, seed=n)
    assert error < 1e-8
    assert weights == 2 * n + 2


def test_theorem1_network_fits_the_book_random_labels_with_a_relu_mlp():
    rng = np.random.default_rng(0)
    X, y = rng.random((60, 2)), rng.integers(0, 2, 60).astype(float)
    net = theorem1_network(X, y)
    assert isinstance(net[1], torch.nn.ReLU)
    with torch.no_grad():
        fitted = net(torch.tensor(X))[:, 0].numpy()
    assert np.abs(fitted - y).max() < 1e-8


def test_noisy_claims_hold_fail_or_are_inconclusive():
    from pointlab.experiments.base import Claim, Report, at_least, at_most

    # Ten seeds (9 degrees of freedom): the 95% interval is +- 2.26 standard errors.
    assert at_most(0.03, 0.07, se=0.01, df=9) is True  # 4 standard errors within: holds
    assert at_most(0.20, 0.07, se=0.05, df=9) is False  # 2.6 standard errors beyond: fails
    assert at_most(0.09, 0.07, se=0.02, df=9) is None  # 1 standard error beyond: cannot tell
    assert at_most(0.05, 0.07, se=0.02, df=9) is None  # 1 standard error within: nor here
    assert at_most(0.05, 0.07, se=float("inf"), df=0) is None  # one seed: no error estimate
    assert at_least(0.5, 0.9, 0.1, 9) is False and at_least(0.95, 0.9, 0.01, 9) is True
    claims = [Claim("a", "c", 1, True), Claim("b", "c", 1, None)]
    assert [c.verdict for c in claims] == ["holds", "inconclusive"]
    report = Report("t", "c", "m", claims)
    assert report.passed and report.count("inconclusive") == 1
    assert not Report("t", "c", "m", [*claims, Claim("f", "c", 1, False)]).passed
