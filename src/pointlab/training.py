"""Training one RunSpec: load and split its data, train it on the engine, measure it, and (when
asked) write its run directory. Every front end trains a single model through here: `pointlab
train`, a sweep's retrain of its best trial, the package's `pointlab.train`.

    prepare(spec)                -> RunData   everything that can fail before training starts
    train(spec, data, run_dir=)  -> RunResult

`prepare` is where a check of the data belongs that must refuse a run before anything is created
or trained (the file, its classes, a split that leaves a class no training point): commands call
it before they create the run directory. Its errors name the library's settings
(`val_fraction`), never a command-line flag.

Not here: the spec's own rules and the RunData type (`pointlab.runs`), the engine's loop
(`pointlab.engine`), the directory format (`pointlab.runs`), progress bars and summaries
(`pointlab.cli`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from pointlab import engine, features, runs
from pointlab.checkpoint import TrainedModel
from pointlab.data import Dataset, load_csv
from pointlab.engine.losses import class_weights
from pointlab.errors import SettingError, UserError
from pointlab.runs import RunData, RunResult, RunSpec, SweepChoice
from pointlab.splits import split


class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C during `train`: carries the result so far (written, when a run_dir was given)."""

    def __init__(self, result: RunResult) -> None:
        super().__init__("training interrupted")
        self.result = result


def prepare(spec: RunSpec, *, data: Dataset | None = None, test: Dataset | None = None) -> RunData:
    """Load (unless given) and split the spec's data, refusing with a UserError what cannot train.

    `data` and `test` stand in for the spec's files when the caller has them in memory already.
    The spec's own rules are checked first (`runs.check_settings`), for a spec read back too.
    """
    runs.check_settings(spec.config, spec.val_fraction, spec.test_fraction)
    dataset = data if data is not None else load_csv(spec.data, spec.columns)
    if dataset.n_classes != spec.n_classes:
        raise UserError(
            f"{spec.data}: has {dataset.n_classes} classes; the run was set up for {spec.n_classes}"
        )
    train, val, held = dataset, None, None
    if spec.val_fraction > 0 or spec.test_fraction > 0:
        train, val, held = split(dataset, spec.val_fraction, spec.test_fraction, spec.split_seed)
        if spec.val_fraction == 0:
            val = None
        check_classes(train, spec.val_fraction, spec.test_fraction)
    class_weights(spec.config.class_weight, train.y, dataset.n_classes)  # one weight per class
    if test is None and spec.test:
        test = load_csv(spec.test, spec.columns)
    elif test is None and held is not None and len(held):
        test = held
    if test is not None and test.n_classes > dataset.n_classes:
        raise UserError(
            f"{spec.test or test.source}: has {test.n_classes} classes, "
            f"the training data {dataset.n_classes}"
        )
    return RunData(dataset, train, val, test)


def train(
    spec: RunSpec,
    data: RunData | None = None,
    *,
    run_dir: str | Path | None = None,
    callback: engine.Callback | None = None,
    sweep: SweepChoice | None = None,
    stop: Callable[[], bool] | None = None,
) -> RunResult:
    """Train `spec` (on `data`, or on `prepare(spec)`) and return what it produced.

    With `run_dir` (an existing directory), config.json is written before training starts, so even
    a crashed run says what it was, and the whole run directory when it ends. `callback` is the
    engine's (epoch, metrics) progress callback. Ctrl-C raises `RunInterrupted` with the result so
    far, written like a finished one; so does `stop()` returning True (polled at every epoch and
    step: `pointlab train` turns SIGINT/SIGTERM into it). A diverged run keeps its last finite
    weights (`status` "diverged").
    """
    data = data if data is not None else prepare(spec)
    if run_dir is not None:
        run_dir = Path(run_dir)
        runs.write_config(run_dir, spec)
    # The network's inputs: features of the points scaled by the training points (`features.py`).
    config = spec.config
    scaling = features.fit(data.train.X, config.standardize)

    def inputs(part: Dataset) -> np.ndarray:
        return features.model_inputs(part.X, config.features, scaling)  # (N, D)

    val = (inputs(data.val), data.val.y) if data.val is not None and len(data.val) else ()
    try:
        (member,) = engine.train(
            [spec.config],
            inputs(data.train),
            data.train.y,
            *val,
            n_classes=spec.n_classes,
            device=spec.device,
            log_every=spec.log_every,
            callback=callback,
            stop=stop,
        )
        interrupted = False
    except engine.PopulationInterrupted as stop:
        member, interrupted = stop.results[0], True
    result = _result(spec, member, data, sweep, scaling)
    if run_dir is not None:
        runs.write_run(run_dir, result)
    if interrupted:
        raise RunInterrupted(result)
    return result


def _result(
    spec: RunSpec,
    member: engine.MemberResult,
    data: RunData,
    sweep: SweepChoice | None,
    scaling: features.Scaling | None,
) -> RunResult:
    state = {k: v.detach().cpu() for k, v in member.state.items()}
    model = TrainedModel(spec.config, spec.n_classes, state, scaling)
    return RunResult(
        spec=spec,
        model=model,
        history=member.history,
        status=member.status,
        stopped_epoch=member.stopped_epoch,
        best_epoch=member.best_epoch,
        wall_time=member.wall_time,
        weights=_which_weights(member),
        weights_epoch=member.weights_epoch,
        extra_steps=member.extra_steps,
        collapsed_epoch=member.collapsed_epoch,
        test=model.score(data.test) if data.test is not None else None,
        sweep=sweep,
        data=data,
    )


def _which_weights(member: engine.MemberResult) -> str:
    if member.status == "diverged":
        return f"the last finite ones, from epoch {member.weights_epoch}"
    if member.state is member.best_state:
        return f"best, from epoch {member.weights_epoch}"
    if member.extra_steps:
        return f"epoch {member.weights_epoch} + {member.extra_steps} steps"
    return f"final, from epoch {member.weights_epoch}"


def check_classes(train: Dataset, val_fraction: float, test_fraction: float = 0.0) -> None:
    """Every class keeps a training point: a split that takes all of a class cannot train it
    (`train` is what the shares left; a sweep checks its split here too)."""
    counts = train.class_counts()
    if (counts == 0).any():
        empty = int((counts == 0).argmax())
        shares = f"{{val_fraction}} {val_fraction:g}"
        if test_fraction:
            shares += f" with {{test_fraction}} {test_fraction:g}"
        raise SettingError(f"{shares} leaves no training points of class {empty}; lower it")
