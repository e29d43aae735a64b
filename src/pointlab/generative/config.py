"""GenConfig: everything that defines one generative model's training, typed, frozen, validated.

Its fields are made with `pointlab.config.option`, as TrainConfig's are, so a command's flags and
their help come from this one place. Light: no torch here (the engine side is
`pointlab.engine.generative`).

Not here: training (`pointlab.generative.training`), the trained model (`model.py`).
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pointlab.config import (
    ACTIVATIONS,
    MAX_EPOCHS,
    MAX_SEED,
    ConfigError,
    Faults,
    TrainConfig,
    hidden_widths,
    option,
    refuse_unknown,
)
from pointlab.errors import UserError

if TYPE_CHECKING:
    from pointlab.engine.generative import GenerativeSpec

METHODS = ("flow", "ddpm")
EMBEDDINGS = ("sinusoidal", "linear", "identity", "zero")
SCHEDULES = ("constant", "cosine")
COSINE_END = 0.01  # cosine annealing ends at this share of the learning rate


@dataclass(frozen=True)
class GenConfig:
    """One generative member. Defaults: flow matching, tiny-diffusion's network (3 x 128, GELU,
    sinusoidal embeddings) and optimizer (AdamW, weight decay 0.01, gradient norm clipped to 1),
    with a larger learning rate annealed by a cosine schedule and batches of 128, which learned
    `moons` better for the same work (benchmarks/README.md); a default run (`pointlab generate
    moons`: 2,000 points, 2,400 steps) takes well under a minute on two CPU cores. Epochs count
    passes over the points: a set of 200 points gets a tenth of those steps."""

    method: str = option(
        "flow",
        "flow: flow matching (straight paths from noise to data); ddpm: denoising diffusion",
        choices=METHODS,
    )
    hidden: tuple[int, ...] = option(
        (128, 128, 128), "hidden layer widths, e.g. 64,64", metavar="W,W,..."
    )
    activation: str = option("gelu", "activation of the hidden layers", choices=ACTIVATIONS)
    lr: float = option(3e-3, "learning rate of AdamW (the schedule's peak)", metavar="X")
    schedule: str = option(
        "cosine",
        "learning-rate schedule over the epochs; cosine anneals to 1/100 of lr",
        choices=SCHEDULES,
    )
    weight_decay: float = option(0.01, "AdamW's decoupled weight decay", metavar="X")
    clip_grad: float | None = option(
        1.0, "clip each member's gradient norm to X; off = no clipping", metavar="X|off", none="off"
    )
    epochs: int = option(150, "passes over the points", metavar="N")
    batch_size: int | None = option(
        128, "points per step; full = all points", metavar="N|full", none="full", at_least=1
    )
    seed: int = option(0, "seed of the initialization, the batches, noise and times", metavar="S")
    steps: int = option(
        50,
        "ddpm: diffusion steps T (training and sampling); flow: Euler sampling steps",
        metavar="N",
    )
    time_embedding: str = option("sinusoidal", "embedding of the time", choices=EMBEDDINGS)
    input_embedding: str = option(
        "sinusoidal", "embedding of each coordinate of the noisy point", choices=EMBEDDINGS
    )
    embedding_size: int = option(32, "width of each sinusoidal embedding (even)", metavar="N")
    conditional: bool = option(False, "condition on the class label of each point")

    def __post_init__(self) -> None:
        object.__setattr__(self, "hidden", hidden_widths(self.hidden))
        problems = self.problems()
        if problems:
            raise ConfigError(problems)

    def problems(self) -> list[tuple[str, str]]:
        """Every fault as (field, what is wrong)."""
        faults = Faults(self)
        check = faults.check
        faults.one_of("method", METHODS)
        faults.one_of("schedule", SCHEDULES)
        check(self.activation in ACTIVATIONS, "activation", "must be a known activation")
        faults.one_of("time_embedding", EMBEDDINGS)
        faults.one_of("input_embedding", EMBEDDINGS)
        check(all(h >= 1 for h in self.hidden), "hidden", "widths must be at least 1")
        check(math.isfinite(self.lr) and self.lr >= 0, "lr", "must be a finite number >= 0")
        check(
            math.isfinite(self.weight_decay) and self.weight_decay >= 0,
            "weight_decay",
            "must be >= 0",
        )
        check(self.clip_grad is None or self.clip_grad > 0, "clip_grad", "must be > 0")
        check(0 <= self.epochs <= MAX_EPOCHS, "epochs", f"must be from 0 to {MAX_EPOCHS:,}")
        check(self.batch_size is None or self.batch_size >= 1, "batch_size", "must be >= 1")
        check(0 <= self.seed <= MAX_SEED, "seed", f"must be a whole number from 0 to {MAX_SEED}")
        check(1 <= self.steps <= 100_000, "steps", "must be from 1 to 100,000")
        check(
            self.embedding_size >= 4 and self.embedding_size % 2 == 0,
            "embedding_size",
            "must be an even number >= 4",
        )
        check(isinstance(self.conditional, bool), "conditional", "must be true or false")
        return faults.found

    def train_config(self) -> TrainConfig:
        """The engine's member config: the network, AdamW and the loop (no classifier inputs)."""
        return TrainConfig(
            features=("x", "y"),
            standardize=False,  # the generative side standardizes the points itself
            hidden=self.hidden,
            activation=self.activation,
            optimizer="adamw",
            lr=self.lr,
            schedule=self.schedule,
            lr_end=self.lr * COSINE_END,
            weight_decay=self.weight_decay,
            clip_grad=self.clip_grad,
            epochs=self.epochs,
            batch_size=self.batch_size,
            seed=self.seed,
        )

    def engine_spec(self, n_labels: int = 0) -> GenerativeSpec:
        """The engine's generative part of this member (`engine.generative.GenerativeSpec`);
        `n_labels`: the classes a conditional model is conditioned on, 0 for none."""
        from pointlab.engine.generative import GenerativeSpec  # torch: only when training

        return GenerativeSpec(
            self.method,
            self.steps,
            self.time_embedding,
            self.input_embedding,
            self.embedding_size,
            n_labels,
        )

    def replace(self, **changes: Any) -> GenConfig:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["hidden"] = list(self.hidden)
        return out

    @classmethod
    def from_dict(cls, data: Any) -> GenConfig:
        if not isinstance(data, dict):
            raise UserError(f"generative options must be a JSON object, not {json.dumps(data)}")
        # Records written before the schedule was an option trained at a constant rate: they
        # repeat so.
        data = {"schedule": "constant", **data}
        refuse_unknown(cls, data, "generative")
        return cls(**data)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)
