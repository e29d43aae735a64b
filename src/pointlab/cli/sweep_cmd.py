"""`pointlab sweep`: search hyperparameters on validation data, keep every trial in a study
database, retrain the best configuration and test it once.

Only argument handling and output live here; the work is in `pointlab.search`. Optuna and torch
are imported once the arguments and the data are known good.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from rich.console import Console

from pointlab.api import SWEEP_VAL_FRACTION
from pointlab.cli import args, signals
from pointlab.cli.sweep_output import SweepProgress, params_text, value_text
from pointlab.config import TrainConfig
from pointlab.data import load_csv
from pointlab.errors import UserError
from pointlab.search import STRATEGIES

SWEEP_EPOCHS = 2000  # per trial: a sweep trains many models


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "sweep",
        help="search hyperparameters on a validation split and keep the best model",
        description="Search hyperparameters: every trial is scored on validation data only and "
        "kept in a study database (run the same command again to resume); the best configuration "
        "is retrained on all the training data and tested once on data it never chose by.",
    )
    parser.add_argument(
        "csv",
        metavar="FILE.csv",
        help="training data (the book's format); with --generate, a CSV of points or a data "
        "set to generate",
    )
    parser.add_argument(
        "--generate",
        action="store_true",
        help="sweep a generative model (flow matching or DDPM) instead of a classifier: --space "
        "names its options (lr, hidden, width, depth, steps, input_embedding, ...), each trial "
        "scored by the energy distance of its samples to held-out points; OUT/best is a "
        "`pointlab generate` run directory",
    )
    parser.add_argument(
        "--method",
        choices=("flow", "ddpm"),
        default=None,
        help="with --generate: flow matching or DDPM for every trial (default: flow)",
    )
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
        type=args.positive_int,
        default=None,
        metavar="N",
        help="trials to run (default: 32); grid: points per range chosen so "
        "that the product stays within N (default: 5 per range)",
    )
    parser.add_argument(
        "--cv",
        type=args.positive_int,
        default=None,
        metavar="K",
        help="K-fold cross-validation instead of one validation split; the K "
        "folds of a trial train together (advised below ~1000 points)",
    )
    args.add_val_fraction(
        parser, "share of the training data held out for validation", SWEEP_VAL_FRACTION
    )
    args.add_test(parser, "test data, used once after the choice (default: a share of FILE)")
    parser.add_argument(
        "--test-fraction",
        type=args.number,
        default=0.2,
        metavar="F",
        help="share of FILE set apart as test data when no --test (default: 0.2)",
    )
    args.add_columns(parser)
    args.add_out(parser, "DIR", "output folder (default: sweeps/<FILE stem>)")
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
    args.add_device(parser)
    parser.add_argument(
        "--batch",
        type=args.positive_int,
        default=None,
        metavar="N",
        help="trials claimed and trained together at a time (default: as many "
        "as fit in memory; tpe: 8)",
    )
    parser.add_argument(
        "--stale-after",
        type=args.positive_int,
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
    args.add_log_every(parser, "; the best epoch is one of these (default: epochs / 100)")
    parser.add_argument(
        "--json", action="store_true", help="print a JSON summary instead of tables"
    )
    fixed = parser.add_argument_group(
        "training options",
        "as for `pointlab train`: the same value for every trial (a searched one comes from "
        "--space)",
    )
    args.add_model(fixed)
    args.add_training_flags(
        fixed,
        defaults={"epochs": SWEEP_EPOCHS},
        helps={
            "epochs": "epochs per trial",
            "seed": "seed of the splits, the sampling and the models",
        },
    )
    parser.set_defaults(func=run)


def run(namespace: argparse.Namespace, console: Console) -> int:
    if namespace.generate:
        from pointlab.cli import sweep_generate

        return sweep_generate.run(namespace, console)
    if namespace.method is not None:
        raise UserError("--method: only with --generate")
    args.check_fraction(namespace.val_fraction, "--val-fraction")
    args.check_fraction(namespace.test_fraction, "--test-fraction")
    base = _fixed_config(namespace)
    if base.epochs < 1:
        raise UserError(f"--epochs must be >= 1 for a sweep, got {base.epochs}")
    if namespace.cv == 1:
        raise UserError("--cv K needs K >= 2 folds (leave it out for one validation split)")
    data = load_csv(namespace.csv, namespace.columns)
    test = load_csv(namespace.test, namespace.columns) if namespace.test else None
    # Optuna and torch only now: a bad flag or file above is refused without them.
    import optuna

    from pointlab import engine
    from pointlab.cpu import tune_cpu
    from pointlab.search import folder
    from pointlab.search.space import parse_space
    from pointlab.search.store import Store, check_options
    from pointlab.search.sweep import SweepSetup, make_split, run_sweep

    optuna.logging.set_verbosity(optuna.logging.WARNING)  # our output, not Optuna's log lines
    params = parse_space(namespace.space, base)
    clash = sorted({p.name for p in params} & set(_fixed_names(namespace)))
    if clash:
        raise UserError(f"{', '.join(clash)}: both fixed by a flag and searched by --space")
    n_trials = namespace.trials if namespace.trials or namespace.strategy == "grid" else 32
    setup = SweepSetup(
        params,
        namespace.strategy,
        n_trials,
        base,
        namespace.cv,
        namespace.val_fraction,
        namespace.test_fraction,
        base.seed,
        namespace.log_every,
    )
    make_split(data, test, setup)  # a split that cannot train fails before OUT is made
    tune_cpu(engine.resolve_device(namespace.device))
    # Nothing is written until the cluster, the study name and the database are known good.
    study = folder.default_study(namespace.csv) if namespace.study is None else namespace.study
    check_options(study, namespace.stale_after)
    cluster = None
    if namespace.ray is not None:
        from pointlab.search.ray_cluster import RayCluster  # Ray only when asked for

        cluster = RayCluster(
            namespace.ray or None,
            cpus_per_task=namespace.cpus_per_task,
            gpus_per_task=namespace.gpus_per_task,
        )
    out = Path(namespace.out or folder.default_out(namespace.csv))
    if namespace.storage is None:
        folder.make_folder(out)  # the default database lives in OUT
    storage = namespace.storage or folder.default_storage(out)
    store = Store(storage, study, stale_after=namespace.stale_after)
    folder.make_folder(out)
    try:
        with (
            signals.term_as_interrupt(),
            store.guard(),
            SweepProgress(console, disable=namespace.json) as progress,
        ):
            result = run_sweep(
                setup,
                data,
                test,
                store,
                device=namespace.device,
                batch=namespace.batch,
                progress=progress,
                columns=namespace.columns,
                executor=cluster,
            )
    except KeyboardInterrupt as stop:
        print("pointlab: interrupted; run the same command again to resume", file=sys.stderr)
        return signals.interrupt_status(stop)
    best_dir, pictures, summary = folder.write_sweep(out, result, setup, study, storage)
    if namespace.json:
        print(json.dumps(summary, indent=2))
        return 0
    _print_report(console, result, setup, summary, best_dir, pictures)
    return 0


def _fixed_names(namespace: argparse.Namespace) -> list[str]:
    """Fields fixed by a flag (layers for --layers or --model), which --space may not search."""
    names = [n for n in args.given(namespace) if n not in ("hidden", "epochs", "seed")]
    return names + (["layers"] if args.hidden(namespace) is not None else [])


def _fixed_config(namespace: argparse.Namespace) -> TrainConfig:
    values = args.given(namespace)
    if namespace.model and "hidden" in values:
        raise UserError("give --model or --layers, not both")
    values.setdefault("epochs", SWEEP_EPOCHS)
    values.setdefault("seed", args.DEFAULT_SEED)
    layers = args.hidden(namespace)
    if layers is not None:
        values["hidden"] = layers
    return args.build_config(values)


def _print_report(console, result, setup, summary, best_dir, pictures) -> None:
    from rich.table import Table

    from pointlab.search import report

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
            *[value_text(row.params.get(p.name)) for p in setup.params],
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
        f"best: trial {best.slot} ({params_text(best.params)}), validation loss {best.value:.4f}, "
        f"accuracy {best.result['val_acc']:.3f} at epoch {best.result['best_epoch']}"
    )
    say(f"retrained on all {result.n_train} training points for {result.config.epochs} epochs")
    say(
        f"test ({test['n']} points, looked at once, never used to choose): loss "
        f"{test['loss']:.4f}, accuracy {test['accuracy']:.3f}"
    )
    say(f"wrote {best_dir} and {', '.join(str(p) for p in pictures)}")
    if len(setup.params) == 1:
        say("one searched dimension: sweep_loss.png shows the points tried (no sweep_points.png)")
