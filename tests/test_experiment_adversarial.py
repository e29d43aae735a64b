"""The parts of experiment `adversarial` (its quick run is in `test_experiments_quick.py`; its
verdicts over seeds, `base.mean_at_least` and `base.all_of`, in `test_experiments_parts.py`)."""

from __future__ import annotations


def test_overlapping_counts_points_whose_balls_meet_one_of_another_class():
    import numpy as np

    from pointlab.experiments.adversarial import overlapping

    X = np.array([[0.0, 0.0], [0.1, 0.05], [1.0, 1.0], [1.0, 1.25]])
    y = np.array([0, 1, 0, 1])
    # L-infinity distances across classes: 0.1 (first pair), 0.25 (second pair)
    assert overlapping(X, y, 0.04) == 0.0
    assert overlapping(X, y, 0.05) == 0.5
    assert overlapping(X, y, 0.15) == 1.0
