"""`pointlab sweep DATA --generate`: GenConfig trials in a real SQLite study, ranked by the energy
distance of their samples to held-out points, the best written as a `pointlab generate` run
directory that `pointlab generate --config` repeats. Tiny models and few epochs."""

import json
from pathlib import Path

import pytest

from pointlab.cli import main
from pointlab.data import save_csv
from pointlab.generators import make

pytestmark = pytest.mark.usefixtures("one_thread")


def points(tmp_path: Path) -> str:
    """240 moons points: 120 to train, 60 to measure against, 60 for the floor."""
    path = tmp_path / "moons.csv"
    save_csv(make("moons", n=240, seed=0), path)
    return str(path)


def gen_sweep(tmp_path: Path, data: str, *extra: str) -> dict:
    out = tmp_path / "out"
    argv = ["sweep", data, "--generate", "--method", "flow", "--epochs", "4", "--layers", "16"]
    argv += ["--space", "lr=1e-4,1e-2", "--strategy", "grid", "--out", str(out), "--json"]
    assert main([*argv, *extra]) == 0
    return json.loads((out / "sweep.json").read_text())


def test_a_generative_grid_sweep_ranks_by_distance_and_its_best_run_repeats(tmp_path, capsys):
    data = points(tmp_path)
    summary = gen_sweep(tmp_path, data)
    trials = summary["trials"]
    assert sorted(t["params"]["lr"] for t in trials) == [1e-4, 1e-2]
    assert all(t["state"] == "complete" for t in trials)
    distances = [t["distance"] for t in trials]
    assert distances == sorted(distances)  # ranked: lowest distance first
    assert summary["best"]["slot"] == trials[0]["slot"]
    assert all(t["se"] > 0 for t in trials)  # each distance with its jackknife standard error
    best = tmp_path / "out" / "best"
    record = json.loads((best / "config.json").read_text())
    assert record["format"] == "pointlab-generate-run"
    assert record["config"]["lr"] == trials[0]["params"]["lr"]
    assert record["config"]["hidden"] == [16] and record["config"]["epochs"] == 4
    # the best run measures itself exactly as its trial was scored (the held-out "measure" half)
    assert record["result"]["quality"]["model"]["value"] == pytest.approx(distances[0], rel=1e-6)
    assert record["points"] == {"train": 120, "held_out": 60, "floor": 60}
    capsys.readouterr()
    again = tmp_path / "again"
    assert main(["generate", "--config", str(best / "config.json"), "--out", str(again)]) == 0
    repeated = json.loads((again / "config.json").read_text())["result"]["quality"]
    assert repeated == record["result"]["quality"]
    # run again: the finished study is joined, nothing trains twice, the same ranking
    assert gen_sweep(tmp_path, data)["trials"] == trials


def test_a_space_naming_no_genconfig_field_is_one_line_exit_2(tmp_path, capsys):
    argv = ["sweep", points(tmp_path), "--generate", "--space", "dropout=0.1,0.2"]
    assert main([*argv, "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert "dropout" in err and "unknown name" in err and "input_embedding" in err
    assert "Traceback" not in err
    assert not (tmp_path / "out").exists()  # refused before anything was written


def test_classifier_only_options_are_refused_with_generate(tmp_path, capsys):
    argv = ["sweep", points(tmp_path), "--generate", "--dropout", "0.1", "--cv", "3"]
    assert main([*argv, "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "--cv" in err and "--dropout" in err and "generative sweep" in err


def test_method_without_generate_is_refused(tmp_path, capsys):
    assert main(["sweep", points(tmp_path), "--method", "ddpm"]) == 2
    assert "--method: only with --generate" in capsys.readouterr().err


def test_an_interrupted_generative_sweep_resumes_and_runs_each_trial_once(
    tmp_path, capsys, monkeypatch
):
    import optuna

    import pointlab.generative.training as training

    data = points(tmp_path)
    real = training.train_generators

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt  # Ctrl-C while the claimed trials train

    monkeypatch.setattr(training, "train_generators", interrupted)
    out = tmp_path / "out"
    argv = ["sweep", data, "--generate", "--epochs", "2", "--layers", "8", "--strategy", "grid"]
    argv += ["--space", "lr=1e-3,1e-2", "--out", str(out), "--json"]
    assert main(argv) == 130
    assert "run the same command again to resume" in capsys.readouterr().err
    assert not (out / "sweep.json").exists()
    monkeypatch.setattr(training, "train_generators", real)
    assert main(argv) == 0
    summary = json.loads((out / "sweep.json").read_text())
    assert [t["state"] for t in summary["trials"]] == ["complete", "complete"]
    storage = optuna.storages.RDBStorage(f"sqlite:///{out / 'study.db'}")
    study = optuna.load_study(study_name="moons", storage=storage)
    done = [t for t in study.get_trials() if t.state == optuna.trial.TrialState.COMPLETE]
    assert sorted(t.params["lr"] for t in done) == [1e-3, 1e-2]  # each trained exactly once
