"""The CUDA-graph path (`engine/graphs.py`): a population whose epochs are replayed CUDA graphs
must train exactly as the same population run eagerly, on the same GPU. Without CUDA these tests
skip, except those of when the path is taken at all."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from pointlab.config import TrainConfig
from pointlab.engine import train_population
from pointlab.engine.graphs import blocker, wanted
from pointlab.engine.population import Population

cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


def _data(n=60, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.random((n, 2), dtype=np.float32)
    y = (X[:, 1] > 0.3 * np.sin(6 * X[:, 0]) + 0.5).astype(np.int64)
    return X, y


def _population(configs, device="cpu"):
    X, y = _data()
    return Population(configs, X, y, [np.arange(48)] * len(configs), None, 2, torch.device(device))


def test_the_path_is_taken_only_where_it_can_replay_an_epoch_exactly(monkeypatch):
    plain = [TrainConfig(hidden=(4,), epochs=5, lr=0.01 * (m + 1), seed=m) for m in range(2)]
    assert blocker(_population(plain)) == "the device is cpu, not CUDA"
    assert not wanted(_population(plain), None)  # the CPU path is unchanged
    with pytest.raises(ValueError, match="CUDA graphs were asked for, but the device is cpu"):
        train_population(plain, *_data(), train_index=[np.arange(48)] * 2, cuda_graphs=True)
    minibatch = [c.replace(batch_size=16) for c in plain]
    assert "minibatches" in blocker(_population(minibatch))
    assert "dropout" in blocker(_population([c.replace(dropout=0.1) for c in plain]))
    betas = [plain[0], plain[1].replace(beta1=0.8)]
    assert "betas" in blocker(_population(betas))
    assert "betas" not in (blocker(_population([c.replace(optimizer="sgd") for c in betas])) or "")
    monkeypatch.setenv("POINTLAB_CUDA_GRAPHS", "0")
    assert not wanted(_population(plain), None)


CASES = {
    "adam": dict(optimizer="adam", weight_decay=1e-3, schedule="cosine", warmup=2),
    "adamw": dict(optimizer="adamw", weight_decay=1e-2, clip_grad=0.5),
    "sgd": dict(optimizer="sgd", lr=0.3, schedule="step", step_size=5, gamma=0.5),
    "momentum": dict(optimizer="momentum", lr=0.1),
    "nesterov": dict(optimizer="nesterov", lr=0.1, label_smoothing=0.1),
    "rmsprop": dict(optimizer="rmsprop", lr=0.003, early_stopping=4),
}


@cuda
@pytest.mark.parametrize("case", CASES)
def test_graph_replayed_population_equals_the_eager_one(case, monkeypatch):
    # Members of three widths (padded), their own learning rates, one of them diverging.
    X, y = _data()
    options = {"lr": 0.01, **CASES[case]}
    lr = options.pop("lr")
    configs = [
        TrainConfig(hidden=h, epochs=25, seed=m, lr=lr * (1 + m), **options)
        for m, h in enumerate([(8, 8), (3, 5), (8, 2)])
    ]
    configs.append(configs[0].replace(lr=1e30, seed=9))  # diverges: its epoch must agree too

    def run(graphs):
        return train_population(
            configs,
            X,
            y,
            train_index=[np.arange(48)] * len(configs),
            val_index=[np.arange(48, 60)] * len(configs),
            device="cuda",
            log_every=4,
            cuda_graphs=graphs,
        )

    replays = []
    real_replay = torch.cuda.CUDAGraph.replay
    monkeypatch.setattr(
        torch.cuda.CUDAGraph, "replay", lambda g: replays.append(g) or real_replay(g)
    )
    replayed = run(True)
    assert len(replays) >= 25 - 3  # every epoch after the warm-up is one or two replays
    replays.clear()
    eager = run(False)
    assert not replays
    for a, b in zip(replayed, eager, strict=True):
        assert (a.status, a.stopped_epoch, a.best_epoch) == (
            b.status,
            b.stopped_epoch,
            b.best_epoch,
        )
        assert a.history["epoch"] == b.history["epoch"]
        for key in ("train_loss", "train_acc", "val_loss", "val_acc"):
            np.testing.assert_allclose(a.history[key], b.history[key], rtol=1e-6, atol=1e-7)
        for key, value in b.state.items():
            torch.testing.assert_close(a.state[key], value, rtol=1e-6, atol=1e-7)
    assert eager[-1].status == "diverged"
