"""`pointlab generate`, called in-process: a flow-matching model of moons beats the fitted
Gaussian by more than two standard errors, its run directory holds what a learner looks at, and
bad input is one line naming the file and line, exit 2, with nothing left behind."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from pointlab.cli import main
from pointlab.data import load_csv, load_points
from pointlab.generative.run import PICTURES

from conftest import is_png

pytestmark = pytest.mark.usefixtures("one_thread")

# Small enough for the fast lane (a few seconds of training on one thread), big enough to learn
# moons: 2000 points to train, 1000 to measure against, 1000 for the floor.
QUICK = ["--epochs", "100", "--layers", "64,64"]


@pytest.fixture(scope="module")
def moons_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("generate")
    out = root / "run"
    argv = ["generate", "moons", *QUICK, "--out", str(out)]
    argv += ["--samples", "300", "-o", str(root / "points.csv")]
    assert main(argv) == 0
    return out, root / "points.csv"


def test_generate_moons_beats_the_gaussian_by_more_than_two_standard_errors(moons_run):
    record = json.loads((moons_run[0] / "config.json").read_text())
    quality = record["result"]["quality"]
    assert quality["n"] == 1000 and record["points"] == {
        "train": 2000,
        "held_out": 1000,
        "floor": 1000,
    }
    gap = quality["model_minus_gaussian"]
    assert -gap["value"] > 2 * gap["se"]
    assert quality["margin_below_gaussian_in_se"] > 2
    assert quality["model"]["value"] < quality["gaussian"]["value"]
    floor = quality["floor"]
    assert abs(floor["value"]) < 2 * floor["se"]  # the data against itself: about 0


def test_the_run_directory_holds_the_model_metrics_and_pictures(moons_run):
    out, _ = moons_run
    record = json.loads((out / "config.json").read_text())
    assert record["format"] == "pointlab-generate-run" and record["result"]["status"] == "finished"
    assert record["data"]["kind"] == "moons" and record["config"]["epochs"] == 100
    assert (out / "generator.safetensors").is_file() and (out / "generator.json").is_file()
    metrics = (out / "metrics.csv").read_text().splitlines()
    assert metrics[0] == "epoch,train_loss" and len(metrics) > 50
    for name in PICTURES:
        assert (out / name).is_file(), name
    assert all(is_png(out / name) for name in PICTURES if name.endswith(".png"))
    assert Image.open(out / "flow.gif").n_frames > 20


def test_samples_are_written_as_points_the_loader_reads(moons_run):
    _, points = moons_run
    X = load_points(points)
    assert X.shape == (300, 2) and np.isfinite(X).all()
    assert 0.0 < X[:, 0].mean() < 1.0  # in moons' own units, not standardized ones


@pytest.mark.slow  # trains a second model (a few seconds); the moons test covers the command
def test_a_conditional_model_writes_labelled_samples_from_a_csv(tmp_path, capsys):
    data = tmp_path / "blobs.csv"
    assert main(["data", "make", "gauss", "--n", "200", "--classes", "3", "-o", str(data)]) == 0
    out, points = tmp_path / "run", tmp_path / "points.csv"
    argv = ["generate", str(data), "--conditional", "--epochs", "5", "--layers", "16,16"]
    argv += ["--out", str(out), "--samples", "90", "-o", str(points)]
    assert main(argv) == 0
    written = load_csv(points)
    assert written.class_counts().tolist() == [30, 30, 30]
    assert json.loads((out / "config.json").read_text())["data"]["file"] == str(data.resolve())
    assert "beat" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("0.1,0.2,0\n0.3,oops,1\n", ":2: "),
        ("0.1,0.2,0\n0.3,nan,1\n", ":2: "),
    ],
)
def test_a_bad_csv_is_one_line_naming_the_file_and_line(tmp_path, capsys, text, words):
    data = tmp_path / "bad.csv"
    data.write_text(text)
    out = tmp_path / "run"
    assert main(["generate", str(data), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("pointlab: error: ") and err.count("\n") == 1
    assert str(data) in err and words in err
    assert not out.exists()


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["blobs"], "blobs: no such file, and not a data set to generate"),
        (["moons", "--samples", "10"], "give --samples N and -o FILE.csv together"),
        (["moons", "--embedding-size", "3"], "--embedding-size must be an even number >= 4"),
        (["moons", "--held-out", "1.5"], "held-out share must be in (0, 1)"),
        (["moons", "--n", "20"], "too few to hold out"),
        (["moons", "--columns", "a,b,c"], "--columns: for a CSV"),
        (["8gaussians", "--classes", "3"], "8gaussians: classes must be 2, 4 or 8"),
    ],
)
def test_bad_arguments_are_one_line_and_leave_nothing(tmp_path, capsys, argv, words):
    out = tmp_path / "run"
    assert main(["generate", *argv, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("pointlab: error: ") and words in err and err.count("\n") == 1
    assert not out.exists()


@pytest.mark.slow  # trains twice (a few seconds)
def test_a_ddpm_run_repeated_from_its_config_json_gives_the_same_numbers(tmp_path):
    first, again = tmp_path / "first", tmp_path / "again"
    argv = ["generate", "twospirals", "--method", "ddpm", "--steps", "20", "--epochs", "4"]
    argv += ["--layers", "16,16", "--n", "400", "--seed", "3", "--data-seed", "2"]
    assert main([*argv, "--held-out", "0.4", "--out", str(first)]) == 0
    assert main(["generate", "--config", str(first / "config.json"), "--out", str(again)]) == 0
    assert (first / "metrics.csv").read_text() == (again / "metrics.csv").read_text()
    records = [json.loads((d / "config.json").read_text()) for d in (first, again)]
    assert records[0]["config"]["method"] == "ddpm" and records[0]["config"]["seed"] == 3
    assert records[0]["data"] == records[1]["data"] and records[0]["data"]["held_out"] == 0.4
    assert records[0]["result"]["quality"] == records[1]["result"]["quality"]
    assert Image.open(first / "flow.gif").n_frames == 21  # T + 1 steps, all shown


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        (["moons"], "--config repeats the run its config.json records; DATA cannot change it"),
        (["--epochs", "5"], "--epochs cannot change it"),
        (["--held-out", "0.3"], "--held-out cannot change it"),
    ],
)
def test_config_refuses_what_would_change_the_run(tmp_path, capsys, extra, words):
    record = tmp_path / "config.json"
    record.write_text("{}")
    assert main(["generate", "--config", str(record), *extra]) == 2
    assert words in capsys.readouterr().err


def test_a_config_json_of_something_else_is_one_line(tmp_path, capsys):
    record = tmp_path / "config.json"
    record.write_text('{"format": "pointlab-run"}')
    assert main(["generate", "--config", str(record), "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert f"{record}: not the config.json of a pointlab generate run" in err
    assert err.count("\n") == 1 and not (tmp_path / "run").exists()
