"""Checking a goal over seeds: one setup trained with several seeds as one population.

A single run proves little: the same network on the same points learns with one seed and sticks
with another. So a goal is judged over `seeds` members that differ only in their seed
(initialization, minibatch order, dropout), trained together by the engine in about the time of
one, and the verdict says how many met it ("4 of 5 seeds").

Not here: the goal grammar (`goals.py`), making the setup's points (`setups.py`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass

from pointlab.config import TrainConfig
from pointlab.data import Dataset
from pointlab.lessons.goals import Clause, Goal
from pointlab.lessons.setups import parse_settings, train_val


@dataclass(frozen=True)
class SeedRun:
    seed: int
    status: str  # the engine's: finished, early_stopped, diverged, ...
    measured: dict[str, float]
    failed: tuple[Clause, ...]  # the clauses this seed missed; () when it met the goal

    @property
    def met(self) -> bool:
        return not self.failed


@dataclass(frozen=True)
class Verdict:
    goal: Goal
    runs: tuple[SeedRun, ...]
    seconds: float

    @property
    def met(self) -> int:
        return sum(run.met for run in self.runs)

    @property
    def total(self) -> int:
        return len(self.runs)

    def summary(self) -> str:
        return f"{self.met} of {self.total} seeds meet {self.goal.text}"


def population(
    settings: Mapping[str, str], seeds: int
) -> tuple[list[TrainConfig], Dataset, Dataset | None]:
    """What a check trains: the settings with seeds s, s+1, ..., s+seeds-1 (s: the settings'
    own seed), and the training and validation points (a front end prices them first)."""
    setup = parse_settings(settings)
    train, val = train_val(setup)
    base = setup.members[0]
    return [base.replace(seed=base.seed + i) for i in range(seeds)], train, val


def check(settings: Mapping[str, str], goal: Goal, seeds: int = 5) -> Verdict:
    """Train the settings' `population` as one population and judge each member's final model
    by the goal."""
    from pointlab import engine  # torch: only now

    start = time.perf_counter()
    configs, train, val = population(settings, seeds)
    base = configs[0]
    results = engine.train(
        configs,
        train.X,
        train.y,
        None if val is None else val.X,
        None if val is None else val.y,
        n_classes=train.n_classes,
        log_every=max(1, base.epochs // 50),
    )
    runs = []
    for config, result in zip(configs, results, strict=True):
        measured = _measured(config, result)
        runs.append(SeedRun(config.seed, result.status, measured, tuple(goal.failed(measured))))
    return Verdict(goal, tuple(runs), time.perf_counter() - start)


def _measured(config: TrainConfig, result) -> dict[str, float]:
    """What a goal may name (`goals.MEASURES` and the numeric settings) for one member."""
    # The row of the weights the run keeps: the best ones when early stopping chose them.
    epochs = result.history["epoch"]
    kept = result.weights_epoch if result.weights_epoch in epochs else None
    row = epochs.index(kept) if kept is not None else -1
    out = {
        k: result.history[k][row] if epochs else math.nan
        for k in ("train_loss", "train_acc", "val_loss", "val_acc")
    }
    out.update(best_val_loss=result.best("val_loss"), best_val_acc=result.best("val_acc"))
    if result.status == "diverged":
        # The last finite row is not the model this run ends with: a diverged run meets nothing.
        out = {k: math.nan for k in out}
    out["gap"] = out["train_acc"] - out["val_acc"]
    out["epochs_trained"] = float(result.stopped_epoch)
    out["layers"] = float(len(config.hidden))
    out["units"] = float(sum(config.hidden))
    out["params"] = float(result.arch.n_params)
    for name, value in config.to_dict().items():
        if isinstance(value, int | float) and not isinstance(value, bool):
            out.setdefault(name, float(value))
    return out
