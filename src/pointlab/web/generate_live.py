"""A population of generative models trained one epoch at a time, so a page can play, pause and
step it, and sample every member between epochs.

`generative.train_generators` runs a whole training to its end; the playground steps the same
engine object, `engine.Training` with generative members, built here as `train_generators` builds
it: the points standardized (`features.fit_scaling`, kept with every model), members that share a
depth and an activation as one population, one `GenerativeSpec` per member. So a member after N
steps is where `train_generators` leaves it with `epochs=N` (`tests/test_web_generate.py` checks
this). Between epochs `models()` gives each member as a `GenModel` with its weights now, which
samples, draws paths and gives the velocity field as a trained model does.

Not here: the epoch itself (`pointlab.engine.training`), sampling (`pointlab.generative.model`),
the page's messages and frames (`generate.py`).
"""

from __future__ import annotations

import numpy as np

from pointlab.engine.generative import GenerativeSpec
from pointlab.engine.training import Training
from pointlab.features import fit_scaling
from pointlab.generative import GenConfig, GenModel


class LiveGeneration:
    def __init__(self, configs: list[GenConfig], points: np.ndarray, log_every: int) -> None:
        self.configs, self.log_every = list(configs), log_every
        self.M = len(configs)
        self.max_epochs = max(c.epochs for c in configs)
        X = np.asarray(points, dtype=np.float64)  # (N, 2)
        self.scaling = fit_scaling(X)
        Z = self.scaling.apply(X).astype(np.float32)
        by_key: dict[tuple, list[int]] = {}
        for m, config in enumerate(configs):
            by_key.setdefault((len(config.hidden), config.activation), []).append(m)
        self.groups: list[tuple[list[int], Training]] = []
        for members in by_key.values():
            group = [configs[m] for m in members]
            training = Training(
                [c.train_config() for c in group],
                Z,
                np.zeros(len(Z), dtype=np.int64),  # unconditional: labels unused
                [np.arange(len(Z))] * len(group),
                n_classes=2,
                log_every=log_every,
                generative=[_spec(c) for c in group],
            )
            self.groups.append((members, training))
        self.epoch = 0  # epochs trained so far

    def set_points(self, points: np.ndarray) -> None:
        """Go on training on other points (a click added or removed one): every member keeps its
        weights and history, and the scaling stays the one the weights learned."""
        Z = self.scaling.apply(np.asarray(points, dtype=np.float64)).astype(np.float32)
        for members, training in self.groups:
            training.replace_points(
                Z, np.zeros(len(Z), dtype=np.int64), [np.arange(len(Z))] * len(members)
            )

    @property
    def finished(self) -> bool:
        return all(training.done for _, training in self.groups)

    def step(self) -> None:
        """Train every member one epoch (`engine.Training.step_epoch`)."""
        trained = False
        for _, training in self.groups:
            before = training.epoch
            training.step_epoch()
            trained = trained or training.epoch > before
        if trained:
            self.epoch += 1

    @property
    def history(self) -> dict[str, list[list[float]]]:
        """Each member's logged rows: epoch and train_loss (the squared error on one fixed draw
        of noise and times), a list per member."""
        keys = ("epoch", "train_loss")
        out: dict[str, list[list[float]]] = {k: [[] for _ in range(self.M)] for k in keys}
        for members, training in self.groups:
            for k in out:
                for i, m in enumerate(members):
                    out[k][m] = training.tracker.history[k][i]
        return out

    def losses(self) -> np.ndarray:
        """(M,) each member's loss now, measured on the same fixed draw as the history's."""
        out = np.full(self.M, np.nan)
        for members, training in self.groups:
            out[members] = training.measure()["train_loss"]
        return out

    def models(self, members: list[int] | None = None) -> list[GenModel]:
        """Members (all when None) as GenModels with their weights now."""
        out = []
        for m in range(self.M) if members is None else members:
            group, training = next((g, t) for g, t in self.groups if m in g)
            state = training.state(group.index(m))
            out.append(GenModel(self.configs[m], state, self.scaling))
        return out


def _spec(config: GenConfig) -> GenerativeSpec:
    """The engine's part of an unconditional member, as `train_generators` makes it."""
    return GenerativeSpec(
        config.method,
        config.steps,
        config.time_embedding,
        config.input_embedding,
        config.embedding_size,
        0,
    )
