"""`engine.Training`, the one epoch: stepped by hand it ends where `train_population` does; its
hooks (batch order) and its report of a collapsed member, in the engine and in `pointlab train`."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from pointlab import engine, generators
from pointlab.cli import main
from pointlab.config import TrainConfig
from pointlab.data import save_csv
from pointlab.splits import split

from conftest import quiet

pytestmark = pytest.mark.usefixtures("one_thread")


def _spiral():
    train, val, _ = split(generators.make("spiral", n=120, seed=1), 0.25, seed=0)
    X = np.concatenate([train.X, val.X])
    y = np.concatenate([train.y, val.y])
    return X, y, np.arange(len(train.y)), np.arange(len(train.y), len(y))


def test_stepping_by_hand_ends_where_train_population_does():
    X, y, train_index, val_index = _spiral()
    configs = [
        TrainConfig(hidden=(8,), lr=0.02, epochs=e, seed=s, batch_size=b, early_stopping=p)
        for e, s, b, p in [(12, 0, None, None), (7, 1, 16, None), (12, 2, 32, 2)]
    ]
    options = dict(log_every=3)
    indices = dict(train_index=[train_index] * 3, val_index=[val_index] * 3)
    expected = engine.train_population(configs, X, y, **indices, **options)
    training = engine.Training(configs, X, y, *indices.values(), **options)
    steps = 1
    while training.step_epoch():
        steps += 1
        now = training.measure()
        assert now["train_loss"].shape == (3,) and np.isfinite(now["val_acc"]).all()
    assert not training.step_epoch()  # over is over
    assert steps == training.epoch <= 12
    for got, want in zip(training.results(), expected, strict=True):
        assert (got.status, got.stopped_epoch, got.history) == (
            want.status,
            want.stopped_epoch,
            want.history,
        )
        for key, value in want.state.items():
            torch.testing.assert_close(got.state[key], value, rtol=0, atol=0)


def test_interrupt_between_epochs_measures_the_weights_kept():
    X, y, train_index, val_index = _spiral()
    config = TrainConfig(hidden=(8,), lr=0.02, epochs=50, seed=0)
    training = engine.Training([config], X, y, [train_index], [val_index], log_every=10)
    for _ in range(4):
        training.step_epoch()
    training.interrupt()
    (result,) = training.results()
    assert (result.status, result.stopped_epoch, result.history["epoch"]) == (
        "interrupted",
        4,
        [0, 4],
    )
    assert not training.step_epoch()


def test_a_batch_order_hook_replaces_the_members_order():
    # batch-noise feeds sorted members their points by class: the hook sees the engine's order.
    X, y, train_index, _ = _spiral()
    n = len(train_index)
    by_class = torch.as_tensor(np.argsort(y[train_index], kind="stable"))
    seen = []

    def sorted_order(epoch, order):
        seen.append((epoch, order.shape))
        return by_class.expand_as(order)

    config = TrainConfig(hidden=(4,), lr=0.05, epochs=3, batch_size=n // 2, seed=0)
    hooked = engine.train_population(
        [config], X, y, train_index=[train_index], batch_order=sorted_order, log_every=1
    )[0]
    plain = engine.train_population([config], X, y, train_index=[train_index], log_every=1)[0]
    assert seen == [(e, (1, n)) for e in range(3)]
    assert hooked.history["train_loss"][1:] != plain.history["train_loss"][1:]


# ReLU units that a learning rate of 10 kills within a few epochs: the output is then the output
# layer's bias alone, one constant for every point, and stays so.
DEAD = dict(hidden=(4,), activation="relu", optimizer="sgd", lr=10.0, epochs=30)


def _xor():
    return split(generators.make("xor", n=100, seed=0), 0.2, seed=0)[:2]


def test_a_collapsed_member_is_reported_with_its_epoch_and_keeps_its_best_weights():
    train, val = _xor()
    configs = [TrainConfig(seed=0, **DEAD), TrainConfig(seed=0, **{**DEAD, "lr": 1.0})]
    dead, alive = engine.train(configs, train.X, train.y, val.X, val.y, log_every=5)
    assert (dead.status, dead.collapsed_epoch, dead.stopped_epoch) == ("finished", 5, 30)
    assert dead.history["epoch"] == [0, 5, 10, 15, 20, 25, 30]  # it trained on, as alone
    assert dead.state is dead.best_state and dead.weights_epoch == dead.best_epoch == 0
    assert (alive.status, alive.collapsed_epoch) == ("finished", None)


def test_a_saturated_tanh_layer_is_a_collapse():
    # The playground's case (16,16,16 tanh, Adam, 1e5 epochs) in a few: the hidden layer saturated
    # at exactly 1 for every point, as Adam's late jump left it.
    X, y, train_index, val_index = _spiral()
    config = TrainConfig(hidden=(8,), activation="tanh", lr=0.03, epochs=30, seed=0)
    training = engine.Training([config], X, y, [train_index], [val_index], log_every=2)
    for _ in range(20):
        training.step_epoch()
    weight, bias = training.population.layers[0]
    with torch.no_grad():
        weight.zero_()
        bias.fill_(50.0)  # tanh(50) is 1.0 in float32: no gradient reaches this layer again
    while training.step_epoch():
        pass
    (result,) = training.results()
    assert (result.status, result.collapsed_epoch) == ("finished", 20)
    assert result.history["train_loss"][-1] == pytest.approx(np.log(2), abs=0.01)
    assert result.state is result.best_state and result.best_epoch is not None
    assert result.best_epoch < 20  # before the collapse


def test_pointlab_train_says_when_a_run_collapsed(tmp_path):
    data = save_csv(generators.make("xor", n=100, seed=0), tmp_path / "xor.csv")
    console = quiet()
    argv = ["train", str(data), "--layers", "4", "--activation", "relu", "--optimizer", "sgd"]
    argv += ["--lr", "10", "--epochs", "30", "--seed", "0", "--out", str(tmp_path / "run")]
    assert main(argv, console) == 0
    text = " ".join(console.file.getvalue().split())
    assert "its output became one constant for every point at epoch" in text
    assert "saved weights: best, from epoch" in text
