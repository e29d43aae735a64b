"""The playground's epoch-at-a-time loop against the engine: after N steps every member has the
weights and the history that `engine.train` gives it with `epochs=N`."""

from __future__ import annotations

import pytest
import torch

from pointlab import engine, generators
from pointlab.config import TrainConfig
from pointlab.splits import split
from pointlab.web.live import LiveTraining

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"batch_size": 16},
        {"dropout": 0.2, "optimizer": "sgd"},
        {"schedule": "cosine", "warmup": 3, "weight_decay": 0.01},
    ],
)
def test_live_steps_match_the_engine(options):
    data = generators.make("spiral", n=120, seed=1)
    train, val, _ = split(data, 0.25, seed=0)
    configs = [
        TrainConfig(hidden=(8, 8), activation="tanh", lr=0.03, epochs=20, seed=s, **options)
        for s in (0, 1)
    ]
    live = LiveTraining(configs, train, val, 2, log_every=5)
    while not live.finished:
        live.step()
    reference = engine.train(configs, train.X, train.y, val.X, val.y, n_classes=2, log_every=5)
    for m, result in enumerate(reference):
        state = live.state(m)
        for key, value in result.final_state.items():
            torch.testing.assert_close(state[key], value, rtol=0, atol=0)
        assert live.history["epoch"][m] == result.history["epoch"]
        assert live.history["val_loss"][m] == pytest.approx(result.history["val_loss"], rel=1e-6)


def test_members_of_different_widths_train_side_by_side():
    data = generators.make("xor", n=80)
    configs = [TrainConfig(hidden=h, epochs=5, lr=0.01) for h in ((4,), (8, 8), (4,))]
    live = LiveTraining(configs, data, None, 2, log_every=1)
    while not live.finished:
        live.step()
    reference = engine.train(configs, data.X, data.y, n_classes=2, log_every=1)
    for m, result in enumerate(reference):
        for key, value in result.final_state.items():
            torch.testing.assert_close(live.state(m)[key], value, rtol=0, atol=0)
    grid = data.X[:10]
    probs = live.regions([0, 1, 2], grid)
    assert probs.shape == (3, 10, 2)
    assert abs(probs.sum(-1) - 1).max() < 1e-5
