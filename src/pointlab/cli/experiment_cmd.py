"""`pointlab experiment NAME` and `pointlab experiment list`: run a canned experiment, write its
report, show its claims with a verdict each.

Only argument handling and output live here; the experiments are in `pointlab.experiments`. A
failed claim is a finding, not an error: the command exits 0 whatever the verdicts, unless
`--check` asks for status 1 when a claim does not hold (for scripts). Every argument, `--out`
included, is checked before anything trains; `list` imports no experiment module.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from pointlab import experiments
from pointlab.cli.args import add_device, positive_int
from pointlab.errors import UserError


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "experiment",
        help="run a canned experiment and write its report",
        description=(
            "Run a canned experiment that checks a claim of the book or a paper, and write "
            "report.md, results.json and the figures. `pointlab experiment list` shows them all."
        ),
    )
    parser.add_argument("name", metavar="NAME", help="experiment to run, or `list`")
    parser.add_argument(
        "--quick", action="store_true", help="reduced version (seconds, rougher numbers)"
    )
    parser.add_argument(
        "--seeds",
        type=positive_int,
        default=3,
        metavar="K",
        help="initialization seeds (or repetitions) per condition (default: 3)",
    )
    add_device(parser)
    parser.add_argument(
        "--out", default=None, metavar="DIR", help="output folder (default: runs/experiments/NAME)"
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="exit with status 1 when a claim does not hold (default: off, exit 0 whatever the "
        "verdicts)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, console: Console) -> int:
    if args.name == "list":
        return _list(console)
    if args.name not in experiments.EXPERIMENTS:
        raise UserError(
            f"unknown experiment {args.name!r}; choose from {', '.join(experiments.EXPERIMENTS)}"
        )
    if args.seeds < 1:
        raise UserError(f"--seeds must be at least 1, got {args.seeds}")
    out = _output_folder(args.out or Path("runs") / "experiments" / args.name)

    from pointlab.cpu import tune_cpu  # torch only once the arguments are known good
    from pointlab.engine import resolve_device
    from pointlab.experiments.base import Context, write

    device = str(resolve_device(args.device))
    tune_cpu(device)
    module = experiments.load(args.name)
    ctx = Context(
        out=out,
        quick=args.quick,
        seeds=args.seeds,
        device=device,
        progress=lambda message: console.print(f"[dim]{message}[/dim]"),
    )
    console.print(f"[bold]{args.name}[/bold]: {experiments.EXPERIMENTS[args.name]}")
    start = time.perf_counter()
    report = module.run(ctx)
    write(report, out, args.name, args.quick)
    seconds = time.perf_counter() - start

    table = Table(title=report.title)
    for column in ("claim", "criterion", "measured", "verdict"):
        table.add_column(column)
    for claim in report.claims:
        verdict = "[green]holds[/green]" if claim.passed else "[red]does not hold[/red]"
        table.add_row(claim.name, claim.criterion, _short(claim.measured), verdict)
    console.print(table)
    console.print(f"{report.verdict()} ({seconds:.0f} s)", markup=False, highlight=False)
    console.print(f"Report: {out / 'report.md'}", markup=False, highlight=False, soft_wrap=True)
    return 1 if args.check and not report.passed else 0


def _output_folder(text: str | Path) -> Path:
    """The folder to write into, created now, so that a bad --out fails before any training."""
    out = Path(text)
    for folder in (out, *out.parents):
        if folder.exists() and not folder.is_dir():
            raise UserError(f"--out {text}: {folder} is a file, not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UserError(f"--out {text}: cannot create the folder: {error.strerror}") from None
    return out


def _list(console: Console) -> int:
    table = Table(title="experiments", show_header=True)
    table.add_column("name")
    table.add_column("what it shows")
    for name, summary in experiments.EXPERIMENTS.items():
        table.add_row(name, summary)
    console.print(table)
    return 0


def _short(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)
