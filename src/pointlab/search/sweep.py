"""A sweep: the trials of a search space trained as engine populations, scored on validation data
only and kept in the study store; then the best configuration retrained on all the training data
and tested once.

Data: the test part (a test file's, or a stratified share of the data) is set aside before anything
trains and is read once, by the retrain (`training.train`), after the choice; it never reaches the
store or the choice. The rest is split once into train / validation, or into K folds (`cv`): the
K folds of a trial are K members of one population, each with its own training and validation
indices.

A trial's score is its validation loss (mean over folds) at its best logged epoch; that epoch is
kept, and the retrain runs that many epochs (constant learning rate; other schedules keep their
length, since they are shaped by it).

How the claimed trials are trained is an `Executor`'s (`jobs.LocalExecutor` here by default,
`ray_cluster.RayCluster` on a cluster); this module never names Ray.

Not here: parsing spaces (`space`), choosing points (`strategies`), the database (`store`),
training populations (`jobs`), the sweep folder (`folder`), output.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import optuna

from pointlab import training
from pointlab.checkpoint import TrainedModel
from pointlab.config import TrainConfig
from pointlab.data import Dataset
from pointlab.errors import SettingError, UserError
from pointlab.runs import RunData, RunResult, RunSpec, SweepChoice
from pointlab.search import strategies
from pointlab.search.jobs import MAX_MEMBERS, Executor, LocalExecutor
from pointlab.search.setup import Progress, Split, SweepSetup
from pointlab.search.store import Store, TrialRow, lowest
from pointlab.splits import kfold, split


@dataclass
class SweepResult:
    """What a sweep found: every trial, the chosen one, and its retrain (tested once)."""

    rows: list[TrialRow]  # one per planned trial
    best: TrialRow
    run: RunResult  # the best configuration retrained on all the training data, tested once
    created: bool  # this process created the study

    def __repr__(self) -> str:
        from pointlab.notebook import sweep_text

        return sweep_text(self)

    def _repr_html_(self) -> str:  # Jupyter's rich display
        from pointlab.notebook import sweep_html

        return sweep_html(self)

    @property
    def config(self) -> TrainConfig:
        """The best configuration as retrained."""
        return self.run.spec.config

    @property
    def model(self) -> TrainedModel:
        return self.run.model

    @property
    def history(self) -> dict:
        """The retrain's training curve."""
        return self.run.history

    @property
    def n_train(self) -> int:
        """Points the best configuration was retrained on."""
        return len(self.run.data.train)

    @property
    def test(self) -> dict:
        """{"loss", "accuracy", "n"} on the test data, measured once."""
        assert self.run.test is not None  # a sweep always sets test data apart
        return self.run.test.to_dict()


def make_split(data: Dataset, test: Dataset | None, setup: SweepSetup) -> tuple[Split, Dataset]:
    """Set the test data apart, then split the rest for validation (or into folds)."""
    if test is None:
        data, _, test = split(data, 0.0, setup.test_fraction, seed=setup.seed)
        if len(test) == 0:
            raise SettingError("no test points: raise {test_fraction} or give {test}", test="test")
    elif test.n_classes > data.n_classes:
        raise UserError(f"the test data has {test.n_classes} classes, the data {data.n_classes}")
    if setup.cv:
        folds = kfold(data, setup.cv, seed=setup.seed)
        return Split(data, data.X, data.y, [f[0] for f in folds], [f[1] for f in folds]), test
    train, val, _ = split(data, setup.val_fraction, 0.0, seed=setup.seed)
    training.check_classes(train, setup.val_fraction)
    if len(val) == 0:
        raise SettingError(
            "the validation split is empty: raise {val_fraction} or use {cv}", cv="cv folds"
        )
    n = len(train)
    X, y = np.concatenate([train.X, val.X]), np.concatenate([train.y, val.y])
    return Split(data, X, y, [np.arange(n)], [np.arange(n, len(X))]), test


def run_sweep(
    setup: SweepSetup,
    data: Dataset,
    test: Dataset | None,
    store: Store,
    *,
    device: str = "cpu",
    batch: int | None = None,
    progress: Progress | None = None,
    executor: Executor | None = None,
    columns: str | None = None,
) -> SweepResult:
    """Plan or join the study, train every trial not yet finished (on `executor`, by default
    here), then retrain and test.

    `columns` is recorded in the best run's spec (the loader option `data` was read with). The
    result is not written anywhere: `folder.write_sweep` writes a sweep folder from it."""
    record = setup.record(data, test)
    given_test = test  # a test file's data set; None: a share of `data`, set apart by the split
    split_, test = make_split(data, test, setup)
    slots = strategies.plan(setup.strategy, setup.params, setup.n_trials, setup.seed, setup.base)
    sampler = strategies.sampler(setup.strategy, setup.seed, len(slots))
    distributions = {p.name: p.distribution() for p in setup.params}
    created = store.open(record, slots, distributions, sampler)
    run_trials(
        setup, split_, store, device=device, batch=batch, progress=progress, executor=executor
    )
    rows = store.rows()
    best = choose(rows)
    spec = retrain_spec(setup, retrain_config(best), data, given_test, device, columns)
    choice = SweepChoice(
        trial=best.slot,
        params=best.params,
        val_loss=float(best.value or math.inf),
        val_acc=best.result["val_acc"] if best.result else math.nan,
        retrained_on=len(split_.dev),
    )
    prepared = RunData(data, split_.dev, None, test)  # as training.prepare(spec) would split it
    run = training.train(spec, prepared, sweep=choice)
    return SweepResult(rows, best, run, created)


def retrain_spec(
    setup: SweepSetup,
    config: TrainConfig,
    data: Dataset,
    test: Dataset | None,
    device: str,
    columns: str | None,
) -> RunSpec:
    """The retrain as a RunSpec: all the training data (the file less its test share, or all of it
    beside a test file), no validation; its config.json repeats the retrain."""
    return RunSpec.for_data(
        config,
        data,
        test=test,
        test_fraction=0.0 if test is not None else setup.test_fraction,
        split_seed=setup.seed,
        columns=columns,
        device=device,
        log_every=setup.log_every,
    )


def run_trials(
    setup: SweepSetup,
    split_: Split,
    store: Store,
    *,
    device: str,
    batch: int | None,
    progress: Progress | None,
    executor: Executor | None = None,
) -> None:
    """Claim and train trials until every slot is finished (by `executor`, or by other
    processes)."""
    train_claimed = (executor or LocalExecutor()).train_claimed
    distributions = {p.name: p.distribution() for p in setup.params}
    cap = batch or (8 if setup.strategy == "tpe" else MAX_MEMBERS)
    with store.heartbeat():
        while True:
            store.reap()
            claimed = store.claim(cap, distributions)
            if not claimed:
                done, total = store.counts()
                if done >= total:
                    return
                # Others hold the rest; wait for them to finish or to go stale.
                time.sleep(1.0)
                continue
            try:
                train_claimed(setup, split_, store, claimed, device, progress)
            except KeyboardInterrupt:
                store.release([t for t in claimed if t.number not in _finished(store)])
                raise


def choose(rows: list[TrialRow]) -> TrialRow:
    """The finished trial with the lowest validation loss (the earliest slot on a tie)."""
    return lowest(rows, "no trial finished with a finite validation loss: try lower learning rates")


def retrain_config(best: TrialRow) -> TrainConfig:
    """The best trial's config for the retrain: its best epoch count under a constant rate; no
    early stopping, since the retrain has no validation data left to stop on."""
    assert best.config is not None and best.result is not None, "a finished trial has both"
    config = TrainConfig.from_dict(best.config)  # its hidden, a JSON list, is read as a tuple
    if config.schedule == "constant":
        config = config.replace(epochs=int(best.result["best_epoch"]))
    return config.replace(early_stopping=None)


def _finished(store: Store) -> set[int]:
    done = optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED
    return {t.number for t in store.study.get_trials(deepcopy=False, states=done)}
