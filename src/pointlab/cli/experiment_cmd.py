"""`pointlab experiment NAME` and `pointlab experiment list`: run a canned experiment, write its
report, show its claims with a verdict each.

Only argument handling and output live here; the experiments are in `pointlab.experiments`. A
failed claim is a finding, not an error: the command exits 0 whatever the verdicts.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from pointlab import experiments
from pointlab.cli.threads import tune_cpu
from pointlab.engine import resolve_device
from pointlab.errors import UserError
from pointlab.experiments.base import Context, write


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
        type=int,
        default=3,
        metavar="K",
        help="initialization seeds (or repetitions) per condition (default: 3)",
    )
    parser.add_argument(
        "--device", default="cpu", help="cpu, cuda or auto (default: cpu)", metavar="DEVICE"
    )
    parser.add_argument(
        "--out", default=None, metavar="DIR", help="output folder (default: runs/experiments/NAME)"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, console: Console) -> int:
    if args.name == "list":
        return _list(console)
    if args.name not in experiments.EXPERIMENTS:
        raise UserError(
            f"unknown experiment {args.name!r}; choose from {', '.join(experiments.EXPERIMENTS)}"
        )
    if args.name not in experiments.available():
        raise UserError(f"experiment {args.name!r} is not written yet")
    if args.seeds < 1:
        raise UserError(f"--seeds must be at least 1, got {args.seeds}")
    device = str(resolve_device(args.device))
    tune_cpu(device)
    out = Path(args.out) if args.out else Path("runs") / "experiments" / args.name
    module = experiments.load(args.name)
    ctx = Context(
        out=out,
        quick=args.quick,
        seeds=args.seeds,
        device=device,
        progress=lambda message: console.print(f"[dim]{message}[/dim]"),
    )
    console.print(f"[bold]{args.name}[/bold]: {module.SUMMARY}")
    start = time.perf_counter()
    report = module.run(ctx)
    write(report, out, args.name, args.quick)
    seconds = time.perf_counter() - start

    table = Table(title=report.title)
    for column in ("claim", "criterion", "measured", "verdict"):
        table.add_column(column)
    for claim in report.claims:
        table.add_row(claim.name, claim.criterion, _short(claim.measured), _VERDICT[claim.verdict])
    console.print(table)
    held, unsettled = report.count("holds"), report.count("inconclusive")
    tail = f", {unsettled} inconclusive at this budget" if unsettled else ""
    console.print(f"{held} of {len(report.claims)} claims hold{tail} ({seconds:.0f} s).")
    console.print(f"Report: {out / 'report.md'}")
    return 0


_VERDICT = {
    "holds": "[green]holds[/green]",
    "fails": "[red]does not hold[/red]",
    "inconclusive": "[yellow]inconclusive[/yellow]",
}


def _list(console: Console) -> int:
    table = Table(title="experiments", show_header=True)
    table.add_column("name")
    table.add_column("what it shows")
    for name in experiments.available():
        table.add_row(name, experiments.load(name).SUMMARY)
    console.print(table)
    return 0


def _short(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)
