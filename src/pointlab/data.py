"""Data sets of labelled 2-D points: the `Dataset` record, the CSV loader and the CSV writer.

The book's format comes first: no header, three comma-separated columns x, y, label, numbers written
by `numpy.savetxt(fmt="%.18e", delimiter=",")`, labels as floats (`1.000000000000000000e+00`).
Files with a header row and more columns load too: by the columns named x, y and label (any case),
or those `columns` picks; a header that names only some of them is refused, not read by position.

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

Reading is one pass over the file in chunks, at C speed for the usual file (`pointlab.csvtable`),
with the same messages for every bad one.

Not here: generators (`pointlab.generators`), train/validation/test splits (`pointlab.splits`).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pointlab.csvtable import Progress, read_table
from pointlab.errors import SettingError, UserError
from pointlab.io import write_atomic  # also importable from here, as before

_lit = SettingError.literal  # a path or a value inside a SettingError's text


@dataclass(frozen=True)
class Dataset:
    """Labelled 2-D points. Treat the arrays as read-only: datasets are shared, never edited."""

    X: np.ndarray  # float32 (N, 2)
    y: np.ndarray  # int64 (N,), classes 0 .. n_classes-1
    n_classes: int
    name: str  # short, for titles: the file stem or the generator kind
    source: str  # where it came from: a path, or the generator call that made it
    columns: str | None = None  # "X,Y,LABEL": the header names it was read from, if any

    def __post_init__(self) -> None:
        # Programming errors, not user errors: the loader and generators always build it right.
        if self.X.dtype != np.float32 or self.X.ndim != 2 or self.X.shape[1] != 2:
            raise ValueError(f"X must be float32 (N, 2), got {self.X.dtype} {self.X.shape}")
        if self.y.dtype != np.int64 or self.y.shape != (self.X.shape[0],):
            raise ValueError(f"y must be int64 (N,), got {self.y.dtype} {self.y.shape}")

    def __len__(self) -> int:
        return int(self.X.shape[0])

    def __repr__(self) -> str:
        from pointlab.notebook import dataset_text

        return dataset_text(self)

    def _repr_html_(self) -> str:  # Jupyter's rich display
        from pointlab.notebook import dataset_html

        return dataset_html(self)

    def class_counts(self) -> np.ndarray:
        """Points per class, int64 (n_classes,)."""
        return np.bincount(self.y, minlength=self.n_classes).astype(np.int64)

    def subset(self, indices: np.ndarray, name: str | None = None) -> Dataset:
        """The points at `indices` (int (M,)), keeping n_classes and the source."""
        return Dataset(
            self.X[indices],
            self.y[indices],
            self.n_classes,
            name or self.name,
            self.source,
            self.columns,
        )


def save_csv(dataset: Dataset, path: str | os.PathLike[str]) -> Path:
    """Write `dataset` in the book's format; a failed write leaves any file at `path` as it was."""
    table = np.column_stack([dataset.X.astype(np.float64), dataset.y.astype(np.float64)])  # (N, 3)
    return write_atomic(path, lambda file: np.savetxt(file, table, fmt="%.18e", delimiter=","))


def load_csv(
    path: str | os.PathLike[str],
    columns: str | None = None,
    progress: Progress | None = None,
    *,
    known: str | None = None,
) -> Dataset:
    """Read a CSV of labelled points (see the module docstring for the rules), in one pass.

    `columns` is "X,Y,LABEL": three header names or 0-based column indices (negative ones count
    from the end). Without it, `known` (a run's own columns: header names, or indices) picks them
    when given and the file can be read that way; otherwise a header's columns named x, y and
    label (any case) are used, and a file whose header names none of them, or that has no
    header, is read by position: the last three columns are x, y and the label.
    `progress(done, total)` is called with the bytes read after each chunk.
    """
    path = Path(path)

    def choose(header: list[str] | None, width: int, first: int) -> list[int]:
        if columns is None and known is not None:
            if _all_indices(known):
                return _pick_columns(path, known, header, width, first)
            if header is not None:
                return _by_known_names(path, known, header, 3)
        if columns is None and header is not None:
            return _by_role_names(path, header, width, first)
        return _pick_columns(path, columns, header, width, first)

    table = read_table(path, choose, ("x", "y", "label"), progress)
    values = table.values  # (N, 3): x, y, label
    names = None
    if table.header is not None:
        names = ",".join(table.header[c] for c in table.columns)
    return Dataset(
        X=values[:, :2].astype(np.float32),
        y=_labels(path, values[:, 2], table.lines),
        n_classes=int(values[:, 2].max()) + 1,
        name=path.stem,
        source=str(path),
        columns=names,
    )


def load_points(
    path: str | os.PathLike[str],
    columns: str | None = None,
    progress: Progress | None = None,
    *,
    known: str | None = None,
) -> np.ndarray:
    """The points float32 (N, 2) of a CSV, labelled or not, to predict them; the columns:

    - `columns` "X,Y" (or "X,Y,LABEL", the label unused): header names or indices;
    - else, when the file has a header: the names in `known` (a run's own "X,Y,LABEL"), or the
      columns named x and y (any case); a header with neither is refused rather than guessed;
    - else (no header): two columns are x, y; more are read as the loader reads them (the last
      three are x, y, label), or by the indices in `known`.
    """
    path = Path(path)

    def choose(header: list[str] | None, width: int, first: int) -> list[int]:
        if columns is not None:
            names = [name.strip() for name in columns.split(",")]
            if len(names) not in (2, 3) or not all(names):
                raise SettingError(
                    f"{{columns}} {_lit(repr(columns))}: give the columns X,Y (or X,Y,LABEL), "
                    "names or indices"
                )
            return _pick_columns(path, ",".join(names), header, width, first, len(names))[:2]
        if header is not None:
            if known is not None and not _all_indices(known):
                return _by_known_names(path, known, header, 2)
            named = _named(header, ("x", "y"))
            if named is not None:
                return named
            if width != 2:
                raise SettingError(
                    f"{_lit(path)}: cannot tell which columns are x and y (header: "
                    f"{_lit(', '.join(header))}); give {{columns}} X,Y"
                )
            return [0, 1]
        if width == 2:
            return [0, 1]
        if known is not None and _all_indices(known):
            return _pick_columns(path, known, None, width, first)[:2]
        return _pick_columns(path, None, None, width, first)[:2]

    table = read_table(path, choose, ("x", "y"), progress)
    return table.values.astype(np.float32)


def _all_indices(columns: str) -> bool:
    return all(re.fullmatch(r"[+-]?\d+", name.strip()) for name in columns.split(","))


def _named(header: list[str], roles: tuple[str, ...]) -> list[int] | None:
    """Indices of the columns named after `roles` (any case), or None unless each is there once."""
    names = [name.strip().lower() for name in header]
    if all(names.count(role) == 1 for role in roles):
        return [names.index(role) for role in roles]
    return None


def _by_role_names(path: Path, header: list[str], width: int, first: int) -> list[int]:
    """x, y and label in a file with a header: the columns named so (any case). A header that
    names none of them is read by position, the last three (R's `rownames,xs,ys,yc`); one that
    names some but not all is refused rather than guessed: a header `id,x,y,label,weight` read
    by position made `weight` the label."""
    roles = ("x", "y", "label")
    named = _named(header, roles)
    if named is not None:
        return named
    if not any(name.strip().lower() in roles for name in header):
        return _pick_columns(path, None, header, width, first)
    raise SettingError(
        f"{_lit(path)}: cannot tell which columns are x, y and label (header: "
        f"{_lit(', '.join(header))}); name them x, y and label, or give "
        "{columns} X,Y,LABEL"
    )


def _by_known_names(path: Path, known: str, header: list[str], count: int) -> list[int]:
    """The first `count` columns of a run's own "X,Y,LABEL" names, found in this file's header."""
    names = [name.strip() for name in known.split(",")][:count]
    for name, role in zip(names, ("x", "y", "label"), strict=False):
        if header.count(name) != 1:
            raise SettingError(
                f"{_lit(path)}: the run was trained on columns {_lit(known)}, but {role} "
                f"column {_lit(repr(name))} is not in this file's header "
                f"({_lit(', '.join(header))}); give {{columns}}"
            )
    return [header.index(name) for name in names]


def _pick_columns(
    path: Path,
    columns: str | None,
    header: list[str] | None,
    width: int,
    first: int,
    count: int = 3,
) -> list[int]:
    """Indices (count,) of the x, y (and label) columns; `first` is the first row's line number."""
    if columns is None:
        if width < 3:
            raise UserError(
                f"{path}:{first}: found {width} column{'s' * (width != 1)}; need at least 3 "
                "comma-separated columns (x, y, label)"
            )
        return [width - 3, width - 2, width - 1]
    names = [name.strip() for name in columns.split(",")]
    if len(names) != count or not all(names):
        raise SettingError(
            f"{{columns}} {_lit(repr(columns))}: give three columns X,Y,LABEL (names or indices)"
        )
    picked = []
    for name in names:
        if re.fullmatch(r"[+-]?\d+", name):
            index = int(name)
            if not -width <= index < width:
                raise UserError(
                    f"{path}: column index {index} is out of range: the file has {width} columns "
                    f"(0 to {width - 1})"
                )
            picked.append(index % width)
        elif header is None:
            raise UserError(f"{path}: column {name!r} given by name, but the file has no header")
        elif header.count(name) != 1:
            found = "is not in" if name not in header else "appears twice in"
            raise UserError(f"{path}: column {name!r} {found} the header ({', '.join(header)})")
        else:
            picked.append(header.index(name))
    if len(set(picked)) != count:
        what = "x, y and label must be three" if count == 3 else "x and y must be two"
        raise SettingError(f"{{columns}} {_lit(repr(columns))}: {what} different columns")
    return picked


def _labels(path: Path, labels: np.ndarray, lines: np.ndarray) -> np.ndarray:
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
