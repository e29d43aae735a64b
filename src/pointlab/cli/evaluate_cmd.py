"""`pointlab evaluate RUN_DIR FILE.csv`: a run's loss, accuracy, per-class recall, balanced
accuracy (and for two classes average precision), confusion matrix on a file.

Only argument handling and output live here; the model comes from `pointlab.runs.load_run`.
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np
from rich.console import Console

from pointlab.cli.args import add_columns
from pointlab.data import load_csv
from pointlab.errors import UserError
from pointlab.runs import load_run


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "evaluate",
        help="a run's loss, accuracy, recall by class and confusion matrix on a CSV",
        description="Evaluate a run's model on a CSV of labelled points: loss (cross-entropy), "
        "accuracy, the recall of each class and their mean (balanced accuracy), for two "
        "classes the average precision of class 1, and the confusion matrix (rows: true "
        "label, columns: predicted).",
    )
    p.add_argument("run_dir", metavar="RUN_DIR", help="a run directory made by pointlab train")
    p.add_argument("csv", metavar="FILE.csv", help="labelled points to evaluate on")
    p.add_argument(
        "--json",
        action="store_true",
        help="print one JSON object (loss, accuracy, n, confusion, ...) (default: a table)",
    )
    add_columns(
        p,
        default="the run's own columns, by name in a file with a header, else the columns "
        "named x, y and label; a file without a header: the last three",
    )
    p.set_defaults(func=run)


def evaluate(run_dir: str, csv: str, columns: str | None = None) -> dict:
    """The numbers `pointlab evaluate` prints, as a dict."""
    run = load_run(run_dir)
    data = load_csv(csv, columns, known=run.spec.known_columns())
    k = run.model.n_classes
    if data.n_classes > k:
        raise UserError(
            f"{csv}: has labels up to {data.n_classes - 1}; the model knows {k} classes"
        )
    notes = []
    if data.n_classes < k:
        # Possible (a file may hold only some classes) but often the wrong file: say so.
        notes.append(
            f"warning: {csv} has {data.n_classes} classes (labels 0 to {data.n_classes - 1}), "
            f"the model {k}; is this the kind of data the model was trained on?"
        )
    score = run.model.score(data)
    predicted = run.model.predict(data.X)  # (N,)
    confusion = np.zeros((k, k), dtype=np.int64)  # (true, predicted)
    np.add.at(confusion, (data.y, predicted), 1)
    loss = score.loss
    if not np.isfinite(loss):
        notes.append(
            f"loss is {'null' if np.isnan(loss) else loss}: the model's outputs are not finite "
            "on this file (weights of a run that diverged?)"
        )
    return {
        "run": str(run_dir),
        "file": str(csv),
        "n": score.n,
        "loss": loss if np.isfinite(loss) else None,  # JSON has no NaN or infinity
        "accuracy": score.accuracy,
        **{k: v for k, v in score.to_dict().items() if k not in ("loss", "accuracy", "n")},
        "confusion": confusion.tolist(),
        "n_classes": k,
        "file_classes": data.n_classes,
        "notes": notes,
    }


def run(args: argparse.Namespace, console: Console) -> int:
    from rich.table import Table

    numbers = evaluate(args.run_dir, args.csv, args.columns)
    for note in numbers["notes"]:
        print(f"pointlab: {note}", file=sys.stderr)
    if args.json:
        console.print_json(json.dumps(numbers)) if console.is_terminal else print(
            json.dumps(numbers)
        )
        return 0
    console.print(
        f"{numbers['file']}: {numbers['n']} points, loss {_number(numbers['loss'])}, "
        f"accuracy {numbers['accuracy']:.2%}",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    phrases = class_phrases(
        numbers["recall"], numbers["balanced_accuracy"], numbers["average_precision"]
    )
    for line in phrase_lines(phrases):
        console.print(line, markup=False, highlight=False, soft_wrap=True)
    # Its own line: as the title of a narrow table it wrapped mid-phrase.
    console.print("confusion matrix (rows: true label, columns: predicted):", highlight=False)
    table = Table()
    table.add_column("true \\ predicted")
    for label in range(numbers["n_classes"]):
        table.add_column(str(label), justify="right")
    for label, row in enumerate(numbers["confusion"]):
        table.add_row(str(label), *(str(count) for count in row))
    console.print(table)
    return 0


def class_phrases(
    recall: list[float | None], balanced: float | None, average: float | None
) -> list[str]:
    """The per-class numbers in words: 'recall of class 0: 97.1% · 1: 96.9%', 'balanced
    accuracy 97.0%', and for two classes 'average precision of class 1 0.998'."""
    shown = " · ".join(f"{c}: {r:.1%}" for c, r in enumerate(recall) if r is not None and r == r)
    phrases = [f"recall of class {shown}"]
    if balanced is not None:
        phrases.append(f"balanced accuracy {balanced:.1%}")
    if average is not None:
        phrases.append(f"average precision of class 1 {average:.3f}")
    return phrases


def phrase_lines(phrases: list[str], width: int = 78) -> list[str]:
    """Phrases joined by '; ', lines broken between phrases, never inside one."""
    lines = [phrases[0]]
    for phrase in phrases[1:]:
        if len(lines[-1]) + 2 + len(phrase) > width:
            lines[-1] += ";"
            lines.append(phrase)
        else:
            lines[-1] += f"; {phrase}"
    return lines


def _number(value: float | None) -> str:
    return "not a number (see above)" if value is None else f"{value:.6g}"
