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
        # raw points, as engine.train takes them (the inputs are `pointlab.features`')
        TrainConfig(
            hidden=(8, 8), activation="tanh", lr=0.03, epochs=20, seed=s, **options
        ).replace(standardize=False)
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
    configs = [
        TrainConfig(hidden=h, epochs=5, lr=0.01, standardize=False) for h in ((4,), (8, 8), (4,))
    ]
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


def _play(live: LiveTraining) -> int:
    steps = 0
    while not live.finished:
        live.step()
        steps += 1
    return steps


@pytest.mark.parametrize(
    "options, status",
    [
        # The engine's divergence rule; a second population (another group_key) beside it.
        ({"lr": 1e30, "optimizer": "sgd", "activation": "identity"}, "diverged"),
        ({"early_stopping": 3, "lr": 0.3}, "early_stopped"),  # and its early stopping
    ],
)
def test_the_playground_stops_members_as_the_engine_does(options, status):
    data = generators.make("spiral", n=120, seed=1)
    train, val, _ = split(data, 0.25, seed=0)
    configs = [
        TrainConfig(**{"hidden": (8, 8), "activation": "tanh", "epochs": 40, **options}),
        TrainConfig(hidden=(8, 8), activation="tanh", epochs=40, seed=1, lr=0.01),
    ]
    configs = [
        c.replace(standardize=False)
        for c in configs  # raw points, as engine.train takes them
    ]
    live = LiveTraining(configs, train, val, 2, log_every=1)
    _play(live)
    reference = engine.train(configs, train.X, train.y, val.X, val.y, n_classes=2, log_every=1)
    assert reference[0].status == status and reference[0].stopped_epoch < 40
    assert live.statuses == [r.status for r in reference]
    assert live.diverged.tolist() == [r.status == "diverged" for r in reference]
    for m, result in enumerate(reference):
        assert live.history["epoch"][m] == result.history["epoch"]
        assert live.history["train_loss"][m] == result.history["train_loss"]
        for key, value in result.state.items():
            torch.testing.assert_close(live.state(m)[key], value, rtol=0, atol=0)


def test_the_playground_after_n_steps_is_pointlab_train_with_n_epochs(tmp_path):
    from pointlab import runs
    from pointlab.cli import main
    from pointlab.data import save_csv

    from conftest import quiet

    data = generators.make("spiral", n=150, seed=2)
    path = save_csv(data, tmp_path / "spiral.csv")
    config = TrainConfig(hidden=(8, 8), activation="tanh", lr=0.03, epochs=30, seed=4)
    train, val, _ = split(data, 0.2, seed=config.seed)  # as the page and the CLI split
    live = LiveTraining([config], train, val, 2, log_every=10)
    assert _play(live) == 30
    argv = ["train", str(path), "--layers", "8,8", "--activation", "tanh", "--lr", "0.03"]
    argv += ["--epochs", "30", "--seed", "4", "--log-every", "10", "--out", str(tmp_path / "run")]
    assert main(argv, quiet()) == 0
    run = runs.load_run(tmp_path / "run")
    for key, value in run.model.state.items():
        torch.testing.assert_close(live.state(0)[key], value, rtol=0, atol=0)
    metrics = runs.read_metrics(tmp_path / "run")
    assert metrics["epoch"] == live.history["epoch"][0] == [0, 10, 20, 30]
    assert metrics["val_loss"] == pytest.approx(live.history["val_loss"][0], rel=1e-6)


def test_the_page_says_when_the_main_model_collapsed(tmp_path):
    # ReLU units that a learning rate of 10 kills: the page's status line names the epoch.
    from starlette.testclient import TestClient

    from pointlab.web.app import create_app

    origin = "http://127.0.0.1:8050"
    settings = dict(data="xor", points=100, layers="4", activation="relu", optimizer="sgd")
    settings.update(lr=10, epochs=30)
    with TestClient(create_app("127.0.0.1", tmp_path / "runs"), base_url=origin) as client:
        with client.websocket_connect("ws://127.0.0.1:8050/ws", headers={"origin": origin}) as ws:
            ws.send_json({"type": "setup", "settings": settings})
            ws.send_json({"type": "play"})
            while True:
                message = ws.receive_json()
                assert message["type"] != "error", message
                if message["type"] == "frame" and message["status"].endswith("finished"):
                    break
    assert message["status"].startswith("collapsed at epoch ")
