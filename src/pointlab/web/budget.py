"""What one request of a tab may cost: its arithmetic and its memory, estimated from shapes before
any work is done, and one clear message when it is more than the server does for a page.

The settings' own limits (64 members, 5,000 points, 6 layers of 256) are each fine alone but
multiply: layers 256x6 with 5,000 points and 64 compare members took 17 s and 4.1 GB an epoch,
and one explained step of the largest model 42 s and 3.15 GB. So a request is bounded by what it
costs as a whole:

- memory: the engine's own estimate (`pointlab.engine.memory.estimate_memory`, one population per
  `group_key` as `live.py` trains them), at most `MAX_MEMORY`, and never more than the machine has
  free (`check_memory`, the engine's refusal);
- arithmetic: floating-point operations of one unit of work, at most `MAX_FLOPS`. For training
  the unit is one epoch with what a frame measures (forward and backward over the training
  points, then a forward pass over every point), plus `STEP_FLOPS` for each optimizer step, whose
  fixed cost (some 25 small torch calls) dominates small batches; for "Step and explain" it is
  the trace, whose autodiff in float64 numpy (`pointlab.autodiff`) runs a forward pass per
  gradient-check probe.

Measured on the project's 2-core machine (one torch thread, load about 6): training ran at 6 to
35 GFLOP/s and the explained step at 1 to 3, so `MAX_FLOPS` keeps one unit of work under about a
second there, and a closed tab, a Pause or a second tab never waits longer than that.

Not here: the settings' field-by-field limits (`settings.py`), how many tabs work at once
(`queues.py`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from pointlab.config import TrainConfig
from pointlab.errors import UserError

MAX_FLOPS = 5e9  # one unit of work: an epoch and its frame, or one explained step
MAX_MEMORY = 512 * 2**20  # bytes held by one tab's training, or by one explained step
# A lesson's Check trains every epoch of every seed at once, so it is priced whole: at most this
# many times an epoch's budget: the largest shipped lesson (memorize, 50 GFLOP as priced here)
# took 4.7 s on one thread of the 2-core machine (benchmarks/lessons.py), so the cap is about
# 20 s there; every shipped setup and solution needs at most half of it (test_web_lessons.py).
MAX_CHECK_FLOPS = 40 * MAX_FLOPS
# The explained step's float64 numpy autodiff does about a quarter of torch's float32 arithmetic a
# second (measured above); its cost is counted in torch's terms, so one budget serves both.
EXPLAIN_SLOWDOWN = 4
GRADIENT_PROBES = 4  # per tensor: `explain_step`'s default `check_per_tensor`
# The explained step's peak memory over the engine's estimate for a population of one: float64,
# every node of the autodiff's graph kept, and the trace's copies (traced peaks of 89 to 156 MB,
# 22 to 26 times the estimate, for 64,64 on 2,400 points, 16x6 on 4,000 and 48x3 on 1,500).
EXPLAIN_MEMORY = 26
# One optimizer step of a population, whatever its size: measured 0.45 to 0.85 ms a step with
# batch size 1 (one to 64 members of 16,16), about 5 MFLOP at the 6 to 10 GFLOP/s of such shapes.
STEP_FLOPS = 5e6


@dataclass(frozen=True)
class Cost:
    """The estimated cost of one unit of a request's work."""

    flops: float  # floating-point operations, in torch float32 terms
    memory: int  # bytes
    unit: str  # the unit of work, for messages: "one epoch", "the step"
    advice: str  # what makes it smaller
    most: float = MAX_FLOPS  # the flops this unit may take

    def check(self, what: str) -> None:
        """A `UserError` naming `what` and the cost when it is over the budget."""
        if self.flops <= self.most and self.memory <= MAX_MEMORY:
            return
        raise UserError(
            f"{what} is too large for the playground: {self.unit} needs about "
            f"{_flops(self.flops)} and {_bytes(self.memory)} of memory, and a page's work may "
            f"take at most {_flops(self.most)} and {_bytes(MAX_MEMORY)}; {self.advice}"
        )


def training_cost(configs: Sequence[TrainConfig], n_classes: int, n_train: int, n_val: int) -> Cost:
    """One epoch of `configs` on n_train points, measured on n_train + n_val, as `live.py` trains
    them: one population per `group_key`. Forward and backward are three matrix products a layer
    (2 flops a multiply-add), and a frame's measuring pass one more over every point."""
    from pointlab.engine.memory import estimate_memory  # torch: only with a setup to check

    flops, memory = 0.0, 0
    for group in _groups(configs):
        passes = 3 * n_train + (n_train + n_val)
        flops += 2 * len(group) * _macs(group[0], n_classes) * passes
        # The population steps as often as its smallest batch needs (larger ones are masked).
        batch = min(min(c.batch_size or n_train, n_train) for c in group)
        flops += math.ceil(n_train / max(batch, 1)) * STEP_FLOPS
        memory += estimate_memory(group, n_classes, n_train, n_val).total
    advice = "use fewer points, fewer compared members, fewer or narrower layers, or larger batches"
    return Cost(flops, memory, "one epoch", advice)


def check_cost(configs: Sequence[TrainConfig], n_classes: int, n_train: int, n_val: int) -> Cost:
    """A lesson's Check: every epoch of `configs` (its seeds, one population), whole."""
    epoch = training_cost(configs, n_classes, n_train, n_val)
    epochs = max(c.epochs for c in configs)
    unit = f"a Check ({epochs} epochs of {len(configs)} seeds)"
    advice = "use fewer epochs or points, or fewer or narrower layers"
    return Cost(epoch.flops * epochs, epoch.memory, unit, advice, MAX_CHECK_FLOPS)


def explain_cost(config: TrainConfig, n_classes: int, n_train: int) -> Cost:
    """One explained step of `config` on n_train points: a forward and backward pass, two forward
    passes per gradient-check probe (`GRADIENT_PROBES` a tensor, a weight and a bias a layer), the
    traced weight's own probe and the forward pass after the update; memory as the engine counts a
    population of one, `EXPLAIN_MEMORY` times over."""
    from pointlab.engine.memory import estimate_memory

    layers = len(config.hidden) + 1
    passes = 3 + 2 * (GRADIENT_PROBES * 2 * layers + 1) + 1
    flops = 2 * _macs(config, n_classes) * n_train * passes * EXPLAIN_SLOWDOWN
    memory = EXPLAIN_MEMORY * estimate_memory([config], n_classes, n_train).total
    return Cost(flops, memory, "the step", "use fewer points, or fewer or narrower layers")


def check_free_memory(
    configs: Sequence[TrainConfig], n_classes: int, n_train: int, n_val: int
) -> None:
    """The engine's refusal of what the machine cannot hold now (other tabs hold memory too)."""
    import torch

    from pointlab.engine.memory import available_memory, check_memory

    cpu = torch.device("cpu")
    free = available_memory(cpu)
    for group in _groups(configs):
        estimate = check_memory(group, n_classes, n_train, n_val, cpu, available=free)
        if free is not None:
            free -= estimate.total  # the next population needs room beside this one


def _groups(configs: Sequence[TrainConfig]) -> list[list[TrainConfig]]:
    by_key: dict[tuple, list[TrainConfig]] = {}
    for config in configs:
        by_key.setdefault(config.group_key(), []).append(config)
    return list(by_key.values())


def _macs(config: TrainConfig, n_classes: int) -> int:
    """Multiply-adds of one point through the model: its weights, from the engine's shapes."""
    from pointlab.engine.models import Architecture

    arch = Architecture(config.hidden, config.activation, n_classes)
    return sum(fan_in * fan_out for fan_in, fan_out in arch.layer_shapes)


def _flops(n: float) -> str:
    return f"{n / 1e9:.1f} GFLOP" if n >= 1e8 else f"{n / 1e6:.0f} MFLOP"


def _bytes(n: int) -> str:
    return f"{n / 2**30:.1f} GB" if n >= 2**30 else f"{n / 2**20:.0f} MB"


def picture_steps(config: TrainConfig, n_classes: int, most: int) -> int:
    """Cells per side of a picture of `config`'s predictions (Download PNG's figure): `most`, or
    fewer (at least 40, the live picture's grid) when a forward pass over steps^2 points would
    cost more than MAX_FLOPS (layers 256x6: 87 cells)."""
    fits = math.isqrt(int(MAX_FLOPS / (2 * _macs(config, n_classes))))
    return max(40, min(most, fits))
