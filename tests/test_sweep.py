"""`pointlab sweep` end to end: real trials, a real SQLite study, real processes killed with
SIGKILL. Small models and few epochs, so the whole file stays within seconds."""

import ast
import json
import shutil
import signal
import sqlite3
import subprocess
import threading
import time
from pathlib import Path

import numpy as np
import optuna
import pytest

from pointlab import runs, training
from pointlab.cli import main
from pointlab.config import TrainConfig
from pointlab.data import Dataset, load_csv, save_csv
from pointlab.generators import make
from pointlab.runs import load_run

from conftest import CURVE, POINTLAB, is_png

CSV = str(CURVE)  # as a command-line argument
SMALL = ["--space", "lr=loguniform(1e-3,3e-1)", "--layers", "8", "--device", "cpu"]


def sweep(tmp_path: Path, *extra: str, name: str = "out") -> dict:
    """Run a sweep in-process and return its JSON summary."""
    out = tmp_path / name
    assert main(["sweep", CSV, *SMALL, "--out", str(out), "--json", *extra]) == 0
    return json.loads((out / "sweep.json").read_text())


def trials_in(db: Path, study: str = "curve") -> list[optuna.trial.FrozenTrial]:
    storage = optuna.storages.RDBStorage(f"sqlite:///{db}")
    return optuna.load_study(study_name=study, storage=storage).get_trials(deepcopy=False)


def test_sweep_scores_on_validation_and_writes_a_best_run_evaluate_reads(tmp_path, capsys):
    summary = sweep(tmp_path, "--trials", "4", "--epochs", "60")
    printed = json.loads(capsys.readouterr().out)
    assert printed == summary
    trials = summary["trials"]
    assert sorted(t["trial"] for t in trials) == [0, 1, 2, 3]
    assert all(t["state"] == "complete" and 1e-3 <= t["params"]["lr"] <= 0.3 for t in trials)
    best = min(trials, key=lambda t: t["val_loss"])
    assert summary["best"]["trial"] == best["trial"]
    run = load_run(tmp_path / "out" / "best")
    assert run.spec.config.lr == best["params"]["lr"] and run.spec.config.hidden == (8,)
    assert run.spec.config.epochs == best["best_epoch"]  # retrained for its best epoch count
    assert summary["retrain"]["n_train"] == 160  # all but the 20% test share of 200 points
    assert main(["evaluate", str(tmp_path / "out" / "best"), CSV]) == 0
    for picture in ("sweep_loss.png", "sweep_curves.png"):
        assert is_png(tmp_path / "out" / picture)
    assert not (tmp_path / "out" / "sweep_points.png").exists()  # one dimension: the loss's
    # `best` is a run directory like any other: its pictures, and config.json with train's keys.
    best_dir = tmp_path / "out" / "best"
    for picture in ("boundary.png", "loss.png"):
        assert is_png(best_dir / picture)
    trained = tmp_path / "trained"
    assert main(["train", CSV, "--epochs", "5", "--test", CSV, "--out", str(trained)]) == 0
    record = json.loads((best_dir / "config.json").read_text())
    train_record = json.loads((trained / "config.json").read_text())
    assert record.keys() == train_record.keys()
    assert record["result"].keys() == train_record["result"].keys()
    assert record["result"]["test"] == summary["test"]  # {"loss", "accuracy", "n"} in both
    assert record["result"]["sweep"]["trial"] == best["trial"]
    # ...and it repeats the retrain: the same 160 points, the same curve.
    again = training.train(runs.read_spec(best_dir)[0])
    assert again.history["train_loss"] == runs.read_metrics(best_dir)["train_loss"]
    assert again.test.to_dict() == summary["test"]


@pytest.mark.slow  # two sweeps with a retrain each: ~9 s
def test_the_test_data_never_influences_the_choice(tmp_path):
    test = make("curve", n=120, seed=9)
    flipped = Dataset(test.X, 1 - test.y, 2, "flipped", "test")
    save_csv(test, tmp_path / "test.csv")
    save_csv(flipped, tmp_path / "flipped.csv")
    a = sweep(tmp_path, "--trials", "3", "--epochs", "40", "--test", str(tmp_path / "test.csv"))
    b = sweep(
        tmp_path,
        "--trials",
        "3",
        "--epochs",
        "40",
        "--test",
        str(tmp_path / "flipped.csv"),
        name="flipped",
    )
    assert a["trials"] == b["trials"] and a["best"] == b["best"]
    assert a["retrain"] == b["retrain"]
    # Only the reported number moves: flipping every label turns right into wrong.
    assert a["test"]["accuracy"] + b["test"]["accuracy"] == pytest.approx(1.0)
    assert a["retrain"]["n_train"] == 200  # with --test, all of FILE trains


def test_halving_prunes_down_to_one_full_length_trial(tmp_path):
    summary = sweep(tmp_path, "--strategy", "halving", "--trials", "9", "--epochs", "90")
    states = [t["state"] for t in summary["trials"]]
    assert states.count("complete") == 1 and states.count("pruned") == 8
    assert summary["best"]["trial"] == next(
        t["trial"] for t in summary["trials"] if t["state"] == "complete"
    )


def test_cross_validation_trains_every_fold_and_averages(tmp_path):
    summary = sweep(tmp_path, "--trials", "2", "--epochs", "30", "--cv", "3")
    assert summary["validation"] == "3-fold cross-validation"
    db = tmp_path / "out" / "study.db"
    results = [t.user_attrs["result"] for t in trials_in(db)]
    assert [r["folds"] for r in results] == [3, 3]
    assert all(np.isfinite(r["val_loss"]) for r in results)


def test_a_finished_study_is_not_run_again_and_another_setup_is_refused(tmp_path, capsys):
    first = sweep(tmp_path, "--trials", "2", "--epochs", "30")
    again = sweep(tmp_path, "--trials", "2", "--epochs", "30")
    assert again["trials"] == first["trials"]
    assert len(trials_in(tmp_path / "out" / "study.db")) == 2
    argv = [
        "sweep",
        CSV,
        *SMALL,
        "--trials",
        "2",
        "--epochs",
        "31",
        "--out",
        str(tmp_path / "out"),
    ]
    assert main(argv) == 2
    assert "different sweep (differs in: fixed)" in capsys.readouterr().err


def _command(out: Path, *extra: str) -> list[str]:
    return [POINTLAB, "sweep", CSV, *SMALL, "--batch", "1", "--out", str(out), "--json", *extra]


def _wait_for(db: Path, done: int, process: subprocess.Popen, timeout: float = 120.0) -> None:
    """Until `done` trials are COMPLETE (read with plain sqlite3: cheap, and no schema checks)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read()
        try:
            with sqlite3.connect(db, timeout=5) as connection:
                (count,) = connection.execute(
                    "SELECT COUNT(*) FROM trials WHERE state = 'COMPLETE'"
                ).fetchone()
        except sqlite3.OperationalError:
            count = 0  # not created yet
        if count >= done:
            return
        time.sleep(0.1)
    raise AssertionError(f"no {done} finished trials within {timeout} s")


@pytest.mark.slow  # real processes, a kill and a 5 s heartbeat grace: ~25 s at low load
def test_a_sweep_killed_with_sigkill_resumes_and_counts_every_trial_once(tmp_path):
    out = tmp_path / "out"
    argv = _command(out, "--trials", "6", "--epochs", "300", "--stale-after", "5")
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _wait_for(out / "study.db", 2, process)
    process.send_signal(signal.SIGKILL)
    process.wait()
    at_kill = trials_in(out / "study.db")
    finished = {t.user_attrs["slot"]: t.number for t in at_kill if t.state.name == "COMPLETE"}
    in_flight = [t for t in at_kill if t.state.name == "RUNNING"]
    assert 2 <= len(finished) < 6  # killed mid-sweep
    resumed = subprocess.run(argv, capture_output=True, text=True, timeout=180)
    assert resumed.returncode == 0, resumed.stderr
    summary = json.loads(resumed.stdout)
    assert sorted(t["trial"] for t in summary["trials"]) == list(range(6))
    assert all(t["state"] == "complete" for t in summary["trials"])
    numbers = {t["trial"]: t["optuna_number"] for t in summary["trials"]}
    assert all(numbers[slot] == n for slot, n in finished.items())  # not run again
    after = trials_in(out / "study.db")
    assert sum(t.state.name == "COMPLETE" for t in after) == 6
    # The trial in flight at the kill failed and its slot ran again, once.
    assert sorted(t.number for t in after if t.state.name == "FAIL") == [
        t.number for t in in_flight
    ]


@pytest.mark.slow  # two real processes at once
def test_two_processes_on_one_study_share_it_and_run_no_trial_twice(tmp_path):
    db = tmp_path / "study.db"
    storage = ["--storage", f"sqlite:///{db}", "--study", "shared"]
    processes = [
        subprocess.Popen(
            _command(tmp_path / f"p{i}", "--trials", "8", "--epochs", "200", *storage),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(2)
    ]
    outputs = [p.communicate(timeout=180) for p in processes]
    assert [p.returncode for p in processes] == [0, 0], [o[1] for o in outputs]
    trials = trials_in(db, "shared")
    assert len(trials) == 8 and all(t.state.name == "COMPLETE" for t in trials)
    assert sorted(t.user_attrs["slot"] for t in trials) == list(range(8))
    workers = {t.user_attrs["result"]["worker"] for t in trials}
    assert len(workers) == 2  # both did part of the work
    summaries = [json.loads(o[0]) for o in outputs]
    assert summaries[0]["best"] == summaries[1]["best"]


def test_a_front_end_other_than_the_cli_writes_the_same_sweep_folder(tmp_path):
    """The folder's layout, its default study database and its writer are the library's; and a
    sweep's best run keeps the header names of the columns as `pointlab train`'s run does."""
    from pointlab.search import folder
    from pointlab.search.space import parse_space
    from pointlab.search.store import Store
    from pointlab.search.sweep import SweepSetup, run_sweep

    data = make("curve", n=120, seed=3)
    named = tmp_path / "named.csv"
    rows = [f"{x},{y},{label}" for (x, y), label in zip(data.X.tolist(), data.y, strict=True)]
    named.write_text("\n".join(["px,py,cls", *rows]) + "\n")
    loaded = load_csv(named)
    base = TrainConfig(hidden=(4,), epochs=20)
    setup = SweepSetup(parse_space(["lr=0.01,0.1"], base), "grid", None, base)
    out = folder.make_folder(tmp_path / folder.default_out(named))
    storage = folder.default_storage(out)
    result = run_sweep(setup, loaded, None, Store(storage, folder.default_study(named)))
    best, pictures, summary = folder.write_sweep(out, result, setup, "named", storage)

    assert out == tmp_path / "sweeps" / "named" and storage == f"sqlite:///{out / 'study.db'}"
    assert best == out / "best" and result.run.path == best
    assert json.loads((out / "sweep.json").read_text()) == summary
    # One searched dimension (lr): its loss picture is the points tried, drawn once.
    assert [p.name for p in pictures] == ["sweep_loss.png", "sweep_curves.png"]
    assert all(map(is_png, pictures))
    run = load_run(best)
    assert run.spec.names == "px,py,cls" and run.spec.data == str(named.resolve())
    assert run.result["sweep"]["trial"] == summary["best"]["trial"]
    assert sorted(p.name for p in out.iterdir() if p.name.startswith(".")) == []


def test_writers_swapping_best_in_at_once_never_see_each_others_files(tmp_path):
    """Each writer builds in a folder of its own; `best` is always one writer's whole folder."""
    from pointlab.search.folder import _swap_in

    def writer(n: int) -> None:
        for round_ in range(20):
            mine = tmp_path / f".best-{n}-{round_}"
            mine.mkdir()
            for name in ("a", "b", "c"):
                (mine / name).write_text(f"{n}")
            _swap_in(mine, tmp_path / "best")
            shutil.rmtree(mine, ignore_errors=True)  # the old one, exchanged into our name

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    files = sorted((tmp_path / "best").iterdir())
    assert [f.name for f in files] == ["a", "b", "c"]
    assert len({f.read_text() for f in files}) == 1  # one writer's, whole
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best"]


def test_the_sweep_never_imports_ray_and_ray_imports_no_sweep():
    """The executor interface (`jobs.Executor`) is the cut between them; the job functions live
    in `jobs`, which imports neither."""
    from conftest import ROOT

    def imports(module: str) -> set[str]:
        path = ROOT / "src" / "pointlab" / "search" / f"{module}.py"
        found = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                found |= {node.module, *(f"{node.module}.{a.name}" for a in node.names)}
            elif isinstance(node, ast.Import):
                found |= {a.name for a in node.names}
        return found

    assert not {m for m in imports("sweep") if "ray" in m.split(".")[-1]}
    assert "pointlab.search.sweep" not in imports("ray_cluster")
    assert not {m for m in imports("jobs") if m.endswith(("sweep", "ray_cluster"))}


def test_the_best_trial_is_the_lowest_finished_finite_value_and_the_earliest_slot_on_a_tie():
    """Both sweeps, classifier and generative, choose their best by `store.lowest`."""
    from pointlab.errors import UserError
    from pointlab.search import generative, sweep
    from pointlab.search.store import TrialRow

    def row(slot: int, state: str, value: float | None) -> TrialRow:
        return TrialRow(slot, slot, state, {}, value, None, None, None)

    rows = [
        row(0, "complete", 0.5),
        row(1, "pruned", 0.1),  # stopped early: not finished
        row(2, "complete", float("inf")),  # diverged
        row(3, "complete", 0.3),
        row(4, "complete", 0.3),
        row(5, "running", None),
    ]
    assert sweep.choose(rows).slot == 3 and generative.choose(rows).slot == 3
    with pytest.raises(UserError, match="no trial finished with a finite validation loss"):
        sweep.choose(rows[1:3])
    with pytest.raises(UserError, match="no trial's samples were finite"):
        generative.choose(rows[1:3])
