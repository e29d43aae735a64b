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
from typing import TYPE_CHECKING

from pointlab.config import TrainConfig
from pointlab.data import Dataset, load_csv, load_points
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
    classes: int | None = None,
    noise: float | None = None,
    label_noise: float = 0.0,
    seed: int = 0,
) -> Dataset:
    """A generated data set: linear, curve, random, circle, xor, gauss, spiral, moons, and the
    generative models' 8gaussians, swissroll, checkerboard, pinwheel, twospirals. `classes` and
    `noise` left as None take the kind's own (2 classes, except 8 for 8gaussians and 5 for
    pinwheel)."""
    options: dict[str, float] = {} if noise is None else {"noise": noise}
    if classes is not None:
        options["classes"] = classes
    return make(kind, n=n, label_noise=label_noise, seed=seed, **options)


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
    Faults raise `pointlab.errors.UserError` before anything is written, worded with these
    arguments' names (`early_stopping needs validation data: give val_fraction > 0`).
    """
    from pointlab import runs, training  # torch: only now

    config = config if config is not None else TrainConfig()
    runs.check_settings(config, val_fraction)  # before a file is read
    dataset = data if isinstance(data, Dataset) else load_csv(data, columns)
    test_set = test if isinstance(test, Dataset) or test is None else load_csv(test, columns)
    spec = runs.RunSpec.for_data(
        config,
        dataset,
        val_fraction=val_fraction,
        test=test_set,
        columns=columns,
        device=device,
        log_every=log_every,
    )
    prepared = training.prepare(spec, data=dataset, test=test_set)
    run_dir = runs.claim_run_dir(out) if out is not None else None
    return training.train(spec, prepared, run_dir=run_dir, callback=callback)


def load_run(path: PathLike) -> Run:
    """A run directory (of `pointlab train`, a sweep's `best`, or `train(out=...)`) read back:
    `.spec`, `.model` (predict, predict_proba, score), `.result` (config.json's record)."""
    from pointlab import runs

    return runs.load_run(path)


__all__ = [
    "Dataset",
    "TrainConfig",
    "load_data",
    "load_points",
    "load_run",
    "make_data",
    "train",
]
