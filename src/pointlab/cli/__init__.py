"""The `pointlab` command: one small module per subcommand, each with `add_parser` and `run`.

Every subcommand module exposes:
    add_parser(subparsers) -> None   registers its parser and sets `func=run` as a default
    run(args, console) -> int        does the work and returns an exit status

`main(argv)` is what tests call in-process. The library never prints; output belongs here. An
argument no parser takes is refused by its subcommand's parser, with the closest flag it has.
"""

from __future__ import annotations

import argparse
import signal
import sys
from difflib import get_close_matches
from importlib import import_module
from typing import NoReturn

from rich.console import Console

from pointlab import __version__
from pointlab.cli.args import Parser, in_flags
from pointlab.errors import UserError

# Subcommand modules, in the order `pointlab --help` lists them.
COMMANDS = [
    "data",
    "train",
    "generate",
    "evaluate",
    "predict",
    "export",
    "sweep",
    "dashboard",
    "experiment",
    "explain",
    "play",
    "lesson",
]


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="pointlab",
        description="pointlab: train, sweep and look at neural networks that classify 2-D points.",
    )
    parser.add_argument("--version", action="version", version=f"pointlab {__version__}")
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND")
    for name in COMMANDS:
        import_module(f"pointlab.cli.{name}_cmd").add_parser(subparsers)
    return parser


def main(argv: list[str] | None = None, console: Console | None = None) -> int:
    """Run `pointlab ARGV...` and return the exit status (tests call this in-process)."""
    parser = build_parser()
    args, extras = parser.parse_known_args(argv)
    if extras:
        _unrecognized(parser, list(sys.argv[1:] if argv is None else argv), extras)
    if not hasattr(args, "func"):
        parser.print_help()
        return 2
    if console is None:
        console = Console()
        if not console.is_terminal:  # piped or captured: rich would cut tables at 80 columns
            console = Console(width=max(console.width, 160))
    try:
        return int(args.func(args, console) or 0)
    except UserError as error:
        print(f"pointlab: error: {in_flags(error)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("pointlab: interrupted", file=sys.stderr)
        return 130
    except Exception as error:
        # A study database failing mid-sweep (a server gone, a full disk): one line, as for
        # every other error, not SQLAlchemy's three (the SQL and a help link).
        if not type(error).__module__.startswith("sqlalchemy"):
            raise
        from pointlab.search.store import one_line

        print(f"pointlab: error: the study database failed: {one_line(error)}", file=sys.stderr)
        return 2


def _unrecognized(parser: argparse.ArgumentParser, argv: list[str], extras: list[str]) -> NoReturn:
    """Refuse arguments no parser took, from the subcommand's own parser (so the message points
    to its --help, not the top level's), with the closest flag it has for a mistyped one."""
    command = _subcommand(parser, argv)
    message = f"unrecognized arguments: {' '.join(extras)}"
    flags = [flag for action in command._actions for flag in action.option_strings]
    for extra in extras:
        close = get_close_matches(extra.split("=", 1)[0], flags, n=1, cutoff=0.6)
        if extra.startswith("--") and close:
            message += f"; did you mean {close[0]}?"
            break
    command.error(message)


def _subcommand(parser: argparse.ArgumentParser, argv: list[str]) -> argparse.ArgumentParser:
    """The innermost (sub)parser that `argv` names (`pointlab data show ...` -> `data show`)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for word in argv:
                if word in action.choices:
                    return _subcommand(action.choices[word], argv[argv.index(word) + 1 :])
    return parser


def entry() -> None:
    status = main()
    # The work is done and written: a late Ctrl-C or SIGTERM must not turn the exit status into a
    # traceback from interpreter shutdown.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    sys.exit(status)
