"""What a model takes from a point: feature inputs (TensorFlow Playground's x, y, x^2, y^2, xy,
sin x, sin y) and their standardization, a pure function of the points applied before the engine.

    parse_features("x,y,x2,y2")       -> ("x", "y", "x2", "y2")   the one grammar of every front end
    expand(X, features)               -> (N, D) float64           D = len(features)
    fit_scaling(F)                    -> Scaling                  mean and std of each column of F
    model_inputs(X, features, scaling)-> (N, D) float32           what the engine and a model take

The features are computed from the raw coordinates, as TF Playground computes them; standardization
comes after, per feature, with the mean and standard deviation over the *training* points only (a
run's validation and test points are scaled with them, never measured). Those statistics depend on
the data, not only on the config, so they travel with the model (`checkpoint.TrainedModel.scaling`,
in the model file's metadata); a model without them (every model written before they existed, and
any run with `standardize` off) takes its features unscaled.

Why standardize by default: gradient descent with one learning rate for every weight needs inputs
of one scale. Points with x in 0..1000 and y in 300..350 give the x weight gradients about 20
times those of y and a bias far from the data: a linear boundary that Adam finds in a few hundred
epochs on scaled inputs stays near chance for thousands on raw ones.

Expansion runs in float64 and is cast to float32 at the end, so x^2 of x = 1000 keeps its digits
through the subtraction of the mean. With the book's inputs (x, y) unscaled the points pass through
unchanged, bit for bit.

Not here: the config fields that choose them (`pointlab.config`), where they are recorded (`pointlab
.checkpoint`, `pointlab.runs`), training (`pointlab.training`, `pointlab.search.jobs`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from pointlab.errors import UserError

# name -> (what TF Playground calls it, the function of the coordinates x, y)
FEATURES: dict[str, tuple[str, Any]] = {
    "x": ("X1", lambda x, y: x),
    "y": ("X2", lambda x, y: y),
    "x2": ("X1^2", lambda x, y: x * x),
    "y2": ("X2^2", lambda x, y: y * y),
    "xy": ("X1X2", lambda x, y: x * y),
    "sinx": ("sin(X1)", lambda x, y: np.sin(x)),
    "siny": ("sin(X2)", lambda x, y: np.sin(y)),
}
# Other spellings a learner types, read as the names above.
ALIASES = {
    "x^2": "x2",
    "y^2": "y2",
    "x*y": "xy",
    "sin(x)": "sinx",
    "sin(y)": "siny",
    "sin_x": "sinx",
    "sin_y": "siny",
}
RAW = ("x", "y")  # the book's inputs
FEATURES_HELP = f"give inputs from {', '.join(FEATURES)}, separated by commas, e.g. x,y,x2,y2"


class FeaturesError(UserError, ValueError):
    """Text that is not a list of feature inputs. A ValueError too, so parsers that collect
    ValueErrors (the playground's settings) take it."""


def parse_features(text: str | Sequence[str]) -> tuple[str, ...]:
    """Feature names from text ("x,y,x2") or a sequence of names, in their canonical spelling.
    Refused with a FeaturesError naming what is wrong: an unknown name, a repeat, none at all."""
    items = text.split(",") if isinstance(text, str) else [str(t) for t in text]
    if not "".join(items).strip():
        raise FeaturesError(f"no feature inputs: {FEATURES_HELP}")
    names: list[str] = []
    for item in items:
        key = item.strip().lower().replace(" ", "")
        name = ALIASES.get(key, key)
        if name not in FEATURES:
            raise FeaturesError(f"{item.strip()!r} is not a feature input: {FEATURES_HELP}")
        if name in names:
            raise FeaturesError(f"{name!r} is given twice: {FEATURES_HELP}")
        names.append(name)
    return tuple(names)


def expand(X: np.ndarray, features: Sequence[str]) -> np.ndarray:
    """(N, D) float64 feature columns of the points X (N, 2), in the order of `features`."""
    X = np.asarray(X, dtype=np.float64)
    x, y = X[:, 0], X[:, 1]
    return np.stack([FEATURES[name][1](x, y) for name in features], axis=1)  # (N, D)


@dataclass(frozen=True)
class Scaling:
    """Per-feature mean and standard deviation of the training points: x -> (x - mean) / std."""

    mean: tuple[float, ...]
    std: tuple[float, ...]

    def apply(self, F: np.ndarray) -> np.ndarray:
        """(N, D) standardized columns of F (N, D)."""
        return (F - np.asarray(self.mean)) / np.asarray(self.std)

    def to_dict(self) -> dict[str, list[float]]:
        return {"mean": list(self.mean), "std": list(self.std)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Scaling:
        """From `to_dict`'s form; a ValueError for anything else (the reader names the file)."""
        if not isinstance(data, dict):
            raise ValueError("scaling is not a mapping")
        mean = tuple(float(v) for v in data["mean"])
        std = tuple(float(v) for v in data["std"])
        if len(mean) != len(std) or not all(math.isfinite(v) for v in mean + std):
            raise ValueError("scaling needs finite means and deviations, one each per feature")
        if not all(s > 0 for s in std):
            raise ValueError("scaling deviations must be > 0")
        return cls(mean, std)


def fit_scaling(F: np.ndarray) -> Scaling:
    """The mean and (population) standard deviation of each column of F (N, D); a column that
    does not vary (or no points at all) is left unscaled rather than divided by zero."""
    F = np.asarray(F, dtype=np.float64)
    if len(F) == 0:
        return Scaling((0.0,) * F.shape[1], (1.0,) * F.shape[1])
    mean, std = F.mean(axis=0), F.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    return Scaling(tuple(float(m) for m in mean), tuple(float(s) for s in std))


def fit(X_train: np.ndarray, features: Sequence[str], standardize: bool) -> Scaling | None:
    """The scaling a run with these settings records, from its training points (None: off)."""
    return fit_scaling(expand(X_train, features)) if standardize else None


def model_inputs(
    X: np.ndarray, features: Sequence[str] = RAW, scaling: Scaling | None = None
) -> np.ndarray:
    """(N, D) float32: what a model with these features and this scaling takes for points X
    (N, 2). The book's raw inputs come back as the points themselves."""
    if tuple(features) == RAW and scaling is None:
        return np.asarray(X, dtype=np.float32)
    F = expand(X, features)
    if scaling is not None:
        if len(scaling.mean) != F.shape[1]:
            raise ValueError(f"a scaling of {len(scaling.mean)} features for {F.shape[1]} inputs")
        F = scaling.apply(F)
    return F.astype(np.float32)
