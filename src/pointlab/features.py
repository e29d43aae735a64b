"""What a model takes from a point: feature inputs (TensorFlow Playground's x, y, x^2, y^2, xy,
sin x, sin y) of the points, standardized by default: a pure function of the points applied
before the engine.

    parse_features("x,y,x2,y2")        -> ("x", "y", "x2", "y2")  the one grammar of every front end
    fit_scaling(X_train)               -> Scaling                 mean and std of x and of y
    model_inputs(X, features, scaling) -> (N, D) float32          what the engine and a model take

Standardization comes first, on the coordinates: x -> (x - mean_x) / std_x, the same for y, with
the mean and (population) standard deviation over the *training* points only (a run's validation
and test points are scaled with them, never measured). The features are then computed from the
standardized coordinates, as TF Playground computes them from coordinates centred on 0: x^2 + y^2
is the squared distance from the centre of the data, so x2,y2 with no hidden layer draws a circle
around it (the `circle` data set is centred at (0.5, 0.5); squares of raw coordinates could not),
sin x is a wave of a few periods over the data whatever its units, and every input is of order 1.
With standardization off the features are of the raw coordinates.

The statistics depend on the data, not only on the config, so they travel with the model
(`checkpoint.TrainedModel.scaling`, in the model file's metadata, and config.json's `result`); a
model without them (every model written before they existed, and any run with `standardize` off)
takes its points unscaled.

Why standardize by default: gradient descent with one learning rate for every weight needs inputs
of one scale. Points with x in 0..1000 and y in 300..350 give the x weight gradients tens of times
those of y and put the boundary's bias far from the data: a line that Adam finds in a hundred
epochs on standardized inputs stays near 70% for thousands on raw ones.

The arithmetic runs in float64, cast to float32 at the end. With the book's inputs (x, y) unscaled
the points pass through unchanged, bit for bit.

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
    """Mean and standard deviation of each coordinate (x, y) of the training points:
    p -> (p - mean) / std."""

    mean: tuple[float, ...]
    std: tuple[float, ...]

    def apply(self, X: np.ndarray) -> np.ndarray:
        """(N, 2) float64 standardized points X (N, 2)."""
        return (np.asarray(X, dtype=np.float64) - np.asarray(self.mean)) / np.asarray(self.std)

    def to_dict(self) -> dict[str, list[float]]:
        return {"mean": list(self.mean), "std": list(self.std)}

    @classmethod
    def from_dict(cls, data: Any) -> Scaling:
        """From `to_dict`'s form; a ValueError for anything else (the reader names the file)."""
        if not isinstance(data, dict):
            raise ValueError("scaling is not a mapping")
        mean = tuple(float(v) for v in data["mean"])
        std = tuple(float(v) for v in data["std"])
        if not len(mean) == len(std) == 2 or not all(math.isfinite(v) for v in mean + std):
            raise ValueError("scaling needs a finite mean and deviation of x and of y")
        if not all(s > 0 for s in std):
            raise ValueError("scaling deviations must be > 0")
        return cls(mean, std)


def fit_scaling(X: np.ndarray) -> Scaling:
    """The mean and (population) standard deviation of each coordinate of the points X (N, 2); a
    coordinate that does not vary (or no points at all) is centred but not divided by zero."""
    X = np.asarray(X, dtype=np.float64)
    if len(X) == 0:
        return Scaling((0.0, 0.0), (1.0, 1.0))
    mean, std = X.mean(axis=0), X.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    return Scaling(tuple(float(m) for m in mean), tuple(float(s) for s in std))


def fit(X_train: np.ndarray, standardize: bool) -> Scaling | None:
    """The scaling a run records, from its training points (None: standardization off)."""
    return fit_scaling(X_train) if standardize else None


def model_inputs(
    X: np.ndarray, features: Sequence[str] = RAW, scaling: Scaling | None = None
) -> np.ndarray:
    """(N, D) float32: what a model with these features and this scaling takes for points X
    (N, 2). The book's raw inputs come back as the points themselves."""
    if tuple(features) == RAW and scaling is None:
        return np.asarray(X, dtype=np.float32)
    points = np.asarray(X, dtype=np.float64) if scaling is None else scaling.apply(X)
    return expand(points, features).astype(np.float32)
