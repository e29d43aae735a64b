"""The verdict rules of experiment `adversarial` (its quick run is in
`test_experiments_quick.py`): Student's t over seeds, and claims made of several criteria."""

from __future__ import annotations

from pointlab.experiments.adversarial import every, t_at_least, t_at_most, t_interval


def test_t_interval_is_wider_than_two_standard_errors_for_three_seeds():
    mean, se, t = t_interval([0.10, 0.12, 0.14])
    assert abs(mean - 0.12) < 1e-12 and abs(se - 0.02 / 3**0.5) < 1e-12
    assert abs(t - 4.303) < 1e-3  # two degrees of freedom
    # 0.12 - 2 se = 0.097 would clear 0.09; 0.12 - 4.3 se = 0.070 does not: inconclusive
    assert t_at_least([0.10, 0.12, 0.14], 0.09) is None
    assert t_at_least([0.10, 0.12, 0.14], 0.06) is True
    assert t_at_most([0.10, 0.12, 0.14], 0.06) is False


def test_a_claim_of_several_criteria_fails_if_one_fails_and_holds_only_if_all_hold():
    assert every([True, True]) is True
    assert every([True, None]) is None
    assert every([None, False, True]) is False


def test_overlapping_counts_points_whose_balls_meet_one_of_another_class():
    import numpy as np

    from pointlab.experiments.adversarial import overlapping

    X = np.array([[0.0, 0.0], [0.1, 0.05], [1.0, 1.0], [1.0, 1.25]])
    y = np.array([0, 1, 0, 1])
    # L-infinity distances across classes: 0.1 (first pair), 0.25 (second pair)
    assert overlapping(X, y, 0.04) == 0.0
    assert overlapping(X, y, 0.05) == 0.5
    assert overlapping(X, y, 0.15) == 1.0
