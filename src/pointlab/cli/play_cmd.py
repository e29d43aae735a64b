"""`pointlab play`: start the live web playground and print its address; Ctrl-C stops it.

Only the command line lives here: the app is `pointlab.web` (imported once the arguments are
parsed, so `pointlab --help` stays fast).
"""

from __future__ import annotations

import argparse
import threading
import webbrowser
from pathlib import Path

from rich.console import Console

from pointlab.cli import serve
from pointlab.errors import UserError

REACH = "use the playground and train on it"


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "play",
        help="a live web playground: pick data, set up a network, watch it train",
        description="Start the pointlab playground, a web page served from this machine: choose "
        "a data set, set up a network and watch its decision regions form while it trains; "
        "compare a whole population; export the model as a run directory. Ctrl-C stops it.",
    )
    serve.add_address(p, port=8050, reach=REACH)
    p.add_argument("--open", action="store_true", help="open the page in a web browser")
    add_server_flags(p)
    p.set_defaults(func=run)


def add_server_flags(p: argparse.ArgumentParser) -> None:
    """--runs and --lessons: what `play` and `lesson NAME` (which serves the same page) share."""
    p.add_argument(
        "--runs",
        default="runs",
        metavar="DIR",
        help="where Export writes run directories (default: runs)",
    )
    p.add_argument(
        "--lessons",
        metavar="DIR",
        help="a folder of your own lesson files, listed in the page before the shipped ones",
    )


def run(args: argparse.Namespace, console: Console, query: str = "") -> int:
    """Serve the page; `query` (e.g. "?lesson=memorize") is added to the address printed and
    opened."""
    import uvicorn

    from pointlab.cpu import tune_cpu
    from pointlab.web.app import create_app

    own = [Path(args.lessons)] if args.lessons else []
    for folder in own:
        if not folder.is_dir():
            raise UserError(f"--lessons {folder}: no such folder")
    url = serve.start(args.host, args.port, console, reach=REACH) + query
    console.print(f"pointlab play: {url}  (Ctrl-C stops it)", markup=False, highlight=False)
    if args.open:
        threading.Timer(1.0, webbrowser.open, [url]).start()
    tune_cpu("cpu")  # threads for the cores that are idle now (see pointlab/cpu.py)
    config = uvicorn.Config(
        create_app(args.host, args.runs, lesson_folders=own),
        host=args.host,
        port=args.port,
        log_level="warning",
        ws_max_size=4 * 1024 * 1024,
        timeout_graceful_shutdown=2,
    )
    try:
        # On Ctrl-C uvicorn closes every WebSocket (each tab's training stops), then re-raises
        # the signal: that is the normal way out here.
        uvicorn.Server(config).run()
    except KeyboardInterrupt:
        pass
    console.print("pointlab play: stopped", markup=False, highlight=False)
    return 0
