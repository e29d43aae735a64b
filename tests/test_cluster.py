"""Sweeps beyond one machine, with real servers: a PostgreSQL study shared by worker processes (one
killed with SIGKILL), a PostgreSQL server stopped under a sweep, a two-node Ray cluster (and an
address with none), and Optuna's dashboard over a study."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import optuna
import pytest
import sqlalchemy.exc
from rich.console import Console

import servers
from pointlab.cli import main
from pointlab.runs import load_run

from conftest import CURVE, POINTLAB

pytestmark = pytest.mark.slow

SMALL = ["--space", "lr=loguniform(1e-3,3e-1)", "--layers", "8", "--device", "cpu", "--json"]


def _command(out: Path, *extra: str) -> list[str]:
    return [POINTLAB, "sweep", str(CURVE), *SMALL, "--out", str(out), *extra]


@pytest.fixture(scope="module")
def postgres_url():
    if not (servers.PG_BIN / "initdb").exists():
        pytest.skip(f"no PostgreSQL binaries in {servers.PG_BIN} (apt-get install postgresql)")
    with servers.postgres() as url:
        yield url


@pytest.fixture(
    params=[
        "sqlite",
        "postgresql",
    ]
)
def storage(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'study.db'}"
    return request.getfixturevalue("postgres_url")


def _trials(url: str, study: str) -> list[optuna.trial.FrozenTrial]:
    storage = optuna.storages.RDBStorage(url)
    return optuna.load_study(study_name=study, storage=storage).get_trials(deepcopy=False)


def _wait_until(condition, processes, timeout: float = 240.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        for p in processes:
            assert p.poll() is None, p.stderr.read()
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def test_three_workers_share_a_study_one_killed_and_a_rerun_finishes_it(storage, tmp_path):
    study = f"shared-{uuid.uuid4().hex[:8]}"
    optuna.storages.RDBStorage(storage)  # the schema once, before several workers start
    argv = [
        *("--trials", "24", "--epochs", "1500", "--batch", "2", "--stale-after", "5"),
        *("--storage", storage, "--study", study),
    ]
    workers = [
        subprocess.Popen(
            _command(tmp_path / f"w{i}", *argv),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(3)
    ]

    def complete() -> int:
        try:
            return sum(t.state.name == "COMPLETE" for t in _trials(storage, study))
        except KeyError:  # the study is not created yet
            return 0

    def held_by_first() -> set[int]:
        """RUNNING trials whose holder is the first worker (claimed, being trained)."""
        return {
            t.number
            for t in _trials(storage, study)
            if t.state.name == "RUNNING" and t.user_attrs.get("holder", "").endswith(pid)
        }

    def stopped_holding() -> bool:
        """Freeze the first worker; keep it frozen if it holds trials (between two claims it
        holds none, briefly), else let it go on."""
        workers[0].send_signal(signal.SIGSTOP)
        try:
            if held_by_first():
                return True
        except sqlalchemy.exc.OperationalError:  # frozen inside a write: SQLite is locked
            pass
        workers[0].send_signal(signal.SIGCONT)
        return False

    pid = f":{workers[0].pid}"
    _wait_until(lambda: complete() >= 4 and stopped_holding(), workers)
    workers[0].send_signal(signal.SIGKILL)  # mid-trial
    workers[0].wait()
    at_kill = {t.number for t in _trials(storage, study) if t.state.name == "RUNNING"}
    assert at_kill & held_by_first()
    for worker in workers[1:]:
        _, err = worker.communicate(timeout=300)
        assert worker.returncode == 0, err[-3000:]
    rerun = subprocess.run(_command(tmp_path / "rerun", *argv), capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stderr

    trials = _trials(storage, study)
    complete_by_slot: dict[int, list[int]] = {}
    for t in trials:
        if t.state.name == "COMPLETE":
            complete_by_slot.setdefault(t.user_attrs["slot"], []).append(t.number)
    assert sorted(complete_by_slot) == list(range(24))  # every slot finished ...
    assert all(len(numbers) == 1 for numbers in complete_by_slot.values())  # ... exactly once
    failed = [t for t in trials if t.state.name == "FAIL"]
    assert failed, "the killed worker left no trial to re-queue"
    # What it held at the kill went stale and ran again elsewhere, with the same parameters.
    assert {t.number for t in failed} <= at_kill
    for t in failed:
        (again,) = complete_by_slot[t.user_attrs["slot"]]
        assert again > t.number and trials[again].params == t.params
    summary = json.loads(rerun.stdout)
    assert len(summary["trials"]) == 24
    workers_seen = {t["worker"] for t in summary["trials"]}
    assert len(workers_seen) >= 2 and all(":" in w for w in workers_seen)  # host:pid


def test_three_workers_in_one_folder_one_killed_leave_one_complete_best(postgres_url, tmp_path):
    """The documented multi-machine use: several workers on one PostgreSQL study, one --out
    folder. Each builds its best/ in a folder of its own and swaps it in, so none trips over
    another's files (they did: `.best-new/loss.png: cannot write: No such file or directory`)."""
    study = f"folder-{uuid.uuid4().hex[:8]}"
    optuna.storages.RDBStorage(postgres_url)  # the schema once, before several workers start
    out = tmp_path / "shared"
    argv = [
        *("--trials", "12", "--epochs", "300", "--batch", "2", "--stale-after", "5"),
        *("--storage", postgres_url, "--study", study),
    ]
    workers = [
        subprocess.Popen(
            _command(out, *argv), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(3)
    ]

    def complete() -> int:
        try:
            return sum(t.state.name == "COMPLETE" for t in _trials(postgres_url, study))
        except KeyError:  # the study is not created yet
            return 0

    _wait_until(lambda: complete() >= 2, workers)
    workers[0].send_signal(signal.SIGKILL)  # the worker's own process, mid-sweep
    workers[0].wait()
    summaries = []
    for worker in workers[1:]:
        stdout, err = worker.communicate(timeout=300)
        assert worker.returncode == 0, err[-3000:]
        summaries.append(json.loads(stdout))

    best = out / "best"
    expected = {"config.json", "metrics.csv", "model.safetensors", "boundary.png", "loss.png"}
    expected.add("precision_recall.png")  # two classes
    assert {p.name for p in best.iterdir()} == expected
    run = load_run(best)
    assert run.result["status"] == "finished"
    chosen = {s["best"]["trial"] for s in summaries}
    assert chosen == {run.result["sweep"]["trial"]}  # every worker chose the same, from the study
    assert json.loads((out / "sweep.json").read_text())["best"]["trial"] in chosen
    assert sorted(p.name for p in out.iterdir() if p.name.startswith(".")) == []  # no leftovers


@pytest.fixture(scope="module")
def ray_address():
    pytest.importorskip("ray")
    with servers.ray_cluster(cpus=1) as address:
        yield address


def test_a_sweep_on_a_two_node_ray_cluster_equals_the_same_sweep_in_process(
    ray_address, tmp_path, monkeypatch
):
    for key, value in servers.RAY_ENV.items():
        monkeypatch.setenv(key, value)
    argv = ["--trials", "8", "--epochs", "300"]
    on_ray = subprocess.run(
        _command(tmp_path / "ray", *argv, "--ray", ray_address),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert on_ray.returncode == 0, on_ray.stderr
    ray_summary = json.loads(on_ray.stdout)
    assert main(["sweep", str(CURVE), *SMALL, "--out", str(tmp_path / "here"), *argv]) == 0
    here = json.loads((tmp_path / "here" / "sweep.json").read_text())

    assert all(t["state"] == "complete" for t in ray_summary["trials"])
    assert {t["node"] for t in ray_summary["trials"]} == {"127.0.0.2", "127.0.0.3"}
    assert [t["params"] for t in ray_summary["trials"]] == [t["params"] for t in here["trials"]]
    for a, b in zip(ray_summary["trials"], here["trials"], strict=True):
        assert a["val_loss"] == pytest.approx(b["val_loss"], rel=1e-4)
        assert a["node"] is not None and b["node"] is None
    assert ray_summary["best"]["trial"] == here["best"]["trial"]


def test_without_ray_a_sweep_never_imports_it(tmp_path):
    code = (
        "import sys; from pointlab.cli import main; "
        f"status = main({['sweep', str(CURVE), *SMALL, '--out', str(tmp_path / 'o'), '--trials', '2', '--epochs', '20']!r}); "  # noqa: E501
        "assert status == 0; print('ray' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "False"


def test_the_dashboard_serves_optunas_page_and_lists_the_study(tmp_path):
    db = tmp_path / "study.db"
    storage = f"sqlite:///{db}"
    sweep = ["sweep", str(CURVE), *SMALL, "--out", str(tmp_path / "o"), "--trials", "2"]
    assert main([*sweep, "--epochs", "20", "--storage", storage, "--study", "mine"]) == 0
    port = servers.free_port()
    server = subprocess.Popen(
        [POINTLAB, "dashboard", "--storage", storage, "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"

        def get(path: str) -> bytes:
            deadline = time.monotonic() + 60
            while True:
                try:
                    with urllib.request.urlopen(base + path, timeout=5) as response:
                        assert response.status == 200
                        return response.read()
                except OSError:
                    assert server.poll() is None, server.stderr.read()
                    assert time.monotonic() < deadline
                    time.sleep(0.3)

        assert b"<html" in get("/dashboard").lower()
        studies = json.loads(get("/api/studies"))["study_summaries"]
        assert [s["study_name"] for s in studies] == ["mine"]
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_dashboard_refuses_a_missing_database(tmp_path, capsys):
    assert main(["dashboard", "--storage", f"sqlite:///{tmp_path / 'none.db'}"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no such database file" in err[0]


# --- issue 27: the database going away, a password in the URL, a cluster that is not there


def test_a_database_stopped_under_a_sweep_ends_in_one_line_and_a_rerun_finishes_it(tmp_path):
    if not (servers.PG_BIN / "initdb").exists():
        pytest.skip(f"no PostgreSQL binaries in {servers.PG_BIN}")
    argv = ["--trials", "3", "--batch", "1", "--epochs", "20000", "--stale-after", "5"]
    with servers.postgres_server() as server:
        command = _command(tmp_path / "o", *argv, "--storage", server.url, "--study", "down")
        sweep = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:

            def states() -> list[str]:
                try:
                    return [t.state.name for t in _trials(server.url, "down")]
                except KeyError:  # the study is not created yet
                    return []

            _wait_until(lambda: states()[:2] == ["COMPLETE", "RUNNING"], [sweep])
            server.stop()  # pg_ctl stop: the clients are disconnected
            _, err = sweep.communicate(timeout=120)
        finally:
            if sweep.poll() is None:
                sweep.kill()
                sweep.communicate()
        assert sweep.returncode == 2, err
        (line,) = err.splitlines()
        assert "the study database" in line and "is unreachable" in line
        assert "run the same command again to resume" in line
        server.start()
        rerun = subprocess.run(command, capture_output=True, text=True, timeout=300)
        assert rerun.returncode == 0, rerun.stderr
        trials = _trials(server.url, "down")
    complete = sorted(t.user_attrs["slot"] for t in trials if t.state.name == "COMPLETE")
    assert complete == [0, 1, 2]  # every slot, exactly once
    assert [t.state.name for t in trials].count("FAIL") == 1  # the one in flight at the stop


def test_a_password_in_the_storage_url_is_masked_in_the_report_and_sweep_json(
    postgres_url, tmp_path
):
    url = postgres_url.replace("postgres@", "postgres:S3cret-pw@")  # trust: any password opens
    console = Console(file=io.StringIO(), width=300)
    out = tmp_path / "o"
    argv = ["sweep", str(CURVE), *SMALL[:-1], "--trials", "2", "--epochs", "20", "--out", str(out)]
    assert main([*argv, "--storage", url, "--study", f"pw-{uuid.uuid4().hex[:8]}"], console) == 0
    report = console.file.getvalue()
    saved = (out / "sweep.json").read_text()
    assert "postgres:***@127.0.0.1" in report and "postgres:***@127.0.0.1" in saved
    assert "S3cret" not in report + saved


def test_ray_with_no_cluster_at_the_address_is_refused_in_seconds_writing_nothing(tmp_path):
    pytest.importorskip("ray")
    out = tmp_path / "new"
    address = f"127.0.0.1:{servers.free_port()}"  # nothing listens there
    started = time.monotonic()
    refused = subprocess.run(
        _command(out, "--ray", address),
        capture_output=True,
        text=True,
        timeout=120,  # Ray's own retries went on for minutes
        env={**os.environ, **servers.RAY_ENV},
    )
    assert refused.returncode == 2
    (line,) = refused.stderr.splitlines()
    assert f"--ray {address}: no Ray cluster answers" in line and "start it first" in line
    assert time.monotonic() - started < 60
    assert not out.exists()
