"""`pointlab play`: start the live web playground and print its address; Ctrl-C stops it.

Only the command line lives here: the app is `pointlab.web` (imported once the arguments are
parsed, so `pointlab --help` stays fast).
"""

from __future__ import annotations

import argparse
import socket
import threading
import webbrowser

from rich.console import Console

from pointlab.errors import UserError

LOCAL = ("127.0.0.1", "localhost", "::1")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "play",
        help="a live web playground: pick data, set up a network, watch it train",
        description="Start the pointlab playground, a web page served from this machine: choose "
        "a data set, set up a network and watch its decision regions form while it trains; "
        "compare a whole population; export the model as a run directory. Ctrl-C stops it.",
    )
    p.add_argument("--port", type=int, default=8050, help="port to listen on (default: 8050)")
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on; anything but 127.0.0.1/localhost lets anyone on that "
        "network use the playground (default: 127.0.0.1)",
    )
    p.add_argument("--open", action="store_true", help="open the page in a web browser")
    p.add_argument(
        "--runs",
        default="runs",
        metavar="DIR",
        help="where Export writes run directories (default: runs)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace, console: Console) -> int:
    import uvicorn

    from pointlab.cpu import tune_cpu
    from pointlab.web.app import create_app

    if not 0 < args.port < 65536:
        raise UserError(f"--port must be 1..65535, got {args.port}")
    _check_free(args.host, args.port)
    shown = f"[{args.host}]" if ":" in args.host else args.host
    url = f"http://{shown}:{args.port}/"
    if args.host not in LOCAL:
        console.print(
            f"warning: listening on {args.host}: anyone who can reach this machine on that "
            "network can use the playground and train on it.",
            style="bold yellow",
            markup=False,
        )
        if args.host in ("0.0.0.0", "::"):
            url = f"http://127.0.0.1:{args.port}/"
    console.print(f"pointlab play: {url}  (Ctrl-C stops it)", markup=False, highlight=False)
    if args.open:
        threading.Timer(1.0, webbrowser.open, [url]).start()
    tune_cpu("cpu")  # threads for the cores that are idle now (see pointlab/cpu.py)
    config = uvicorn.Config(
        create_app(args.host, args.runs),
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


def _check_free(host: str, port: int) -> None:
    """One clear line instead of uvicorn's traceback when the port is taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            raise UserError(
                f"--host {host} --port {port}: cannot listen there ({error.strerror}); "
                "give another --port"
            ) from None
