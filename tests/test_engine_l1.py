"""L1 regularization on the engine against a lone torch loop that adds `l1 * sum|w|` to its loss
(`reference.reference_train`): member for member, beside weight decay, clipping, masks and every
optimizer, with each member's own l1."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from pointlab.config import OPTIMIZERS, TrainConfig
from pointlab.engine import train

from reference import reference_train

pytestmark = pytest.mark.usefixtures("one_thread")

RTOL = 1e-5
LRS = {"sgd": 0.3, "momentum": 0.1, "nesterov": 0.1, "adam": 0.01, "adamw": 0.01, "rmsprop": 0.003}


def _data(n=48, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.random((n, 2), dtype=np.float32)
    y = (X[:, 1] > 0.3 * np.sin(6 * X[:, 0]) + 0.5).astype(np.int64)
    return X, y


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_each_members_l1_matches_a_torch_loop_with_the_penalty_in_its_loss(optimizer):
    X, y = _data()
    configs = [
        TrainConfig(
            hidden=(8, 8),
            optimizer=optimizer,
            lr=LRS[optimizer],
            epochs=10,
            batch_size=[16, None, 16, 16][m],
            seed=20 + m,
            l1=[0.0, 1e-3, 1e-2, 3e-2][m],
            weight_decay=[0.0, 1e-3, 0.0, 1e-2][m],
            clip_grad=[None, None, 0.5, None][m],
        )
        for m in range(4)
    ]
    for result in train(configs, X, y, log_every=2):
        config = result.config
        history, state = reference_train(config, X, y, 2)
        got = np.array(result.history["train_loss"])  # the data's loss, without the penalty
        np.testing.assert_allclose(got, history, rtol=RTOL, atol=1e-7, err_msg=str(config))
        for key, value in state.items():
            norm = torch.linalg.norm
            difference = norm(result.final_state[key] - value) / norm(value)
            assert difference < RTOL, f"{key}: relative difference {difference:.2e} ({config})"


def test_a_strong_l1_drives_weights_to_zero_and_weight_decay_does_not():
    X, y = _data()
    base = TrainConfig(hidden=(16,), optimizer="sgd", lr=0.1, epochs=300)
    l1, l2 = train([base.replace(l1=0.01), base.replace(weight_decay=0.02)], X, y, log_every=300)

    def near_zero(result) -> float:
        weights = result.final_state["0.weight"]  # (16, 2) first layer
        return float((weights.abs() < 1e-2).float().mean())

    assert near_zero(l1) > 0.3 and near_zero(l1) > 2 * near_zero(l2)
