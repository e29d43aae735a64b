"""`pointlab predict RUN_DIR FILE.csv -o OUT.csv`: a trained run's predictions for new points.

Refuses (exit 2, nothing written) a model whose weights or outputs are not finite.
The input may be labelled (the book's x, y, label; labels are ignored) or just x, y. Its columns:
`--columns`, else the run's own columns by header name, else x, y by position
(`pointlab.data.load_points`). The output has a header row: x, y, p1 (the probability of label 1;
for K > 2 classes p0 .. p{K-1}), predicted.
"""

from __future__ import annotations

import argparse
import csv
import io

import numpy as np
from rich.console import Console

from pointlab.data import load_points
from pointlab.errors import UserError
from pointlab.io import write_atomic
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
    p.add_argument(
        "--columns",
        metavar="X,Y",
        default=None,
        help="the x and y columns, by header name or 0-based index (default: a file with a "
        "header is read by the run's own column names, or columns named x and y; one without "
        "by position: x, y or the last three as x, y, label)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace, console: Console) -> int:
    trained = load_run(args.run_dir)
    model = trained.model
    points = load_points(args.csv, args.columns, known=trained.spec.known_columns())  # (N, 2)
    proba = model.predict_proba(points)  # (N, K)
    _refuse_nonfinite(args.run_dir, model, proba)
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


def _refuse_nonfinite(run_dir: str, model, proba: np.ndarray) -> None:
    """Never write NaN predictions: a model whose outputs are not finite is refused (exit 2)."""
    from pointlab.checkpoint import nonfinite_weights

    broken = nonfinite_weights(model)
    if broken:
        raise UserError(
            f"{run_dir}: the model's weights are not finite ({', '.join(broken)} hold NaN or "
            "infinity), so it predicts nothing; nothing was written"
        )
    bad = int((~np.isfinite(proba).all(axis=1)).sum())
    if bad:
        raise UserError(
            f"{run_dir}: the model's outputs are not finite for {bad} of {len(proba)} points "
            "(points far outside the training range?); nothing was written"
        )
