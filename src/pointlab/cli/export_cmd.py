"""`pointlab export RUN_DIR --format onnx|web`: a run's model taken out of pointlab.

`onnx` writes one ONNX file (points (N, 2) in, probabilities (N, K) out) and, where onnxruntime
is installed, reports the largest difference between it and pointlab on the run's data; `web`
writes one self-contained HTML page that draws the regions and classifies tapped points. Only
argument handling and output live here; the exports are `pointlab.export`.
"""

from __future__ import annotations

import argparse
import importlib.util
from pathlib import Path

from rich.console import Console

from pointlab.cli.args import add_columns

SUFFIXES = {"onnx": "model.onnx", "web": "model.html"}


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "export",
        help="a run's model as an ONNX file or a self-contained web page",
        description="Export a run's model: --format onnx writes one ONNX file (input points "
        "(N, 2), output class probabilities (N, K)); --format web writes one HTML page, with "
        "the weights inside it, that draws the model's regions and classifies the points you "
        "tap or click (offline, phones too).",
    )
    p.add_argument("run_dir", metavar="RUN_DIR", help="a run directory made by pointlab train")
    p.add_argument("--format", choices=sorted(SUFFIXES), required=True, help="what to write")
    p.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        default=None,
        help="file to write (default: model.onnx or model.html in RUN_DIR)",
    )
    p.add_argument(
        "--data",
        metavar="FILE.csv",
        default=None,
        help="labelled points to draw on the page and to check the ONNX file on "
        "(default: the run's training file, if it is still there)",
    )
    add_columns(p, default="as pointlab train reads a file")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, console: Console) -> int:
    from pointlab.export import run_data
    from pointlab.io import write_atomic
    from pointlab.runs import load_run

    trained = load_run(args.run_dir)
    data = run_data(trained, args.data, args.columns)
    target = Path(args.output or Path(args.run_dir) / SUFFIXES[args.format])

    def say(text: str) -> None:
        console.print(text, markup=False, highlight=False, soft_wrap=True)

    if args.format == "onnx":
        from pointlab.export.onnx import largest_difference, onnx_bytes

        blob = onnx_bytes(trained.model)
        path = write_atomic(target, lambda file: file.write(blob))
        say(f"wrote {path}: points (N, 2) -> probabilities (N, {trained.model.n_classes})")
        if data is not None and importlib.util.find_spec("onnxruntime") is not None:
            worst = largest_difference(blob, trained.model, data.X)
            say(
                f"onnxruntime agrees with pointlab on {len(data)} points of {data.name}: "
                f"largest difference {worst:.2g}"
            )
        return 0
    from pointlab.export.page import page_html

    page = page_html(trained.model, data, f"pointlab: {Path(args.run_dir).resolve().name}")
    path = write_atomic(target, lambda file: file.write(page.encode()))
    say(f"wrote {path}: open it in any browser (no network needed)")
    return 0
