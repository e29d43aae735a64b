"""`pointlab train`, `evaluate` and `predict`, called in-process with few epochs."""

import csv
import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch

from pointlab import engine, runs, training
from pointlab.cli import main
from pointlab.data import save_csv
from pointlab.generators import make

from conftest import CURVE, is_png, quiet


def train(tmp_path: Path, *extra: str, name: str = "run") -> Path:
    out = tmp_path / name
    argv = ["train", str(CURVE), "--epochs", "40", "--seed", "3", "--out", str(out), *extra]
    assert main(argv, quiet()) == 0
    return out


def one_error_line(capsys) -> str:
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("pointlab: error: "), lines
    return lines[0]


@pytest.fixture(scope="module")
def book_run(tmp_path_factory) -> Path:
    """A run trained the book's way (all points, no validation), shared by the read-back tests."""
    out = tmp_path_factory.mktemp("book") / "run"
    argv = ["train", str(CURVE), "--epochs", "40", "--seed", "3", "--val-fraction", "0"]
    assert main([*argv, "--out", str(out)], quiet()) == 0
    return out


def test_train_writes_a_run_directory_that_config_json_repeats(tmp_path):
    out = train(tmp_path, "--log-every", "10", "--batch-size", "64", "--dropout", "0.1")
    names = {"config.json", "metrics.csv", "model.safetensors", "boundary.png", "loss.png"}
    assert names <= {p.name for p in out.iterdir()}
    for picture in ("boundary.png", "loss.png"):
        assert is_png(out / picture)
    config = json.loads((out / "config.json").read_text())
    assert config["config"]["seed"] == 3 and config["config"]["hidden"] == [128, 128]
    assert config["config"]["batch_size"] == 64 and config["val_fraction"] == 0.2
    assert config["data"] == str(CURVE) and config["split_seed"] == 3
    assert config["n_classes"] == 2 and config["format_version"] == runs.FORMAT_VERSION
    assert config["result"]["status"] == "finished" and config["result"]["stopped_epoch"] == 40
    metrics = runs.read_metrics(out)
    assert metrics["epoch"] == [0, 10, 20, 30, 40]
    assert all(0 <= a <= 1 for a in metrics["val_acc"]) and metrics["train_loss"][-1] < 0.7

    spec, _ = runs.read_spec(out)
    again = tmp_path / "again"
    again.mkdir()
    result = training.train(spec, run_dir=again)
    assert result.status == "finished" and result.path == again
    assert (again / "metrics.csv").read_bytes() == (out / "metrics.csv").read_bytes()


def test_evaluate_on_the_training_file_gives_the_final_train_loss(book_run, capsys):
    out = book_run
    final = runs.read_metrics(out)
    assert np.isnan(final["val_loss"]).all()
    capsys.readouterr()
    assert main(["evaluate", str(out), str(CURVE), "--json"], quiet()) == 0
    numbers = json.loads(capsys.readouterr().out)
    assert numbers["n"] == 200 and np.sum(numbers["confusion"]) == 200
    assert numbers["loss"] == pytest.approx(final["train_loss"][-1], rel=1e-5)
    assert numbers["accuracy"] == pytest.approx(final["train_acc"][-1], abs=1e-6)
    console = quiet()
    assert main(["evaluate", str(out), str(CURVE)], console) == 0
    assert "confusion matrix" in console.file.getvalue()


def test_predict_writes_points_probabilities_and_labels(book_run, tmp_path):
    out = book_run
    unlabelled = tmp_path / "points.csv"
    unlabelled.write_text("x,y\n0.1,0.9\n0.8,0.2\n")
    for source, n in ((CURVE, 200), (unlabelled, 2)):
        target = tmp_path / "predicted.csv"
        assert main(["predict", str(out), str(source), "-o", str(target)], quiet()) == 0
        rows = list(csv.reader(target.read_text().splitlines()))
        assert rows[0] == ["x", "y", "p1", "predicted"] and len(rows) == n + 1
        p1 = np.array([float(r[2]) for r in rows[1:]])
        assert ((0 <= p1) & (p1 <= 1)).all()
        assert [int(r[3]) for r in rows[1:]] == (p1 > 0.5).astype(int).tolist()
    model = runs.load_run(out).model
    assert p1 == pytest.approx(model.predict_proba(np.array([[0.1, 0.9], [0.8, 0.2]]))[:, 1])


def test_three_classes_and_a_test_file(tmp_path):
    data, test = tmp_path / "gauss.csv", tmp_path / "gauss_test.csv"
    save_csv(make("gauss", n=90, classes=3, seed=1), data)
    save_csv(make("gauss", n=30, classes=3, seed=2), test)
    out = tmp_path / "run"
    argv = ["train", str(data), "--layers", "16", "--epochs", "30", "--seed", "1"]
    assert main([*argv, "--test", str(test), "--out", str(out)], quiet()) == 0
    result = json.loads((out / "config.json").read_text())["result"]
    assert result["test"]["n"] == 30 and result["n_params"] == 2 * 16 + 16 + 16 * 3 + 3
    target = tmp_path / "p.csv"
    assert main(["predict", str(out), str(test), "-o", str(target)], quiet()) == 0
    assert target.read_text().splitlines()[0] == "x,y,p0,p1,p2,predicted"


def test_default_run_directories_are_unique_within_a_second(tmp_path):
    made = [runs.new_run_dir("curve", tmp_path / "runs") for _ in range(3)]
    assert len(set(made)) == 3 and all(p.is_dir() for p in made)
    assert re.fullmatch(r"\d{8}-\d{6}-curve", made[0].name) and made[1].name == made[0].name + "-2"


def test_ctrl_c_writes_what_was_done_and_exits_130(tmp_path, monkeypatch):
    original = engine.train

    def interrupted(*args, callback, **kwargs):
        def stop_at_20(epoch, metrics):
            callback(epoch, metrics)
            if epoch >= 20:
                raise KeyboardInterrupt

        return original(*args, callback=stop_at_20, **kwargs)

    monkeypatch.setattr(engine, "train", interrupted)
    out = tmp_path / "run"
    argv = ["train", str(CURVE), "--epochs", "1000", "--log-every", "10", "--out", str(out)]
    assert main(argv, quiet()) == 130
    result = json.loads((out / "config.json").read_text())["result"]
    assert result["status"] == "interrupted" and runs.read_metrics(out)["epoch"][-1] == 20
    assert (out / "model.safetensors").exists() and (out / "loss.png").exists()


@pytest.mark.parametrize(
    "argv",
    [
        ["train", "missing.csv"],
        ["train", str(CURVE), "--lr", "-1"],
        ["train", str(CURVE), "--val-fraction", "1"],
        ["train", str(CURVE), "--epochs", "-5"],
        ["train", str(CURVE), "--device", "cuda"] if not torch.cuda.is_available() else [],
        ["train", str(CURVE), "--early-stopping", "5", "--val-fraction", "0"],
    ],
)
def test_bad_training_input_is_one_line_and_exit_2(argv, capsys):
    if argv:
        assert main(argv, quiet()) == 2
        one_error_line(capsys)


@pytest.mark.parametrize(
    "flags", [["--layers", "12a"], ["--batch-size", "0"], ["--model", "huge"], ["--epochs", "x"]]
)
def test_bad_flags_are_usage_errors(flags, capsys):
    with pytest.raises(SystemExit) as exit:
        main(["train", str(CURVE), *flags])
    assert exit.value.code == 2 and "error: argument" in capsys.readouterr().err


def test_bad_run_directories_exit_2_with_one_line(book_run, tmp_path, capsys):
    good = book_run
    broken = {name: tmp_path / name for name in ("empty", "badjson", "future", "nomodel")}
    for path in broken.values():
        path.mkdir()
    (broken["badjson"] / "config.json").write_text("{not json")
    config = json.loads((good / "config.json").read_text())
    (broken["future"] / "config.json").write_text(json.dumps({**config, "format_version": 99}))
    (broken["nomodel"] / "config.json").write_text(json.dumps(config))
    expected = {
        tmp_path / "absent": "no such run directory",
        broken["empty"]: "config.json: missing",
        broken["badjson"]: "damaged",
        broken["future"]: "run format version 99",
        broken["nomodel"]: "model.safetensors: missing",
    }
    for run_dir, message in expected.items():
        predict = ["predict", str(run_dir), str(CURVE), "-o", str(tmp_path / "o.csv")]
        for command in (["evaluate", str(run_dir), str(CURVE)], predict):
            assert main(command, quiet()) == 2
            assert message in one_error_line(capsys)
    assert main(["train", str(CURVE), "--out", str(good)], quiet()) == 2
    assert one_error_line(capsys).endswith(f"{good}: already holds a run; give another --out")


def test_the_librarys_rules_are_said_in_flags_on_the_command_line(tmp_path, capsys):
    """The rule lives in the library (`runs.check_settings`); the CLI names its own flags."""
    argv = ["train", str(CURVE), "--early-stopping", "5", "--val-fraction", "0"]
    assert main([*argv, "--out", str(tmp_path / "r")], quiet()) == 2
    expected = "pointlab: error: --early-stopping needs validation data: give --val-fraction > 0"
    assert one_error_line(capsys) == expected
    assert not (tmp_path / "r").exists()
