"""The book's commands, `src/train.py` and `src/dump_points.py`, called in-process."""

import importlib.util
import re
import shutil
from pathlib import Path

import pytest

from conftest import BOOK, CURVE, DATA, ROOT, is_png

BOOK_CURVE = BOOK / "curve.csv"
LINE = re.compile(r"^Epoch \d+, Loss: [0-9.e-]+$")


def script(name: str):
    spec = importlib.util.spec_from_file_location(f"book_{name}", ROOT / "src" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def data(tmp_path) -> Path:
    """A copy of data/curve.csv, so the pictures land in tmp_path and not in the repository."""
    return Path(shutil.copy(CURVE, tmp_path / "curve.csv"))


def test_train_prints_the_books_lines_then_the_picture(data, capsys):
    assert script("train").main([str(data), "simple"], epochs=100, print_every=5, show=False) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 22 and all(LINE.match(line) for line in lines[:21])
    assert [int(line.split()[1].rstrip(",")) for line in lines[:21]] == list(range(0, 101, 5))
    assert lines[21] == f"wrote {data.parent / 'curve_simple.png'}"
    assert is_png(data.parent / "curve_simple.png")


def test_train_loss_is_printed_as_python_prints_a_float32(data, capsys):
    script("train").main([str(data), "complex"], epochs=0, show=False)
    loss = capsys.readouterr().out.splitlines()[0].split("Loss: ")[1]
    import numpy as np

    assert loss == str(float(np.float32(loss)))  # the float32 value, shortest repr
    assert 0.6 < float(loss) < 0.8  # an untrained model's cross-entropy is near log 2


@pytest.mark.parametrize("argv", [[], ["only_data.csv"], ["data/curve.csv", "medium"]])
def test_train_usage_errors_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as exit:
        script("train").main(argv)
    assert exit.value.code == 2
    assert capsys.readouterr().err.startswith("usage: train.py [-h] data {simple,complex}")


def test_train_bad_data_is_one_line(tmp_path, capsys):
    assert script("train").main([str(tmp_path / "nope.csv"), "simple"], show=False) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith("train.py: error: ") and "no such file" in err[0]


def test_dump_points_draws_the_points(tmp_path, capsys):
    data = Path(shutil.copy(DATA / "random.csv", tmp_path / "random.csv"))
    assert script("dump_points").main([str(data)], show=False) == 0
    assert is_png(tmp_path / "random.png")
    assert "random.png" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        script("dump_points").main([])


@pytest.mark.skipif(not BOOK_CURVE.exists(), reason="the book's data is not in ../shared/book")
def test_complex_learns_the_books_curve(tmp_path, capsys):
    data = Path(shutil.copy(BOOK_CURVE, tmp_path / "curve.csv"))
    assert script("train").main([str(data), "complex"], epochs=800, print_every=400) == 0
    losses = [float(line.split("Loss: ")[1]) for line in capsys.readouterr().out.splitlines()[:3]]
    assert losses[0] > 0.6 and losses[2] < 0.2  # 20000 epochs reach ~0.001; see BOOK_TRAIN.md
