"""The canned experiments: each reproduces a claim of the book or a paper, with pictures.

`EXPERIMENTS` maps a name to its module (imported only when run, so `list` stays fast).
"""

from __future__ import annotations

from importlib import import_module
from types import ModuleType

# name -> module under pointlab.experiments, in the order `pointlab experiment list` shows them
EXPERIMENTS = {
    "capacity": "capacity",
    "memorize": "memorize",
    "grid-vs-random": "grid_vs_random",
    "lr-importance": "lr_importance",
    "schedules": "schedules",
    "batch-lr": "batch_lr",
    "double-descent": "double_descent",
    "universal": "universal",
    "depth": "depth",
    "batch-noise": "batch_noise",
    "landscape": "landscape",
    "lottery": "lottery",
}


def load(name: str) -> ModuleType:
    return import_module(f"pointlab.experiments.{EXPERIMENTS[name]}")


def available() -> list[str]:
    """Names whose module exists (the list grows as experiments are written)."""
    names = []
    for name in EXPERIMENTS:
        try:
            load(name)
        except ModuleNotFoundError:
            continue
        names.append(name)
    return names
