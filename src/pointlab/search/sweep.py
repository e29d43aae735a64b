"""A sweep: the trials of a search space trained as engine populations, scored on validation data
only and kept in the study store; then the best configuration retrained on all the training data
and tested once.

Data: the test part (`--test FILE`, or a stratified share of the data) is set aside before anything
trains and is read once, by the retrain (`training.train`), after the choice; it never reaches the
store or the choice. The rest is split once into train / validation, or into K folds (`cv`): the
K folds of a trial are K members of one population, each with its own training and validation
indices.

A trial's score is its validation loss (mean over folds) at its best logged epoch; that epoch is
kept, and the retrain runs that many epochs (constant learning rate; other schedules keep their
length, since they are shaped by it).

Not here: parsing spaces (`space`), choosing points (`strategies`), the database (`store`), output.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import optuna

from pointlab import engine, training
from pointlab.api import SWEEP_VAL_FRACTION
from pointlab.checkpoint import TrainedModel
from pointlab.config import TrainConfig
from pointlab.data import Dataset
from pointlab.errors import UserError
from pointlab.runs import RunResult, RunSpec, SweepChoice
from pointlab.search import packing, strategies
from pointlab.search.space import Param, apply_params
from pointlab.search.store import HOLDER, Store, TrialRow
from pointlab.splits import kfold, split
from pointlab.training import RunData

if TYPE_CHECKING:
    from pointlab.search.ray_cluster import RayCluster

# progress(finished trials, planned trials, epoch, epochs of the population now training)
Progress = Callable[[int, int, int, int], None]
MAX_MEMBERS = 4096  # past this a population is no faster per member on any device we know


@dataclass(frozen=True)
class SweepSetup:
    """Everything that defines a sweep's trials; a resumed sweep must match it exactly."""

    params: list[Param]
    strategy: str = "random"
    n_trials: int | None = 32  # grid: sets the resolution of ranges (None: 5 points)
    base: TrainConfig = field(default_factory=lambda: TrainConfig(epochs=2000))
    cv: int | None = None  # K folds instead of one validation split
    val_fraction: float = SWEEP_VAL_FRACTION
    test_fraction: float = 0.2  # when no test file is given
    seed: int = 0
    every: int | None = None  # log every this many epochs (None: epochs / 100)

    @property
    def log_every(self) -> int:
        return self.every or max(1, self.base.epochs // 100)

    def record(self, data: Dataset, test: Dataset | None) -> dict:
        """What the store keeps to recognise this sweep when it is run again."""
        return {
            "space": [p.spec for p in self.params],
            "strategy": self.strategy,
            "trials": self.n_trials,
            "fixed": self.base.to_dict(),
            "cv": self.cv,
            "val_fraction": self.val_fraction,
            "seed": self.seed,
            "log_every": self.log_every,
            "test_fraction": None if test is not None else self.test_fraction,
            "data": _digest(data),
            "test": None if test is None else _digest(test),
        }


@dataclass
class Split:
    """The training data (train + validation) and each fold's indices into it."""

    dev: Dataset  # all the training data: what the retrain uses
    X: np.ndarray  # (N, 2) float32, the points the indices refer to
    y: np.ndarray  # (N,)
    train_index: list[np.ndarray]  # one per fold (one fold without cv)
    val_index: list[np.ndarray]


@dataclass
class SweepResult:
    rows: list[TrialRow]  # one per planned trial
    best: TrialRow
    run: RunResult  # the best configuration retrained on all the training data, tested once
    created: bool  # this process created the study

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
            raise UserError("no test points: raise --test-fraction or give --test FILE")
    elif test.n_classes > data.n_classes:
        raise UserError(f"the test data has {test.n_classes} classes, the data {data.n_classes}")
    if setup.cv:
        folds = kfold(data, setup.cv, seed=setup.seed)
        return Split(data, data.X, data.y, [f[0] for f in folds], [f[1] for f in folds]), test
    train, val, _ = split(data, setup.val_fraction, 0.0, seed=setup.seed)
    counts = train.class_counts()
    if (counts == 0).any():
        raise UserError(
            f"--val-fraction {setup.val_fraction:g} leaves no training points of class "
            f"{int((counts == 0).argmax())}; lower it"
        )
    if len(val) == 0:
        raise UserError("the validation split is empty: raise --val-fraction or use --cv K")
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
    cluster: RayCluster | None = None,
    columns: str | None = None,
) -> SweepResult:
    """Plan or join the study, train every trial not yet finished, then retrain and test.

    `columns` is recorded in the best run's spec (the loader option `data` was read with)."""
    record = setup.record(data, test)
    test_file = test.source if test is not None else None
    split_, test = make_split(data, test, setup)
    slots = strategies.plan(setup.strategy, setup.params, setup.n_trials, setup.seed, setup.base)
    sampler = strategies.sampler(setup.strategy, setup.seed, len(slots))
    distributions = {p.name: p.distribution() for p in setup.params}
    created = store.open(record, slots, distributions, sampler)
    run_trials(setup, split_, store, device=device, batch=batch, progress=progress, cluster=cluster)
    rows = store.rows()
    best = choose(rows)
    spec = retrain_spec(setup, retrain_config(best), data, test_file, device, columns)
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
    test_file: str | None,
    device: str,
    columns: str | None,
) -> RunSpec:
    """The retrain as a RunSpec: all the training data (the file less its test share, or all of it
    beside a test file), no validation; its config.json repeats the retrain."""
    return RunSpec(
        config=config,
        data=_path(data.source),
        columns=columns,
        val_fraction=0.0,
        split_seed=setup.seed,
        n_classes=data.n_classes,
        test=_path(test_file) if test_file else None,
        device=str(engine.resolve_device(device)),
        log_every=setup.log_every,
        test_fraction=0.0 if test_file else setup.test_fraction,
    )


def run_trials(
    setup, split_: Split, store: Store, *, device, batch, progress, cluster=None
) -> None:
    """Claim and train trials until every slot is finished (here, on a Ray cluster, or by other
    processes)."""
    train_claimed = cluster.train_claimed if cluster is not None else _train_claimed
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


@dataclass
class Job:
    """One population to train: claimed trials of one depth, each with its K folds."""

    trials: list[int]  # indices into the claimed list
    configs: list[TrainConfig]  # one per member: trial-major, then fold; one depth, any widths
    train_index: list[np.ndarray]
    val_index: list[np.ndarray]
    n_classes: int
    log_every: int
    epochs: int
    folds: int
    rungs: list[int]  # successive halving's rungs (empty otherwise)
    known: dict[int, list[float]]  # validation losses already seen at each rung


def plan_jobs(setup, split_: Split, store: Store, claimed, device, per_job=None) -> list[Job]:
    """The claimed trials as populations: trials of one depth, of widths worth padding together
    (`packing`), split to fit memory (or into `per_job(n_members_of_group)` trials a population,
    when a cluster spreads them)."""
    K = len(split_.train_index)
    n_classes = int(split_.y.max()) + 1
    configs = [apply_params(setup.base, t.params) for t in claimed]
    cost = packing.GPU if engine.resolve_device(device).type == "cuda" else packing.CPU
    groups = packing.pack(configs, K, len(split_.train_index[0]), cost)
    rungs: list[int] = []
    known: dict[int, list[float]] = {}
    if setup.strategy == "halving":  # the study is read only where rungs need it
        rows = store.rows()
        rungs = strategies.rungs(setup.base.epochs, len(rows), setup.log_every)
        known = _rung_losses(rows, rungs)
    jobs = []
    n_train = max(len(t) for t in split_.train_index)
    n_val = max(len(v) for v in split_.val_index)
    where = engine.resolve_device(device)
    for members in groups:
        group = [configs[i] for i in members]  # the engine's own memory rule, so it never refuses
        fit = engine.members_that_fit(group, n_classes, n_train, n_val, where, per=K)
        per_pop = max(1, min(MAX_MEMBERS, fit) // K)
        if per_job is not None:
            per_pop = min(per_pop, per_job(len(members)))
        for start in range(0, len(members), per_pop):
            chunk = members[start : start + per_pop]
            jobs.append(
                Job(
                    trials=chunk,
                    configs=[configs[i] for i in chunk for _ in range(K)],
                    train_index=[split_.train_index[k] for _ in chunk for k in range(K)],
                    val_index=[split_.val_index[k] for _ in chunk for k in range(K)],
                    n_classes=n_classes,
                    log_every=setup.log_every,
                    epochs=setup.base.epochs,
                    folds=K,
                    rungs=rungs,
                    known=known,
                )
            )
    return jobs


def train_job(
    job: Job, X: np.ndarray, y: np.ndarray, device: str, progress=None
) -> list[tuple[float, bool, dict]]:
    """Train one job's population; per trial, the attrs `score` makes (value, pruned, attrs)."""
    callback = _callback(progress, job.epochs, len(job.trials), job.folds, job.rungs, job.known)
    results = engine.train_population(
        job.configs,
        X,
        y,
        train_index=job.train_index,
        val_index=job.val_index,
        n_classes=job.n_classes,
        device=device,
        log_every=job.log_every,
        callback=callback,
    )
    K = job.folds
    return [score(results[j * K : (j + 1) * K]) for j in range(len(job.trials))]


def _train_claimed(setup, split_, store, claimed, device, progress) -> None:
    """Train claimed trials here, population by population (`plan_jobs`)."""
    for job in plan_jobs(setup, split_, store, claimed, device):
        report = _epoch_progress(progress, store.counts()) if progress else None
        for i, (value, pruned, attrs) in zip(
            job.trials, train_job(job, split_.X, split_.y, device, report), strict=True
        ):
            attrs["result"]["worker"] = HOLDER  # this process trained it
            store.finish(claimed[i], value, pruned, attrs)
        if progress:
            progress(*store.counts(), setup.base.epochs, setup.base.epochs)


def _epoch_progress(progress: Progress, counts: tuple[int, int]):
    """progress(epoch, epochs) of one population, the trial counts read once before it (the
    store is not free)."""
    return lambda epoch, epochs: progress(*counts, epoch, epochs)


def _callback(progress, epochs, n_trials, K, rungs, known):
    # `known` is shared by the populations of one claim here (a Ray task gets its own copy).
    def callback(epoch: int, metrics: dict) -> list[int]:
        if progress:
            progress(epoch, epochs)
        if epoch not in rungs:
            return []
        val = metrics["val_loss"].reshape(n_trials, K).mean(1)  # (trials,)
        active = metrics["active"].reshape(n_trials, K).all(1)
        candidates = {t: float(val[t]) for t in range(n_trials) if active[t]}
        prune = strategies.to_prune(known.setdefault(epoch, []), candidates)
        known[epoch].extend(candidates.values())
        return [t * K + k for t in sorted(prune) for k in range(K)]

    return callback


def _rung_losses(rows: list[TrialRow], rungs: list[int]) -> dict[int, list[float]]:
    """Validation losses at each rung of the trials already finished (earlier batches)."""
    known: dict[int, list[float]] = {r: [] for r in rungs}
    for row in rows:
        if row.history and row.state in ("complete", "pruned"):
            for epoch, loss in zip(row.history["epoch"], row.history["val_loss"], strict=True):
                if epoch in known:
                    known[epoch].append(loss)
    return known


def score(folds: list[engine.MemberResult]) -> tuple[float, bool, dict]:
    """(validation loss at the best epoch of the fold-mean curve, pruned?, attrs to store)."""
    n = min(len(r.history["epoch"]) for r in folds)  # epochs every fold logged
    curves = {
        k: np.mean([r.history[k][:n] for r in folds], axis=0)
        for k in ("train_loss", "train_acc", "val_loss", "val_acc")
    }
    epochs = folds[0].history["epoch"][:n]
    finite = np.isfinite(curves["val_loss"])
    best = int(np.argmin(np.where(finite, curves["val_loss"], np.inf))) if finite.any() else None
    statuses = {r.status for r in folds}
    status = next(
        (s for s in ("diverged", "pruned", "interrupted") if s in statuses),
        "early_stopped" if statuses == {"early_stopped"} else "finished",
    )
    value = float(curves["val_loss"][best]) if best is not None else math.inf
    result = {
        "status": status,
        "val_loss": value,
        "best_epoch": epochs[best] if best is not None else 0,
        "val_acc": float(curves["val_acc"][best]) if best is not None else 0.0,
        "train_loss": float(curves["train_loss"][best]) if best is not None else math.inf,
        "train_acc": float(curves["train_acc"][best]) if best is not None else 0.0,
        "stopped_epoch": max(r.stopped_epoch for r in folds),
        "folds": len(folds),
        "wall_time": max(r.wall_time for r in folds),
    }
    history: dict[str, list[int] | list[float]] = {"epoch": [int(e) for e in epochs]}
    history.update({k: [float(f"{v:.6g}") for v in c] for k, c in curves.items()})
    config = folds[0].config.to_dict()
    return value, status == "pruned", {"config": config, "result": result, "history": history}


def choose(rows: list[TrialRow]) -> TrialRow:
    """The finished trial with the lowest validation loss (the earliest slot on a tie)."""
    finished = [
        r for r in rows if r.state == "complete" and r.value is not None and math.isfinite(r.value)
    ]
    if not finished:
        raise UserError("no trial finished with a finite validation loss: try lower learning rates")
    return min(finished, key=lambda r: (r.value, r.slot))


def retrain_config(best: TrialRow) -> TrainConfig:
    """The best trial's config for the retrain: its best epoch count under a constant rate; no
    early stopping, since the retrain has no validation data left to stop on."""
    assert best.config is not None and best.result is not None, "a finished trial has both"
    config = TrainConfig.from_dict({**best.config, "hidden": tuple(best.config["hidden"])})
    if config.schedule == "constant":
        config = config.replace(epochs=int(best.result["best_epoch"]))
    return config.replace(early_stopping=None)


def _finished(store: Store) -> set[int]:
    done = optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED
    return {t.number for t in store.study.get_trials(deepcopy=False, states=done)}


def _digest(data: Dataset) -> str:
    h = hashlib.sha256(np.ascontiguousarray(data.X).tobytes())
    h.update(np.ascontiguousarray(data.y).tobytes())
    return f"{len(data)} points, sha256 {h.hexdigest()[:16]}"


def _path(source: str) -> str:
    """A loaded file's absolute path; a generated data set's description as it is."""
    path = Path(source)
    return str(path.resolve()) if path.exists() else source
