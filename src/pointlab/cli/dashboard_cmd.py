"""`pointlab dashboard`: Optuna's own dashboard (optuna-dashboard) over a sweep's study database.

pointlab keeps every sweep as an Optuna study, so the whole Optuna ecosystem reads it; this command
only opens the right storage and serves optuna-dashboard's WSGI app on the local machine (127.0.0.1
by default, as for every server of ours). The URL is shown with its password masked.

Not here: the studies themselves (`pointlab.search.store`).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console

from pointlab.cli import serve
from pointlab.errors import UserError
from pointlab.search.urls import masked

REACH = "read the studies"


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "dashboard",
        help="serve Optuna's dashboard over the studies of a sweep database",
        description="Serve optuna-dashboard (Optuna's own web dashboard) over a study database: "
        "every sweep's trials, their parameters and scores, importances and history.",
    )
    parser.add_argument(
        "--storage",
        metavar="URL",
        required=True,
        help="the sweep's database URL (sqlite:///sweeps/NAME/study.db, or "
        "postgresql+psycopg://USER@HOST:PORT/DB)",
    )
    serve.add_address(parser, port=8080, reach=REACH)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, console: Console) -> int:
    address = serve.start(args.host, args.port, console, reach=REACH)
    url = args.storage
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).is_file():
        raise UserError(f"--storage {masked(url)}: no such database file")
    try:
        from optuna_dashboard import wsgi
    except ImportError:
        raise UserError(
            "pointlab dashboard needs optuna-dashboard: install pointlab[cluster] "
            "(or `uv add optuna-dashboard`)"
        ) from None
    from pointlab.search.store import open_storage

    app = wsgi(open_storage(url))
    server = _server(args.host, args.port, app)
    console.print(f"Optuna dashboard for {masked(url)} at {address} (Ctrl-C stops)")
    try:
        server.serve_forever()
    finally:
        server.server_close()
    return 0


def _server(host: str, port: int, app):
    """A threaded WSGI server from the standard library, with its request log kept quiet."""
    import socketserver
    from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

    class Server(socketserver.ThreadingMixIn, WSGIServer):
        daemon_threads = True

    class Quiet(WSGIRequestHandler):
        def log_message(self, *args) -> None:
            pass

    try:
        return make_server(host, port, app, server_class=Server, handler_class=Quiet)
    except OSError as error:
        raise UserError(f"cannot serve on {host}:{port}: {error.strerror}") from None
