"""The short public API, re-exported at the package top: `pointlab.train`, `pointlab.load_run`, ...

    import pointlab

    data = pointlab.make_data("spiral", n=300, classes=3, seed=0)
    result = pointlab.train(data, pointlab.TrainConfig(hidden=(32, 32), epochs=500), out="runs/s")
    result.test, result.model.predict(points), pointlab.load_run("runs/s").model

Each function is a thin door into one library module, and imports torch only when called, so
`import pointlab` stays light (the command line's `--help` and argument errors never load torch).

Not here: the modules that do the work (`training`, `runs`, `data`, `generators`), which hold the
full API for contributors (docs/API.md).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from pointlab.config import TrainConfig
from pointlab.data import Dataset, load_csv, load_points
from pointlab.errors import UserError
from pointlab.generators import make

if TYPE_CHECKING:
    from pointlab.engine import Callback
    from pointlab.runs import Run, RunResult

DEFAULT_VAL_FRACTION = 0.2  # the share `pointlab train` and `pointlab.train` hold out by default
SWEEP_VAL_FRACTION = 0.25  # a sweep's: its choice among many trials needs the larger share

PathLike = str | os.PathLike[str]  # what a path argument may be


def load_data(path: PathLike, columns: str | None = None) -> Dataset:
    """A CSV of labelled points (the book's format, or one with a header; see `pointlab.data`)."""
    return load_csv(path, columns)


def make_data(
    kind: str,
    n: int = 200,
    *,
    classes: int = 2,
    noise: float | None = None,
    label_noise: float = 0.0,
    seed: int = 0,
) -> Dataset:
    """A generated data set: linear, curve, random, circle, xor, gauss, spiral, moons."""
    options = {} if noise is None else {"noise": noise}
    return make(kind, n=n, classes=classes, label_noise=label_noise, seed=seed, **options)


def train(
    data: PathLike | Dataset,
    config: TrainConfig | None = None,
    *,
    val_fraction: float = DEFAULT_VAL_FRACTION,
    test: PathLike | Dataset | None = None,
    columns: str | None = None,
    device: str = "auto",
    log_every: int | None = None,
    out: PathLike | None = None,
    callback: Callback | None = None,
) -> RunResult:
    """Train one model as `pointlab train` does, and return its `RunResult`.

    `data` and `test` are CSV paths or Datasets; `config` defaults to the book's model
    (`TrainConfig()`); `config.seed` seeds the model and the validation split. With `out`, the run
    directory is written there as `pointlab train --out` writes it (refused if it holds a run).
    """
    from pointlab import engine, runs, training  # torch: only now

    config = config if config is not None else TrainConfig()
    dataset = data if isinstance(data, Dataset) else load_csv(data, columns)
    test_set = test if isinstance(test, Dataset) or test is None else load_csv(test, columns)
    if not 0.0 <= val_fraction < 1.0:
        raise UserError(f"val_fraction must be in [0, 1), got {val_fraction}")
    spec = runs.RunSpec(
        config=config,
        data=_source(dataset),
        columns=columns,
        val_fraction=val_fraction,
        split_seed=config.seed,
        n_classes=dataset.n_classes,
        test=None if test_set is None else _source(test_set),
        device=str(engine.resolve_device(device)),
        log_every=log_every or runs.auto_log_every(config.epochs),
    )
    prepared = training.prepare(spec, data=dataset, test=test_set)
    run_dir = runs.claim_run_dir(out) if out is not None else None
    return training.train(spec, prepared, run_dir=run_dir, callback=callback)


def load_run(path: PathLike) -> Run:
    """A run directory (of `pointlab train`, a sweep's `best`, or `train(out=...)`) read back:
    `.spec`, `.model` (predict, predict_proba, score), `.result` (config.json's record)."""
    from pointlab import runs

    return runs.load_run(path)


def _source(dataset: Dataset) -> str:
    """Where a data set came from, as a spec records it: a file path, or how it was made."""
    path = Path(dataset.source)
    return str(path.resolve()) if path.is_file() else dataset.source


__all__ = [
    "Dataset",
    "TrainConfig",
    "load_data",
    "load_points",
    "load_run",
    "make_data",
    "train",
]
