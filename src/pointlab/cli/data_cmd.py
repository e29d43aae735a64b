"""`pointlab data make` and `pointlab data show`: write a generated data set, draw a CSV's points.

Only argument handling and output live here; the work is in `pointlab.generators`, `pointlab.data`
and `pointlab.plots.points`.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console

from pointlab.cli.args import DEFAULT_SEED, add_columns, seed
from pointlab.data import Dataset, load_csv, save_csv
from pointlab.generators import GENERATORS, make
from pointlab.plots.palette import colour_words  # names only: no matplotlib before drawing

_NOISE_HELP = (
    "noise of the data set (default: the kind's own). linear, curve: probability that a point "
    "within 0.1 of the boundary takes the other side's label (default 0.3, the book's); circle, "
    "xor, spiral: standard deviation of the jitter added to the points (default 0.02); moons: "
    "likewise (default 0.03); gauss: spread of each blob (default 0.1); random: unused; "
    "8gaussians: spread of each blob (default 0.044); swissroll, pinwheel, twospirals, "
    "checkerboard: standard deviation of the jitter (default 0.025, 0.025, 0.015, 0)"
)


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "data", help="make and look at data sets", description="Make and look at data sets."
    )
    actions = parser.add_subparsers(title="actions", metavar="ACTION", dest="action", required=True)

    maker = actions.add_parser(
        "make",
        help="write a generated data set as a CSV in the book's format",
        description="Write a generated data set as a CSV in the book's format (x, y, label).",
    )
    maker.add_argument("kind", choices=list(GENERATORS), metavar="KIND", help=_kinds_help())
    maker.add_argument("--n", type=int, default=200, help="number of points (default: 200)")
    maker.add_argument(
        "--classes",
        type=int,
        metavar="K",
        default=None,
        help=(
            "number of classes K (default: the kind's own: 8 for 8gaussians, which takes 2, 4 "
            "or 8; 5 for pinwheel; 2 otherwise); linear, curve, random, xor, moons, "
            "checkerboard and twospirals have 2"
        ),
    )
    maker.add_argument("--noise", type=float, default=None, metavar="X", help=_NOISE_HELP)
    maker.add_argument(
        "--label-noise",
        type=float,
        default=0.0,
        metavar="P",
        help="replace each label, with probability P, by a class drawn uniformly (default: 0.0)",
    )
    maker.add_argument(
        "--seed",
        type=seed,
        default=DEFAULT_SEED,
        metavar="S",
        help=f"random seed (default: {DEFAULT_SEED})",
    )
    maker.add_argument("-o", "--output", required=True, metavar="FILE.csv", help="file to write")
    maker.set_defaults(func=run)

    shower = actions.add_parser(
        "show",
        help="draw the points of a CSV into a PNG",
        description=(
            f"Draw the points of a CSV into a PNG, one colour per class: {colour_words(4)}, "
            "and the other tab10 colours for further classes."
        ),
    )
    shower.add_argument(
        "csv", metavar="FILE.csv", help="data file (the book's format, or a header)"
    )
    shower.add_argument(
        "-o",
        "--output",
        metavar="FILE.png",
        default=None,
        help="picture to write (default: next to the CSV, with the extension .png)",
    )
    shower.add_argument(
        "--show", action="store_true", help="also open a window with the picture (default: off)"
    )
    add_columns(shower)
    shower.set_defaults(func=run)


def run(args: argparse.Namespace, console: Console) -> int:
    if args.action == "make":
        return _make(args, console)
    return _show(args, console)


def _make(args: argparse.Namespace, console: Console) -> int:
    options = {"n": args.n, "label_noise": args.label_noise}
    if args.classes is not None:
        options["classes"] = args.classes
    if args.noise is not None:
        options["noise"] = args.noise
    dataset = make(args.kind, seed=args.seed, **options)
    path = save_csv(dataset, args.output)
    _say(console, f"wrote {path}: {_summary(dataset)}")
    empty = [str(c) for c, count in enumerate(dataset.class_counts()) if count == 0]
    if empty:
        # The loader refuses such a file (classes must be 0 .. K-1, all present), so say it now.
        _say(console, f"warning: class {', '.join(empty)} has no points; use a larger --n")
    return 0


def _show(args: argparse.Namespace, console: Console) -> int:
    dataset = load_csv(args.csv, args.columns)  # a bad file is refused before matplotlib loads
    from pointlab.plots.points import plot_points, show_points

    output = Path(args.output) if args.output else Path(args.csv).with_suffix(".png")
    path = plot_points(dataset, output)
    _say(console, f"wrote {path}: {_summary(dataset)}")
    if args.show:
        show_points(dataset)
    return 0


def _summary(dataset: Dataset) -> str:
    counts = ", ".join(f"class {c}: {n}" for c, n in enumerate(dataset.class_counts()))
    return f"{len(dataset)} point{'s' * (len(dataset) != 1)} ({counts})"


def _say(console: Console, text: str) -> None:
    # No markup (paths may hold brackets) and no wrapping (a long path stays one line).
    console.print(text, markup=False, highlight=False, soft_wrap=True)


def _kinds_help() -> str:
    return "data set: " + ", ".join(GENERATORS)
