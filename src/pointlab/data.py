"""Data sets of labelled 2-D points: the `Dataset` record, the CSV loader and the CSV writer.

The book's format comes first: no header, three comma-separated columns x, y, label, numbers written
by `numpy.savetxt(fmt="%.18e", delimiter=",")`, labels as floats (`1.000000000000000000e+00`).
Files with a header row and more columns load too (`columns` picks x, y and the label).

Loader rules (anything else is refused with a `UserError` naming the file, the line and the fault):
- text in UTF-8 (a byte-order mark is fine); LF or CRLF line ends; the final newline is optional;
- blank lines are skipped wherever they are, and so are lines starting with `#` (what `savetxt`
  writes for a header comment and `numpy.loadtxt` skips); line numbers in messages count them;
- the first line is a header when none of its fields is a number (an empty field is allowed, as in
  the header pandas writes for a row-index column);
- one pair of double quotes around a value or a header name is dropped (no commas inside quotes);
- every row has as many fields as the first one; spaces around a value are ignored;
- only the chosen columns must be numbers, so a row-name column may hold anything;
- x and y are finite and fit in float32; labels are whole numbers from 0 up, written as integers or
  whole floats (`1`, `1.0`, `1e0`);
- the classes are 0 .. K-1 with K = largest label + 1, every one of them with at least one point,
  and K >= 2. A gap (labels {0, 2}) is refused rather than kept as an empty class: it is nearly
  always a mistake, such as labels numbered from 1, and an empty class could never be learned.

Not here: generators (`pointlab.generators`), train/validation/test splits (`pointlab.splits`).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pointlab.errors import UserError
from pointlab.io import write_atomic  # also importable from here, as before

# A plain decimal number; stricter than float(), which also takes "1_000", "nan", "infinity" and
# digits of other scripts ("１").
_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_NOT_FINITE = re.compile(r"[+-]?(?:nan|inf|infinity)", re.IGNORECASE)
_FLOAT32_MAX = float(np.finfo(np.float32).max)


@dataclass(frozen=True)
class Dataset:
    """Labelled 2-D points. Treat the arrays as read-only: datasets are shared, never edited."""

    X: np.ndarray  # float32 (N, 2)
    y: np.ndarray  # int64 (N,), classes 0 .. n_classes-1
    n_classes: int
    name: str  # short, for titles: the file stem or the generator kind
    source: str  # where it came from: a path, or the generator call that made it

    def __post_init__(self) -> None:
        # Programming errors, not user errors: the loader and generators always build it right.
        if self.X.dtype != np.float32 or self.X.ndim != 2 or self.X.shape[1] != 2:
            raise ValueError(f"X must be float32 (N, 2), got {self.X.dtype} {self.X.shape}")
        if self.y.dtype != np.int64 or self.y.shape != (self.X.shape[0],):
            raise ValueError(f"y must be int64 (N,), got {self.y.dtype} {self.y.shape}")

    def __len__(self) -> int:
        return int(self.X.shape[0])

    def class_counts(self) -> np.ndarray:
        """Points per class, int64 (n_classes,)."""
        return np.bincount(self.y, minlength=self.n_classes).astype(np.int64)

    def subset(self, indices: np.ndarray, name: str | None = None) -> Dataset:
        """The points at `indices` (int (M,)), keeping n_classes and the source."""
        return Dataset(
            self.X[indices], self.y[indices], self.n_classes, name or self.name, self.source
        )


def save_csv(dataset: Dataset, path: str | os.PathLike[str]) -> Path:
    """Write `dataset` in the book's format; a failed write leaves any file at `path` as it was."""
    table = np.column_stack([dataset.X.astype(np.float64), dataset.y.astype(np.float64)])  # (N, 3)
    return write_atomic(path, lambda file: np.savetxt(file, table, fmt="%.18e", delimiter=","))


def load_csv(path: str | os.PathLike[str], columns: str | None = None) -> Dataset:
    """Read a CSV of labelled points (see the module docstring for the rules).

    `columns` is "X,Y,LABEL": three header names or 0-based column indices (negative ones count
    from the end). Without it the last three columns are x, y and the label.
    """
    path = Path(path)
    rows = _read_rows(path)  # [(line number, fields)], blank and comment lines gone
    first = rows[0][0]
    header: list[str] | None = None
    if all(not _is_number(field) for field in rows[0][1]):
        header = rows[0][1]
        rows = rows[1:]
        if not rows:
            raise UserError(f"{path}: has a header line but no data rows")
    width = len(header) if header is not None else len(rows[0][1])
    picked = _pick_columns(path, columns, header, width, first)

    values = np.empty((len(rows), 3), dtype=np.float64)  # (N, 3): x, y, label
    for row, (number, fields) in enumerate(rows):
        if len(fields) != width:
            raise UserError(
                f"{path}:{number}: expected {width} comma-separated columns, found {len(fields)}"
            )
        for j, (column, role) in enumerate(zip(picked, ("x", "y", "label"), strict=True)):
            values[row, j] = _parse_number(path, number, fields[column], role)

    lines = [number for number, _ in rows]
    return Dataset(
        X=values[:, :2].astype(np.float32),
        y=_labels(path, values[:, 2], lines),
        n_classes=int(values[:, 2].max()) + 1,
        name=path.stem,
        source=str(path),
    )


def load_points(path: str | os.PathLike[str], columns: str | None = None) -> np.ndarray:
    """float32 (N, 2) points from a CSV with or without labels, checked as `load_csv` checks.

    `columns` is "X,Y" or "X,Y,LABEL" (header names or 0-based indices; a label column is not
    read). Without it: x, y of a two-column file, else the first two of the last three columns
    (the book's x, y, label, any labels ignored).
    """
    path = Path(path)
    rows = _read_rows(path)
    first = rows[0][0]
    header: list[str] | None = None
    if all(not _is_number(field) for field in rows[0][1]):
        header = rows[0][1]
        rows = rows[1:]
        if not rows:
            raise UserError(f"{path}: has a header line but no data rows")
    width = len(header) if header is not None else len(rows[0][1])
    if columns is None:
        if width < 2:
            raise UserError(f"{path}:{first}: found 1 column; need x, y (and optionally a label)")
        picked = [0, 1] if width == 2 else [width - 3, width - 2]
    else:
        names = [name.strip() for name in columns.split(",")]
        if len(names) not in (2, 3) or not all(names):
            raise UserError(f"--columns {columns!r}: give X,Y or X,Y,LABEL (names or indices)")
        picked = [_column(path, name, header, width) for name in names[:2]]
        if picked[0] == picked[1]:
            raise UserError(f"--columns {columns!r}: x and y must be two different columns")
    points = np.empty((len(rows), 2), dtype=np.float64)  # (N, 2)
    for row, (number, fields) in enumerate(rows):
        if len(fields) != width:
            raise UserError(
                f"{path}:{number}: expected {width} comma-separated columns, found {len(fields)}"
            )
        for j, role in enumerate(("x", "y")):
            points[row, j] = _parse_number(path, number, fields[picked[j]], role)
    return points.astype(np.float32)


def _read_rows(path: Path) -> list[tuple[int, list[str]]]:
    """Non-blank, non-comment lines as (1-based line number, stripped fields)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise UserError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise UserError(f"{path}: is a directory, not a CSV file") from None
    except OSError as error:
        raise UserError(f"{path}: cannot read: {error.strerror or error}") from None
    if not data:
        raise UserError(f"{path}: the file is empty")
    if b"\0" in data:
        raise UserError(f"{path}: looks like a binary file (it has NUL bytes), not a CSV text file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise UserError(f"{path}:{line}: not UTF-8 text; is it a binary file?") from None

    rows = []
    for number, line in enumerate(text.replace("\r\n", "\n").split("\n"), start=1):
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            if "\r" in stripped:
                raise UserError(f"{path}:{number}: stray carriage return (old Mac line ends?)")
            rows.append((number, [_unquote(field) for field in stripped.split(",")]))
    if not rows:
        raise UserError(f"{path}: no data rows (only blank or comment lines)")
    return rows


def _unquote(field: str) -> str:
    """The field without spaces around it and without one pair of double quotes, which some
    writers put around every value."""
    field = field.strip()
    if len(field) >= 2 and field[0] == field[-1] == '"':
        field = field[1:-1].strip()
    return field


def _is_number(field: str) -> bool:
    return bool(_NUMBER.fullmatch(field) or _NOT_FINITE.fullmatch(field))


def _pick_columns(
    path: Path, columns: str | None, header: list[str] | None, width: int, first: int
) -> list[int]:
    """Indices (3,) of the x, y and label columns; `first` is the first row's line number."""
    if columns is None:
        if width < 3:
            raise UserError(
                f"{path}:{first}: found {width} column{'s' * (width != 1)}; need at least 3 "
                "comma-separated columns (x, y, label)"
            )
        return [width - 3, width - 2, width - 1]
    names = [name.strip() for name in columns.split(",")]
    if len(names) != 3 or not all(names):
        raise UserError(f"--columns {columns!r}: give three columns X,Y,LABEL (names or indices)")
    picked = [_column(path, name, header, width) for name in names]
    if len(set(picked)) != 3:
        raise UserError(f"--columns {columns!r}: x, y and label must be three different columns")
    return picked


def _column(path: Path, name: str, header: list[str] | None, width: int) -> int:
    """The index of one column given by header name or 0-based index (negative: from the end)."""
    if re.fullmatch(r"[+-]?\d+", name):
        index = int(name)
        if not -width <= index < width:
            raise UserError(
                f"{path}: column index {index} is out of range: the file has {width} columns "
                f"(0 to {width - 1})"
            )
        return index % width
    if header is None:
        raise UserError(f"{path}: column {name!r} given by name, but the file has no header")
    if header.count(name) != 1:
        found = "is not in" if name not in header else "appears twice in"
        raise UserError(f"{path}: column {name!r} {found} the header ({', '.join(header)})")
    return header.index(name)


def _parse_number(path: Path, line: int, field: str, role: str) -> float:
    if not field:
        raise UserError(f"{path}:{line}: empty value for {role}")
    if _NOT_FINITE.fullmatch(field):
        raise UserError(f"{path}:{line}: {role} is {field!r}; NaN and infinity are not allowed")
    if not _NUMBER.fullmatch(field):
        hint = " (separate values with commas)" if re.search(r"[;\t ]", field) else ""
        raise UserError(f"{path}:{line}: {role} {field!r} is not a number{hint}")
    value = float(field)
    if role != "label" and abs(value) > _FLOAT32_MAX:
        raise UserError(f"{path}:{line}: {role} {field} is too large (beyond float32)")
    return value


def _labels(path: Path, labels: np.ndarray, lines: list[int]) -> np.ndarray:
    """Check labels (float64 (N,)) are classes 0 .. K-1, all present, K >= 2; return int64 (N,)."""
    bad = (labels < 0) | (labels != np.round(labels))
    if bad.any():
        row = int(np.argmax(bad))
        raise UserError(
            f"{path}:{lines[row]}: label {_number(labels[row])} is not a class: labels must be "
            "whole numbers 0, 1, 2, ... (one per class)"
        )
    if len(np.unique(labels)) < 2:
        raise UserError(
            f"{path}: every point has label {_number(labels[0])}; need at least two classes"
        )
    if labels.max() >= len(labels):
        # K classes need at least K points, so a label this large must leave classes empty.
        row = int(np.argmax(labels))
        raise UserError(
            f"{path}:{lines[row]}: label {_number(labels[row])} is larger than the number of "
            f"points ({len(labels)}); classes must be numbered 0, 1, ... with no gaps"
        )
    y = labels.astype(np.int64)
    counts = np.bincount(y)
    if (counts == 0).any():
        found = ", ".join(str(c) for c in np.flatnonzero(counts))
        missing = int(np.flatnonzero(counts == 0)[0])
        raise UserError(
            f"{path}: class {missing} has no points (labels found: {found}); classes must be "
            "numbered 0, 1, ... with no gaps"
        )
    return y


def _number(value: float) -> str:
    """Shortest text that reads back as `value`, without a useless ".0": 1, 0.5, 1.0000000001."""
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text
