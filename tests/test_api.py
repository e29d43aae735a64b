"""The package-top API and the runs API under every front end: the runnable example of
docs/API.md, `TrainedModel.score`, `data.load_points`, and `import pointlab` without torch."""

import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest

import pointlab
from pointlab import runs, training
from pointlab.data import load_points

from conftest import CURVE, ROOT

# One torch thread for these tiny models: two threads on a shared 2-core machine wait for each
# other (the docs example took 27 s with two, 5 s with one, at load 9; `conftest.one_thread`).
pytestmark = pytest.mark.usefixtures("one_thread")


def test_the_example_in_docs_api_runs_and_writes_a_run_directory(tmp_path, monkeypatch, capsys):
    text = (ROOT / "docs" / "API.md").read_text()
    example = re.search(r"```python\n(.*?)```", text, re.S).group(1)
    monkeypatch.chdir(tmp_path)
    exec(compile(example, "docs/API.md", "exec"), {})
    printed = capsys.readouterr().out.splitlines()
    # A good example: the model it shows learns its data (it once stopped at 52%, near chance).
    status, epochs, accuracy = re.fullmatch(
        r"(\w+) (\d+) validation accuracy (\d+)%", printed[0]
    ).groups()
    assert (status, epochs) == ("finished", "500") and int(accuracy) >= 95
    final = pointlab.load_run(tmp_path / "runs" / "circle").result["final"]
    assert final["val_acc"] >= 0.95 and f"{final['val_acc']:.0%}" == f"{accuracy}%"
    assert re.fullmatch(r"\[\d \d\]", printed[1]) and printed[2].startswith("Score(loss=")
    score = float(re.search(r"accuracy=([\d.]+)", printed[2]).group(1))
    assert score >= 0.95  # on all 300 points
    run_dir = tmp_path / "runs" / "circle"
    names = {"config.json", "metrics.csv", "model.safetensors", "boundary.png", "loss.png"}
    assert names <= {p.name for p in run_dir.iterdir()}


def test_train_returns_a_typed_result_whose_config_json_repeats_it(tmp_path):
    config = pointlab.TrainConfig(hidden=(8,), epochs=30, seed=4)
    result = pointlab.train(CURVE, config, test=CURVE, out=tmp_path / "run", log_every=10)
    assert isinstance(result, runs.RunResult) and result.path == tmp_path / "run"
    assert result.status == "finished" and result.history["epoch"] == [0, 10, 20, 30]
    assert result.test == result.model.score(pointlab.load_data(CURVE))
    recorded = json.loads((tmp_path / "run" / "config.json").read_text())["result"]
    test = result.test
    assert recorded["test"] == {"loss": test.loss, "accuracy": test.accuracy, "n": 200} | {
        "recall": list(test.recall),  # and the per-class numbers (issue 25)
        "balanced_accuracy": test.balanced_accuracy,
        "average_precision": test.average_precision,
    }
    again = training.train(runs.read_spec(tmp_path / "run")[0])  # no directory: nothing written
    assert again.history == result.history and again.path is None


def test_score_is_the_loss_and_the_accuracy_of_the_predictions():
    data = pointlab.make_data("gauss", n=60, classes=3, seed=2)
    result = pointlab.train(data, pointlab.TrainConfig(hidden=(4,), epochs=20), val_fraction=0)
    score = result.model.score(data)
    assert score.n == 60 and score.loss == pytest.approx(result.model.loss(data.X, data.y))
    assert score.accuracy == pytest.approx(np.mean(result.model.predict(data.X) == data.y))
    assert score.loss == pytest.approx(result.last("train_loss"), rel=1e-5)


def test_a_validation_share_that_takes_a_whole_class_is_refused_before_training(tmp_path):
    config = pointlab.TrainConfig(epochs=1)
    with pytest.raises(pointlab.errors.UserError, match="^val_fraction 0.999 leaves no training"):
        pointlab.train(CURVE, config, val_fraction=0.999, out=tmp_path / "r")
    assert not (tmp_path / "r").exists()


def test_early_stopping_without_validation_data_is_refused_in_the_librarys_words():
    """It stopped silently at epoch `patience`, since no validation loss ever improved."""
    data = pointlab.make_data("curve", n=40, seed=0)
    config = pointlab.TrainConfig(hidden=(4,), epochs=50, early_stopping=5)
    with pytest.raises(pointlab.errors.UserError) as error:
        pointlab.train(data, config, val_fraction=0)
    assert str(error.value) == "early_stopping needs validation data: give val_fraction > 0"
    with pytest.raises(pointlab.errors.UserError, match="^val_fraction must be in"):
        pointlab.train(data, config, val_fraction=1.0)
    spec = runs.RunSpec.for_data(config, data, val_fraction=0.25)
    read_back = runs.RunSpec.from_dict({**spec.to_dict(), "val_fraction": 0.0})  # an old record
    with pytest.raises(pointlab.errors.UserError, match="^early_stopping needs validation"):
        training.prepare(read_back, data=data)  # is read, but not trained again


def test_a_second_train_into_the_same_out_is_refused_without_naming_a_flag(tmp_path):
    data = pointlab.make_data("curve", n=40, seed=0)
    config = pointlab.TrainConfig(hidden=(4,), epochs=3)
    pointlab.train(data, config, out=tmp_path / "run")
    with pytest.raises(pointlab.errors.UserError) as error:
        pointlab.train(data, config, out=tmp_path / "run")
    assert str(error.value) == f"{tmp_path / 'run'}: already holds a run; give another one"
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("mine")
    with pytest.raises(pointlab.errors.UserError) as error:
        pointlab.train(data, config, out=tmp_path / "mine")
    assert "--" not in str(error.value) and "is not empty (notes.txt)" in str(error.value)


def test_every_front_end_records_the_header_names_of_the_columns(tmp_path):
    """A run read back finds its columns in another file by name; only the CLI recorded them."""
    data = pointlab.make_data("curve", n=40, seed=0)
    named = tmp_path / "named.csv"
    rows = [f"{label},{x},{y}" for (x, y), label in zip(data.X.tolist(), data.y, strict=True)]
    named.write_text("\n".join(["cls,px,py", *rows]) + "\n")
    config = pointlab.TrainConfig(hidden=(4,), epochs=3)
    result = pointlab.train(named, config, columns="px,py,cls", val_fraction=0)
    assert result.spec.names == "px,py,cls" and result.spec.data == str(named.resolve())


def test_load_points_reads_files_with_and_without_labels(tmp_path):
    two = tmp_path / "two.csv"
    two.write_text("x,y\n0.1,0.9\n0.8,0.2\n")
    named = tmp_path / "named.csv"
    named.write_text("id,label,y,x\na,1,0.9,0.1\nb,0,0.2,0.8\n")
    expected = np.array([[0.1, 0.9], [0.8, 0.2]], dtype=np.float32)
    assert np.array_equal(load_points(two), expected)
    assert np.array_equal(load_points(named, "x,y"), expected)
    assert np.array_equal(load_points(named, "x,y,label"), expected)
    assert np.array_equal(load_points(CURVE), pointlab.load_data(CURVE).X)
    bad = tmp_path / "bad.csv"
    bad.write_text("0.1,0.2\n0.3,oops\n")
    with pytest.raises(pointlab.errors.UserError, match=r"bad.csv:2: y 'oops' is not a number"):
        load_points(bad)


def test_import_pointlab_does_not_import_torch():
    heavy = "('torch', 'matplotlib', 'optuna')"
    code = f"import sys, pointlab; print(sorted(m for m in {heavy} if m in sys.modules))"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.returncode == 0 and out.stdout.strip() == "[]", out.stderr


def test_records_written_before_extra_was_dropped_still_load():
    old = {**pointlab.TrainConfig().to_dict(), "extra": {}}
    assert pointlab.TrainConfig.from_dict(old) == pointlab.TrainConfig()


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["train", "--help"],
        ["sweep", "--help"],
        ["experiment", "list"],
        ["data", "show", "missing.csv"],
        ["train", "missing.csv"],
    ],
)
def test_help_and_a_bad_file_import_no_torch_matplotlib_or_optuna(argv, tmp_path):
    code = (
        f"import sys\nfrom pointlab.cli import main\ntry:\n    status = main({argv!r})\n"
        "except SystemExit as exit:\n    status = exit.code\n"
        "heavy = [m for m in ('torch', 'matplotlib', 'optuna') if m in sys.modules]\n"
        "print(status, heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert out.stdout.strip().splitlines()[-1] in ("0 []", "2 []"), (out.stdout, out.stderr)


@pytest.mark.skipif(__import__("torch").cuda.is_available(), reason="this machine has CUDA")
def test_asking_for_cuda_without_it_names_the_argument_not_a_flag(capsys):
    from pointlab.cli import main
    from pointlab.errors import UserError

    with pytest.raises(UserError) as caught:
        pointlab.train(CURVE, pointlab.TrainConfig(epochs=1), device="cuda")
    assert str(caught.value).startswith("device cuda was asked for") and "--" not in str(
        caught.value
    )
    assert main(["train", str(CURVE), "--epochs", "1", "--device", "cuda"]) == 2
    assert "error: --device cuda was asked for" in capsys.readouterr().err
