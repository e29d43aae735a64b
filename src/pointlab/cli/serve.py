"""What the commands that serve a web page share (`play`, `dashboard`): the --host and --port
flags, their checks before anything starts, the address to print, and the warning for an address
that other machines can reach.

Every server of ours listens on this machine only (127.0.0.1) unless told otherwise.

Not here: the servers themselves (`pointlab.web` for play, optuna-dashboard for dashboard).
"""

from __future__ import annotations

import argparse
import socket

from rich.console import Console

from pointlab.errors import UserError

LOCAL = ("127.0.0.1", "localhost", "::1")
DEFAULT_HOST = "127.0.0.1"


def add_address(parser: argparse.ArgumentParser, *, port: int, reach: str) -> None:
    """--port (default `port`) and --host; `reach` says what others could do on a public host."""
    parser.add_argument(
        "--port", type=int, default=port, metavar="N", help=f"port to listen on (default: {port})"
    )
    parser.add_argument(
        "--host",
        default=DEFAULT_HOST,
        metavar="ADDRESS",
        help=f"address to listen on; anything but 127.0.0.1/localhost lets anyone on that network "
        f"{reach} (default: {DEFAULT_HOST}, this machine only)",
    )


def start(host: str, port: int, console: Console, *, reach: str) -> str:
    """Check that the server can listen at host:port (one line, exit 2, when it cannot), warn when
    others can reach it, and return the URL to print."""
    if not 0 < port < 65536:
        raise UserError(f"--port must be between 1 and 65535, got {port}")
    _check_free(host, port)
    if host not in LOCAL:
        console.print(
            f"warning: listening on {host}: anyone who can reach this machine on that network "
            f"can {reach}.",
            style="bold yellow",
            markup=False,
        )
    if host in ("0.0.0.0", "::"):  # every address: this machine's own is one of them
        return f"http://127.0.0.1:{port}/"
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


def _check_free(host: str, port: int) -> None:
    """One clear line instead of the server's traceback when the port is taken."""
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
