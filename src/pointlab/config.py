"""TrainConfig: everything that defines one training run, typed, frozen and validated when built.

A config plus the data is all that is needed to repeat a run: it is written as `config.json` into
every run directory. A population trains many configs at once; those that share `group_key()`
(architecture, loss and optimizer kind) train in one batched program.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass
from typing import Any

from pointlab.errors import UserError

ACTIVATIONS = ("relu", "tanh", "sigmoid", "gelu", "leaky_relu", "identity")
OPTIMIZERS = ("sgd", "momentum", "nesterov", "adam", "adamw", "rmsprop")
SCHEDULES = ("constant", "cosine", "step", "cosine_restarts")
LOSSES = ("bce", "mse")

# The book's two models (point_classifier_2d): hidden widths of each.
PRESETS: dict[str, tuple[int, ...]] = {"simple": (), "complex": (128, 128)}


@dataclass(frozen=True)
class TrainConfig:
    """One member's hyperparameters. Defaults are the book's: `complex`, Adam 0.003, full batch."""

    # model
    hidden: tuple[int, ...] = (128, 128)
    activation: str = "relu"
    dropout: float = 0.0
    # optimizer
    optimizer: str = "adam"
    lr: float = 0.003
    momentum: float = 0.9  # for `momentum` and `nesterov` (and RMSprop's momentum term: not used)
    weight_decay: float = 0.0  # L2 added to the gradient; decoupled for AdamW (as torch.optim)
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    alpha: float = 0.99  # RMSprop's smoothing constant
    clip_grad: float | None = None  # max gradient norm per member, None = no clipping
    # learning-rate schedule, a pure function of the epoch (see schedules.py)
    schedule: str = "constant"
    warmup: int = 0  # epochs of linear warmup in front of the schedule
    lr_end: float = 0.0  # cosine: the value it anneals to
    step_size: int = 1000  # step: epochs between decays; cosine_restarts: epochs per cycle
    gamma: float = 0.1  # step: factor per decay
    # loss
    loss: str = "bce"  # bce: cross-entropy from logits; mse: squared error on probabilities
    label_smoothing: float = 0.0
    # loop
    epochs: int = 20000
    batch_size: int | None = None  # None = the full training set each step (the book's way)
    early_stopping: int | None = None  # patience in epochs on validation loss, None = off
    seed: int = 0  # initialization, minibatch order and dropout of this member

    def __post_init__(self) -> None:
        object.__setattr__(self, "hidden", tuple(int(h) for h in self.hidden))
        problems = []
        if any(h < 1 for h in self.hidden):
            problems.append(f"layer widths must be at least 1, got {list(self.hidden)}")
        if self.activation not in ACTIVATIONS:
            problems.append(f"activation must be one of {', '.join(ACTIVATIONS)}")
        if self.optimizer not in OPTIMIZERS:
            problems.append(f"optimizer must be one of {', '.join(OPTIMIZERS)}")
        if self.schedule not in SCHEDULES:
            problems.append(f"schedule must be one of {', '.join(SCHEDULES)}")
        if self.loss not in LOSSES:
            problems.append(f"loss must be one of {', '.join(LOSSES)}")
        if not 0.0 <= self.dropout < 1.0:
            problems.append(f"dropout must be in [0, 1), got {self.dropout}")
        if not (math.isfinite(self.lr) and self.lr >= 0):
            problems.append(f"lr must be a finite number >= 0, got {self.lr}")
        for name in ("momentum", "beta1", "beta2", "alpha", "label_smoothing"):
            value = getattr(self, name)
            if not 0.0 <= value < 1.0:
                problems.append(f"{name} must be in [0, 1), got {value}")
        if self.weight_decay < 0 or self.eps <= 0 or self.lr_end < 0:
            problems.append("weight_decay and lr_end must be >= 0 and eps > 0")
        if self.clip_grad is not None and not self.clip_grad > 0:
            problems.append(f"clip_grad must be > 0, got {self.clip_grad}")
        if self.epochs < 0 or self.warmup < 0:
            problems.append("epochs and warmup must be >= 0")
        if self.step_size < 1 or not 0 < self.gamma <= 1:
            problems.append("step_size must be >= 1 and gamma in (0, 1]")
        if self.batch_size is not None and self.batch_size < 1:
            problems.append(f"batch_size must be >= 1, got {self.batch_size}")
        if self.early_stopping is not None and self.early_stopping < 1:
            problems.append(f"early_stopping patience must be >= 1, got {self.early_stopping}")
        if problems:
            raise UserError("bad training config: " + "; ".join(problems))

    def group_key(self) -> tuple:
        """Members with equal keys train together: same shapes, same loss, same update rule."""
        return (self.hidden, self.activation, self.loss, self.optimizer)

    def replace(self, **changes: Any) -> TrainConfig:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["hidden"] = list(self.hidden)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        # `extra` was a free-form field until 0.1.0's runs API; records written before hold it.
        data = {k: v for k, v in data.items() if k != "extra"}
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise UserError(f"unknown training options: {', '.join(unknown)}")
        return cls(**data)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)


def describe(config: TrainConfig, n_classes: int) -> str:
    """Short model description for titles: 'complex (2-128-128-1 relu), adam lr 0.003'."""
    n_outputs = 1 if n_classes == 2 else n_classes  # two classes: one logit
    names = [name for name, hidden in PRESETS.items() if hidden == config.hidden]
    widths = "-".join(str(w) for w in (2, *config.hidden, n_outputs))
    shape = f"{widths} {config.activation}" if config.hidden else widths
    label = f"{names[0]} ({shape})" if names else f"MLP {shape}"
    return f"{label}, {config.optimizer} lr {config.lr:g}"


def preset(name: str) -> tuple[int, ...]:
    """Hidden widths of a named model (`simple`, `complex`)."""
    if name not in PRESETS:
        raise UserError(f"unknown model {name!r}: choose {' or '.join(PRESETS)}")
    return PRESETS[name]
