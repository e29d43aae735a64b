"""Strategies: which points of a search space a sweep tries, and successive halving's rule.

grid, random and halving fix every trial's parameters up front, from the seed alone, so a resumed
or shared sweep runs exactly the planned trials; tpe leaves them open and Optuna's TPESampler
chooses each when it starts, from the trials finished so far (asked a batch at a time; with
`constant_liar` the trials still in flight count as bad, so one batch does not crowd one spot).

Plans are sorted by architecture: consecutive trials share a shape and train as one population.
Successive halving (Jamieson & Talwalkar 2016; asynchronous as ASHA, Li et al. 2020): every trial
starts with the full epoch budget; at each rung (epochs / eta^k) a trial goes on only if its
validation loss is in the best 1/eta of all trials that reached that rung, here or in earlier
batches; the others stop there ("pruned").
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import numpy as np
import optuna

from pointlab.config import TrainConfig
from pointlab.search import STRATEGIES as STRATEGIES  # where it was before
from pointlab.search.space import Param, apply_params, grid

ETA = 3  # halving keeps the best third at each rung


def plan(
    strategy: str, params: Sequence[Param], n_trials: int | None, seed: int, base: TrainConfig
) -> list[dict]:
    """The parameters of every trial (empty dicts for tpe, which chooses later)."""
    if strategy == "tpe":
        return [{} for _ in range(n_trials or 32)]
    if strategy == "grid":
        points = grid(params, grid_resolution(params, n_trials))
    else:
        rng = np.random.default_rng(seed)
        points = [{p.name: p.sample(rng) for p in params} for _ in range(n_trials or 32)]
    # A stable sort keeps the drawing order inside each architecture.
    return sorted(points, key=lambda p: repr(apply_params(base, p).group_key()))


def grid_resolution(params: Sequence[Param], n_trials: int | None) -> int:
    """Points per range in a grid: the most that keeps the product within n_trials (5 if unset)."""
    ranges = [p for p in params if p.kind != "choice"]
    if not ranges or n_trials is None:
        return 5
    fixed = math.prod(len(p.choices) for p in params if p.kind == "choice")
    return max(2, int((n_trials / fixed) ** (1 / len(ranges)) + 1e-9))


def sampler(strategy: str, seed: int, n_trials: int) -> optuna.samplers.BaseSampler:
    """The Optuna sampler of a study; only tpe's ever samples (the others come planned)."""
    if strategy != "tpe":
        return optuna.samplers.RandomSampler(seed=seed)
    with warnings.catch_warnings():  # multivariate and constant_liar are "experimental"
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return optuna.samplers.TPESampler(
            seed=seed,
            n_startup_trials=max(4, min(10, n_trials // 3)),
            multivariate=True,
            constant_liar=True,
        )


def rungs(epochs: int, n_trials: int, log_every: int) -> list[int]:
    """Epochs at which halving compares trials: epochs / ETA^k for k = s..1, on logged epochs,
    with s such that about one trial of n_trials reaches the full budget."""
    s = int(math.log(max(n_trials, 1)) / math.log(ETA) + 1e-9)
    out = []
    for k in range(s, 0, -1):
        epoch = max(log_every, round(epochs / ETA**k / log_every) * log_every)
        if epoch < epochs and epoch not in out:
            out.append(epoch)
    return out


def to_prune(known: Sequence[float], candidates: dict[int, float]) -> set[int]:
    """Keys of `candidates` (trial -> validation loss at this rung) outside the best 1/ETA of
    every loss seen at the rung: `known` ones (earlier batches) and the candidates themselves."""
    losses = [v if math.isfinite(v) else math.inf for v in [*known, *candidates.values()]]
    keep = max(1, len(losses) // ETA)
    threshold = sorted(losses)[keep - 1]
    return {k for k, v in candidates.items() if not (math.isfinite(v) and v <= threshold)}
