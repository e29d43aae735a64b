"""A run directory tells the truth about its weights, whatever stopped the run (issue 16): Ctrl-C
between logged epochs, divergence, SIGTERM and repeated SIGINTs sent by real signals to a real
process, a model too large for memory, a failure before training, and file modes."""

import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from pointlab import engine, runs
from pointlab.cli import main
from pointlab.config import TrainConfig
from pointlab.data import load_csv
from pointlab.errors import UserError

from conftest import CURVE, quiet


def result_of(run_dir: Path) -> dict:
    return json.loads((run_dir / runs.CONFIG).read_text())["result"]


def assert_record_matches_weights(run_dir: Path) -> dict:
    """The record's last metrics are those of the saved model, measured again from disk."""
    result = result_of(run_dir)
    metrics = runs.read_metrics(run_dir)
    # On all the points (these runs have no validation), as `pointlab evaluate` scores them.
    measured = runs.load_run(run_dir).model.score(load_csv(CURVE))
    assert metrics["epoch"][-1] == result["weights_epoch"]
    assert measured.loss == pytest.approx(metrics["train_loss"][-1], rel=1e-5)
    assert measured.loss == pytest.approx(result["final"]["train_loss"], rel=1e-5)
    return result


@pytest.mark.parametrize("how", ["stop", "keyboard-interrupt"])
def test_a_stop_between_logged_epochs_records_the_weights_saved(tmp_path, monkeypatch, how):
    original = engine.train
    polls = []

    def stopped_at_25(*args, stop, **kwargs):
        def poll() -> bool:  # polled once an epoch in full batch: True at the start of epoch 25
            polls.append(1)
            if len(polls) > 25 and how == "keyboard-interrupt":
                raise KeyboardInterrupt  # Ctrl-C with Python's own handler, mid-loop
            return len(polls) > 25

        return original(*args, stop=poll, **kwargs)

    monkeypatch.setattr(engine, "train", stopped_at_25)
    out = tmp_path / "run"
    argv = ["train", str(CURVE), "--epochs", "1000", "--log-every", "10", "--val-fraction", "0"]
    assert main([*argv, "--seed", "1", "--out", str(out)], quiet()) == 130
    result = assert_record_matches_weights(out)
    # Logged rows at 0, 10, 20, and the stop measured at 25 (not the last logged 20).
    assert result["status"] == "interrupted" and result["stopped_epoch"] == 25
    assert runs.read_metrics(out)["epoch"] == [0, 10, 20, 25]


def test_divergence_keeps_the_last_finite_weights_and_exits_3(tmp_path):
    out = tmp_path / "run"
    console = quiet()
    argv = ["train", str(CURVE), "--lr", "1e30", "--epochs", "200", "--log-every", "10"]
    assert main([*argv, "--val-fraction", "0", "--seed", "1", "--out", str(out)], console) == 3
    result = assert_record_matches_weights(out)
    assert result["status"] == "diverged" and np.isfinite(result["final"]["train_loss"])
    assert result["stopped_epoch"] > result["weights_epoch"]
    assert (
        "last finite" in result["weights"]
        and f"epoch {result['weights_epoch']}" in result["weights"]
    )
    text = " ".join(console.file.getvalue().split())
    assert f"NaN or infinite at epoch {result['stopped_epoch']}" in text


def test_the_engine_keeps_a_diverged_members_last_finite_weights():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 2)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)
    configs = [TrainConfig(hidden=(8,), lr=lr, epochs=50, seed=0) for lr in (0.01, 1e30)]
    calm, wild = engine.train(configs, X, y, log_every=5)
    assert calm.status == "finished" and calm.weights_epoch == 50
    assert wild.status == "diverged" and wild.history["epoch"][-1] == wild.weights_epoch
    assert all(torch.isfinite(t).all() for t in wild.state.values())


def launch(tmp_path: Path, out: Path) -> subprocess.Popen:
    argv = ["train", str(CURVE), "--epochs", "100000000", "--log-every", "50", "--layers", "8"]
    argv += ["--val-fraction", "0", "--seed", "1", "--out", str(out)]
    code = f"import sys; from pointlab.cli import entry; sys.argv[1:] = {argv!r}; entry()"
    process = subprocess.Popen(
        [sys.executable, "-c", code],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group, as a script's `uv run` would be
        cwd=tmp_path,
    )
    deadline = time.monotonic() + 60
    while not (out / runs.CONFIG).exists():  # written once the signal handlers are in place
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "training did not start"
        time.sleep(0.05)
    time.sleep(1.0)  # some epochs
    return process


@pytest.mark.slow  # a real process trained until the signal: ~12 s
def test_sigterm_writes_the_run_and_exits_143(tmp_path):
    out = tmp_path / "run"
    process = launch(tmp_path, out)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 143, err
    result = assert_record_matches_weights(out)
    assert result["status"] == "interrupted" and (out / "boundary.png").exists()


@pytest.mark.slow  # a real process group and its signals: ~11 s
def test_sigint_twice_to_the_group_and_more_during_the_write_leave_a_whole_run(tmp_path):
    out = tmp_path / "run"
    process = launch(tmp_path, out)
    group = os.getpgid(process.pid)
    os.killpg(group, signal.SIGINT)
    os.killpg(group, signal.SIGINT)  # the same Ctrl-C again, as uv forwards what it got
    while process.poll() is None:  # and Ctrl-C after Ctrl-C while the run is written
        try:
            os.killpg(group, signal.SIGINT)
        except ProcessLookupError:
            break
        time.sleep(0.02)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert b"Traceback" not in err
    names = {"config.json", "metrics.csv", "model.safetensors", "boundary.png", "loss.png"}
    names.add("precision_recall.png")  # two classes
    assert names == {p.name for p in out.iterdir()}  # no temporary files left either
    assert assert_record_matches_weights(out)["status"] == "interrupted"


def test_a_model_too_large_for_memory_is_refused_with_the_estimate(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    argv = ["train", str(CURVE), "--layers", "100000,100000", "--epochs", "1"]
    assert main(argv, quiet()) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "needs about" in err and "GB" in err
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())

    config = TrainConfig(hidden=(100_000, 100_000))
    estimate = engine.estimate_memory([config], 2, 160, 40)
    assert estimate.parameters > 10_000_000_000 * 4  # 10^10 weights in float32, and more
    book = engine.estimate_memory([TrainConfig(hidden=(128, 128))], 2, 160, 40)
    assert 100_000 < book.total < 10_000_000
    with pytest.raises(UserError, match="needs about .* but cpu has 1.0 MB free"):
        engine.check_memory([config], 2, 160, 40, torch.device("cpu"), available=1_000_000)


def test_a_run_that_fails_before_training_leaves_no_directory(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)

    def fails(*args, **kwargs):
        raise UserError("the device went away")

    monkeypatch.setattr(engine, "train", fails)
    assert main(["train", str(CURVE), "--epochs", "5"], quiet()) == 2
    assert "the device went away" in capsys.readouterr().err
    assert list((tmp_path / "runs").iterdir()) == []
    given = tmp_path / "given"
    given.mkdir()
    assert main(["train", str(CURVE), "--epochs", "5", "--out", str(given)], quiet()) == 2
    assert given.is_dir() and list(given.iterdir()) == []  # the user's own directory stays


def test_files_are_written_with_the_umasks_mode(tmp_path):
    old = os.umask(0o022)
    try:
        out = tmp_path / "run"
        assert main(["train", str(CURVE), "--epochs", "5", "--out", str(out)], quiet()) == 0
        target = tmp_path / "points.csv"
        assert main(["data", "make", "xor", "-o", str(target)], quiet()) == 0
        os.umask(0o077)
        private = tmp_path / "private.csv"
        assert main(["data", "make", "xor", "-o", str(private)], quiet()) == 0
    finally:
        os.umask(old)
    for path in [*out.iterdir(), target]:
        assert stat.S_IMODE(path.stat().st_mode) == 0o644, path
    assert stat.S_IMODE(private.stat().st_mode) == 0o600


def test_the_newest_default_run_is_runs_latest(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    for _ in range(2):
        console = quiet()
        assert main(["train", str(CURVE), "--epochs", "3"], console) == 0
    made = sorted(p for p in (tmp_path / "runs").iterdir() if p.name != "latest")
    assert len(made) == 2 and (tmp_path / "runs" / "latest").resolve() == made[-1].resolve()
    assert "runs/latest" in console.file.getvalue()
    assert main(["evaluate", "runs/latest", str(CURVE), "--json"], quiet()) == 0


@pytest.mark.parametrize("finished", [(0, 1, 2, 3), (3, 2, 1, 0), (2, 0, 3, 1)])
def test_of_four_runs_at_once_only_the_one_runs_latest_points_to_says_so(tmp_path, finished):
    """Four `pointlab train` at once each printed "also reachable as runs/latest"; it is one."""
    root = tmp_path / "runs"
    started = [runs.new_run_dir("curve", root) for _ in range(4)]  # the same second: -2, -3, -4
    (root / "experiments").mkdir()  # not a run directory: it never counts as a later run
    said = [runs.mark_latest(started[i]) for i in finished]
    assert said == [i == 3 for i in finished]  # only the newest, whenever it finishes
    assert os.readlink(root / "latest") == started[3].name


def test_a_run_followed_by_one_still_training_does_not_claim_runs_latest(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "runs").mkdir()
    later = tmp_path / "runs" / "29991231-235959-curve"  # started after ours, still training
    later.mkdir()
    console = quiet()
    assert main(["train", str(CURVE), "--epochs", "3"], console) == 0
    assert "runs/latest" not in console.file.getvalue()
    later.rmdir()  # it failed and cleaned up: the next run is the newest again
    console = quiet()
    assert main(["train", str(CURVE), "--epochs", "3"], console) == 0
    assert "also reachable as runs/latest" in console.file.getvalue()


def test_a_run_result_carries_its_data_and_runs_never_imports_training():
    """The run layer's types (`RunSpec`, `RunData`, `RunResult`) are in `runs`; `training` uses
    them. A result without its data cannot be built, so writing it never reads the file again."""
    import ast
    import dataclasses

    from conftest import ROOT

    tree = ast.parse((ROOT / "src" / "pointlab" / "runs.py").read_text())
    names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    names |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert "pointlab.training" not in names
    data = next(f for f in dataclasses.fields(runs.RunResult) if f.name == "data")
    assert data.default is dataclasses.MISSING and data.default_factory is dataclasses.MISSING
