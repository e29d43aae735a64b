"""The engine's behaviour as a user sees it: it learns, it is deterministic, members are
independent, it stops members that diverge or stop improving, and its models save and load."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from pointlab.checkpoint import load_model, save_model
from pointlab.config import TrainConfig
from pointlab.engine import PopulationInterrupted, train, train_population
from pointlab.errors import UserError

from conftest import CURVE
from reference import reference_train

# One torch thread for these tiny models: two threads on a shared 2-core machine wait for each
# other (the docs example took 27 s with two, 5 s with one, at load 9; `conftest.one_thread`).
pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def curve():
    data = np.loadtxt(CURVE, delimiter=",")
    return data[:, :2].astype(np.float32), data[:, 2].astype(np.int64)


def _logistic_optimum(X, y) -> float:
    """The logistic-regression optimum, found independently (float64 L-BFGS)."""
    x, t = torch.as_tensor(X, dtype=torch.float64), torch.as_tensor(y, dtype=torch.float64)
    w = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([w], max_iter=500, tolerance_grad=1e-12, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        z = x @ w[:2] + w[2]
        loss = torch.nn.functional.binary_cross_entropy_with_logits(z, t)
        loss.backward()
        return loss

    opt.step(closure)
    return float(closure().detach())


@pytest.mark.slow  # the book's complex model, 3,000 full-batch epochs: ~20 s
def test_complex_fits_curve_data_and_simple_reaches_the_logistic_optimum(curve):
    X, y = curve
    configs = [
        TrainConfig(epochs=3000, lr=0.01, schedule="cosine", seed=0),  # complex (2-128-128-1)
        TrainConfig(hidden=(), epochs=3000, lr=0.05, seed=0),  # simple: logistic regression
    ]
    complex_, simple = train(configs, X, y, log_every=1000)
    assert complex_.last("train_loss") < 0.01
    assert complex_.last("train_acc") == 1.0
    assert simple.last("train_loss") == pytest.approx(_logistic_optimum(X, y), abs=1e-4)


def test_same_config_and_seed_give_identical_histories(curve):
    X, y = curve
    configs = [
        TrainConfig(hidden=(16, 16), epochs=20, batch_size=32, dropout=0.1, seed=s, lr=0.01)
        for s in (3, 4)
    ]
    first, second = train(configs, X, y, log_every=5), train(configs, X, y, log_every=5)
    for a, b in zip(first, second, strict=True):
        np.testing.assert_equal(a.history, b.history)  # NaN (no validation) equals NaN
        for key in a.final_state:
            assert torch.equal(a.final_state[key], b.final_state[key])
    assert first[0].history["train_loss"] != first[1].history["train_loss"]  # another seed


def test_a_member_trains_the_same_alone_or_in_a_population(curve):
    X, y = curve
    me = TrainConfig(hidden=(32,), epochs=15, batch_size=50, lr=0.02, seed=7)
    others = [me.replace(seed=s, lr=0.1, batch_size=b) for s, b in ((1, 20), (2, None))]
    alone = train([me], X, y, log_every=5)[0]
    crowd = train([others[0], me, others[1]], X, y, log_every=5)[1]
    np.testing.assert_allclose(crowd.history["train_loss"], alone.history["train_loss"], rtol=1e-5)


def test_a_diverging_member_stops_and_the_others_go_on(curve):
    X, y = curve
    configs = [
        TrainConfig(hidden=(16, 16), optimizer="sgd", lr=lr, epochs=40, seed=1) for lr in (0.5, 1e8)
    ]
    fine, diverged = train(configs, X, y, log_every=5)
    assert fine.status == "finished" and fine.history["epoch"][-1] == 40
    assert diverged.status == "diverged" and diverged.stopped_epoch < 40
    assert all(np.isfinite(diverged.history["train_loss"]))  # its last finite values are kept


def test_early_stopping_keeps_the_best_weights(curve):
    X, y = curve
    config = TrainConfig(hidden=(64, 64), lr=0.05, epochs=400, early_stopping=20, seed=2)
    result = train([config], X[:120], y[:120], X[120:], y[120:], log_every=5)[0]
    assert result.status == "early_stopped"
    assert result.stopped_epoch - result.best_epoch >= 20
    assert result.state is result.best_state
    best_row = result.history["epoch"].index(result.best_epoch)
    model = load_model(
        save_model(Path("/tmp") / "pointlab-es.safetensors", config, result.state, 2)
    )
    assert model.loss(X[120:], y[120:]) == pytest.approx(
        result.history["val_loss"][best_row], rel=1e-5
    )


def test_a_callback_sees_every_logged_epoch_and_can_prune(curve):
    X, y = curve
    seen = []

    def callback(epoch, metrics):
        seen.append((epoch, metrics["active"].copy()))
        return [0] if epoch == 10 else None

    configs = [TrainConfig(hidden=(8,), epochs=30, seed=s) for s in range(3)]
    results = train(configs, X, y, log_every=10, callback=callback)
    assert [e for e, _ in seen] == [0, 10, 20, 30]
    assert results[0].status == "pruned" and results[0].history["epoch"] == [0, 10]
    assert [r.status for r in results[1:]] == ["finished", "finished"]


def test_ctrl_c_returns_what_was_trained(curve):
    X, y = curve

    def callback(epoch, metrics):
        if epoch == 20:
            raise KeyboardInterrupt

    with pytest.raises(PopulationInterrupted) as caught:
        train([TrainConfig(hidden=(8,), epochs=100)], X, y, log_every=10, callback=callback)
    (result,) = caught.value.results
    assert result.status == "interrupted" and result.history["epoch"][-1] == 20


def test_each_member_may_train_on_its_own_fold(curve):
    X, y = curve
    folds = [np.arange(0, 150), np.arange(50, 200)]
    vals = [np.arange(150, 200), np.arange(0, 50)]
    configs = [TrainConfig(hidden=(8,), epochs=10, batch_size=40, lr=0.05, seed=s) for s in (0, 1)]
    results = train_population(configs, X, y, train_index=folds, val_index=vals, log_every=5)
    for config, fold, result in zip(configs, folds, results, strict=True):
        history, _ = reference_train(config, X[fold], y[fold], log_every=5)
        np.testing.assert_allclose(result.history["train_loss"], history, rtol=1e-5)


def test_saved_models_predict_what_the_engine_measured(curve, tmp_path):
    X, y = curve
    config = TrainConfig(hidden=(16,), epochs=50, lr=0.05, seed=5)
    result = train([config], X, y, log_every=50)[0]
    model = load_model(save_model(tmp_path / "m.safetensors", config, result.state, 2))
    assert model.config == config
    assert model.loss(X, y) == pytest.approx(result.last("train_loss"), rel=1e-5)
    assert (model.predict(X) == y).mean() == pytest.approx(result.last("train_acc"))
    p = model.predict_proba(X)
    assert p.shape == (len(X), 2) and np.allclose(p.sum(1), 1)

    (tmp_path / "junk.safetensors").write_bytes(b"not a model")
    with pytest.raises(UserError, match="junk.safetensors"):
        load_model(tmp_path / "junk.safetensors")
    with pytest.raises(UserError, match="no such model"):
        load_model(tmp_path / "missing.safetensors")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_population_matches_cpu(curve):
    X, y = curve
    configs = [
        TrainConfig(hidden=(32, 32), epochs=30, batch_size=64, lr=0.01, seed=s) for s in range(8)
    ]
    cpu = train(configs, X, y, log_every=10)
    gpu = train(configs, X, y, log_every=10, device="cuda")
    for a, b in zip(cpu, gpu, strict=True):
        np.testing.assert_allclose(a.history["train_loss"], b.history["train_loss"], rtol=1e-3)
