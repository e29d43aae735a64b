"""Writing files so that a failed write loses nothing: a temporary file next to the target, then
one atomic rename.

Every file pointlab writes (CSVs, pictures, run records, predictions) goes through `write_atomic`,
so Ctrl-C or a full disk leaves either the old file or the new one, never half of one.

Not here: what goes into the files (`pointlab.data`, `pointlab.runs`, `pointlab.plots`).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from pointlab.errors import UserError


def write_atomic(path: str | os.PathLike[str], write: Callable[[BinaryIO], object]) -> Path:
    """Call `write` on a temporary file next to `path`, then rename it into place, so that nothing
    already at `path` is lost if writing fails. Failures become a one-line `UserError`."""
    path = Path(path)
    if path.is_dir():
        raise UserError(f"{path}: is a directory; give a file name to write to")
    if not path.parent.is_dir():
        raise UserError(f"{path}: cannot write: directory {str(path.parent)!r} does not exist")
    try:
        handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            # mkstemp makes 0600: a new file gets the umask's mode, a replaced one keeps its own
            mode = path.stat().st_mode & 0o777 if path.exists() else 0o666 & ~_umask()
            os.chmod(tmp, mode)
            with os.fdopen(handle, "wb") as file:
                write(file)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as error:
        raise UserError(f"{path}: cannot write: {error.strerror or error}") from None
    return path


def _umask() -> int:
    mask = os.umask(0o022)  # reading the umask means setting it: put it back at once
    os.umask(mask)
    return mask
