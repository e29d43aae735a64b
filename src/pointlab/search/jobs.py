"""A sweep's claimed trials as populations, and the executors that train them.

    plan_jobs(setup, split_, store, claimed, device) -> [Job]   trials of one depth, packed by width
                                                                and split to fit memory (by the
                                                                engine's `members_that_fit`)
    train_job(job, X, y, device)  -> [(value, pruned, attrs)]   one population, one score a trial
    Executor.train_claimed(...)                                 train claimed trials, record each

The sweep (`sweep.run_trials`) claims trials and hands them to an `Executor`; it never names how
they are trained. `LocalExecutor` trains them here, population by population;
`ray_cluster.RayCluster` sends the same jobs to a Ray cluster as tasks. Both record every trial in
the store as its population returns, with the same scores (`score`): a member trains the same
whatever population it is in.

Not here: claiming trials (`sweep`, `store`), the setup and the split (`setup`), Ray
(`ray_cluster`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np

from pointlab import engine
from pointlab.config import TrainConfig
from pointlab.search import packing, strategies
from pointlab.search.setup import Progress, Split, SweepSetup
from pointlab.search.space import apply_params
from pointlab.search.store import HOLDER, Store, TrialRow

if TYPE_CHECKING:
    from collections.abc import Callable

    import optuna

MAX_MEMBERS = 4096  # past this a population is no faster per member on any device we know


class Executor(Protocol):
    """What trains a sweep's claimed trials and records each one in the store as it finishes."""

    def train_claimed(
        self,
        setup: SweepSetup,
        split_: Split,
        store: Store,
        claimed: list[optuna.Trial],
        device: str,
        progress: Progress | None,
    ) -> None: ...


@dataclass(frozen=True)
class LocalExecutor:
    """Trains claimed trials in this process, population by population (`plan_jobs`)."""

    def train_claimed(
        self,
        setup: SweepSetup,
        split_: Split,
        store: Store,
        claimed: list[optuna.Trial],
        device: str,
        progress: Progress | None,
    ) -> None:
        for job in plan_jobs(setup, split_, store, claimed, device):
            report = _epoch_progress(progress, store.counts()) if progress else None
            for i, (value, pruned, attrs) in zip(
                job.trials, train_job(job, split_.X, split_.y, device, report), strict=True
            ):
                attrs["result"]["worker"] = HOLDER  # this process trained it
                store.finish(claimed[i], value, pruned, attrs)
            if progress:
                progress(*store.counts(), setup.base.epochs, setup.base.epochs)


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


def plan_jobs(
    setup: SweepSetup,
    split_: Split,
    store: Store,
    claimed: list[optuna.Trial],
    device: str,
    per_job: Callable[[int], int] | None = None,
) -> list[Job]:
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
