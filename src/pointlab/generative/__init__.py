"""Generative models of 2-D point sets on the population engine: flow matching and DDPM.

- `config.py`: `GenConfig`, one member's settings (light: importing it does not import torch);
- `training.py`: `train_generators`, configs trained on one point set by the engine's one loop
  (`pointlab.engine.Training` with generative members), `GenTraining` (one population stepped
  an epoch at a time, for front ends that watch), `GenResult`, `GeneratorsInterrupted`;
- `model.py`: `GenModel` (sample, velocity, save, load) and `sample_population`, every model
  of a population sampled in one batched program.
The engine's side, what a member trains on at each step, is `pointlab.engine.generative`.

Everything but GenConfig is imported when first used, so `import pointlab` stays light.

Not here: the `pointlab generate` command, pictures and the quality metric (their own modules,
clients of this one).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pointlab.generative.config import EMBEDDINGS, METHODS, GenConfig

if TYPE_CHECKING:
    from pointlab.generative.model import GenModel, sample_population
    from pointlab.generative.training import (
        GeneratorsInterrupted,
        GenResult,
        GenTraining,
        train_generators,
    )

_LAZY = {
    "GenModel": "pointlab.generative.model",
    "sample_population": "pointlab.generative.model",
    "GenResult": "pointlab.generative.training",
    "GenTraining": "pointlab.generative.training",
    "GeneratorsInterrupted": "pointlab.generative.training",
    "train_generators": "pointlab.generative.training",
}

__all__ = [
    "EMBEDDINGS",
    "METHODS",
    "GenConfig",
    "GenModel",
    "GenResult",
    "GenTraining",
    "GeneratorsInterrupted",
    "sample_population",
    "train_generators",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'pointlab.generative' has no attribute {name!r}")
