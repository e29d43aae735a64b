"""How much memory training a population will take, estimated from its shapes before anything is
allocated; a check that refuses, with the estimate, what cannot fit; and how many members a
planner (the sweep) may put in one population so that the check never refuses it.

The estimate counts what `population.py` and `training.py` hold (float32 throughout), for M members
on D input features (the points' columns: 2 for the book's data):
- per parameter and member: the weights (M, P), their gradient twice (per layer, then one flat
  (M, P) tensor), the optimizer's state (Adam two slots, momentum one), and two snapshots (best
  and last finite weights): 5 + slots copies of (M, P);
- activations of a training step: for each layer, the pre-activation, the activation and their
  gradients, (M, B, width) each, B the batch (all training points in full batch); with
  normalization (`norms.py`) also the normalized values and their gradient;
- a measuring pass (no gradients) over the larger of the training and validation sets;
- members of different widths are counted at the widest (`padding.py`);
- the points themselves (N, D) and their labels, gathered once per set.
It is an estimate (allocator slack and torch's own workspace are not counted): what it refuses
could never fit; what it accepts usually does. Everything but the points grows in proportion to
M, so `members_that_fit` solves the same estimate for M: one memory model for the planner and
the engine.

Not here: training (`training.py`), the device choice (`training.resolve_device`), which trials
share a population (`pointlab.search.packing`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from pointlab.config import TrainConfig
from pointlab.engine.models import Architecture
from pointlab.engine.padding import padded_hidden
from pointlab.errors import UserError

FLOAT = 4  # bytes in a float32
OPTIMIZER_SLOTS = {"sgd": 0, "momentum": 1, "nesterov": 1, "adam": 2, "adamw": 2, "rmsprop": 1}
# A planner fills this share of the free memory, leaving the rest for what the estimate does not
# count (allocator slack, torch's workspace, other processes); the check allows all of it.
PLAN_SHARE = 0.5
UNKNOWN_FREE = 4 << 30  # what a planner assumes when the free memory cannot be told


@dataclass(frozen=True)
class MemoryEstimate:
    parameters: int  # bytes for weights, gradients, optimizer state and snapshots
    activations: int  # bytes for one training step's activations and their gradients
    data: int  # bytes for the points and a measuring pass

    @property
    def total(self) -> int:
        return self.parameters + self.activations + self.data


def estimate_memory(
    configs: Sequence[TrainConfig], n_classes: int, n_train: int, n_val: int = 0, n_inputs: int = 2
) -> MemoryEstimate:
    """Bytes to train `configs` as one population on n_train points of n_inputs features (n_val
    held out)."""
    return _estimate(configs, len(configs), n_classes, n_train, n_val, n_inputs)


def available_memory(device: torch.device) -> int | None:
    """Bytes free for a new allocation on `device`, or None when it cannot be told."""
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return int(free)
    try:
        with open("/proc/meminfo") as file:
            for line in file:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def check_memory(
    configs: Sequence[TrainConfig],
    n_classes: int,
    n_train: int,
    n_val: int,
    device: torch.device,
    available: int | None = None,
    n_inputs: int = 2,
) -> MemoryEstimate:
    """The estimate; a `UserError` saying it when it exceeds the memory available on `device`
    (`available` bytes when given, else what `available_memory` tells)."""
    estimate = estimate_memory(configs, n_classes, n_train, n_val, n_inputs)
    if available is None:
        available = available_memory(device)
    if available is not None and estimate.total > available:
        raise _refusal(
            configs, len(configs), n_classes, n_inputs, n_train, estimate, device, available
        )
    return estimate


def members_that_fit(
    configs: Sequence[TrainConfig],
    n_classes: int,
    n_train: int,
    n_val: int,
    device: torch.device,
    *,
    per: int = 1,
    available: int | None = None,
    n_inputs: int = 2,
) -> int:
    """How many members like `configs` (of one depth) one population may hold on `device`, a
    multiple of `per` (a trial's folds, which train together): as many as fit in `PLAN_SHARE` of
    the available memory by `estimate_memory`, counted at the widest, largest batch and most
    optimizer state of `configs` (so any of them, in any mix, fit as well); else `per` (one
    trial a population) when each config's `per` members fit in all of it, as `check_memory`
    allows, and otherwise `check_memory`'s `UserError` for the first that does not.
    """
    if available is None:
        available = available_memory(device)
    if available is None:
        available = UNKNOWN_FREE  # the check cannot refuse then; plan as for a small machine
    one = _estimate(configs, 1, n_classes, n_train, n_val, n_inputs)
    fixed = _estimate(configs, 0, n_classes, n_train, n_val, n_inputs).total  # the points
    fit = max(0, int(available * PLAN_SHARE) - fixed) // (one.total - fixed)
    fit -= fit % per
    if fit >= per:
        return fit
    for config in configs:  # one trial a population, unpadded: each alone must fit, or be refused
        check_memory([config] * per, n_classes, n_train, n_val, device, available, n_inputs)
    return per


def _estimate(
    configs: Sequence[TrainConfig], M: int, n_classes: int, n_train: int, n_val: int, n_inputs: int
) -> MemoryEstimate:
    """`estimate_memory` for M members, each counted as the largest of `configs`."""
    arch = _padded(configs, n_classes, n_inputs)  # members of different widths: the widest's
    slots = max(OPTIMIZER_SLOTS.get(c.optimizer, 2) for c in configs)
    parameters = M * arch.n_params * FLOAT * (5 + slots)
    batch = max(min(c.batch_size or n_train, n_train) for c in configs)
    widths = [*arch.hidden, arch.n_outputs]
    # Normalization's autograd graph keeps the normalized values and their statistics as well.
    per_unit = 4 if arch.norm == "none" else 6
    activations = per_unit * M * batch * sum(widths) * FLOAT
    measuring = 2 * M * max(n_train, n_val) * max(widths) * FLOAT
    data = measuring + (n_train + n_val) * (n_inputs * FLOAT + 8) * 2  # points and int64 labels
    return MemoryEstimate(parameters, activations, data)


def _refusal(
    configs: Sequence[TrainConfig],
    M: int,
    n_classes: int,
    n_inputs: int,
    n_train: int,
    estimate: MemoryEstimate,
    device: torch.device,
    available: int,
) -> UserError:
    arch = _padded(configs, n_classes, n_inputs)
    shape = "-".join(str(w) for w in (n_inputs, *arch.hidden, arch.n_outputs))
    who = f"{M} models" if M > 1 else "a model"
    return UserError(
        f"training {who} of shape {shape} ({arch.n_params:,} parameters) on {n_train:,} "
        f"points needs about {_size(estimate.total)} of memory (weights, gradients and "
        f"optimizer state {_size(estimate.parameters)}, activations "
        f"{_size(estimate.activations)}), but {device.type} has {_size(available)} free; "
        "use narrower or fewer layers, or smaller batches"
    )


def _padded(configs: Sequence[TrainConfig], n_classes: int, n_inputs: int) -> Architecture:
    hidden = padded_hidden([c.hidden for c in configs])
    return Architecture(hidden, configs[0].activation, n_classes, n_inputs, norm=configs[0].norm)


def _size(n: int) -> str:
    for unit, scale in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n / 1e3:.0f} kB"
