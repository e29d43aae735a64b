"""What defines a sweep: its setup (`SweepSetup`: space, strategy, trials, fixed config, split),
the data its trials train on once split (`Split`: the points and each fold's indices), and the
shape of its progress callback (`Progress`).

Both are plain data shared by the sweep (`sweep`), the populations it plans (`jobs`) and the
executors that train them (`jobs.LocalExecutor`, `ray_cluster.RayCluster`), so none of those
imports another to know them.

Not here: splitting (`sweep.make_split`), planning populations (`jobs`), the database (`store`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from pointlab.api import SWEEP_VAL_FRACTION
from pointlab.config import TrainConfig
from pointlab.data import Dataset
from pointlab.search.space import Param

# progress(finished trials, planned trials, epoch, epochs of the population now training)
Progress = Callable[[int, int, int, int], None]


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


def _digest(data: Dataset) -> str:
    h = hashlib.sha256(np.ascontiguousarray(data.X).tobytes())
    h.update(np.ascontiguousarray(data.y).tobytes())
    return f"{len(data)} points, sha256 {h.hexdigest()[:16]}"
