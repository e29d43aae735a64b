"""`pointlab experiment NAME` and `pointlab experiment list`: run a canned experiment, write its
report, show its claims with a verdict each.

Only argument handling and output live here; the experiments are in `pointlab.experiments`. A
failed claim is a finding, not an error: the command exits 0 whatever the verdicts, unless
`--check` asks for status 1 when a claim fails (for scripts); an inconclusive claim does not.
Every argument, `--out` included, is checked before anything trains; `list` imports no
experiment module. The outputs are built in a folder beside `--out` and swapped in at the end, so
`--out` holds one whole run, old or new; Ctrl-C or SIGTERM stops the experiment with one line
(exit 130 or 143) and leaves `--out` as it was.
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from pointlab import experiments
from pointlab.cli.args import add_device, positive_int
from pointlab.cli.signals import StopSignals
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
        help="exit with status 1 when a claim fails; inconclusive ones do not (default: off, "
        "exit 0 whatever the verdicts)",
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
    out = Path(args.out or Path("runs") / "experiments" / args.name)
    from pointlab.experiments.base import check_output

    try:
        check_output(out)  # before anything trains
    except UserError as error:
        raise UserError(f"--out {error}") from None
    existed = out.exists()
    start = time.perf_counter()
    # From here Ctrl-C or SIGTERM stops the experiment with one line and leaves --out as it was:
    # the outputs are built beside it and swapped in whole.
    with StopSignals(interrupt=True) as signals:
        try:
            report = _run(args, out, console, signals)
        except KeyboardInterrupt:
            kept = "still holds the previous run" if existed else "was not written"
            print(f"pointlab: interrupted ({_name(signals)}); {out} {kept}", file=sys.stderr)
            return signals.exit_status() or 130
    seconds = time.perf_counter() - start

    table = Table(title=report.title)
    for column in ("claim", "criterion", "measured", "verdict"):
        table.add_column(column)
    for claim in report.claims:
        table.add_row(claim.name, claim.criterion, _short(claim.measured), _VERDICT[claim.verdict])
    console.print(table)
    console.print(f"{report.verdict()} ({seconds:.0f} s)", markup=False, highlight=False)
    console.print(f"Report: {out / 'report.md'}", markup=False, highlight=False, soft_wrap=True)
    if signals.received:  # came while the finished folder was moved into place
        print(
            f"pointlab: {_name(signals)} came as {out} was written; it is complete", file=sys.stderr
        )
        return signals.exit_status() or 130
    return 1 if args.check and not report.passed else 0


_VERDICT = {
    "holds": "[green]holds[/green]",
    "fails": "[red]does not hold[/red]",
    "inconclusive": "[yellow]inconclusive[/yellow]",
}


def _run(args: argparse.Namespace, out: Path, console: Console, signals: StopSignals):
    """Run the experiment into a folder beside `out`, then swap it in (signals held for that)."""
    from pointlab.cpu import tune_cpu  # torch only once the arguments are known good
    from pointlab.engine import resolve_device
    from pointlab.experiments.base import Context, staged, write

    device = str(resolve_device(args.device))
    tune_cpu(device)
    module = experiments.load(args.name)
    console.print(f"[bold]{args.name}[/bold]: {experiments.EXPERIMENTS[args.name]}")
    with staged(out) as new:
        ctx = Context(
            out=new,
            quick=args.quick,
            seeds=args.seeds,
            device=device,
            progress=lambda message: console.print(f"[dim]{message}[/dim]"),
        )
        report = module.run(ctx)
        write(report, new, args.name, args.quick)
        signals.interrupt = False  # from here a signal waits for the swap
    return report


def _name(signals: StopSignals) -> str:
    """The first signal's name; SIGINT for a Ctrl-C that came before the handlers did."""
    return signal.Signals(signals.received[0]).name if signals.received else "SIGINT"


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
