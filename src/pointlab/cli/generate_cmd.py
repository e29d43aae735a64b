"""`pointlab generate DATA`: train a generative model of 2-D points (flow matching or diffusion),
measure its samples, write a run directory; `--samples N -o FILE.csv` writes generated points.

Argument handling, the progress bar and the summary live here; the work is in
`pointlab.generative.run` (split, train, measure, write) and `pointlab.data` (files).

Not here: training, measuring or drawing anything (`pointlab.generative`, `pointlab.plots`).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from pointlab import runs
from pointlab.cli import args
from pointlab.config import ConfigError
from pointlab.data import Dataset, save_csv
from pointlab.errors import UserError
from pointlab.generative.config import GenConfig
from pointlab.generators import GENERATORS

EXIT_DIVERGED = 3  # as `pointlab train`: the run is written, without samples worth measuring
DEFAULT_POINTS = 4000  # a generator's points in all: 2000 to train, 1000 and 1000 held out
DEFAULT_HELD_OUT = 0.5


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "generate",
        help="train a generative model of 2-D points and write a run directory",
        description="Train a generative model (flow matching or DDPM) on a CSV of 2-D points or "
        "a generated set, and write a run directory: config.json, metrics.csv, the model "
        "(generator.safetensors, generator.json), and pictures (samples.png, paths.png, "
        "field.png, flow.gif with flow-first.png and flow-last.png). Part of the points is "
        "held out: the model's samples are measured against them (energy distance, with its "
        "standard error) beside a Gaussian fitted to the training points, which a model must "
        "beat, and a second held-out sample of the data, the floor.",
    )
    p.add_argument(
        "data",
        metavar="DATA",
        nargs="?",
        help="a CSV of points (labels ignored unless --conditional), or a data set to generate: "
        + ", ".join(GENERATORS),
    )
    p.add_argument(
        "--config",
        metavar="RUN_DIR/config.json",
        default=None,
        help="train again the run this config.json records: its data, split and every option; "
        "only --out, --samples, -o and --log-every go with it",
    )
    p.add_argument(
        "--n",
        type=args.positive_int,
        default=None,
        metavar="N",
        help=f"a generated set's points in all, the held-out ones included (default: "
        f"{DEFAULT_POINTS})",
    )
    p.add_argument(
        "--noise",
        type=args.number,
        default=None,
        metavar="X",
        help="a generated set's noise (default: the kind's own; see pointlab data make --help)",
    )
    p.add_argument(
        "--classes",
        type=args.positive_int,
        default=None,
        metavar="K",
        help="a generated set's classes (default: the kind's own)",
    )
    p.add_argument(
        "--data-seed",
        type=args.seed,
        default=args.DEFAULT_SEED,
        metavar="S",
        help="seed of a generated set and of the split into training and held-out points "
        f"(default: {args.DEFAULT_SEED})",
    )
    p.add_argument(
        "--held-out",
        type=args.number,
        default=DEFAULT_HELD_OUT,
        metavar="F",
        help="share of the points held out, half to measure the samples against and half as "
        f"the floor's second sample (default: {DEFAULT_HELD_OUT})",
    )
    p.add_argument(
        "--samples",
        type=args.positive_int,
        default=None,
        metavar="N",
        help="also write N generated points to -o FILE.csv (x, y, label: the class drawn with "
        "--conditional, else 0)",
    )
    p.add_argument("-o", "--output", metavar="FILE.csv", default=None, help="file for --samples")
    args.add_columns(p)
    args.add_device(p)
    args.add_log_every(p, " (default: about 100 rows)")
    args.add_out(p, "RUN_DIR", "run directory (default: runs/<YYYYmmdd-HHMMSS>-<data name>)")
    options = p.add_argument_group(
        "generative options", "every field of the run's GenConfig (config.json records them)"
    )
    for f in dataclasses.fields(GenConfig):
        args.add_training_flag(options, f.name, config=GenConfig)
    p.set_defaults(func=run)


def run(namespace: argparse.Namespace, console: Console) -> int:
    if (namespace.samples is None) != (namespace.output is None):
        raise UserError("give --samples N and -o FILE.csv together")
    from pointlab.generative.run import read_record, split_points

    if namespace.config is not None:
        given = [args.flag(name) for name in args.given(namespace)]
        given += [f for f, v in _data_flags(namespace) if v is not None]
        if namespace.data is not None or given:
            what = "DATA" if namespace.data is not None else ", ".join(given)
            raise UserError(
                f"--config repeats the run its config.json records; {what} cannot change it"
            )
        config, data, device_text = read_record(namespace.config)
    else:
        if namespace.data is None:
            raise UserError("give DATA (a CSV or a data set to generate), or --config")
        try:
            config = GenConfig(**args.given(namespace))
        except ConfigError as error:
            raise UserError(error.named(args.flag)) from None
        dataset, record = _points(namespace, config)
        data = split_points(dataset, namespace.held_out, namespace.data_seed, record)
        device_text = namespace.device
    from pointlab import engine  # torch: only once the arguments and the data are known good
    from pointlab.cpu import tune_cpu
    from pointlab.generative.run import run_generative

    device = engine.resolve_device(device_text)
    tune_cpu(device)
    out = namespace.out
    fresh = out is None or not Path(out).exists()
    name = data.train.name.removesuffix(" (train)")
    run_dir = runs.claim_run_dir(out) if out else runs.new_run_dir(name)
    try:
        with _progress_bar(config.epochs, console) as on_epoch:
            result = run_generative(
                config,
                data,
                run_dir,
                device=str(device),
                on_epoch=on_epoch,
                log_every=namespace.log_every,
            )
    except BaseException:
        runs.discard_unfinished(run_dir, remove_dir=fresh)  # a failed run leaves no orphan
        raise
    console.print(_summary_table(result, name))
    _say(console, f"run directory: {run_dir} ({', '.join(p.name for p in result.files)})")
    if out is None and runs.mark_latest(run_dir):
        _say(console, f"also reachable as {run_dir.parent / 'latest'}")
    if result.quality is None:
        _say(console, "the model diverged (its samples are not finite numbers): try a lower --lr")
        return EXIT_DIVERGED
    if namespace.samples is not None:
        path = save_csv(_generated(result.model, namespace.samples, config), namespace.output)
        _say(console, f"wrote {path}: {namespace.samples} generated points")
    return 0


def _points(namespace: argparse.Namespace, config: GenConfig) -> tuple[Dataset, dict[str, Any]]:
    """The points DATA names, and how to make them again."""
    from pointlab.generative.run import make_points, read_points

    source = namespace.data
    generator_flags = [
        flag
        for flag, value in (("--n", namespace.n), ("--noise", namespace.noise))
        + (("--classes", namespace.classes),)
        if value is not None
    ]
    if Path(source).is_file():
        if generator_flags:
            raise UserError(f"{', '.join(generator_flags)}: for a generated set, not a CSV")
        return read_points(source, columns=namespace.columns, labelled=config.conditional)
    if source not in GENERATORS:
        raise UserError(
            f"{source}: no such file, and not a data set to generate ({', '.join(GENERATORS)})"
        )
    if namespace.columns is not None:
        raise UserError("--columns: for a CSV, not a generated set")
    return make_points(
        source,
        n=namespace.n or DEFAULT_POINTS,
        seed=namespace.data_seed,
        noise=namespace.noise,
        classes=namespace.classes,
    )


def _data_flags(namespace: argparse.Namespace) -> list[tuple[str, Any]]:
    """The flags that choose the data, with their values (None: not given)."""
    held_out = None if namespace.held_out == DEFAULT_HELD_OUT else namespace.held_out
    data_seed = None if namespace.data_seed == args.DEFAULT_SEED else namespace.data_seed
    return [
        ("--n", namespace.n),
        ("--noise", namespace.noise),
        ("--classes", namespace.classes),
        ("--columns", namespace.columns),
        ("--held-out", held_out),
        ("--data-seed", data_seed),
    ]


def _generated(model: Any, n: int, config: GenConfig) -> Dataset:
    """n generated points: a conditional model's drawn class by class in the training points'
    proportions (labelled with their class), another's labelled 0."""
    if not config.conditional:
        X = model.sample(n, seed=config.seed)
        return Dataset(X.astype(np.float32), np.zeros(n, dtype=np.int64), 1, "generated", "")
    weights = np.asarray(model.label_weights)
    counts = np.floor(weights * n).astype(int)
    counts[: n - counts.sum()] += 1  # the rest, one each, to the first classes
    parts = [model.sample(int(c), seed=config.seed, label=k) for k, c in enumerate(counts) if c]
    labels = np.concatenate([np.full(c, k) for k, c in enumerate(counts) if c])
    X = np.concatenate(parts).astype(np.float32)
    return Dataset(X, labels.astype(np.int64), len(weights), "generated", "")


@contextlib.contextmanager
def _progress_bar(epochs: int, console: Console) -> Iterator[Callable]:
    """A live bar; yields the training callback that drives it."""
    columns = [
        TextColumn("epoch {task.completed:>{task.fields[digits]}}/{task.total}"),
        BarColumn(bar_width=24),
        TextColumn("{task.fields[stats]}"),
        TimeElapsedColumn(),
    ]
    start = time.perf_counter()
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("train", total=epochs, stats="", digits=len(str(epochs)))

        def on_epoch(epoch: int, metrics: dict[str, np.ndarray]) -> None:
            elapsed = time.perf_counter() - start
            speed = f" · {epoch / elapsed:,.1f} ep/s" if epoch and elapsed > 0 else ""
            stats = f"loss {float(metrics['train_loss'][0]):.4f}{speed}"
            progress.update(task, completed=epoch, stats=stats)

        yield on_epoch


def _summary_table(result: Any, name: str) -> Table:
    config, quality = result.config, result.quality
    table = Table(title=f"pointlab generate: {config.method} on {name}", show_header=True)
    table.add_column("samples")
    table.add_column("energy distance", justify="right")
    table.add_column("standard error", justify="right")
    if quality is not None:
        rows = (
            ("this model", quality.model),
            ("a Gaussian fitted to the data", quality.gaussian),
            ("the data itself (floor)", quality.floor),
        )
        for label, estimate in rows:
            table.add_row(label, f"{estimate.value:.5f}", f"{estimate.se:.5f}")
        gap = quality.versus_gaussian
        table.add_row("this model minus the Gaussian", f"{gap.value:+.5f}", f"{gap.se:.5f}")
        verdict = "beats" if quality.margin > 2 else "does not beat"
        table.caption = (
            f"{quality.n} points each, against held-out data · the model {verdict} the Gaussian: "
            f"{quality.margin:+.1f} standard errors below it (more than 2 beats it) · "
            f"{result.seconds:.1f} s"
        )
        table.caption_justify = "left"
    return table


def _say(console: Console, text: str) -> None:
    console.print(text, markup=False, highlight=False, soft_wrap=True)
