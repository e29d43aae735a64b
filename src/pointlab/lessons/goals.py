"""A lesson's goal: a small predicate over what the engine measured, written in the lesson file.

    val_acc >= 0.95
    train_acc >= 0.99 and val_acc <= 0.65
    units <= 8 and val_loss < 0.2

A goal is clauses joined by `and`; a clause is `NAME OP NUMBER` with OP one of < <= > >= ==.
NAME is a measurement of one trained member (`MEASURES`) or a numeric training setting
(`lr`, `weight_decay`, `dropout`, `epochs`, ...: any numeric `TrainConfig` field). Nothing is
evaluated as Python: the grammar is this module's, so a lesson file cannot run code, and a goal
that names nothing known is refused when the lesson loads.

Not here: training and counting the seeds that meet a goal (`check.py`), the file (`lesson.py`).
"""

from __future__ import annotations

import dataclasses
import math
import operator
import re
import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from pointlab.config import TrainConfig

# What one trained member offers a goal, each with the words a learner reads in a verdict.
MEASURES: dict[str, str] = {
    "train_loss": "training loss at the end",
    "train_acc": "training accuracy at the end",
    "val_loss": "validation loss at the end",
    "val_acc": "validation accuracy at the end",
    "best_val_loss": "lowest validation loss seen",
    "best_val_acc": "highest validation accuracy seen",
    "gap": "training accuracy minus validation accuracy at the end",
    "epochs_trained": "epochs actually trained (fewer when early stopping ends a run)",
    "layers": "number of hidden layers",
    "units": "hidden units in all layers",
    "params": "weights and biases in the model",
}
SETTINGS = tuple(
    f.name
    for f in dataclasses.fields(TrainConfig)
    if f.type in ("int", "float", "int | None", "float | None")
)
OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le,
    ">=": operator.ge,
    "==": operator.eq,
    "<": operator.lt,
    ">": operator.gt,
}
_CLAUSE = re.compile(r"^\s*([a-z_]+)\s*(<=|>=|==|<|>)\s*([-+]?[0-9.]+(?:e[-+]?[0-9]+)?)\s*$")


@dataclass(frozen=True)
class Clause:
    name: str
    op: str
    value: float

    def holds(self, measured: Mapping[str, float]) -> bool:
        got = measured[self.name]
        # NaN (a diverged member's loss) meets no goal: every comparison with it is False.
        # Compared at the engine's precision, float32: 144 of 160 points right is 0.8999999762
        # there, and it meets `train_acc >= 0.9`.
        return not math.isnan(got) and OPERATORS[self.op](_single(got), _single(self.value))

    def __str__(self) -> str:
        return f"{self.name} {self.op} {self.value:g}"


def _single(value: float) -> float:
    """`value` rounded to the nearest float32, as the engine computes what it measures."""
    return struct.unpack("f", struct.pack("f", value))[0] if math.isfinite(value) else value


@dataclass(frozen=True)
class Goal:
    clauses: tuple[Clause, ...]
    text: str  # as written in the lesson

    def holds(self, measured: Mapping[str, float]) -> bool:
        return all(c.holds(measured) for c in self.clauses)

    def failed(self, measured: Mapping[str, float]) -> list[Clause]:
        return [c for c in self.clauses if not c.holds(measured)]


def parse_goal(text: str) -> Goal:
    """A goal from its text; ValueError saying what is wrong (the loader adds file and line)."""
    if not text.strip():
        raise ValueError("the goal is empty")
    clauses = []
    for part in re.split(r"\band\b", text):
        match = _CLAUSE.match(part)
        if match is None:
            raise ValueError(
                f"{part.strip()!r} is not NAME OP NUMBER (OP one of < <= > >= ==, clauses "
                "joined by 'and')"
            )
        name, op, number = match.groups()
        if name not in MEASURES and name not in SETTINGS:
            raise ValueError(
                f"{name!r} is not a measurement ({', '.join(MEASURES)}) or a numeric setting"
            )
        try:
            value = float(number)
        except ValueError:
            raise ValueError(f"{number!r} is not a number") from None
        clauses.append(Clause(name, op, value))
    return Goal(tuple(clauses), " ".join(text.split()))
