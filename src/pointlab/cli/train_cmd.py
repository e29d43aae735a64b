"""`pointlab train FILE.csv`: train one model, show its progress, write a run directory.

Argument handling, the progress bar and the summary live here; the work is in
`pointlab.training` (data, engine, run directory). `train_run(spec, run_dir, console)` does
everything from a `RunSpec`, so a run's config.json repeats it.

Not here: training or writing anything (`pointlab.training`, `pointlab.runs`).
"""

from __future__ import annotations

import argparse
import contextlib
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from pointlab import runs
from pointlab.api import DEFAULT_VAL_FRACTION
from pointlab.cli import args
from pointlab.cli.evaluate_cmd import class_phrases, phrase_lines
from pointlab.cli.signals import StopSignals
from pointlab.config import preset
from pointlab.cpu import tune_cpu
from pointlab.data import Dataset, load_csv
from pointlab.errors import UserError

EXIT_DIVERGED = 3  # training diverged: the run is written with the last finite weights

STOP_REASONS = {
    "finished": "reached --epochs",
    "early_stopped": "validation loss stopped improving (--early-stopping)",
    "diverged": "loss became NaN or infinite (diverged: try a lower --lr)",
    "interrupted": "interrupted (Ctrl-C or SIGTERM)",
    "pruned": "stopped by a callback",
}


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "train",
        help="train one model on a CSV and write a run directory",
        description="Train one model on a CSV of 2-D points and write a run directory "
        "(config.json, metrics.csv, model.safetensors, boundary.png, loss.png). Defaults are the "
        "book's (complex model, Adam 0.003, full batch, 20000 epochs) except that "
        f"{DEFAULT_VAL_FRACTION:.0%} of the points are held out for validation and the inputs "
        "are standardized by the training points (--no-standardize: raw, as the book).",
    )
    p.add_argument(
        "csv",
        metavar="FILE.csv",
        nargs="?",
        help="training data (the book's format, or a header); not with --config",
    )
    p.add_argument(
        "--config",
        metavar="RUN_DIR/config.json",
        default=None,
        help="repeat the run this config.json records (of pointlab train, or a pointlab play "
        "export): its data, split and every training option; only --out goes with it",
    )
    args.add_model(p)
    args.add_val_fraction(
        p,
        "fraction of the points held out (stratified) for validation; the book trains on all "
        "of them: 0 does that",
    )
    p.add_argument(
        "--split-seed",
        type=args.seed,
        default=None,
        metavar="S",
        help="seed of the train/validation split alone, so that runs with other --seed values "
        "hold out the same points (default: --seed; `pointlab play` records its data seed here)",
    )
    args.add_test(p, "held-out test data, evaluated once at the end (default: none)")
    args.add_device(p)
    args.add_log_every(p, " (default: about 200 rows, e.g. 100 for 20000 epochs)")
    args.add_columns(p)
    args.add_out(p, "RUN_DIR", "run directory (default: runs/<YYYYmmdd-HHMMSS>-<data name>)")
    training = p.add_argument_group(
        "training options", "every field of the run's TrainConfig (config.json repeats them)"
    )
    args.add_training_flags(
        training,
        helps={
            "seed": "seed of the initialization, batches, dropout and, unless --split-seed is "
            "given, the split"
        },
    )
    p.set_defaults(func=run)


def run(namespace: argparse.Namespace, console: Console) -> int:
    if namespace.config is not None:
        return repeat(namespace, console)
    if namespace.csv is None:
        raise UserError(
            "give FILE.csv to train on, or --config RUN_DIR/config.json to repeat a run"
        )
    args.check_fraction(namespace.val_fraction, "--val-fraction")
    values = args.given(namespace)
    hidden = args.hidden(namespace)  # () is no hidden layer (--layers none, --model simple)
    values["hidden"] = preset("complex") if hidden is None else hidden
    config = args.build_config(values)
    runs.check_settings(config, namespace.val_fraction)  # the spec's rules, before any file
    dataset = load_with_progress(console, namespace.csv, namespace.columns)
    test = None
    if namespace.test is not None:  # a bad test file fails before torch loads
        test = load_with_progress(console, namespace.test, namespace.columns)
    from pointlab import engine, training  # torch: only once the arguments are known good

    spec = runs.RunSpec.for_data(
        config,
        dataset,
        val_fraction=namespace.val_fraction,
        split_seed=namespace.split_seed,
        test=test,
        columns=namespace.columns,
        device=namespace.device,
        log_every=namespace.log_every,
    )
    # Bad data or a bad split fails now, before the run directory exists.
    data = training.prepare(spec, data=dataset, test=test)
    n_val = len(data.val) if data.val is not None else 0
    device = engine.resolve_device(spec.device)
    engine.check_memory([config], spec.n_classes, len(data.train), n_val, device)
    out = namespace.out
    fresh = out is None or not Path(out).exists()
    run_dir = runs.claim_run_dir(out) if out else runs.new_run_dir(data.data.name)
    try:
        status = train_run(spec, run_dir, console, data)
    except BaseException:
        runs.discard_unfinished(run_dir, remove_dir=fresh)  # a failed run leaves no orphan
        raise
    if out is None and runs.mark_latest(run_dir):  # never said by a run another one follows
        _say(console, f"also reachable as {run_dir.parent / 'latest'}")
    return status


def repeat(namespace: argparse.Namespace, console: Console) -> int:
    """`--config`: train the RunSpec a run's config.json records into a new run directory."""
    given = [f"--{k.replace('_', '-')}" for k in args.given(namespace)]
    if namespace.csv is not None or given or namespace.split_seed is not None:
        what = "FILE.csv" if namespace.csv is not None else ", ".join(given) or "--split-seed"
        raise UserError(
            f"--config repeats the settings its config.json records; {what} cannot change them "
            "(edit a copy of config.json, or train FILE.csv with flags)"
        )
    source = Path(namespace.config)
    spec, _ = runs.read_spec(source.parent if source.name == runs.CONFIG else source)
    from pointlab import training  # torch: only once the record is known good

    data = training.prepare(spec)
    out = namespace.out
    fresh = out is None or not Path(out).exists()
    run_dir = runs.claim_run_dir(out) if out else runs.new_run_dir(data.data.name)
    try:
        return train_run(spec, run_dir, console, data)
    except BaseException:
        runs.discard_unfinished(run_dir, remove_dir=fresh)
        raise


def load_with_progress(console: Console, path: str, columns: str | None) -> Dataset:
    """`load_csv` with a progress bar for files large enough to take a while (> 20 MB)."""
    size = Path(path).stat().st_size if Path(path).is_file() else 0
    if size < 20_000_000 or not console.is_terminal:
        return load_csv(path, columns)
    with Progress(
        TextColumn(f"reading {Path(path).name}"),
        BarColumn(bar_width=24),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task("read", total=size)
        return load_csv(path, columns, lambda done, total: progress.update(task, completed=done))


def train_run(spec: runs.RunSpec, run_dir: Path, console: Console, data=None) -> int:
    """Train `spec` into `run_dir` with a progress bar and a summary. Exit status: 0, or
    EXIT_DIVERGED (3), or 128 + the signal that stopped it (130 Ctrl-C, 143 SIGTERM)."""
    from pointlab import engine, training

    tune_cpu(engine.resolve_device(spec.device))
    status = 0
    # From here on a signal stops training and the run directory is still written whole.
    with StopSignals() as signals, _progress_bar(spec, console) as callback:
        try:
            result = training.train(
                spec, data, run_dir=run_dir, callback=callback, stop=signals.requested
            )
        except training.RunInterrupted as stop:
            result, status = stop.result, 130
    signalled = signals.exit_status()
    if signalled is not None:
        status = signalled
    elif result.status == "diverged":
        status = EXIT_DIVERGED
    console.print(_summary_table(result))
    for line in class_lines(result):
        _say(console, line)
    names = (runs.BOUNDARY, runs.LOSS, runs.PRECISION_RECALL)
    pictures = [name for name in names if (run_dir / name).exists()]
    _say(
        console,
        f"run directory: {run_dir} (config.json, metrics.csv, model.safetensors, "
        f"{', '.join(pictures)})",
    )
    if signalled is not None:
        _say(console, f"stopped by signal {signalled - 128}; the run directory is complete")
    return status


@contextlib.contextmanager
def _progress_bar(spec: runs.RunSpec, console: Console) -> Iterator[Callable]:
    """A live bar; yields the engine callback that drives it."""
    columns = [
        TextColumn("epoch {task.completed:>{task.fields[digits]}}/{task.total}"),
        BarColumn(bar_width=24),
        TextColumn("{task.fields[stats]}"),
        TextColumn("{task.fields[speed]}"),
        TimeElapsedColumn(),
    ]
    start = time.perf_counter()
    validating = spec.val_fraction > 0
    with Progress(*columns, console=console) as progress:
        epochs = spec.config.epochs
        task = progress.add_task("train", total=epochs, stats="", speed="", digits=len(str(epochs)))

        def callback(epoch: int, metrics: dict[str, np.ndarray]) -> None:
            elapsed = time.perf_counter() - start
            stats = f"train {metrics['train_loss'][0]:.4f} {metrics['train_acc'][0]:6.1%}"
            if validating:
                stats += f" · val {metrics['val_loss'][0]:.4f} {metrics['val_acc'][0]:6.1%}"
            speed = f"{epoch / elapsed:,.0f} ep/s" if epoch and elapsed > 0 else ""
            progress.update(task, completed=epoch, stats=stats, speed=speed)

        yield callback


def _summary_table(result: runs.RunResult) -> Table:
    spec = result.spec
    table = Table(title=f"pointlab train: {result.describe()}", show_header=True)
    table.add_column("")
    for name in ("loss", "accuracy", "best loss (epoch)", "best accuracy"):
        table.add_column(name, justify="right")
    for split_name, key in (("train", "train"), ("validation", "val")):
        if np.isfinite(result.last(f"{key}_loss")):
            best_epoch = ""
            if key == "val" and result.best_epoch is not None:
                best_epoch = f" ({result.best_epoch})"
            table.add_row(
                split_name,
                f"{result.last(f'{key}_loss'):.5g}",
                f"{result.last(f'{key}_acc'):.1%}",
                f"{result.best(f'{key}_loss'):.5g}{best_epoch}",
                f"{result.best(f'{key}_acc'):.1%}",
            )
    if result.test is not None:
        test = result.test
        table.add_row(f"test ({test.n} points)", f"{test.loss:.5g}", f"{test.accuracy:.1%}", "", "")
    reason = STOP_REASONS.get(result.status, result.status)
    if result.status == "diverged":
        reason = (
            f"loss became NaN or infinite at epoch {result.stopped_epoch:,} "
            "(diverged: try a lower --lr)"
        )
    elif result.collapsed_epoch is not None:  # engine/tracker.py: a saturated or dead layer
        reason += (
            f"; its output became one constant for every point at epoch "
            f"{result.collapsed_epoch:,} (collapsed: try a lower --lr)"
        )
    phrases = [
        f"{result.n_params:,} parameters",
        f"{result.stopped_epoch:,} of {spec.config.epochs:,} epochs",
        f"stopped: {reason}",
        f"{result.wall_time:.1f} s on {spec.device}",
        f"seed {spec.config.seed}",
        f"saved weights: {result.weights}",
    ]
    # Lines broken between phrases, never inside one, narrower than the table at 80 columns.
    lines = [phrases[0]]
    for phrase in phrases[1:]:
        if len(lines[-1]) + 3 + len(phrase) > 60:
            lines.append(phrase)
        else:
            lines[-1] += f" · {phrase}"
    table.caption, table.caption_justify = "\n".join(lines), "left"
    return table


def class_lines(result: runs.RunResult) -> list[str]:
    """Per-class recall and balanced accuracy of the saved weights on each set, e.g.
    'validation: recall of class 0: 98.0% · 1: 60.0%; balanced accuracy 79.0%; ...', broken
    between phrases to fit 80 columns."""
    scores = dict(result.scores)
    if result.test is not None:
        scores["test"] = result.test
    lines = []
    for name, score in scores.items():
        average = score.average_precision
        phrases = class_phrases(list(score.recall), score.balanced_accuracy, average)
        phrases[0] = f"{SET_NAMES.get(name, name)}: {phrases[0]}"
        lines += phrase_lines(phrases)
    return lines


SET_NAMES = {"train": "train", "val": "validation", "test": "test"}


def _say(console: Console, text: str) -> None:
    console.print(text, markup=False, highlight=False, soft_wrap=True)
