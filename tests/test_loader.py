"""The CSV loader on every good case (the book's files first) and on many bad ones.

Every bad file must end in one line naming the file, the line where there is one, and the fault,
with exit status 2 and no traceback, when it goes through the command.
"""

import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from pointlab import csvtable
from pointlab.cli import main
from pointlab.cli.args import in_flags
from pointlab.data import Dataset, load_csv, save_csv
from pointlab.errors import UserError

from conftest import BOOK, SHARED

RIPLEY = SHARED / "datasets" / "ripley_synth_train.csv"
needs_book = pytest.mark.skipif(not BOOK.is_dir(), reason=f"the book's files are not at {BOOK}")
needs_ripley = pytest.mark.skipif(not RIPLEY.is_file(), reason=f"Ripley's set is not at {RIPLEY}")

BOOK_ROWS = (
    b"3.949785611484774028e-01,2.102803861232633853e-01,0.000000000000000000e+00\n"
    b"2.536423547222862451e-01,9.542483706055390202e-01,1.000000000000000000e+00\n"
    b"7.231352180317337508e-01,2.749202113120079449e-01,0.000000000000000000e+00\n"
)
POINTS = np.array(
    [
        [0.3949785611484774, 0.2102803861232634],
        [0.2536423547222862, 0.954248370605539],
        [0.7231352180317338, 0.2749202113120079],
    ],
    dtype=np.float32,
)

LABELS = np.array([0, 1, 0])


def write(tmp_path: Path, content: bytes, name: str = "points.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


@needs_book
@pytest.mark.parametrize("name", ["linear", "curve", "random"])
def test_the_books_files_load_unchanged(name):
    data = load_csv(BOOK / f"{name}.csv")
    reference = np.loadtxt(BOOK / f"{name}.csv", delimiter=",")  # what the book itself reads
    assert len(data) == 200 and data.n_classes == 2 and data.name == name
    assert np.array_equal(data.X, reference[:, :2].astype(np.float32))
    assert np.array_equal(data.y, reference[:, 2].astype(np.int64))
    assert data.class_counts().sum() == 200


@needs_ripley
@pytest.mark.parametrize("columns", [None, "xs,ys,yc", "1,2,3", "-3,-2,-1", " xs , ys , yc "])
def test_ripley_with_header_and_row_names(columns):
    data = load_csv(RIPLEY, columns)
    assert len(data) == 250 and data.n_classes == 2
    assert data.class_counts().tolist() == [125, 125]
    assert data.X[0].tolist() == pytest.approx([0.05100797, 0.16086164])


@pytest.mark.parametrize(
    "content",
    [
        BOOK_ROWS,
        BOOK_ROWS.replace(b"\n", b"\r\n"),  # CRLF
        BOOK_ROWS.rstrip(b"\n"),  # no final newline
        BOOK_ROWS + b"\n\n  \n",  # blank lines at the end
        BOOK_ROWS.replace(b"\n", b"\n\n", 1),  # a blank line in the middle is skipped too
        b"\xef\xbb\xbf" + BOOK_ROWS,  # a UTF-8 byte-order mark
        b"# x,y,label\n" + BOOK_ROWS,  # a savetxt header comment
        BOOK_ROWS.replace(b",", b" , ").replace(b"\n", b" \t\n"),  # spaces around values
        BOOK_ROWS.replace(b"0.000000000000000000e+00\n", b"0\n").replace(
            b"1.000000000000000000e+00", b"1"
        ),
        b"x,y,label\n" + BOOK_ROWS.replace(b"1.000000000000000000e+00", b"1.0"),
        b'"x","y","label"\n' + BOOK_ROWS.replace(b"1.000000000000000000e+00", b"1e0"),
        b"".join(b'"%s"\n' % b'", "'.join(r.split(b",")) for r in BOOK_ROWS.splitlines()),
        b",x,y,label\n"  # pandas' header with an index column, names in the first column
        + b"".join(b"p%d," % i + row + b"\n" for i, row in enumerate(BOOK_ROWS.splitlines())),
    ],
    ids=[
        "book",
        "crlf",
        "no-final-newline",
        "blank-at-end",
        "blank-in-middle",
        "bom",
        "comment",
        "spaces",
        "integer-labels",
        "header",
        "quoted-header",
        "all-quoted",
        "row-names",
    ],
)
def test_good_files(tmp_path, content):
    data = load_csv(write(tmp_path, content))
    assert np.array_equal(data.X, POINTS) and np.array_equal(data.y, LABELS)
    assert data.n_classes == 2 and data.name == "points"


def test_columns_by_name_and_index_in_any_order(tmp_path):
    path = write(tmp_path, b"label,id,y,x\n1,a,0.5,0.25\n0,b,0.75,0.125\n")
    for columns in ["x,y,label", "3,2,0", "x,2,label"]:
        data = load_csv(path, columns)
        assert data.X.tolist() == [[0.25, 0.5], [0.125, 0.75]] and data.y.tolist() == [1, 0]


def test_more_classes(tmp_path):
    data = load_csv(write(tmp_path, b"0,0,0\n1,1,1\n2,2,2\n0.5,0.5,2\n"))
    assert data.n_classes == 3 and data.class_counts().tolist() == [1, 1, 2]


@settings(max_examples=25, deadline=None)
@given(
    points=arrays(np.float32, (7, 2), elements=st.floats(-1e6, 1e6, width=32)),
    labels=st.lists(st.integers(0, 2), min_size=7, max_size=7).filter(
        lambda y: set(y) == {0, 1, 2}
    ),
)
def test_what_is_saved_loads_back_exactly(tmp_path_factory, points, labels):
    data = Dataset(points, np.array(labels, dtype=np.int64), 3, "p", "test")
    back = load_csv(save_csv(data, tmp_path_factory.mktemp("round") / "p.csv"))
    assert np.array_equal(back.X, data.X) and np.array_equal(back.y, data.y)


def test_save_is_the_books_format_and_keeps_the_old_file_on_failure(tmp_path, monkeypatch):
    path = write(tmp_path, BOOK_ROWS)
    data = load_csv(path)
    save_csv(data, tmp_path / "again.csv")
    lines = (tmp_path / "again.csv").read_text().splitlines()
    assert lines[1].endswith(",1.000000000000000000e+00") and len(lines) == 3

    def fail(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "savetxt", fail)
    with pytest.raises(UserError, match="No space left"):
        save_csv(data, path)
    assert path.read_bytes() == BOOK_ROWS
    assert sorted(p.name for p in tmp_path.iterdir()) == ["again.csv", "points.csv"]  # no temp


ROW = b"0.5,0.5,1\n"
# (id, file content or None for no file, --columns, words in the message, line number or None)
BAD = [
    ("missing", None, None, "no such file", None),
    ("empty", b"", None, "the file is empty", None),
    ("only-blank", b"\n \r\n\n", None, "no data rows", None),
    ("only-comments", b"# x,y,label\n", None, "no data rows", None),
    ("header-only", b"x,y,label\n\n", None, "header line but no data rows", None),
    ("4-columns", b"0.1,0.2,0\n0.3,0.4,1,7\n", None, "columns, found 4", 2),
    ("too-few-columns", b"0.1,0.2,0\n\n0.3,1\n", None, "columns, found 2", 3),
    ("two-columns", b"0.1,0\n0.2,1\n", None, "need at least 3", 1),
    ("space-separated", b"0.1 0.2 0\n0.3 0.4 1\n", None, "need at least 3 comma-separated", 1),
    ("semis", b"0,5;0,3;1\n0,2;0,7;0\n", None, "not a number (separate values with commas)", 1),
    ("empty-value", b"0.1,0.2,0\n0.3,,1\n", None, "empty value for y", 2),
    ("empty-label", b"0.1,0.2,0\n0.3,0.4,\n", None, "empty value for label", 2),
    ("text", b"0.1,0.2,0\n0.3,abc,1\n", None, "y 'abc' is not a number", 2),
    ("text-first-row", b"0.1,abc,0\n0.3,0.4,1\n", None, "y 'abc' is not a number", 1),
    ("underscore", b"0.1,0.2,0\n1_000,0.4,1\n", None, "x '1_000' is not a number", 2),
    ("fullwidth-digit", "0,0,0\n0,0,１\n".encode(), None, "label '１' is not a number", 2),
    ("quote-inside", b'0,0,0\n0,"0.5,1\n', None, "y '\"0.5' is not a number", 2),
    ("nan", b"0.1,0.2,0\nnan,0.4,1\n", None, "NaN and infinity are not allowed", 2),
    ("inf", b"0.1,0.2,0\n0.3,-Infinity,1\n", None, "NaN and infinity are not allowed", 2),
    ("nan-label", b"0.1,0.2,0\n0.3,0.4,NaN\n", None, "label is 'NaN'", 2),
    ("huge", b"0.1,0.2,0\n1e39,0.4,1\n", None, "too large", 2),
    ("half-label", b"0.1,0.2,0\n0.3,0.4,0.5\n0.5,0.6,1\n", None, "label 0.5 is not a class", 2),
    ("label-1.5", b"0.1,0.2,0\n0.5,0.6,1\n0.3,0.4,1.5\n", None, "label 1.5 is not a class", 3),
    ("negative-label", b"0.1,0.2,0\n0.3,0.4,-1\n0.3,0.4,1\n", None, "label -1 is not a class", 2),
    ("huge-label", b"0.1,0.2,0\n0.3,0.4,1\n0.3,0.4,1e9\n", None, "label 1000000000 is larger", 3),
    ("nearly-whole", b"0,0,0\n0,0,1\n0,0,1.0000000001\n", None, "label 1.0000000001 is not", 3),
    ("gap", b"0,0,0\n0,0,2\n1,1,2\n", None, "class 1 has no points (labels found: 0, 2)", None),
    ("from-one", b"0.1,0.2,1\n0.3,0.4,2\n0.3,0.4,2\n", None, "class 0 has no points", None),
    ("one-class", ROW * 5, None, "every point has label 1; need at least two classes", None),
    ("one-row", ROW, None, "need at least two classes", None),
    ("binary", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", None, "binary file", None),
    ("latin-1", b"x,y,cat\xe9gorie\n0.1,0.2,0\n", None, "not UTF-8 text", 1),
    ("old-mac", b"0.1,0.2,0\r0.3,0.4,1\r", None, "stray carriage return", 1),
    ("unknown", b"x,y,label\n0,0,0\n", "x,y,class", "column 'class' is not in the header", None),
    ("duplicate-name", b"x,y,y,label\n0.1,0.2,0.3,0\n", "x,y,label", "'y' appears twice", None),
    ("name-no-header", ROW, "x,y,label", "given by name, but the file has no header", None),
    ("index-out-of-range", ROW, "0,1,3", "index 3 is out of range: the file has 3", None),
    ("same-column-twice", ROW, "0,0,2", "three different columns", None),
    ("two-columns-given", ROW, "0,1", "give three columns X,Y,LABEL", None),
]


@pytest.mark.parametrize(
    ("content", "columns", "words", "line"),
    [case[1:] for case in BAD],
    ids=[case[0] for case in BAD],
)
def test_bad_files_end_in_one_clear_line(tmp_path, capsys, content, columns, words, line):
    path = tmp_path / "bad.csv" if content is None else write(tmp_path, content, "bad.csv")
    with pytest.raises(UserError) as caught:
        load_csv(path, columns)
    message = str(caught.value)
    assert words in message and "\n" not in message
    assert "--" not in message  # the library names its argument, `columns`; the CLI its flag
    if not message.startswith("columns "):
        assert message.startswith(f"{path}:" if line is None else f"{path}:{line}: ")

    png = tmp_path / "bad.png"
    argv = ["data", "show", str(path), "-o", str(png)] + (["--columns", columns] if columns else [])
    assert main(argv) == 2
    out, err = capsys.readouterr()
    said = in_flags(caught.value)  # the command line names its flag: --columns
    assert err == f"pointlab: error: {said}\n" and "Traceback" not in err and out == ""
    assert not png.exists()


def test_a_directory_is_refused(tmp_path, capsys):
    with pytest.raises(UserError, match=f"^{re.escape(str(tmp_path))}: is a directory, not a CSV"):
        load_csv(tmp_path)
    assert main(["data", "show", str(tmp_path), "-o", str(tmp_path / "x.png")]) == 2
    assert capsys.readouterr().err.count("\n") == 1


# The loader reads in chunks and takes numpy's fast path only for chunks of the common shape; every
# case must come out the same whatever the chunk size, good files and bad.
@pytest.mark.parametrize(
    ("content", "columns", "words", "line"),
    [case[1:] for case in BAD if case[1] is not None],
    ids=[case[0] for case in BAD if case[1] is not None],
)
def test_bad_files_same_message_in_small_chunks(
    tmp_path, monkeypatch, content, columns, words, line
):
    path = write(tmp_path, content, "bad.csv")
    with pytest.raises(UserError) as whole:
        load_csv(path, columns)
    monkeypatch.setattr(csvtable, "CHUNK_BYTES", 7)
    with pytest.raises(UserError) as chunked:
        load_csv(path, columns)
    assert str(chunked.value) == str(whole.value)


def big_file(tmp_path: Path, rows: int = 30_000) -> tuple[Path, np.ndarray]:
    rng = np.random.default_rng(1)
    table = np.column_stack([rng.normal(size=(rows, 2)), rng.integers(0, 3, rows)])
    path = tmp_path / "big.csv"
    np.savetxt(path, table, fmt="%.18e", delimiter=",")
    return path, table


def test_a_large_file_in_many_chunks_reads_exactly_and_reports_progress(tmp_path, monkeypatch):
    path, table = big_file(tmp_path)
    monkeypatch.setattr(csvtable, "CHUNK_BYTES", 100_000)  # 23 chunks
    seen: list[tuple[int, int]] = []
    data = load_csv(path, progress=lambda done, total: seen.append((done, total)))
    assert np.array_equal(data.X, table[:, :2].astype(np.float32))
    assert np.array_equal(data.y, table[:, 2].astype(np.int64)) and data.n_classes == 3
    size = path.stat().st_size
    assert len(seen) > 20 and seen[-1] == (size, size)
    assert all(a[0] < b[0] for a, b in zip(seen, seen[1:], strict=False))


@pytest.mark.parametrize(
    ("damage", "words"),
    [
        (lambda row: row.replace(b"e", b"_", 1), "x '"),
        (lambda row: row + b",7", "expected 3 comma-separated columns, found 4"),
        (lambda row: b"nan" + row[row.index(b",") :], "NaN and infinity are not allowed"),
        (lambda row: row[: row.rindex(b",")] + b",0.5", "label 0.5 is not a class"),
        (lambda row: b'"1e39"' + row[row.index(b",") :], "too large"),
    ],
    ids=["text", "extra-column", "nan", "half-label", "huge-quoted"],
)
def test_a_fault_deep_in_a_large_file_names_its_line(tmp_path, monkeypatch, damage, words):
    path, _ = big_file(tmp_path)
    lines = path.read_bytes().split(b"\n")
    lines[100:100] = [b"", b"# a comment", b"  "]  # blank and comment lines shift the numbers
    lines[25_002] = damage(lines[25_002])  # the file's line 25,003
    path.write_bytes(b"\r\n".join(lines))  # and CRLF line ends
    monkeypatch.setattr(csvtable, "CHUNK_BYTES", 100_000)
    with pytest.raises(UserError) as caught:
        load_csv(path)
    assert str(caught.value).startswith(f"{path}:25003: ") and words in str(caught.value)


def headed(header: str, row: str) -> bytes:
    """BOOK_ROWS under `header`, each row written as `row` formats (x, y, label) and an index."""
    lines = [line.split(b",") for line in BOOK_ROWS.splitlines()]
    body = [
        row.format(i=i, x=x.decode(), y=y.decode(), label=label.decode())
        for i, (x, y, label) in enumerate(lines)
    ]
    return (header + "\n" + "\n".join(body) + "\n").encode()


@pytest.mark.parametrize(
    ("header", "row"),
    [
        ("id,x,y,label,weight", "{i},{x},{y},{label},2.5"),  # the tester's file
        ("ID,X,Y,Label,Weight", "{i},{x},{y},{label},1"),  # any case
        ("label,weight,y,x", "{label},1,{y},{x}"),  # any order
    ],
)
def test_a_header_is_read_by_the_columns_named_x_y_and_label(tmp_path, header, row):
    """`id,x,y,label,weight` was read by position: `weight` became the label."""
    data = load_csv(write(tmp_path, headed(header, row)))
    assert np.array_equal(data.X, POINTS) and np.array_equal(data.y, LABELS)


def test_a_header_that_names_only_some_roles_is_refused_naming_its_columns(tmp_path, capsys):
    path = write(tmp_path, headed("id,x,y,class,weight", "{i},{x},{y},{label},1"))
    with pytest.raises(UserError) as caught:
        load_csv(path)
    assert str(caught.value) == (
        f"{path}: cannot tell which columns are x, y and label (header: id, x, y, class, "
        "weight); name them x, y and label, or give columns X,Y,LABEL"
    )
    data = load_csv(path, "x,y,class")
    assert np.array_equal(data.X, POINTS) and np.array_equal(data.y, LABELS)
    assert main(["data", "show", str(path)]) == 2
    assert "give --columns X,Y,LABEL" in capsys.readouterr().err
