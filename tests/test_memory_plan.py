"""One memory model: the populations a sweep plans are ones the engine accepts, and the estimate
counts the D input features the engine trains on."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from pointlab import engine
from pointlab.config import TrainConfig
from pointlab.data import load_csv
from pointlab.engine import memory
from pointlab.errors import UserError
from pointlab.search.jobs import plan_jobs
from pointlab.search.setup import Split
from pointlab.search.space import layers_text
from pointlab.splits import kfold

from conftest import CURVE

CPU = torch.device("cpu")


@settings(max_examples=200, deadline=None)
@given(
    hidden=st.integers(0, 3).flatmap(  # one depth per group, as the sweep packs them
        lambda depth: st.lists(
            st.lists(st.integers(1, 300), min_size=depth, max_size=depth), min_size=1, max_size=6
        )
    ),
    optimizers=st.lists(st.sampled_from(["sgd", "momentum", "adam", "rmsprop"]), min_size=1),
    batches=st.lists(st.one_of(st.none(), st.integers(1, 500)), min_size=1),
    n_train=st.integers(4, 5000),
    n_val=st.integers(0, 2000),
    n_inputs=st.integers(1, 8),
    folds=st.integers(1, 5),
    available=st.integers(10**4, 10**9),
    picks=st.lists(st.integers(0, 10**6), min_size=1, max_size=50),
)
def test_a_planned_population_is_never_refused(
    hidden, optimizers, batches, n_train, n_val, n_inputs, folds, available, picks
):
    """Any population of at most `members_that_fit` members drawn from the planned configs (each
    trial with its folds) passes `check_memory` on the same memory; a refusal is the engine's."""
    configs = [
        TrainConfig(hidden=tuple(h), optimizer=optimizers[i % len(optimizers)]).replace(
            batch_size=batches[i % len(batches)]
        )
        for i, h in enumerate(hidden)
    ]
    shape = (2, n_train, n_val, CPU)
    try:
        fit = memory.members_that_fit(
            configs, *shape, per=folds, available=available, n_inputs=n_inputs
        )
    except UserError as planned:
        refused = []  # the engine refuses some trial's folds alone, in the same words
        for config in configs:
            try:
                engine.check_memory(
                    [config] * folds, *shape, available=available, n_inputs=n_inputs
                )
            except UserError as error:
                refused.append(str(error))
        assert str(planned) in refused
        return
    assert fit >= folds and fit % folds == 0
    trials = [configs[p % len(configs)] for p in picks][: fit // folds]
    population = [c for c in trials for _ in range(folds)]
    engine.check_memory(population, *shape, available=available, n_inputs=n_inputs)


def test_the_sweep_splits_a_group_the_engine_would_refuse(monkeypatch):
    """plan_jobs sizes its populations by the engine's rule: with little memory a group of
    trials becomes several populations, each accepted by `check_memory`; with too little for
    one trial, the plan is refused with the engine's message before anything trains."""
    data = load_csv(CURVE)
    folds = kfold(data, 3, seed=0)
    split_ = Split(data, data.X, data.y, [f[0] for f in folds], [f[1] for f in folds])
    setup = SimpleNamespace(base=TrainConfig(epochs=10), strategy="random", log_every=5)
    claimed = [
        SimpleNamespace(params={"layers": layers_text((w, w)), "lr": 0.01 * (i + 1)})
        for i, w in enumerate([32, 48, 64, 64, 32, 48, 64, 32])
    ]
    n_train, n_val = max(map(len, split_.train_index)), max(map(len, split_.val_index))
    one_trial = [TrainConfig(hidden=(64, 64))] * 3
    available = 3 * engine.estimate_memory(one_trial, 2, n_train, n_val).total
    monkeypatch.setattr(memory, "available_memory", lambda device: available)

    jobs = plan_jobs(setup, split_, None, claimed, "cpu")
    assert len(jobs) > 1 and sorted(i for job in jobs for i in job.trials) == list(range(8))
    for job in jobs:
        engine.check_memory(job.configs, 2, n_train, n_val, CPU, available=available)

    monkeypatch.setattr(memory, "available_memory", lambda device: available // 4)
    with pytest.raises(UserError, match="training 3 models of shape 2-64-64-1 .* needs about"):
        plan_jobs(setup, split_, None, claimed, "cpu")


def test_the_estimate_counts_every_input_feature(monkeypatch):
    config = TrainConfig(hidden=(8,), epochs=1)
    two = engine.estimate_memory([config], 2, 100, 0)
    fifty = engine.estimate_memory([config], 2, 100, 0, n_inputs=50)
    assert fifty.parameters - two.parameters == 48 * 8 * 4 * (5 + 2)  # 48 more rows of W1, Adam
    assert fifty.data > two.data  # the points themselves: (N, 50)
    with pytest.raises(UserError, match="a model of shape 50-8-1 \\(417 parameters\\)"):
        engine.check_memory([config], 2, 100, 0, CPU, available=two.total, n_inputs=50)

    # The engine trains D = X.shape[1] features, and checks memory for them.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(100, 50)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)
    monkeypatch.setattr(memory, "available_memory", lambda device: two.total)
    with pytest.raises(UserError, match="shape 50-8-1"):
        engine.train_population([config], X, y, train_index=[np.arange(100)])
