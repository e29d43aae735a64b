"""Sweep workers that nothing kills (issue 27): a worker with a short `--stale-after` must not take
a live worker's trial, and SIGTERM gives the trials back as Ctrl-C does. Real processes on one
SQLite study; a trial is one small model trained for many epochs, so it is in flight for seconds."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from conftest import CURVE, POINTLAB

pytestmark = pytest.mark.slow

SMALL = ["--space", "lr=loguniform(1e-3,3e-1)", "--layers", "8", "--device", "cpu", "--json"]


@pytest.fixture
def start():
    """start(argv) -> a running `pointlab sweep`; whatever is still running at the end (a test
    that failed) is killed, by its own process id."""
    started: list[subprocess.Popen] = []

    def start(argv: list[str]) -> subprocess.Popen:
        started.append(
            subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        )
        return started[-1]

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
            process.communicate()


def _command(db: Path, out: Path, *extra: str) -> list[str]:
    return [
        *(POINTLAB, "sweep", str(CURVE), *SMALL, "--out", str(out)),
        *("--storage", f"sqlite:///{db}", "--study", "shared", *extra),
    ]


def _query(db: Path, sql: str) -> list[tuple]:
    """Rows of `sql` on the study, read with plain sqlite3 (cheap; [] before the tables exist)."""
    try:
        with sqlite3.connect(db, timeout=30) as connection:
            return connection.execute(sql).fetchall()
    except sqlite3.OperationalError:
        return []


def _states(db: Path) -> list[str]:
    return [state for (state,) in _query(db, "SELECT state FROM trials ORDER BY number")]


def _wait_until(condition, processes: list[subprocess.Popen], timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        for p in processes:
            assert p.poll() is None, p.communicate()[1][-3000:]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def _has_open(process: subprocess.Popen, path: Path) -> bool:
    """Whether the process holds `path` open (it has joined the study): Linux's /proc."""
    fds = Path(f"/proc/{process.pid}/fd")
    try:
        return any(os.readlink(fd) == str(path) for fd in fds.iterdir())
    except OSError:
        return False


def test_a_worker_with_a_shorter_stale_after_never_takes_a_live_workers_trial(tmp_path, start):
    """A (the default 60 s) holds both trials; B joins with --stale-after 5 while A is paused for
    8 s between two beats, as a loaded machine pauses it: within A's terms, past B's. B must wait
    for A, not fail A's trials and train them again."""
    db = tmp_path / "study.db"
    argv = ["--trials", "2", "--epochs", "20000"]
    a = start(_command(db, tmp_path / "a", *argv, "--batch", "2"))
    _wait_until(lambda: _states(db) == ["RUNNING", "RUNNING"], [a])
    a.send_signal(signal.SIGSTOP)
    try:
        b = start(_command(db, tmp_path / "b", *argv, "--stale-after", "5"))
        _wait_until(lambda: _has_open(b, db), [b])
        time.sleep(8.0)  # B looks for stale trials every second
        assert "FAIL" not in _states(db), "B took A's live trials"
    finally:
        a.send_signal(signal.SIGCONT)
    outputs = [p.communicate(timeout=300) for p in (a, b)]
    assert [a.returncode, b.returncode] == [0, 0], [err[-3000:] for _, err in outputs]
    assert _states(db) == ["COMPLETE", "COMPLETE"]  # each slot trained once, by A
    holders = _query(db, "SELECT value_json FROM trial_user_attributes WHERE key = 'holder'")
    assert {h for (h,) in holders} == {f'"{os.uname().nodename}:{a.pid}"'}


def test_sigterm_gives_the_trials_back_at_once_and_exits_143(tmp_path, start):
    db = tmp_path / "study.db"
    sweep = start(
        _command(db, tmp_path / "o", "--trials", "2", "--epochs", "20000", "--batch", "2")
    )
    _wait_until(lambda: _states(db) == ["RUNNING", "RUNNING"], [sweep])
    sweep.send_signal(signal.SIGTERM)
    _, err = sweep.communicate(timeout=60)
    assert sweep.returncode == 143
    assert err.splitlines() == ["pointlab: interrupted; run the same command again to resume"]
    # Failed and queued again with the same parameters: a rerun starts them at once.
    assert _states(db) == ["FAIL", "FAIL", "WAITING", "WAITING"]
