"""The parts of the `class-imbalance` experiment: its data's ratio, the threshold it moves to,
and the moved model predicting exactly there (the quick run: `test_experiments_quick.py`)."""

from __future__ import annotations

import numpy as np
import pytest

from pointlab import metrics
from pointlab.checkpoint import TrainedModel
from pointlab.config import TrainConfig
from pointlab.engine.models import Architecture, init_theta, member_state
from pointlab.experiments.class_imbalance import (
    RATIO,
    best_threshold,
    imbalanced_moons,
    moved,
)


def test_the_data_hold_one_rare_point_for_every_twenty_and_repeat():
    data = imbalanced_moons(400, seed=3)
    assert np.bincount(data.y).tolist() == [400, 400 // RATIO]
    again = imbalanced_moons(400, seed=3)
    np.testing.assert_array_equal(data.X, again.X)
    assert not np.array_equal(data.X, imbalanced_moons(400, seed=4).X)


def test_best_threshold_maximizes_balanced_accuracy():
    rng = np.random.default_rng(0)
    y = (rng.random(300) < 0.1).astype(int)
    p1 = np.clip(0.15 * y + rng.random(300) * 0.5, 0, 1)
    chosen = best_threshold(y, p1)
    best = metrics.balanced_accuracy(y, (p1 >= chosen).astype(int), 2)
    every = [metrics.balanced_accuracy(y, (p1 >= t).astype(int), 2) for t in np.unique(p1)]
    assert best == pytest.approx(max(every))
    assert chosen < 0.5  # the rare class needs a lower bar


def test_a_moved_model_predicts_class_1_where_its_probability_passes_the_threshold():
    arch = Architecture((8,), "tanh", 2)
    state = member_state(arch, init_theta(arch, [1]), 0, False)
    model = TrainedModel(TrainConfig(hidden=(8,), activation="tanh"), 2, state)
    X = np.random.default_rng(1).random((200, 2)).astype(np.float32)
    p1 = model.predict_proba(X)[:, 1]
    threshold = float(np.median(p1))
    shifted = moved(model, threshold)(X)[:, 1]
    away = np.abs(p1 - threshold) > 1e-6  # float32 rounding at the threshold itself
    np.testing.assert_array_equal((shifted > 0.5)[away], (p1 >= threshold)[away])
