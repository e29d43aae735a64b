"""Real servers for the tests: a throwaway PostgreSQL, a two-node local Ray cluster, and
`pointlab play` with the Chromium the browser tests drive.

Both start from this machine's binaries in temporary directories and are stopped by what the
test started (PostgreSQL by its data directory, Ray by the process groups of its own nodes),
never by a name-wide kill that would reach other people's servers.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
RAY = str(Path(sys.executable).parent / "ray")
RAY_ENV = {
    "RAY_USAGE_STATS_ENABLED": "0",
    "RAY_AUTH_MODE": "disabled",
    "RAY_ENABLE_UV_RUN_RUNTIME_ENV": "0",  # else every worker builds a new virtual environment
}


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def postgres() -> Iterator[str]:
    """A PostgreSQL server on 127.0.0.1 and a free port with one database; yields its URL."""
    with postgres_server() as server:
        yield server.url


class Postgres:
    """A throwaway PostgreSQL server that a test may stop (`pg_ctl stop`, clients disconnected)
    and start again on the same port and data."""

    def __init__(self, root: Path, user: str | None) -> None:
        self.root, self.user = root, user
        self.port = free_port()
        self.data, self.log = root / "data", root / "server.log"
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/pointlab"

    def run(self, *argv: str) -> None:
        subprocess.run(
            argv, user=self.user, cwd=self.root, check=True, capture_output=True, timeout=120
        )

    def start(self) -> None:
        self.run(
            str(PG_BIN / "pg_ctl"),
            *("-D", str(self.data), "-l", str(self.log), "-w", "start"),
            *("-o", f"-h 127.0.0.1 -p {self.port} -k {self.root} -c max_connections=200"),
        )

    def stop(self, mode: str = "fast") -> None:
        self.run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")


@contextlib.contextmanager
def postgres_server() -> Iterator[Postgres]:
    """A `Postgres` with one database, `pointlab`, stopped at the end.

    PostgreSQL refuses to run as root, so as root the server runs as the `postgres` user, in a
    directory made with mkdtemp (pytest's tmp_path is not reachable by that user)."""
    root = Path(tempfile.mkdtemp(prefix="pointlab-pg-"))
    as_root = os.geteuid() == 0
    user = "postgres" if as_root else None
    if as_root:
        shutil.chown(root, user="postgres")
    server = Postgres(root, user)
    run, port = server.run, server.port
    try:
        run(str(PG_BIN / "initdb"), "-D", str(server.data), "-A", "trust", "-U", "postgres")
        server.start()
        try:
            run(
                str(PG_BIN / "createdb"),
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
                "-U",
                "postgres",
                "pointlab",
            )
            yield server
        finally:
            with contextlib.suppress(subprocess.CalledProcessError):  # a test stopped it
                server.stop("immediate")
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _start_node(argv: list[str], log: Path) -> subprocess.Popen:
    """`ray start` in a new process session: the daemons it leaves behind keep its process group,
    so the group id stops exactly this node."""
    env = {**os.environ, **RAY_ENV}
    with open(log, "w") as out:
        process = subprocess.Popen(
            [RAY, "start", *argv],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    if process.wait(timeout=240) != 0:
        raise RuntimeError(f"ray start failed: {log.read_text()[-2000:]}")
    return process


def _stop_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.2)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)


@contextlib.contextmanager
def ray_cluster(cpus: int = 1, nodes: int = 2) -> Iterator[str]:
    """A head node on 127.0.0.2 and (nodes=2) a second node on 127.0.0.3, `cpus` CPUs each; yields
    the head's address. (127.0.0.1 would be replaced by the machine's address.)"""
    temp = Path(tempfile.mkdtemp(prefix="ray", dir="/tmp"))  # short: Ray puts sockets there
    port = free_port("127.0.0.2")
    address = f"127.0.0.2:{port}"
    common = ["--num-cpus", str(cpus), "--disable-usage-stats", "--object-store-memory", "80000000"]
    groups = []
    try:
        head = _start_node(
            [
                "--head",
                "--node-ip-address",
                "127.0.0.2",
                "--port",
                str(port),
                "--include-dashboard",
                "false",
                "--temp-dir",
                str(temp),
                *common,
            ],
            temp / "head.log",
        )
        groups.append(head.pid)
        if nodes < 2:
            yield address
            return
        node = _start_node(
            ["--address", address, "--node-ip-address", "127.0.0.3", *common],
            temp / "node.log",
        )
        groups.append(node.pid)
        yield address
    finally:
        for pgid in reversed(groups):
            _stop_group(pgid)
        shutil.rmtree(temp, ignore_errors=True)


# Debian's Chromium as the browser tests launch it (Playwright cannot download one here).
CHROMIUM = Path("/usr/bin/chromium")
# Every browser test file's `pytestmark`: a real server and Chromium are slow (~30 s for a file
# on an idle 2-core machine), and skipped where /usr/bin/chromium is missing.
BROWSER_TEST = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"
    ),
]
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def start_play(pointlab: str, *args: str) -> tuple[subprocess.Popen, str]:
    """`pointlab play --port P ARGS...` as a user starts it, on one torch thread (two shared
    cores: no spinning threads); its process and address once the page answers."""
    port = free_port()
    process = subprocess.Popen(
        [pointlab, "play", "--port", str(port), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=dict(os.environ, OMP_NUM_THREADS="1"),
    )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.time() + 60
    while True:
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return process, url
        except OSError:
            if process.poll() is not None or time.time() > deadline:
                process.kill()
                assert process.stdout is not None
                raise RuntimeError(
                    f"pointlab play did not start: {process.stdout.read()}"
                ) from None
            time.sleep(0.2)
