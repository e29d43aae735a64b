"""`pointlab data make` and `pointlab data show`, called in-process."""

import struct
from pathlib import Path

import numpy as np
import pytest

from pointlab.cli import main
from pointlab.data import load_csv
from pointlab.generators import make

from conftest import BOOK, PNG_SIGNATURE

BOOK_RANDOM = BOOK / "random.csv"


def png_size(path: Path) -> tuple[int, int]:
    """(width, height) from the PNG header, after checking it is a PNG."""
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_make_writes_the_books_format(tmp_path, capsys):
    out = tmp_path / "c.csv"
    assert main(["data", "make", "curve", "-o", str(out)]) == 0
    assert capsys.readouterr().out.startswith(f"wrote {out}: 200 points (class 0: ")
    data = load_csv(out)
    expected = make("curve")
    assert np.array_equal(data.X, expected.X) and np.array_equal(data.y, expected.y)
    first = out.read_text().splitlines()[0].split(",")
    assert len(first) == 3 and first[2] in {"0.000000000000000000e+00", "1.000000000000000000e+00"}


def test_make_passes_every_option(tmp_path):
    out = tmp_path / "s.csv"
    argv = ["data", "make", "spiral", "--n", "90", "--classes", "3", "--noise", "0.01"]
    argv += ["--label-noise", "0.2", "--seed", "5", "-o", str(out)]
    assert main(argv) == 0
    expected = make("spiral", n=90, classes=3, noise=0.01, label_noise=0.2, seed=5)
    data = load_csv(out)
    assert np.array_equal(data.X, expected.X) and np.array_equal(data.y, expected.y)


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (
            ["data", "make", "linear", "--classes", "3"],
            "linear: this data set has exactly 2 classes",
        ),
        (["data", "make", "gauss", "--n", "0"], "number of points must be a whole number >= 1"),
        (["data", "make", "xor", "--label-noise", "2"], "label noise is a probability"),
    ],
)
def test_make_refuses_bad_options_in_one_line(tmp_path, capsys, argv, words):
    out = tmp_path / "x.csv"
    assert main([*argv, "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("pointlab: error: ") and words in err and err.count("\n") == 1
    assert not out.exists()


def test_make_into_a_missing_directory_is_one_clear_line(tmp_path, capsys):
    assert main(["data", "make", "moons", "-o", str(tmp_path / "no" / "m.csv")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_unknown_kind_is_an_argparse_error(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["data", "make", "blobs", "-o", "x.csv"])
    assert exited.value.code == 2 and "invalid choice: 'blobs'" in capsys.readouterr().err


@pytest.mark.skipif(not BOOK_RANDOM.is_file(), reason=f"the book's file is not at {BOOK_RANDOM}")
def test_show_draws_the_books_file(tmp_path, capsys):
    png = tmp_path / "r.png"
    assert main(["data", "show", str(BOOK_RANDOM), "-o", str(png)]) == 0
    assert capsys.readouterr().out == f"wrote {png}: 200 points (class 0: 105, class 1: 95)\n"
    width, height = png_size(png)
    assert 400 <= width <= 2000 and 400 <= height <= 2000
    assert png.stat().st_size > 10_000  # 200 coloured points, axes and text: not a blank image


def test_show_writes_next_to_the_csv_by_default(tmp_path, capsys):
    csv = tmp_path / "g.csv"
    main(["data", "make", "gauss", "--classes", "4", "-o", str(csv)])
    assert main(["data", "show", str(csv)]) == 0
    assert f"wrote {tmp_path / 'g.png'}: 200 points" in capsys.readouterr().out
    png_size(tmp_path / "g.png")


def test_show_with_columns(tmp_path):
    csv = tmp_path / "named.csv"
    csv.write_text("label,x,y,note\n0,0.1,0.2,a\n1,0.3,0.4,b\n")
    assert (
        main(["data", "show", str(csv), "--columns", "x,y,label", "-o", str(tmp_path / "n.png")])
        == 0
    )
    png_size(tmp_path / "n.png")


def test_show_without_a_display_says_so_after_writing(tmp_path, capsys, monkeypatch):
    import matplotlib.pyplot as plt

    monkeypatch.setattr(plt, "get_backend", lambda: "agg")  # as on a machine with no display
    csv = tmp_path / "x.csv"
    main(["data", "make", "xor", "-o", str(csv)])
    assert main(["data", "show", str(csv), "--show"]) == 2
    captured = capsys.readouterr()
    assert "cannot open a window" in captured.err and captured.err.count("\n") == 1
    assert (tmp_path / "x.png").is_file()


def test_show_opens_a_window_only_when_asked(tmp_path, monkeypatch):
    import matplotlib.pyplot as plt

    shown = []
    monkeypatch.setattr(plt, "get_backend", lambda: "tkagg")
    monkeypatch.setattr(plt, "show", lambda: shown.append(True))
    csv = tmp_path / "x.csv"
    main(["data", "make", "xor", "-o", str(csv)])
    assert main(["data", "show", str(csv)]) == 0 and shown == []
    assert main(["data", "show", str(csv), "--show"]) == 0 and shown == [True]
    plt.close("all")


@pytest.mark.parametrize("command", [["data"], ["data", "make"], ["data", "show"]])
def test_help_documents_every_flag_with_its_default(capsys, command):
    with pytest.raises(SystemExit) as exited:
        main([*command, "--help"])
    assert exited.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    if command == ["data", "make"]:
        for flag in ["--n N", "--classes K", "--noise X", "--label-noise P", "--seed S", "-o"]:
            assert flag in text
        assert text.count("default") >= 5
    if command == ["data", "show"]:
        for flag in ["-o FILE.png", "--show", "--columns X,Y,LABEL"]:
            assert flag in text
        assert text.count("default") >= 3


def test_make_warns_when_a_class_is_left_empty(tmp_path, capsys):
    assert (
        main(["data", "make", "gauss", "--n", "2", "--classes", "3", "-o", str(tmp_path / "g.csv")])
        == 0
    )
    out = capsys.readouterr().out
    assert "2 points (class 0: 1, class 1: 1, class 2: 0)" in out
    assert "warning: class 2 has no points" in out
