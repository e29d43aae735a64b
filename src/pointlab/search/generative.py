"""A generative sweep: GenConfigs of a search space trained as engine populations on one point
set, each scored by the energy distance of its samples to held-out points (lower is better),
kept in the study store like a classifier sweep's trials; then the best one written as a
`pointlab generate` run directory.

The points are split once, as `pointlab generate` splits them (`generative.run.split_points`):
training points, the "measure" half of the held-out points, and the floor's half. A trial's value
is `generative.run.measure`'s model distance against the measure half, from `max(n, SHOWN_PATHS)`
samples drawn with the trial's own seed and cut to n, exactly as a run measures itself, so the
best run's config.json reports the best trial's value; the floor half is never a trial's value,
it only gives the floor beside it. Trials that diverge (samples not finite) score infinity.

Strategies: grid and random (planned up front, as `strategies.plan` plans them); the store
(`store.Store`) makes a killed sweep resume with no trial lost or run twice. Trials claimed
together train by `generative.train_generators`: one population per depth and activation.

Not here: parsing spaces (`space`, which knows GenConfig's fields), the classifier sweep
(`sweep`), training and measuring one run (`generative.run`), output (`cli`).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from pointlab.errors import UserError
from pointlab.generative.config import GenConfig
from pointlab.search.space import Param, apply_params, grid
from pointlab.search.strategies import grid_resolution

if TYPE_CHECKING:
    from pointlab.generative.run import GenData, GenRun
    from pointlab.search.setup import Progress
    from pointlab.search.store import Store, TrialRow

GEN_STRATEGIES = ("grid", "random")
GEN_DEFAULT_SPACE = ("lr=loguniform(1e-4,1e-2)", "width=32,64,128")
MAX_TOGETHER = 256  # trials claimed and trained at once


@dataclass(frozen=True)
class GenSweepSetup:
    """Everything that defines a generative sweep's trials; a resumed one must match it."""

    params: list[Param]
    strategy: str = "grid"
    n_trials: int | None = None  # random: trials; grid: sets the resolution of ranges
    base: GenConfig = field(default_factory=lambda: GenConfig(epochs=100))
    seed: int = 0  # of the random draws

    def record(self, data: GenData) -> dict:
        """What the store keeps to recognise this sweep when it is run again."""
        return {
            "kind": "generate",
            "space": [p.spec for p in self.params],
            "strategy": self.strategy,
            "trials": self.n_trials,
            "fixed": self.base.to_dict(),
            "seed": self.seed,
            "data": data.record,
        }


@dataclass
class GenSweepResult:
    rows: list[TrialRow]  # one per planned trial
    best: TrialRow
    created: bool  # this process created the study


def plan(setup: GenSweepSetup) -> list[dict]:
    """The parameters of every trial: the grid's product, or `n_trials` random draws."""
    if setup.strategy not in GEN_STRATEGIES:
        raise UserError(
            f"a generative sweep takes the strategy {' or '.join(GEN_STRATEGIES)}, "
            f"not {setup.strategy}"
        )
    if setup.strategy == "grid":
        return grid(setup.params, grid_resolution(setup.params, setup.n_trials))
    rng = np.random.default_rng(setup.seed)
    return [{p.name: p.sample(rng) for p in setup.params} for _ in range(setup.n_trials or 16)]


def run_generative_sweep(
    setup: GenSweepSetup,
    data: GenData,
    store: Store,
    *,
    device: str = "cpu",
    progress: Progress | None = None,
) -> GenSweepResult:
    """Plan or join the study, train and score every trial not yet finished; the best is the
    finished trial with the lowest distance (the earliest slot on a tie)."""
    import optuna

    slots = plan(setup)
    distributions = {p.name: p.distribution() for p in setup.params}
    sampler = optuna.samplers.RandomSampler(seed=setup.seed)
    created = store.open(setup.record(data), slots, distributions, sampler)
    with store.heartbeat():
        while True:
            store.reap()
            claimed = store.claim(MAX_TOGETHER, distributions)
            if not claimed:
                done, total = store.counts()
                if done >= total:
                    break
                time.sleep(1.0)  # others hold the rest: wait for them to finish or go stale
                continue
            try:
                train_claimed(setup, data, store, claimed, device, progress)
            except KeyboardInterrupt:
                store.release(claimed)
                raise
    rows = store.rows()
    return GenSweepResult(rows, choose(rows), created)


def train_claimed(setup, data: GenData, store: Store, claimed, device: str, progress) -> None:
    """Train the claimed trials together, measure each as a run measures itself, record them."""
    from pointlab.generative import sample_population, train_generators
    from pointlab.generative.run import SHOWN_PATHS, measure

    configs = [apply_params(setup.base, trial.params) for trial in claimed]
    labels = data.train.y if any(c.conditional for c in configs) else None
    done, total = store.counts()
    epochs = max(c.epochs for c in configs)

    def on_epoch(epoch: int, metrics: dict) -> None:
        if progress is not None:
            progress(done, total, epoch, epochs)

    results = train_generators(
        data.train.X, configs, labels=labels, device=device, on_epoch=on_epoch
    )
    n = len(data.held_out)
    samples: list[np.ndarray | None] = [None] * len(configs)
    for seed in sorted({c.seed for c in configs}):  # each model samples with its own seed
        which = [i for i, c in enumerate(configs) if c.seed == seed]
        drawn = sample_population([results[i] for i in which], max(n, SHOWN_PATHS), seed=seed)
        for i, drawn_points in zip(which, drawn, strict=True):
            samples[i] = drawn_points
    for trial, config, result, points in zip(claimed, configs, results, samples, strict=True):
        assert points is not None
        finite = bool(np.isfinite(points).all())
        quality = measure(points, data, seed=config.seed) if finite else None
        value = math.inf if quality is None else quality.model.value
        attrs = {
            "config": config.to_dict(),
            "result": {
                "distance": value,
                "status": "finished" if finite else "diverged",
                "quality": None if quality is None else quality.to_dict(),
                "seconds": result.seconds,
            },
            "history": result.history,
        }
        store.finish(trial, value, False, attrs)


def choose(rows: list[TrialRow]) -> TrialRow:
    """The finished trial with the lowest distance (the earliest slot on a tie)."""
    from pointlab.search.store import lowest

    return lowest(rows, "no trial's samples were finite: try lower learning rates")


def best_config(best: TrialRow) -> GenConfig:
    assert best.config is not None, "a finished trial has its config"
    return GenConfig.from_dict(best.config)  # its hidden, a JSON list, is read as a tuple


def write_best(out: Path, best: TrialRow, data: GenData, device: str) -> GenRun:
    """OUT/best: the best trial's config trained again as a `pointlab generate` run directory
    (its config.json repeats it: `pointlab generate --config OUT/best/config.json`). Built in a
    folder of this process's own and swapped in whole, as `folder.write_best` does, so workers
    sharing the study never see each other's files. The GenRun's paths name that folder."""
    import os
    import secrets
    import shutil

    from pointlab.generative.run import run_generative
    from pointlab.search.folder import BEST, _swap_in

    fresh = out / f".best-{os.getpid()}-{secrets.token_hex(4)}"
    try:
        fresh.mkdir()
    except OSError as error:
        raise UserError(f"{fresh}: cannot create: {error.strerror or error}") from None
    try:
        run = run_generative(best_config(best), data, fresh, device=device)
        _swap_in(fresh, out / BEST)
    finally:
        shutil.rmtree(fresh, ignore_errors=True)  # the old best after a swap, or a failed one
    return run
