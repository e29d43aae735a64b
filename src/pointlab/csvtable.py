"""Reading the chosen columns of a CSV file as numbers, in one pass, in bounded memory.

The file is read in chunks of whole lines (`CHUNK_BYTES`). Each chunk goes the fast way when it has
the common shape (ASCII, no quotes, comments, blank lines or stray carriage returns, the same number
of commas on every line): numpy's C parser (`numpy.loadtxt`) converts the chosen columns, and the
values are then checked to be finite. Any chunk that is not of that shape, or that numpy or the
checks refuse, is read again the careful way, line by line, which accepts exactly what the fast way
accepts and more (quotes, blank and comment lines), and which finds the first fault and says what
it is, with its line number. So a good file costs one C-speed pass, and every bad file gets the
same one-line message it always got.

Memory: one chunk of text and its working arrays at a time (tens of MB), plus the float64 values
of the chosen columns (24 bytes a row for three columns).

The caller says which columns to read once the header (if any) is known: `choose(header, width,
first_line)` returns their indices. Not here: what the values mean (labels, classes, the
`Dataset`): `pointlab.data`.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pointlab.errors import UserError

CHUNK_BYTES = 16 * 2**20  # a chunk and its working arrays stay well under 100 MB
BOM = b"\xef\xbb\xbf"

# A plain decimal number; stricter than float(), which also takes "1_000", "nan", "infinity" and
# digits of other scripts ("１").
NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
NOT_FINITE = re.compile(r"[+-]?(?:nan|inf|infinity)", re.IGNORECASE)
FLOAT32_MAX = float(np.finfo(np.float32).max)

Progress = Callable[[int, int], None]  # (bytes read so far, file size in bytes)
Choose = Callable[[list[str] | None, int, int], list[int]]  # (header, width, first line) -> columns


@dataclass(frozen=True)
class Table:
    """The chosen columns of a CSV, as read."""

    values: np.ndarray  # float64 (N, k): the chosen columns, in the order chosen
    lines: np.ndarray  # int64 (N,): each row's 1-based line number in the file
    header: list[str] | None  # the header row's names, when the file has one
    columns: list[int]  # the chosen columns' indices


def read_table(
    path: Path, choose: Choose, roles: Sequence[str], progress: Progress | None = None
) -> Table:
    """Read the columns `choose` picks; `roles` names them in messages ("x", "y", "label").

    Rules: the first non-blank, non-comment line is a header when none of its fields is a number;
    every row has as many fields as the first one (the header, when there is one); the chosen
    fields are plain decimal numbers, finite, and x and y fit in float32.
    """
    header: list[str] | None = None
    width = 0
    columns: list[int] = []
    found_first = False
    parts: list[np.ndarray] = []
    line_parts: list[np.ndarray] = []
    for chunk, first_line in _chunks(path, progress):
        if not found_first:
            first = _first_row(path, chunk, first_line)
            if first is None:
                continue  # only blank and comment lines so far
            found_first = True
            number, fields, rest = first
            if all(not _is_number(field) for field in fields):
                header = fields
                chunk, first_line = chunk[rest:], number + 1
                width = len(header)
            else:
                width = len(fields)
            if header is None:
                columns = choose(None, width, number)
            else:
                columns = choose(header, width, number)
        values, lines = _fast(chunk, first_line, width, columns, roles)
        if values is None or lines is None:
            values, lines = _careful(path, chunk, first_line, width, columns, roles)
        parts.append(values)
        line_parts.append(lines)
    if not found_first:
        raise UserError(f"{path}: no data rows (only blank or comment lines)")
    n = sum(len(part) for part in parts)
    if n == 0:
        raise UserError(f"{path}: has a header line but no data rows")
    values = np.concatenate(parts) if len(parts) > 1 else parts[0]
    lines = np.concatenate(line_parts) if len(line_parts) > 1 else line_parts[0]
    return Table(values, lines, header, columns)


def _chunks(path: Path, progress: Progress | None) -> Iterator[tuple[bytes, int]]:
    """(chunk of whole lines ending in a newline, its first line's number), checked to be text."""
    try:
        file = path.open("rb")
    except FileNotFoundError:
        raise UserError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise UserError(f"{path}: is a directory, not a CSV file") from None
    except OSError as error:
        raise UserError(f"{path}: cannot read: {error.strerror or error}") from None
    with file:
        try:
            size = path.stat().st_size
        except OSError:
            size = 0
        carry, line, done = b"", 1, 0
        while True:
            try:
                block = file.read(CHUNK_BYTES)
            except IsADirectoryError:
                raise UserError(f"{path}: is a directory, not a CSV file") from None
            except OSError as error:
                raise UserError(f"{path}: cannot read: {error.strerror or error}") from None
            if done == 0:
                if not block:
                    raise UserError(f"{path}: the file is empty")
                if block.startswith(BOM):
                    block = block[len(BOM) :]
            done += len(block)
            if block:
                end = block.rfind(b"\n")
                if end < 0:
                    carry += block
                    continue
                chunk, carry = carry + block[: end + 1], block[end + 1 :]
            else:
                if not carry:
                    break
                chunk, carry = carry + b"\n", b""
            _check_text(path, chunk, line)
            yield chunk, line
            line += chunk.count(b"\n")
            if progress is not None:
                progress(done, max(size, done))
            if not block:
                break


def _check_text(path: Path, chunk: bytes, first_line: int) -> None:
    if b"\0" in chunk:
        raise UserError(f"{path}: looks like a binary file (it has NUL bytes), not a CSV text file")
    if not chunk.isascii():
        try:
            chunk.decode("utf-8")
        except UnicodeDecodeError as error:
            line = first_line + chunk[: error.start].count(b"\n")
            raise UserError(f"{path}:{line}: not UTF-8 text; is it a binary file?") from None


def _first_row(path: Path, chunk: bytes, first_line: int) -> tuple[int, list[str], int] | None:
    """(line number, fields, offset after that line) of the chunk's first data line, if any."""
    start, number = 0, first_line
    while start < len(chunk):
        end = chunk.index(b"\n", start)
        fields = _fields(path, chunk[start:end].decode("utf-8"), number)
        if fields is not None:
            return number, fields, end + 1
        start, number = end + 1, number + 1
    return None


def _fields(path: Path, line: str, number: int) -> list[str] | None:
    """A line's stripped, unquoted fields; None for a blank or comment line."""
    stripped = line.rstrip("\r").strip()  # "\r\n" line ends: the "\r" is no stray
    if not stripped or stripped.startswith("#"):
        return None
    if "\r" in stripped:
        raise UserError(f"{path}:{number}: stray carriage return (old Mac line ends?)")
    return [_unquote(field) for field in stripped.split(",")]


def _fast(
    chunk: bytes, first_line: int, width: int, columns: list[int], roles: Sequence[str]
) -> tuple[np.ndarray, np.ndarray] | tuple[None, None]:
    """The chunk's values (n, k) and line numbers (n,), or (None, None) to read it carefully."""
    if b"\r" in chunk:
        chunk = chunk.replace(b"\r\n", b"\n")
    if not chunk or not chunk.isascii() or any(c in chunk for c in (b'"', b"#", b"\r")):
        return None, None
    text = np.frombuffer(chunk, dtype=np.uint8)  # (bytes,), a view, no copy
    ends = np.flatnonzero(text == ord("\n"))  # (n,) newline positions
    commas = np.flatnonzero(text == ord(","))  # (n * (width - 1),) when every line has width
    del text
    if len(commas) != len(ends) * (width - 1):
        return None, None
    per_line = np.diff(np.searchsorted(commas, ends), prepend=0)  # (n,) commas on each line
    if (per_line != width - 1).any():  # also catches blank lines (no commas)
        return None, None
    try:
        values = np.loadtxt(
            io.BytesIO(chunk),
            delimiter=",",
            usecols=columns,
            comments=None,
            dtype=np.float64,
            ndmin=2,
        )  # (n, k)
    except ValueError:
        return None, None
    if values.shape != (len(ends), len(columns)) or not np.isfinite(values).all():
        return None, None
    coordinates = [j for j, role in enumerate(roles) if role != "label"]
    if (np.abs(values[:, coordinates]) > FLOAT32_MAX).any():
        return None, None
    return values, np.arange(first_line, first_line + len(ends), dtype=np.int64)


def _careful(
    path: Path,
    chunk: bytes,
    first_line: int,
    width: int,
    columns: list[int],
    roles: Sequence[str],
) -> tuple[np.ndarray, np.ndarray]:
    """Line by line, raising the first fault as a `UserError` naming its line."""
    rows: list[list[float]] = []
    lines: list[int] = []
    for number, line in enumerate(chunk.decode("utf-8").split("\n")[:-1], start=first_line):
        fields = _fields(path, line, number)
        if fields is None:
            continue
        if len(fields) != width:
            raise UserError(
                f"{path}:{number}: expected {width} comma-separated columns, found {len(fields)}"
            )
        rows.append(
            [
                parse_number(path, number, fields[column], role)
                for column, role in zip(columns, roles, strict=True)
            ]
        )
        lines.append(number)
    values = np.array(rows, dtype=np.float64).reshape(len(rows), len(columns))
    return values, np.array(lines, dtype=np.int64)


def _unquote(field: str) -> str:
    """The field without spaces around it and without one pair of double quotes, which some
    writers put around every value."""
    field = field.strip()
    if len(field) >= 2 and field[0] == field[-1] == '"':
        field = field[1:-1].strip()
    return field


def _is_number(field: str) -> bool:
    return bool(NUMBER.fullmatch(field) or NOT_FINITE.fullmatch(field))


def parse_number(path: Path, line: int, field: str, role: str) -> float:
    """One field as a float, or a `UserError` saying what is wrong with it."""
    if not field:
        raise UserError(f"{path}:{line}: empty value for {role}")
    if NOT_FINITE.fullmatch(field):
        raise UserError(f"{path}:{line}: {role} is {field!r}; NaN and infinity are not allowed")
    if not NUMBER.fullmatch(field):
        hint = " (separate values with commas)" if re.search(r"[;\t ]", field) else ""
        raise UserError(f"{path}:{line}: {role} {field!r} is not a number{hint}")
    value = float(field)
    if role != "label" and abs(value) > FLOAT32_MAX:
        raise UserError(f"{path}:{line}: {role} {field} is too large (beyond float32)")
    return value
