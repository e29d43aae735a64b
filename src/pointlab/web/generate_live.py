"""A population of generative models trained one epoch at a time, so a page can play, pause and
step it, and sample every member between epochs.

`generative.train_generators` runs a whole training to its end; the playground steps the same
engine object, `engine.Training` with generative members, built by the same builders
(`generative.training`'s `Points.prepare` and `gen_populations`): the points standardized (the
scaling kept with every model), members that share a depth and an activation as one population,
one `GenerativeSpec` per member. So a member after N steps is where `train_generators` leaves it
with `epochs=N` (`tests/test_web_generate.py` checks this). Between epochs `models()` gives each
member as a `GenModel` with its weights now, which samples, draws paths and gives the velocity
field as a trained model does.

Not here: the epoch itself (`pointlab.engine.training`), sampling (`pointlab.generative.model`),
the page's messages and frames (`generate.py`).
"""

from __future__ import annotations

import numpy as np

from pointlab.engine.training import Training
from pointlab.generative import GenConfig, GenModel
from pointlab.generative.training import Points, gen_populations
from pointlab.web.live import step_groups


class LiveGeneration:
    def __init__(self, configs: list[GenConfig], points: np.ndarray, log_every: int) -> None:
        self.configs, self.log_every = list(configs), log_every
        self.M = len(configs)
        self.max_epochs = max(c.epochs for c in configs)
        # the points scaled, grouped and specified as `train_generators` does it: its builders
        data = Points.prepare(points, configs, None)
        self.scaling = data.scaling
        self.groups: list[tuple[list[int], Training]] = [
            (members, population.training)
            for members, population in gen_populations(data, configs, log_every=log_every)
        ]
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
        if step_groups(self.groups):
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
