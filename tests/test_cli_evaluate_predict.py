"""`evaluate` and `predict` on files that do not look like the training file (issue 16): columns
found by the run's own names, other class counts, a model whose outputs are not finite."""

import csv
import io
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from pointlab import runs
from pointlab.checkpoint import save_model
from pointlab.cli import main
from pointlab.data import save_csv
from pointlab.generators import make

from conftest import CURVE, quiet


def train(tmp_path: Path, data: Path, *extra: str) -> Path:
    out = tmp_path / f"run-{data.stem}"
    argv = ["train", str(data), "--epochs", "30", "--seed", "3", "--layers", "8", "--out", str(out)]
    assert main([*argv, *extra], quiet()) == 0
    return out


def predicted_points(path: Path) -> np.ndarray:
    rows = list(csv.reader(path.read_text().splitlines()))[1:]
    return np.array([[float(r[0]), float(r[1])] for r in rows])


@pytest.fixture(scope="module")
def book_run(tmp_path_factory) -> Path:
    return train(tmp_path_factory.mktemp("book"), CURVE)


def test_predict_reads_x_and_y_by_name_not_by_position(book_run, tmp_path, capsys):
    # The tester's file: the last three columns are y, label, id, which predict used as inputs.
    source = tmp_path / "with_id.csv"
    source.write_text("x,y,label,id\n0.1,0.9,1,17\n0.8,0.2,0,18\n")
    target = tmp_path / "out.csv"
    assert main(["predict", str(book_run), str(source), "-o", str(target)], quiet()) == 0
    assert predicted_points(target) == pytest.approx(np.array([[0.1, 0.9], [0.8, 0.2]]))

    # --columns picks any two (or three) columns, by name or index.
    swapped = tmp_path / "swapped.csv"
    swapped.write_text("id,b,a\n1,0.9,0.1\n2,0.2,0.8\n")
    for columns in ("a,b", "2,1", "a,b,id"):
        argv = ["predict", str(book_run), str(swapped), "-o", str(target), "--columns", columns]
        assert main(argv, quiet()) == 0
        assert predicted_points(target) == pytest.approx(np.array([[0.1, 0.9], [0.8, 0.2]]))

    # A header it cannot map is refused, with nothing written.
    target.unlink()
    assert main(["predict", str(book_run), str(swapped), "-o", str(target)], quiet()) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot tell which columns are x and y" in err
    assert "--columns" in err and not target.exists()


def test_a_run_trained_on_named_columns_finds_them_by_name(tmp_path, capsys):
    data = make("moons", n=60, seed=0)
    named = tmp_path / "named.csv"
    rows = [
        f"p{i},{y},{x0},{x1}" for i, ((x0, x1), y) in enumerate(zip(data.X, data.y, strict=True))
    ]
    named.write_text("name,cls,u,v\n" + "\n".join(rows) + "\n")
    run = train(tmp_path, named, "--columns", "u,v,cls")
    assert runs.read_spec(run)[0].names == "u,v,cls"

    # Another file, the same names in another order: predict and evaluate follow the names.
    other = tmp_path / "other.csv"
    other.write_text(
        "v,u,cls\n"
        + "\n".join(f"{x1},{x0},{y}" for (x0, x1), y in zip(data.X, data.y, strict=True))
    )
    target = tmp_path / "p.csv"
    assert main(["predict", str(run), str(other), "-o", str(target)], quiet()) == 0
    assert predicted_points(target) == pytest.approx(data.X.astype(np.float64), abs=1e-6)
    capsys.readouterr()
    assert main(["evaluate", str(run), str(other), "--json"], quiet()) == 0
    on_other = json.loads(capsys.readouterr().out)
    assert main(["evaluate", str(run), str(named), "--json"], quiet()) == 0
    assert on_other["accuracy"] == json.loads(capsys.readouterr().out)["accuracy"]

    # A file that lacks one of the run's columns is refused, naming it.
    lacking = tmp_path / "lacking.csv"
    lacking.write_text("u,w,cls\n0,0,0\n1,1,1\n")
    assert main(["predict", str(run), str(lacking), "-o", str(target)], quiet()) == 2
    assert "y column 'v' is not in this file's header" in capsys.readouterr().err


def test_evaluate_says_when_the_files_classes_differ_from_the_models(tmp_path, capsys):
    three = tmp_path / "three.csv"
    save_csv(make("gauss", n=90, classes=3, seed=1), three)
    run = train(tmp_path, three)
    two = tmp_path / "two.csv"
    save_csv(make("gauss", n=60, classes=2, seed=1), two)
    capsys.readouterr()
    assert main(["evaluate", str(run), str(two)], quiet()) == 0
    err = capsys.readouterr().err
    assert "warning" in err and "has 2 classes" in err and "the model 3" in err
    assert main(["evaluate", str(run), str(two), "--json"], quiet()) == 0
    captured = capsys.readouterr()
    assert "has 2 classes" in captured.err
    assert json.loads(captured.out)["file_classes"] == 2

    # The other way round cannot be meaningful: an error.
    two_class_run = train(tmp_path, two)
    assert main(["evaluate", str(two_class_run), str(three)], quiet()) == 2
    assert "the model knows 2 classes" in capsys.readouterr().err


def test_evaluate_json_is_json_when_the_loss_is_not_a_number(book_run, tmp_path, capsys):
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / runs.CONFIG).write_bytes((book_run / runs.CONFIG).read_bytes())
    model = runs.load_run(book_run).model
    state = {k: torch.full_like(v, float("nan")) for k, v in model.state.items()}
    save_model(broken / runs.MODEL, model.config, state, model.n_classes)
    capsys.readouterr()
    assert main(["evaluate", str(broken), str(CURVE), "--json"], quiet()) == 0
    captured = capsys.readouterr()

    def refuse(constant: str) -> None:
        raise ValueError(f"not JSON: {constant}")

    numbers = json.loads(captured.out, parse_constant=refuse)
    assert numbers["loss"] is None and "not finite" in numbers["notes"][0]
    assert "loss is null" in captured.err


def test_train_refuses_a_directory_of_the_users_own_files(tmp_path, capsys):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "metrics.csv").write_text("my own numbers\n")
    (mine / "loss.png").write_bytes(b"my picture")
    argv = ["train", str(CURVE), "--epochs", "5", "--out", str(mine)]
    assert main(argv, quiet()) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is not empty (loss.png, metrics.csv) and is not a run" in err
    assert (mine / "metrics.csv").read_text() == "my own numbers\n"
    assert sorted(p.name for p in mine.iterdir()) == ["loss.png", "metrics.csv"]
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main([*argv[:-1], str(empty)], quiet()) == 0  # an empty directory is fine


def tampered(book_run: Path, tmp_path: Path, config) -> Path:
    """A copy of `book_run` whose config.json has `config` replaced (a dict: fields updated)."""
    copy = tmp_path / "tampered"
    copy.mkdir(exist_ok=True)
    (copy / runs.MODEL).write_bytes((book_run / runs.MODEL).read_bytes())
    document = json.loads((book_run / runs.CONFIG).read_text())
    if isinstance(config, dict):
        document["config"].update(config)
    else:
        document["config"] = config
    (copy / runs.CONFIG).write_text(json.dumps(document))
    return copy


def commands(run: Path, tmp_path: Path) -> list[list[str]]:
    return [
        ["evaluate", str(run), str(CURVE)],
        ["predict", str(run), str(CURVE), "-o", str(tmp_path / "p.csv")],
        ["explain", str(CURVE), "--run", str(run), "--out", str(tmp_path / "explained")],
    ]


@pytest.mark.parametrize("config", ["hello", None, 3])
def test_a_config_json_whose_config_is_not_an_object_is_one_line_exit_2(
    book_run, tmp_path, capsys, config
):
    run = tampered(book_run, tmp_path, config)
    for argv in commands(run, tmp_path):
        assert main(argv, quiet()) == 2, argv
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "Traceback" not in err, err
        assert f"{run / runs.CONFIG}: damaged run configuration" in err
        assert "must be a JSON object" in err
    assert not (tmp_path / "p.csv").exists() and not (tmp_path / "explained").exists()


@pytest.mark.parametrize(
    ("change", "says"),
    [({"hidden": [64, 64]}, "hidden 64,64"), ({"activation": "tanh"}, "activation tanh")],
)
def test_a_config_json_that_disagrees_with_the_weights_is_refused(
    book_run, tmp_path, capsys, change, says
):
    run = tampered(book_run, tmp_path, change)
    for argv in commands(run, tmp_path):
        assert main(argv, quiet()) == 2, argv
        err = capsys.readouterr().err
        assert err.count("\n") == 1, err
        assert f"{run / runs.CONFIG}: says {says}, but its model.safetensors holds" in err
    assert not (tmp_path / "p.csv").exists()


def test_predict_refuses_a_model_with_nan_weights_and_writes_nothing(book_run, tmp_path, capsys):
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / runs.CONFIG).write_bytes((book_run / runs.CONFIG).read_bytes())
    model = runs.load_run(book_run).model
    state = {k: torch.full_like(v, float("nan")) for k, v in model.state.items()}
    save_model(broken / runs.MODEL, model.config, state, model.n_classes)
    target = tmp_path / "p.csv"
    capsys.readouterr()
    assert main(["predict", str(broken), str(CURVE), "-o", str(target)], quiet()) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "weights are not finite" in err and "nothing was written" in err
    assert not target.exists()


def test_captions_break_between_phrases_at_80_columns(book_run, tmp_path):
    """At 80 columns the confusion matrix's caption and train's summary wrapped mid-phrase."""
    from rich.console import Console

    console = Console(file=io.StringIO(), width=80)
    assert main(["evaluate", str(book_run), str(CURVE)], console) == 0
    argv = ["train", str(CURVE), "--epochs", "5", "--test", str(CURVE)]
    assert main([*argv, "--out", str(tmp_path / "r")], console) == 0
    lines = [line.strip() for line in console.file.getvalue().splitlines()]
    assert "confusion matrix (rows: true label, columns: predicted):" in lines
    phrases = ["of 5 epochs", "stopped: reached --epochs", "s on cpu", "seed 0"]
    phrases += ["saved weights: final, from epoch 5", "parameters"]
    for phrase in phrases:
        assert any(phrase in line for line in lines), phrase
    tables = [line for line in console.file.getvalue().splitlines() if "/" not in line]
    assert all(len(line) <= 80 for line in tables)  # paths are printed whole, the rest fits
