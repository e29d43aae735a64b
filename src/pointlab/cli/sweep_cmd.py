"""`pointlab sweep`: search hyperparameters on validation data, keep every trial in a study
database, retrain the best configuration and test it once.

Only argument handling and output live here; the work is in `pointlab.search`.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shutil
import sys
from pathlib import Path

import optuna
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from pointlab import engine, runs
from pointlab.cli.threads import tune_cpu
from pointlab.config import TrainConfig, preset
from pointlab.data import load_csv
from pointlab.errors import UserError
from pointlab.search import report
from pointlab.search.space import apply_params, parse_space, parse_value
from pointlab.search.store import Store
from pointlab.search.strategies import STRATEGIES
from pointlab.search.sweep import SweepSetup, run_sweep

# TrainConfig fields that the sweep's own flags set (or that make no sense fixed here).
_NOT_FIXED = {"hidden", "epochs", "seed", "extra"}


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "sweep",
        help="search hyperparameters on a validation split and keep the best model",
        description="Search hyperparameters: every trial is scored on validation data only and "
        "kept in a study database (run the same command again to resume); the best configuration "
        "is retrained on all the training data and tested once on data it never chose by.",
    )
    parser.add_argument("csv", metavar="FILE.csv", help="training data (the book's format)")
    parser.add_argument(
        "--space",
        action="append",
        default=[],
        metavar="NAME=SPEC",
        help="a searched option, repeatable: choices (activation=relu,tanh; "
        "layers=[16],[64,64]; batch_size=16,32,full) or a range "
        "(lr=loguniform(1e-4,1e-1), dropout=uniform(0,0.5), depth=int(1,4), "
        "width=intlog(8,256)); default: lr, depth, width, weight_decay",
    )
    parser.add_argument(
        "--strategy",
        choices=STRATEGIES,
        default="random",
        help="grid: the whole product; random: N samples; tpe: Optuna's TPE, a "
        "batch at a time; halving: successive halving of N random trials, the "
        "best third going on at each rung (default: random)",
    )
    parser.add_argument(
        "--trials",
        type=_positive,
        default=None,
        metavar="N",
        help="trials to run (default: 32); grid: points per range chosen so "
        "that the product stays within N (default: 5 per range)",
    )
    parser.add_argument(
        "--epochs",
        type=_positive,
        default=2000,
        metavar="N",
        help="epochs per trial (default: 2000)",
    )
    parser.add_argument(
        "--cv",
        type=_positive,
        default=None,
        metavar="K",
        help="K-fold cross-validation instead of one validation split; the K "
        "folds of a trial train together (advised below ~1000 points)",
    )
    parser.add_argument(
        "--val-fraction",
        type=float,
        default=0.25,
        metavar="F",
        help="share of the training data held out for validation (default 0.25)",
    )
    parser.add_argument(
        "--test",
        metavar="FILE.csv",
        default=None,
        help="test data, used once after the choice (default: a share of FILE)",
    )
    parser.add_argument(
        "--test-fraction",
        type=float,
        default=0.2,
        metavar="F",
        help="share of FILE set apart as test data when no --test (default 0.2)",
    )
    parser.add_argument(
        "--columns",
        metavar="X,Y,LABEL",
        default=None,
        help="columns to use, by header name or 0-based index (default: last 3)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=0,
        metavar="S",
        help="seed of the splits, the sampling and the models (default: 0)",
    )
    parser.add_argument(
        "--out", metavar="DIR", default=None, help="output folder (default: sweeps/<FILE stem>)"
    )
    parser.add_argument(
        "--study",
        metavar="NAME",
        default=None,
        help="study name in the database (default: the FILE stem)",
    )
    parser.add_argument(
        "--storage",
        metavar="URL",
        default=None,
        help="database URL, e.g. postgresql://host/db (default: sqlite:///OUT/study.db)",
    )
    parser.add_argument(
        "--device", default="auto", metavar="DEVICE", help="cpu, cuda or auto (default: auto)"
    )
    parser.add_argument(
        "--batch",
        type=_positive,
        default=None,
        metavar="N",
        help="trials claimed and trained together at a time (default: as many "
        "as fit in memory; tpe: 8)",
    )
    parser.add_argument(
        "--stale-after",
        type=_positive,
        default=60,
        metavar="SECONDS",
        help="a trial whose process sent no heartbeat for this long is run again (default: 60)",
    )
    parser.add_argument(
        "--ray",
        nargs="?",
        const="",
        default=None,
        metavar="ADDRESS",
        help="train the populations as tasks on a Ray cluster (ADDRESS: host:port of its "
        "head, or auto; none: the cluster this machine belongs to, else a local one)",
    )
    parser.add_argument(
        "--cpus-per-task",
        type=float,
        default=1.0,
        metavar="N",
        help="with --ray: CPUs each task (one population) asks for (default: 1)",
    )
    parser.add_argument(
        "--gpus-per-task",
        type=float,
        default=0.0,
        metavar="N",
        help="with --ray: GPUs each task asks for; > 0 trains on the nodes' GPUs (default: 0)",
    )
    parser.add_argument(
        "--log-every",
        type=_positive,
        default=None,
        metavar="K",
        help="record metrics every K epochs; the best epoch is one of these "
        "(default: epochs / 100)",
    )
    parser.add_argument(
        "--json", action="store_true", help="print a JSON summary instead of tables"
    )
    fixed = parser.add_argument_group(
        "fixed training options", "as for `pointlab train`: the same value for every trial"
    )
    fixed.add_argument(
        "--model",
        choices=["simple", "complex"],
        default=None,
        help="the book's models: simple (no hidden layer) or complex (128,128)",
    )
    fixed.add_argument(
        "--layers",
        metavar="WIDTHS",
        default=None,
        help="hidden widths, e.g. 64,64 (default: 128,128)",
    )
    defaults = TrainConfig()
    for f in dataclasses.fields(TrainConfig):
        if f.name not in _NOT_FIXED:
            fixed.add_argument(
                f"--{f.name.replace('_', '-')}",
                dest=f"fixed_{f.name}",
                metavar="V",
                default=None,
                help=f"(default: {_text(getattr(defaults, f.name))})",
            )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, console: Console) -> int:
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # our output, not Optuna's log lines
    data = load_csv(args.csv, args.columns)
    test = load_csv(args.test, args.columns) if args.test else None
    base = _fixed_config(args)
    params = parse_space(args.space, base)
    clash = sorted({p.name for p in params} & set(_fixed_names(args)))
    if clash:
        raise UserError(f"{', '.join(clash)}: both fixed by a flag and searched by --space")
    n_trials = args.trials if args.trials or args.strategy == "grid" else 32
    if args.cv == 1:
        raise UserError("--cv K needs K >= 2 folds (leave it out for one validation split)")
    setup = SweepSetup(
        params,
        args.strategy,
        n_trials,
        base,
        args.cv,
        args.val_fraction,
        args.test_fraction,
        args.seed,
        args.log_every,
    )
    tune_cpu(engine.resolve_device(args.device))
    out = Path(args.out or Path("sweeps") / Path(args.csv).stem)
    out.mkdir(parents=True, exist_ok=True)
    study = args.study or Path(args.csv).stem
    storage = args.storage or f"sqlite:///{out.resolve() / 'study.db'}"
    store = Store(storage, study, stale_after=args.stale_after)
    cluster = None
    if args.ray is not None:
        from pointlab.search.ray_cluster import RayCluster  # Ray only when asked for

        cluster = RayCluster(
            args.ray or None, cpus_per_task=args.cpus_per_task, gpus_per_task=args.gpus_per_task
        )
    try:
        with _progress(console, disable=args.json) as progress:
            result = run_sweep(
                setup,
                data,
                test,
                store,
                device=args.device,
                batch=args.batch,
                progress=progress,
                cluster=cluster,
            )
    except KeyboardInterrupt:
        print("pointlab: interrupted; run the same command again to resume", file=sys.stderr)
        return 130
    best_dir = _write_best(out, result, setup, args)
    pictures = _draw(out, result, setup)
    summary = report.summary(result, setup, study, storage)
    (out / "sweep.json").write_text(json.dumps(summary, indent=2) + "\n")
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    _print_report(console, result, setup, summary, best_dir, pictures)
    return 0


def _fixed_names(args) -> list[str]:
    names = [
        k.removeprefix("fixed_")
        for k, v in vars(args).items()
        if k.startswith("fixed_") and v is not None
    ]
    return names + (["layers"] if args.layers is not None or args.model else [])


def _fixed_config(args) -> TrainConfig:
    changes = {}
    for name in _fixed_names(args):
        if name != "layers":
            changes[name] = parse_value(name, getattr(args, f"fixed_{name}"))
    if args.model and args.layers is not None:
        raise UserError("give --model or --layers, not both")
    if args.model:
        changes["hidden"] = preset(args.model)
    elif args.layers is not None:
        changes["hidden"] = parse_value("layers", args.layers)
    return apply_params(TrainConfig(epochs=args.epochs, seed=args.seed), changes)


class _progress:
    """A rich progress bar over trials and over the epochs of the population in training."""

    def __init__(self, console: Console, disable: bool) -> None:
        self.bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
            disable=disable,
        )
        self.trials = self.bar.add_task("trials", total=None)
        self.epochs = self.bar.add_task("epochs", total=None)

    def __enter__(self):
        self.bar.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self.bar.__exit__(*exc)

    def __call__(self, done: int, total: int, epoch: int, epochs: int) -> None:
        self.bar.update(self.trials, completed=done, total=total)
        self.bar.update(self.epochs, completed=epoch, total=epochs)


def _write_best(out: Path, result, setup, args) -> Path:
    """OUT/best: a run directory like `pointlab train`'s, so evaluate and predict read it. A new
    one replaces the old (a resumed sweep writes the same model again)."""
    fresh = out / ".best-new"
    shutil.rmtree(fresh, ignore_errors=True)
    fresh.mkdir(parents=True)
    model = result.model
    spec = runs.RunSpec(
        config=result.config,
        data=str(Path(args.csv).resolve()),
        columns=args.columns,
        val_fraction=0.0,
        split_seed=setup.seed,
        n_classes=model.n_classes,
        test=str(Path(args.test).resolve()) if args.test else None,
        device=str(engine.resolve_device(args.device)),
        log_every=setup.log_every,
    )
    summary = {
        "status": "finished",
        "stopped_epoch": result.config.epochs,
        "best_epoch": None,
        "n_params": model.arch.n_params,
        "test": result.test,
        "weights": "final",
        "sweep": {
            "trial": result.best.slot,
            "params": result.best.params,
            "val_loss": result.best.value,
            "val_acc": result.best.result["val_acc"],
            "retrained_on": result.n_train,
        },
    }
    runs.write_metrics(fresh, result.history)
    runs.write_model(fresh, spec, model.state)
    runs.write_config(fresh, spec, summary)
    best = out / "best"
    old = out / ".best-old"
    shutil.rmtree(old, ignore_errors=True)
    if best.exists():
        best.rename(old)
    fresh.rename(best)
    shutil.rmtree(old, ignore_errors=True)
    return best


def _draw(out: Path, result, setup) -> list[Path]:
    from pointlab.plots.sweep import plot_best_curves, plot_loss_vs_params, plot_points_tried

    ranked = report.ranked(result.rows)
    weights = report.importance(result.rows, setup.params)
    dims = sorted(setup.params, key=lambda p: -weights.get(p.name, 0.0))[:2]
    name = f"{setup.strategy} search"
    return [
        plot_loss_vs_params(
            result.rows,
            setup.params,
            out / "sweep_loss.png",
            f"{name}: validation loss of each trial",
        ),
        plot_points_tried(
            result.rows,
            dims,
            out / "sweep_points.png",
            f"{name}: points tried in the two most important dimensions"
            if len(dims) > 1
            else f"{name}: validation loss against {dims[0].name}, the one searched dimension",
        ),
        plot_best_curves(
            [r for r in ranked if r.state == "complete"],
            out / "sweep_curves.png",
            f"{name}: learning curves of the best trials",
        ),
    ]


def _print_report(console, result, setup, summary, best_dir, pictures) -> None:
    ranked = report.ranked(result.rows)
    counted = {r.state for r in result.rows}
    table = Table(title=f"best trials of {len(result.rows)} ({summary['validation']})")
    table.add_column("trial", justify="right")
    for p in setup.params:
        table.add_column(p.name, justify="right")
    for name in ("val loss", "val acc", "best epoch", "status"):
        table.add_column(name, justify="right")
    for row in ranked[:10]:
        res = row.result or {}
        table.add_row(
            str(row.slot),
            *[_text(row.params.get(p.name)) for p in setup.params],
            f"{row.value:.4f}",
            f"{res.get('val_acc', float('nan')):.3f}",
            str(res.get("best_epoch")),
            f"{res.get('status')}"
            + (f" at {res.get('stopped_epoch')}" if row.state == "pruned" else ""),
        )
    console.print(table)
    best, test = result.best, result.test
    say = lambda text: console.print(text, markup=False, highlight=False, soft_wrap=True)  # noqa: E731
    if counted - {"complete", "pruned"}:
        say(f"note: trials not finished: {sorted(counted - {'complete', 'pruned'})}")
    how = "new study" if result.created else "resumed or shared study"
    say(f"{how} {summary['study']!r} in {summary['storage']}")
    say(
        f"best: trial {best.slot} ({_params(best.params)}), validation loss {best.value:.4f}, "
        f"accuracy {best.result['val_acc']:.3f} at epoch {best.result['best_epoch']}"
    )
    say(f"retrained on all {result.n_train} training points for {result.config.epochs} epochs")
    say(
        f"test ({test['n']} points, looked at once, never used to choose): loss "
        f"{test['loss']:.4f}, accuracy {test['accuracy']:.3f}"
    )
    say(f"wrote {best_dir} and {', '.join(str(p) for p in pictures)}")


def _params(params: dict) -> str:
    return ", ".join(f"{k}={_text(v)}" for k, v in params.items())


def _text(value) -> str:
    if value is None:
        return "none"
    if isinstance(value, float):
        return f"{value:.3g}"
    if isinstance(value, tuple | list):
        return ",".join(str(v) for v in value) or "[]"
    return str(value)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value
