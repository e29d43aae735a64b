"""`pointlab train FILE.csv`: train one model, show its progress, write a run directory.

Argument handling, the progress bar and the summary live here; the work is in `pointlab.engine`
(training), `pointlab.runs` (the run directory) and `pointlab.plots` (pictures). `train_run(spec,
run_dir, console)` does everything from a `RunSpec`, so a run's config.json repeats it.
"""

from __future__ import annotations

import argparse
import secrets
import time
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from pointlab import engine, runs
from pointlab.checkpoint import TrainedModel
from pointlab.cli.signals import StopSignals
from pointlab.cli.threads import tune_cpu
from pointlab.config import ACTIVATIONS, OPTIMIZERS, PRESETS, SCHEDULES, TrainConfig, preset
from pointlab.data import Dataset, load_csv
from pointlab.engine.models import Architecture
from pointlab.errors import UserError
from pointlab.splits import split

DEFAULT_VAL_FRACTION = 0.2
EXIT_DIVERGED = 3  # training diverged: the run is written with the last finite weights
STOP_REASONS = {
    "finished": "reached --epochs",
    "early_stopped": "validation loss stopped improving (--early-stopping)",
    "diverged": "loss became NaN or infinite (diverged: try a lower --lr)",
    "interrupted": "interrupted (Ctrl-C or SIGTERM)",
    "pruned": "stopped by a callback",
}
SHOWN_POINTS = 4000  # at most this many points in a boundary picture: more hide the regions


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    d = TrainConfig()
    p = subparsers.add_parser(
        "train",
        help="train one model on a CSV and write a run directory",
        description="Train one model on a CSV of 2-D points and write a run directory "
        "(config.json, metrics.csv, model.safetensors, boundary.png, loss.png). Defaults are the "
        "book's (complex model, Adam 0.003, full batch, 20000 epochs) except that "
        f"{DEFAULT_VAL_FRACTION:.0%} of the points are held out for validation.",
    )
    p.add_argument("csv", metavar="FILE.csv", help="training data (the book's format, or a header)")
    p.add_argument(
        "--model",
        choices=list(PRESETS),
        default="complex",
        help="the book's models: simple = no hidden layer (logistic regression), "
        "complex = two hidden layers of 128 (default: complex)",
    )
    p.add_argument(
        "--layers",
        type=_layers,
        metavar="W,W,...",
        default=None,
        help="hidden layer widths, overriding --model; 'none' for no hidden layer "
        "(default: the model's)",
    )
    p.add_argument(
        "--activation",
        choices=ACTIVATIONS,
        default=d.activation,
        help=f"hidden activation (default: {d.activation})",
    )
    p.add_argument(
        "--dropout",
        type=float,
        default=d.dropout,
        metavar="P",
        help=f"dropout after each hidden layer (default: {d.dropout})",
    )
    p.add_argument(
        "--optimizer", choices=OPTIMIZERS, default=d.optimizer, help=f"(default: {d.optimizer})"
    )
    p.add_argument(
        "--lr", type=float, default=d.lr, metavar="X", help=f"learning rate (default: {d.lr})"
    )
    p.add_argument(
        "--momentum",
        type=float,
        default=d.momentum,
        metavar="X",
        help=f"for momentum and nesterov (default: {d.momentum})",
    )
    p.add_argument(
        "--weight-decay",
        type=float,
        default=d.weight_decay,
        metavar="X",
        help=f"L2 penalty, decoupled for adamw (default: {d.weight_decay})",
    )
    p.add_argument(
        "--schedule",
        choices=SCHEDULES,
        default=d.schedule,
        help=f"learning-rate schedule over the epochs (default: {d.schedule})",
    )
    p.add_argument(
        "--warmup",
        type=int,
        default=d.warmup,
        metavar="EPOCHS",
        help=f"linear learning-rate warmup (default: {d.warmup})",
    )
    p.add_argument(
        "--epochs",
        type=int,
        default=d.epochs,
        metavar="N",
        help=f"passes over the training points (default: {d.epochs})",
    )
    p.add_argument(
        "--batch-size",
        type=_batch_size,
        default=None,
        metavar="N|full",
        help="points per step; full = all training points, the book's way (default: full)",
    )
    p.add_argument(
        "--val-fraction",
        type=float,
        default=DEFAULT_VAL_FRACTION,
        metavar="F",
        help="fraction of the points held out (stratified) for validation; the book "
        f"trains on all of them: 0 does that (default: {DEFAULT_VAL_FRACTION})",
    )
    p.add_argument(
        "--early-stopping",
        type=int,
        default=None,
        metavar="PATIENCE",
        help="stop when validation loss has not improved for this many epochs and keep "
        "the best weights (default: off)",
    )
    p.add_argument(
        "--clip-grad",
        type=float,
        default=None,
        metavar="X",
        help="clip the gradient norm to X (default: off)",
    )
    p.add_argument(
        "--test",
        metavar="FILE.csv",
        default=None,
        help="held-out test data, evaluated once at the end (default: none)",
    )
    p.add_argument(
        "--seed",
        type=int,
        default=None,
        metavar="S",
        help="seed of the initialization, batches and split (default: a random one, "
        "printed and recorded in config.json)",
    )
    p.add_argument(
        "--device",
        choices=["auto", "cpu", "cuda"],
        default="auto",
        help="auto = cuda when available (default: auto)",
    )
    p.add_argument(
        "--log-every",
        type=int,
        default=None,
        metavar="K",
        help="record metrics every K epochs (default: about 200 rows, e.g. 100 for 20000 epochs)",
    )
    p.add_argument(
        "--columns",
        metavar="X,Y,LABEL",
        default=None,
        help="columns to use, by header name or 0-based index (default: the last three)",
    )
    p.add_argument(
        "--out",
        metavar="RUN_DIR",
        default=None,
        help="run directory (default: runs/<YYYYmmdd-HHMMSS>-<data name>)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace, console: Console) -> int:
    if args.log_every is not None and args.log_every < 1:
        raise UserError(f"--log-every must be >= 1, got {args.log_every}")
    if not 0.0 <= args.val_fraction < 1.0:
        raise UserError(f"--val-fraction must be in [0, 1), got {args.val_fraction}")
    seed = args.seed if args.seed is not None else secrets.randbelow(2**31)
    hidden = args.layers if args.layers is not None else preset(args.model)
    config = TrainConfig(
        hidden=hidden,
        activation=args.activation,
        dropout=args.dropout,
        optimizer=args.optimizer,
        lr=args.lr,
        momentum=args.momentum,
        weight_decay=args.weight_decay,
        schedule=args.schedule,
        warmup=args.warmup,
        epochs=args.epochs,
        batch_size=args.batch_size,
        early_stopping=args.early_stopping,
        clip_grad=args.clip_grad,
        seed=seed,
    )
    if config.early_stopping is not None and args.val_fraction == 0:
        raise UserError("--early-stopping needs validation data: give --val-fraction > 0")
    device = engine.resolve_device(args.device)
    dataset = load_with_progress(console, args.csv, args.columns)
    test = None
    if args.test is not None:  # bad test data fails now, not after training
        test = load_with_progress(console, args.test, args.columns)
        _check_test_classes(args.test, test, dataset)
    spec = runs.RunSpec(
        config=config,
        data=str(Path(args.csv).resolve()),
        columns=args.columns,
        val_fraction=args.val_fraction,
        split_seed=seed,
        n_classes=dataset.n_classes,
        test=str(Path(args.test).resolve()) if args.test else None,
        device=str(device),
        log_every=args.log_every or auto_log_every(config.epochs),
        names=dataset.columns,
    )
    n_val = round(len(dataset) * args.val_fraction)
    engine.check_memory([config], dataset.n_classes, len(dataset) - n_val, n_val, device)
    fresh = args.out is None or not Path(args.out).exists()
    run_dir = runs.claim_run_dir(args.out) if args.out else runs.new_run_dir(dataset.name)
    if args.seed is None:
        _say(console, f"seed {seed} (random; repeat with --seed {seed})")
    try:
        status = train_run(spec, run_dir, console, dataset, test)
    except BaseException:
        runs.discard_unfinished(run_dir, remove_dir=fresh)  # a failed run leaves no orphan
        raise
    if args.out is None:
        _say(console, f"also reachable as {runs.mark_latest(run_dir)}")
    return status


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


def _check_test_classes(path: str, test: Dataset, dataset: Dataset) -> None:
    if test.n_classes > dataset.n_classes:
        raise UserError(
            f"{path}: has {test.n_classes} classes, the training data {dataset.n_classes}"
        )


def train_run(
    spec: runs.RunSpec,
    run_dir: Path,
    console: Console,
    dataset: Dataset | None = None,
    test: Dataset | None = None,
) -> int:
    """Train `spec` into `run_dir` with a progress bar and a summary. Exit status: 0, or
    EXIT_DIVERGED (3), or 128 + the signal that stopped it (130 Ctrl-C, 143 SIGTERM).
    `dataset` and `test` are the spec's files when the caller has read them already."""
    if dataset is None:
        dataset = load_csv(spec.data, spec.columns)
    train, val = dataset, None
    if spec.val_fraction > 0:
        train, val, _ = split(dataset, spec.val_fraction, seed=spec.split_seed)
    if test is None and spec.test:
        test = load_csv(spec.test, spec.columns)
        _check_test_classes(spec.test, test, dataset)
    tune_cpu(engine.resolve_device(spec.device))
    with StopSignals() as signals:  # from here on, a signal stops training and the run is written
        runs.write_config(run_dir, spec)  # first, so even a crashed run says what it was
        result, interrupted = _train_with_progress(spec, train, val, console, signals.requested)
        _write_run(spec, run_dir, console, dataset.name, train, val, test, result)
    status = signals.exit_status()
    if status is not None:
        _say(console, f"stopped by signal {status - 128}; the run directory is complete")
        return status
    if interrupted:
        return 130
    return EXIT_DIVERGED if result.status == "diverged" else 0


def _write_run(spec, run_dir, console, name, train, val, test, result) -> None:
    from pointlab.plots.boundary import plot_boundary  # matplotlib only once training is done
    from pointlab.plots.curves import plot_history

    config = spec.config
    arch = Architecture(config.hidden, config.activation, spec.n_classes)
    model = TrainedModel(config, spec.n_classes, result.state)
    test_metrics = None
    if test is not None:
        test_metrics = {
            "loss": model.loss(test.X, test.y),
            "acc": _accuracy(model, test),
            "n": len(test),
        }
    summary = {
        "status": result.status,
        "stopped_epoch": result.stopped_epoch,
        "weights_epoch": result.weights_epoch,  # the epoch of the saved weights
        "weights_extra_steps": result.extra_steps,  # minibatch steps past it (a stop mid-epoch)
        "best_epoch": result.best_epoch,
        "wall_time": result.wall_time,
        "n_params": arch.n_params,
        "final": {k: result.last(k) for k in engine.METRICS},
        "best": {k: result.best(k) for k in engine.METRICS},
        "test": test_metrics,
        "weights": _which_weights(result),
    }
    runs.write_metrics(run_dir, result.history)
    runs.write_model(run_dir, spec, result.state)
    runs.write_config(run_dir, spec, summary)
    title = f"{describe(config, spec.n_classes)} on {name}, epoch {result.weights_epoch}"
    shown_train, shown_val, note = _sample(train, val, config.seed)
    pictures = [
        plot_boundary(
            model.predict_proba,
            shown_train,
            shown_val,
            run_dir / "boundary.png",
            title + note,
        )
    ]
    if result.history["epoch"]:
        pictures.append(plot_history(result.history, run_dir / "loss.png", title))
    console.print(_summary_table(spec, summary, result))
    _say(
        console,
        f"run directory: {run_dir} (config.json, metrics.csv, model.safetensors, "
        f"{', '.join(p.name for p in pictures)})",
    )


def _which_weights(result) -> str:
    if result.status == "diverged":
        return f"the last finite ones, from epoch {result.weights_epoch}"
    if result.state is result.best_state:
        return f"best, from epoch {result.weights_epoch}"
    if result.extra_steps:
        return f"epoch {result.weights_epoch} + {result.extra_steps} steps"
    return f"final, from epoch {result.weights_epoch}"


def _sample(train: Dataset, val: Dataset | None, seed: int):
    """At most SHOWN_POINTS points for the picture, a random sample of each set in proportion;
    and a title note saying so when it is a sample."""
    total = len(train) + (len(val) if val is not None else 0)
    if total <= SHOWN_POINTS:
        return train, val, ""
    rng = np.random.default_rng(seed)

    def part(data: Dataset) -> Dataset:
        keep = max(1, round(len(data) * SHOWN_POINTS / total))
        return data.subset(np.sort(rng.choice(len(data), keep, replace=False)))

    shown_val = part(val) if val is not None else None
    shown = len(part_train := part(train)) + (len(shown_val) if shown_val is not None else 0)
    note = f"\npoints: a random {shown:,} of {total:,} (accuracy on those shown)"
    return part_train, shown_val, note


def _train_with_progress(spec, train: Dataset, val: Dataset | None, console: Console, stop=None):
    """(MemberResult, interrupted) with a live bar driven by the engine's callback."""
    columns = [
        TextColumn("epoch {task.completed:>{task.fields[digits]}}/{task.total}"),
        BarColumn(bar_width=24),
        TextColumn("{task.fields[stats]}"),
        TextColumn("{task.fields[speed]}"),
        TimeElapsedColumn(),
    ]
    start = time.perf_counter()
    with Progress(*columns, console=console) as progress:
        epochs = spec.config.epochs
        task = progress.add_task("train", total=epochs, stats="", speed="", digits=len(str(epochs)))

        def callback(epoch: int, metrics: dict[str, np.ndarray]) -> None:
            elapsed = time.perf_counter() - start
            stats = f"train {metrics['train_loss'][0]:.4f} {metrics['train_acc'][0]:6.1%}"
            if val is not None:
                stats += f" · val {metrics['val_loss'][0]:.4f} {metrics['val_acc'][0]:6.1%}"
            speed = f"{epoch / elapsed:,.0f} ep/s" if epoch and elapsed > 0 else ""
            progress.update(task, completed=epoch, stats=stats, speed=speed)

        try:
            (result,) = engine.train(
                [spec.config],
                train.X,
                train.y,
                *((val.X, val.y) if val is not None else ()),
                n_classes=spec.n_classes,
                device=spec.device,
                log_every=spec.log_every,
                callback=callback,
                stop=stop,
            )
            return result, False
        except engine.PopulationInterrupted as stop:
            return stop.results[0], True


def _summary_table(spec: runs.RunSpec, summary: dict, result) -> Table:
    table = Table(
        title=f"pointlab train: {describe(spec.config, spec.n_classes)}", show_header=True
    )
    table.add_column("")
    for name in ("loss", "accuracy", "best loss (epoch)", "best accuracy"):
        table.add_column(name, justify="right")
    final, best = summary["final"], summary["best"]
    for split_name, key in (("train", "train"), ("validation", "val")):
        if np.isfinite(final[f"{key}_loss"]):
            best_epoch = ""
            if key == "val" and result.best_epoch is not None:
                best_epoch = f" ({result.best_epoch})"
            table.add_row(
                split_name,
                f"{final[f'{key}_loss']:.5g}",
                f"{final[f'{key}_acc']:.1%}",
                f"{best[f'{key}_loss']:.5g}{best_epoch}",
                f"{best[f'{key}_acc']:.1%}",
            )
    if summary["test"]:
        test = summary["test"]
        table.add_row(
            f"test ({test['n']} points)", f"{test['loss']:.5g}", f"{test['acc']:.1%}", "", ""
        )
    reason = STOP_REASONS.get(summary["status"], summary["status"])
    if summary["status"] == "diverged":
        reason = (
            f"loss became NaN or infinite at epoch {summary['stopped_epoch']:,} "
            "(diverged: try a lower --lr)"
        )
    table.caption = (
        f"{summary['n_params']:,} parameters · {summary['stopped_epoch']:,} of "
        f"{spec.config.epochs:,} epochs · stopped: {reason} "
        f"· {summary['wall_time']:.1f} s on {spec.device} · seed {spec.config.seed} · "
        f"saved weights: {summary['weights']}"
    )
    return table


def describe(config: TrainConfig, n_classes: int) -> str:
    """Short model description for titles: 'complex (2-128-128-1 relu), adam lr 0.003'."""
    arch = Architecture(config.hidden, config.activation, n_classes)
    names = [name for name, hidden in PRESETS.items() if hidden == config.hidden]
    widths = "-".join(str(w) for w in (2, *config.hidden, arch.n_outputs))
    shape = f"{widths} {config.activation}" if config.hidden else widths
    label = f"{names[0]} ({shape})" if names else f"MLP {shape}"
    return f"{label}, {config.optimizer} lr {config.lr:g}"


def auto_log_every(epochs: int) -> int:
    """About 200 logged rows: the bar moves smoothly and logging (a sync + a validation pass)
    stays a small share of the time. A round number, so rows fall on 100, 200, ..."""
    target = max(1, epochs // 200)
    return max(
        n for n in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000) if n <= target
    )


def _accuracy(model: TrainedModel, data: Dataset) -> float:
    return float((model.predict(data.X) == data.y).mean())


def _layers(text: str) -> tuple[int, ...]:
    if text.strip().lower() in ("none", "", "0"):
        return ()
    try:
        widths = tuple(int(w) for w in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: give widths like 128,128 (or none)") from None
    if any(w < 1 for w in widths):
        raise argparse.ArgumentTypeError(f"{text!r}: widths must be at least 1")
    return widths


def _batch_size(text: str) -> int | None:
    if text == "full":
        return None
    try:
        size = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: give a whole number or 'full'") from None
    if size < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: must be at least 1 (or 'full')")
    return size


def _say(console: Console, text: str) -> None:
    console.print(text, markup=False, highlight=False, soft_wrap=True)
