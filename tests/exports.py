"""Runs for the export tests (ONNX and the web page): one trained on each of the book's three
files and one on a three-class spiral, with `pointlab predict`'s answers on their own points,
the reference both exports must agree with.

Not here: the tests (`test_export_onnx.py`, `test_export_web.py`).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pointlab.cli import main
from pointlab.data import save_csv
from pointlab.generators import make

from conftest import book_file, quiet

NAMES = ("curve", "linear", "random", "spiral")


@dataclass(frozen=True)
class Trained:
    run: Path
    data: Path
    points: np.ndarray  # (N, 2) float32, as predict read them
    proba: np.ndarray  # (N, K) from `pointlab predict`
    predicted: np.ndarray  # (N,)


def train_and_predict(root: Path, name: str, options: tuple[str, ...] = ()) -> Trained:
    """A small run on `name`'s points (`options`: more flags of `pointlab train`, after the
    shape's, so they may replace them), and `pointlab predict` on those points."""
    if name == "spiral":
        data = root / "spiral.csv"
        save_csv(make("spiral", n=150, classes=3, seed=0), data)
        shape = ["--layers", "16,16", "--epochs", "150", "--activation", "tanh"]
        shape += ["--features", "x,y,x2,y2,xy,sinx,siny"]  # and standardized, by default
    else:
        data = book_file(f"{name}.csv")
        shape = ["--layers", "8", "--epochs", "60"]
    run = root / f"run-{name}"
    assert (
        main(["train", str(data), "--seed", "1", *shape, *options, "--out", str(run)], quiet()) == 0
    )
    out = root / f"{name}-predicted.csv"
    assert main(["predict", str(run), str(data), "-o", str(out)], quiet()) == 0
    rows = list(csv.reader(out.read_text().splitlines()))
    table = np.array([[float(v) for v in row] for row in rows[1:]])  # (N, 2 + K' + 1)
    probabilities = table[:, 2:-1]
    if probabilities.shape[1] == 1:  # two classes: predict writes p1 only
        probabilities = np.column_stack([1 - probabilities[:, 0], probabilities[:, 0]])
    return Trained(
        run, data, table[:, :2].astype(np.float32), probabilities, table[:, -1].astype(np.int64)
    )


def untrained(
    activation: str,
    hidden: tuple[int, ...],
    n_classes: int,
    dropout: float = 0.0,
    features: tuple[str, ...] = ("x", "y"),
    scaling: tuple[tuple[float, float], tuple[float, float]] | None = None,
):
    """A model at its seeded initial weights, for checks that need every layer kind, not
    training: (TrainedModel, points (N, 2) float32 spread wide enough to reach every bend).
    `scaling` is (mean, std) of x and y."""
    import torch

    from pointlab.checkpoint import TrainedModel
    from pointlab.config import TrainConfig
    from pointlab.engine.models import Architecture, to_sequential
    from pointlab.features import Scaling

    config = TrainConfig(hidden=hidden, activation=activation, dropout=dropout, features=features)
    torch.manual_seed(0)
    arch = Architecture(hidden, activation, n_classes, len(features))
    network = to_sequential(arch, dropout)
    points = np.random.default_rng(0).normal(scale=3.0, size=(300, 2)).astype(np.float32)
    scaled = None if scaling is None else Scaling(*scaling)
    return TrainedModel(config, n_classes, network.state_dict(), scaled), points


# (activation, hidden, classes, dropout): every activation, no hidden layer, dropout
LAYER_KINDS = [
    ("relu", (6, 5), 2, 0.0),
    ("tanh", (6,), 3, 0.0),
    ("sigmoid", (6, 4), 4, 0.0),
    ("gelu", (8, 8), 3, 0.0),
    ("leaky_relu", (6,), 2, 0.0),
    ("identity", (4,), 3, 0.0),
    ("relu", (), 2, 0.0),
    ("tanh", (8,), 2, 0.3),
]


# A model whose points become every feature input, after a scaling: (features, (mean, std)).
FEATURED = (("x", "y", "x2", "y2", "xy", "sinx", "siny"), ((0.4, -1.0), (2.0, 0.5)))
