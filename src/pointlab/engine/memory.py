"""How much memory training a population will take, estimated from its shapes before anything is
allocated, and a check that refuses, with the estimate, what cannot fit.

The estimate counts what `population.py` and `loop.py` hold (float32 throughout):
- per parameter and member: the weights (M, P), their gradient twice (per layer, then one flat
  (M, P) tensor), the optimizer's state (Adam two slots, momentum one), and two snapshots (best
  and last finite weights): 5 + slots copies of (M, P);
- activations of a training step: for each hidden layer, the pre-activation, the activation and
  their gradients, (M, B, width) each, B the batch (all training points in full batch);
- a measuring pass (no gradients) over the larger of the training and validation sets;
- members of different widths are counted at the widest (`padding.py`);
- the points themselves, gathered once per set.
It is an estimate (allocator slack and torch's own workspace are not counted): what it refuses
could never fit; what it accepts usually does.

Not here: training (`loop.py`), the device choice (`loop.resolve_device`).
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


@dataclass(frozen=True)
class MemoryEstimate:
    parameters: int  # bytes for weights, gradients, optimizer state and snapshots
    activations: int  # bytes for one training step's activations and their gradients
    data: int  # bytes for the points and a measuring pass

    @property
    def total(self) -> int:
        return self.parameters + self.activations + self.data


def estimate_memory(
    configs: Sequence[TrainConfig], n_classes: int, n_train: int, n_val: int = 0
) -> MemoryEstimate:
    """Bytes to train `configs` as one population on n_train points (n_val held out)."""
    M = len(configs)
    arch = _padded(configs, n_classes)  # members of different widths: the widest's shapes
    slots = max(OPTIMIZER_SLOTS.get(c.optimizer, 2) for c in configs)
    parameters = M * arch.n_params * FLOAT * (5 + slots)
    batch = max(min(c.batch_size or n_train, n_train) for c in configs)
    widths = [*arch.hidden, arch.n_outputs]
    activations = 4 * M * batch * sum(widths) * FLOAT
    measuring = 2 * M * max(n_train, n_val) * max(widths) * FLOAT
    data = measuring + (n_train + n_val) * (2 * FLOAT + 8) * 2
    return MemoryEstimate(parameters, activations, data)


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
) -> MemoryEstimate:
    """The estimate; a `UserError` saying it when it exceeds the memory available on `device`."""
    estimate = estimate_memory(configs, n_classes, n_train, n_val)
    if available is None:
        available = available_memory(device)
    if available is not None and estimate.total > available:
        arch = _padded(configs, n_classes)
        shape = "-".join(str(w) for w in (2, *arch.hidden, arch.n_outputs))
        who = f"{len(configs)} models" if len(configs) > 1 else "a model"
        raise UserError(
            f"training {who} of shape {shape} ({arch.n_params:,} parameters) on {n_train:,} "
            f"points needs about {_size(estimate.total)} of memory (weights, gradients and "
            f"optimizer state {_size(estimate.parameters)}, activations "
            f"{_size(estimate.activations)}), but {device.type} has {_size(available)} free; "
            "use narrower or fewer layers, or smaller batches"
        )
    return estimate


def _padded(configs: Sequence[TrainConfig], n_classes: int) -> Architecture:
    if len({c.hidden for c in configs}) == 1:
        return Architecture(configs[0].hidden, configs[0].activation, n_classes)
    return Architecture(
        padded_hidden([c.hidden for c in configs]), configs[0].activation, n_classes
    )


def _size(n: int) -> str:
    for unit, scale in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n / 1e3:.0f} kB"
