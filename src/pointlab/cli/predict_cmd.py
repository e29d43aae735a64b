"""`pointlab predict RUN_DIR FILE.csv -o OUT.csv`: a trained run's predictions for new points.

The input may be labelled (the book's x, y, label; labels are ignored) or just x, y. The output has
a header row: x, y, p1 (the probability of label 1; for K > 2 classes p0 .. p{K-1}), predicted.
"""

from __future__ import annotations

import argparse
import csv
import io
from pathlib import Path

import numpy as np
from rich.console import Console

from pointlab import data as data_module
from pointlab.data import write_atomic
from pointlab.errors import UserError
from pointlab.runs import load_run


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "predict",
        help="a run's predictions for the points of a CSV",
        description="Predict the points of a CSV (x, y or x, y, label) with a run's model and "
        "write x, y, the probability of label 1 (p1; one column per class for more classes) and "
        "the predicted label.",
    )
    p.add_argument("run_dir", metavar="RUN_DIR", help="a run directory made by pointlab train")
    p.add_argument("csv", metavar="FILE.csv", help="points: x, y (and optionally a label)")
    p.add_argument("-o", "--output", metavar="OUT.csv", required=True, help="file to write")
    p.set_defaults(func=run)


def read_points(path: str) -> np.ndarray:
    """float32 (N, 2) points from a CSV: two columns x, y, or the loader's last three (x, y, label).
    Errors as the loader's: one line naming the file and line."""
    rows = data_module._read_rows(Path(path))  # [(line number, fields)]
    if all(not data_module._is_number(f) for f in rows[0][1]):
        rows = rows[1:]  # a header row
        if not rows:
            raise UserError(f"{path}: has a header line but no data rows")
    width = len(rows[0][1])
    if width < 2:
        raise UserError(f"{path}:{rows[0][0]}: found 1 column; need x, y (and optionally a label)")
    first = 0 if width == 2 else width - 3
    points = np.empty((len(rows), 2), dtype=np.float64)
    for row, (number, fields) in enumerate(rows):
        if len(fields) != width:
            raise UserError(f"{path}:{number}: expected {width} columns, found {len(fields)}")
        for j, role in enumerate(("x", "y")):
            points[row, j] = data_module._parse_number(Path(path), number, fields[first + j], role)
    return points.astype(np.float32)


def run(args: argparse.Namespace, console: Console) -> int:
    model = load_run(args.run_dir).model
    points = read_points(args.csv)
    proba = model.predict_proba(points)  # (N, K)
    predicted = model.predict(points)  # (N,)
    k = model.n_classes
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["x", "y", *(["p1"] if k == 2 else [f"p{c}" for c in range(k)]), "predicted"])
    for point, p, label in zip(points, proba, predicted, strict=True):
        probabilities = [p[1]] if k == 2 else list(p)
        writer.writerow([repr(float(v)) for v in (*point, *probabilities)] + [int(label)])
    path = write_atomic(args.output, lambda file: file.write(out.getvalue().encode()))
    counts = np.bincount(predicted, minlength=k)
    spread = ", ".join(f"{c}: {n}" for c, n in enumerate(counts))
    console.print(
        f"wrote {path}: {len(points)} points (predicted {spread})",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    return 0
