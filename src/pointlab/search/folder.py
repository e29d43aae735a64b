"""A sweep's folder: where a sweep's output goes by default, and the one writer of it.

    sweeps/<data stem>/           `default_out(data)`; the study is named `default_study(data)`
      study.db                    the study, unless another storage is given (`default_storage`)
      best/                       the best configuration retrained: a run directory (`runs`)
      sweep.json                  the summary (`report.summary`)
      sweep_loss.png, sweep_points.png, sweep_curves.png

Several workers may share one study and one folder (the multi-machine use: `--storage
postgresql://...` and one `--out` on a shared disk). They never write into each other's files:
each builds its `best/` in a temporary folder of its own (`.best-XXXX`) and swaps it into place in
one step (`_swap_in`), and every other file is written whole through `io.write_atomic`. Every
worker writes the best that the finished study chooses (`sweep.choose` over all its trials), so
whichever writes last leaves the true best.

Not here: running the sweep (`sweep`), the run directory format (`runs`), what the summary holds
(`report`), drawing (`plots.sweep`), output on a terminal (`cli`).
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import json
import os
import secrets
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pointlab import runs
from pointlab.errors import UserError
from pointlab.io import write_atomic

if TYPE_CHECKING:
    from pointlab.search.setup import SweepSetup
    from pointlab.search.sweep import SweepResult

ROOT = Path("sweeps")
BEST, SUMMARY, STUDY_DB = "best", "sweep.json", "study.db"
PICTURES = ("sweep_loss.png", "sweep_points.png", "sweep_curves.png")


def default_out(data_path: str | os.PathLike[str]) -> Path:
    """`sweeps/<stem of the data file>`, relative to the working directory."""
    return ROOT / Path(data_path).stem


def default_study(data_path: str | os.PathLike[str]) -> str:
    """The study's name when none is given: the data file's stem."""
    return Path(data_path).stem


def default_storage(out: Path) -> str:
    """An SQLite study inside the folder: `sqlite:////abs/OUT/study.db`."""
    return f"sqlite:///{out.resolve() / STUDY_DB}"


def make_folder(out: Path) -> Path:
    """Create `out` (and its parents) unless it exists; one UserError line when it cannot be."""
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UserError(
            f"{out}: cannot create the sweep folder: {error.strerror or error}"
        ) from None
    return out


def write_sweep(
    out: Path, result: SweepResult, setup: SweepSetup, study: str, storage: str
) -> tuple[Path, list[Path], dict[str, Any]]:
    """The whole folder from a finished sweep: `best/`, the pictures, then `sweep.json` last (a
    folder with a summary is complete). The summary names the storage with its password masked
    (`urls.masked`): sweep.json never keeps one. Returns (best, pictures, summary)."""
    from pointlab.search import report
    from pointlab.search.urls import masked

    best = write_best(out, result)
    pictures = draw(out, result, setup)
    summary = report.summary(result, setup, study, masked(storage))
    write_summary(out, summary)
    return best, pictures, summary


def write_best(out: Path, result: SweepResult) -> Path:
    """OUT/best: a run directory like `pointlab train`'s (the same writer), so evaluate and predict
    read it. Built in a temporary folder of this process's own, then swapped in whole for the old
    one (a resumed sweep writes the same model again; a worker beside us, the same best)."""
    fresh = out / f".best-{os.getpid()}-{secrets.token_hex(4)}"  # this process's alone
    try:
        fresh.mkdir()
    except OSError as error:
        raise UserError(f"{fresh}: cannot create: {error.strerror or error}") from None
    try:
        runs.write_run(fresh, result.run)
        _swap_in(fresh, out / BEST)
    finally:
        shutil.rmtree(fresh, ignore_errors=True)  # only left if something failed
    result.run.path = out / BEST
    return out / BEST


def write_summary(out: Path, summary: dict[str, Any]) -> Path:
    """OUT/sweep.json, written whole (a reader never sees half of one)."""
    text = json.dumps(summary, indent=2) + "\n"
    return write_atomic(out / SUMMARY, lambda file: file.write(text.encode()))


def draw(out: Path, result: SweepResult, setup: SweepSetup) -> list[Path]:
    """The sweep's pictures: each trial's loss against the parameters, the points tried in the
    two most important dimensions, and the learning curves of the best trials."""
    from pointlab.plots.sweep import plot_best_curves, plot_loss_vs_params, plot_points_tried
    from pointlab.search import report

    ranked = report.ranked(result.rows)
    weights = report.importance(result.rows, setup.params)
    dims = sorted(setup.params, key=lambda p: -weights.get(p.name, 0.0))[:2]
    name = f"{setup.strategy} search"
    loss, points, curves = (out / picture for picture in PICTURES)
    return [
        plot_loss_vs_params(
            result.rows, setup.params, loss, f"{name}: validation loss of each trial"
        ),
        plot_points_tried(
            result.rows,
            dims,
            points,
            f"{name}: points tried in the two most important dimensions"
            if len(dims) > 1
            else f"{name}: validation loss against {dims[0].name}, the one searched dimension",
        ),
        plot_best_curves(
            [r for r in ranked if r.state == "complete"],
            curves,
            f"{name}: learning curves of the best trials",
        ),
    ]


def _swap_in(new: Path, target: Path) -> None:
    """Put the directory `new` at `target` in one step, whatever other processes do meanwhile:
    renamed there when `target` is absent, else exchanged with it (Linux's RENAME_EXCHANGE), the
    old one then being at `new` for the caller to remove. Where there is no exchange, the old
    one is first renamed aside (for that moment a reader finds no `target`; a writer still never
    sees another's files) and removed."""
    while True:
        try:
            new.rename(target)
            return
        except OSError as error:
            if error.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                raise UserError(f"{target}: cannot write: {error.strerror or error}") from None
        exchanged = _exchange(new, target)
        if exchanged is True:
            return
        if exchanged is None:  # `target` went away meanwhile: rename again
            continue
        aside = Path(tempfile.mkdtemp(dir=target.parent, prefix=".best-old-"))
        try:
            target.rename(aside / target.name)
        except FileNotFoundError:
            continue
        finally:
            with contextlib.suppress(OSError):
                shutil.rmtree(aside)


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool | None:
    """Swap two paths atomically (renameat2 RENAME_EXCHANGE): True when done, None when `b` no
    longer exists, False where the system or the file system cannot."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return False
    status = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if status == 0:
        return True
    return None if ctypes.get_errno() == errno.ENOENT else False
