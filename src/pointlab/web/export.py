"""Export: the playground's main model as a run directory, the same files `pointlab train` writes.

    RUN_DIR/data.csv            the points (train and validation together, the book's format)
    RUN_DIR/config.json         the RunSpec: data = data.csv, the split (seeded by the page's
                                data seed, as `--split-seed` seeds it), the config with
                                epochs = the epochs trained so far, and the result summary
    RUN_DIR/metrics.csv, model.safetensors, boundary.png, loss.png

So `pointlab evaluate RUN_DIR RUN_DIR/data.csv` and `pointlab predict` take it, and for points that
were not edited during training `pointlab train RUN_DIR/data.csv` with the same settings repeats
it when given `--split-seed` = the page's data seed (the live loop gives the engine's weights,
epoch for epoch). The files are written by the library's one run writer,
`pointlab.runs.write_run`, from a `RunResult` built here (`member_result`, which the notebook
widget's `Playground.result()` returns unwritten), into a hidden folder beside the run
(`.NAME.export.tmp`) that is renamed into place once every file is there: a run directory is
whole or absent, never half-written (a failed picture once left one without config.json). The
name is reserved first (`runs.new_run_dir` makes it, empty), so a run started in the same second
elsewhere never takes it; an export that fails removes both folders, and only a server killed
mid-export can leave the empty one behind.

Not here: training (`live.py`), the run directory format (`pointlab.runs`).
"""

from __future__ import annotations

import dataclasses
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from pointlab import runs
from pointlab.checkpoint import TrainedModel
from pointlab.data import Dataset, save_csv
from pointlab.errors import UserError

if TYPE_CHECKING:
    from pointlab.web.live import LiveTraining


def export_run(
    live: LiveTraining,
    member: int,
    dataset: Dataset,
    val_fraction: float,
    split_seed: int,
    edited: bool,
    root: Path,
) -> Path:
    """Write member `member` of `live`, trained on `dataset` (split with `val_fraction` and
    `split_seed`; `edited`: its points changed while it trained) into a new run directory under
    `root`; its path."""
    run_dir = runs.new_run_dir(dataset.name.replace(" (edited)", "-edited"), root)
    build = run_dir.with_name(f".{run_dir.name}.export.tmp")  # unique, as run_dir's name is
    try:
        build.mkdir()
        _write(live, member, dataset, val_fraction, split_seed, edited, build, run_dir)
        os.replace(build, run_dir)  # onto the empty folder that reserved the name: atomic
    except BaseException as error:
        shutil.rmtree(build, ignore_errors=True)
        run_dir.rmdir()
        if isinstance(error, OSError):
            raise UserError(f"{run_dir}: cannot export: {error.strerror or error}") from None
        raise
    return run_dir


def _write(
    live: LiveTraining,
    m: int,
    dataset: Dataset,
    val_fraction: float,
    split_seed: int,
    edited: bool,
    build: Path,
    run_dir: Path,
) -> None:
    """Every file of the run into `build`; config.json names the data as it will be, in run_dir."""
    data_path = save_csv(dataset, build / "data.csv")
    # The spec names the data where it will be once the build folder is renamed into run_dir.
    saved = dataclasses.replace(
        dataset, source=str((run_dir / data_path.name).resolve()), columns=None
    )
    result = member_result(live, m, dataset, val_fraction, split_seed, edited, saved)
    runs.write_run(build, result)


def member_result(
    live: LiveTraining,
    m: int,
    dataset: Dataset,
    val_fraction: float,
    split_seed: int,
    edited: bool,
    saved: Dataset | None = None,
    made_by: str = "pointlab play",
) -> runs.RunResult:
    """Member `m` of `live` now as the `RunResult` `pointlab train` would return: the config with
    epochs = the epochs trained so far, its weights, history and status. `saved`: the data as
    the spec names it (`dataset` itself when None: where it came from)."""
    config = live.configs[m].replace(epochs=live.epoch)
    spec = runs.RunSpec.for_data(
        config,
        dataset if saved is None else saved,
        val_fraction=val_fraction if live.val is not None else 0.0,
        split_seed=split_seed,
        log_every=live.log_every,
    )
    status = live.statuses[m]  # the engine's: finished, early_stopped, diverged, ...
    if status == "finished" and live.epoch < live.max_epochs:
        status = "interrupted"  # paused before its epochs: what `pointlab train` says on Ctrl-C
    return runs.RunResult(
        spec=spec,
        model=TrainedModel(config, dataset.n_classes, live.state(m), live.scaling(m)),
        history={k: list(v[m]) for k, v in live.history.items()},
        status=status,
        stopped_epoch=live.epoch,
        weights="final",
        weights_epoch=live.epoch,
        collapsed_epoch=live.collapsed_epoch[m],
        made_by=made_by + (" (points edited while training)" if edited else ""),
        data=runs.RunData(data=dataset, train=live.train, val=live.val, test=None),
    )
