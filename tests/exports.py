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


def train_and_predict(root: Path, name: str) -> Trained:
    """A small run on `name`'s points, and `pointlab predict` on those points."""
    if name == "spiral":
        data = root / "spiral.csv"
        save_csv(make("spiral", n=150, classes=3, seed=0), data)
        shape = ["--layers", "16,16", "--epochs", "150", "--activation", "tanh"]
    else:
        data = book_file(f"{name}.csv")
        shape = ["--layers", "8", "--epochs", "60"]
    run = root / f"run-{name}"
    assert main(["train", str(data), "--seed", "1", *shape, "--out", str(run)], quiet()) == 0
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
