"""`pointlab sweep DATA --generate`: search the options of a generative model (GenConfig) by the
energy distance of its samples to held-out points, keep every trial in the study database, and
write the best as a `pointlab generate` run directory (OUT/best).

DATA is a CSV of points or a data set to generate, split as `pointlab generate` splits it (its
default points and held-out share). The training flags that GenConfig shares with TrainConfig
(--lr, --epochs, --seed, --batch-size, --weight-decay, --activation, --layers, ...) fix a value
for every trial, --method picks flow or ddpm; --space names GenConfig fields.

Only argument handling and output live here; the work is in `pointlab.search.generative`.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

from rich.console import Console

from pointlab.api import SWEEP_VAL_FRACTION
from pointlab.cli import args, signals
from pointlab.config import ConfigError
from pointlab.errors import UserError
from pointlab.generative.config import GenConfig
from pointlab.generators import GENERATORS

GEN_EPOCHS = 100  # per trial, unless --epochs


def run(namespace: argparse.Namespace, console: Console) -> int:
    from pointlab.cli.generate_cmd import DEFAULT_HELD_OUT, DEFAULT_POINTS

    _refuse_classifier_options(namespace)
    base = _base(namespace)
    from pointlab.search.generative import GEN_DEFAULT_SPACE, GenSweepSetup
    from pointlab.search.space import parse_space

    params = parse_space(namespace.space or GEN_DEFAULT_SPACE, base)
    fixed = set(args.given(namespace)) - {"epochs", "seed"}
    fixed |= {"layers"} if args.hidden(namespace) is not None else set()
    clash = sorted({p.name for p in params} & fixed)
    if clash:
        raise UserError(f"{', '.join(clash)}: both fixed by a flag and searched by --space")
    setup = GenSweepSetup(params, namespace.strategy, namespace.trials, base, base.seed)
    from pointlab.search.generative import plan

    plan(setup)  # a strategy it cannot take is refused before anything is written
    data = _data(namespace.csv, namespace.columns, base, DEFAULT_POINTS, DEFAULT_HELD_OUT)

    import optuna

    from pointlab import engine
    from pointlab.cli.sweep_output import SweepProgress
    from pointlab.cpu import tune_cpu
    from pointlab.search import folder
    from pointlab.search.generative import run_generative_sweep, write_best
    from pointlab.search.store import Store, check_options

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    device = engine.resolve_device(namespace.device)
    tune_cpu(device)
    study = folder.default_study(namespace.csv) if namespace.study is None else namespace.study
    check_options(study, namespace.stale_after)
    out = Path(namespace.out or folder.default_out(namespace.csv))
    folder.make_folder(out)
    storage = namespace.storage or folder.default_storage(out)
    store = Store(storage, study, stale_after=namespace.stale_after)
    try:
        with (
            signals.term_as_interrupt(),
            store.guard(),
            SweepProgress(console, disable=namespace.json) as progress,
        ):
            result = run_generative_sweep(setup, data, store, device=str(device), progress=progress)
            best = write_best(out, result.best, data, str(device))
    except KeyboardInterrupt as stop:
        print("pointlab: interrupted; run the same command again to resume", file=sys.stderr)
        return signals.interrupt_status(stop)
    summary = _summary(result, setup, study, storage, out / "best", best)
    folder.write_summary(out, summary)
    if namespace.json:
        print(json.dumps(summary, indent=2))
    else:
        _print_report(console, result, setup, summary)
    return 0


def _refuse_classifier_options(namespace: argparse.Namespace) -> None:
    """The sweep's flags that only a classifier sweep has, given with --generate: one line."""
    given = [
        flag
        for flag, value, default in (
            ("--cv", namespace.cv, None),
            ("--test", namespace.test, None),
            ("--test-fraction", namespace.test_fraction, 0.2),
            ("--val-fraction", namespace.val_fraction, SWEEP_VAL_FRACTION),
            ("--ray", namespace.ray, None),
            ("--batch", namespace.batch, None),
            ("--model", namespace.model, None),
        )
        if value != default
    ]
    names = {f.name for f in dataclasses.fields(GenConfig)}
    given += [args.flag(n) for n in args.given(namespace) if n not in names]
    if given:
        raise UserError(f"{', '.join(given)}: not for a generative sweep (--generate)")


def _base(namespace: argparse.Namespace) -> GenConfig:
    values = args.given(namespace)
    values.setdefault("epochs", GEN_EPOCHS)
    values.setdefault("seed", args.DEFAULT_SEED)
    if namespace.method is not None:
        values["method"] = namespace.method
    layers = args.hidden(namespace)
    if layers is not None:
        values["hidden"] = layers
    try:
        return GenConfig(**values)
    except ConfigError as error:
        raise UserError(error.named(args.flag)) from None


def _data(source: str, columns: str | None, base: GenConfig, points: int, held_out: float):
    from pointlab.generative.run import make_points, read_points, split_points

    if Path(source).is_file():
        dataset, record = read_points(source, columns=columns, labelled=base.conditional)
    elif source in GENERATORS:
        dataset, record = make_points(source, n=points, seed=args.DEFAULT_SEED)
    else:
        raise UserError(
            f"{source}: no such file, and not a data set to generate ({', '.join(GENERATORS)})"
        )
    return split_points(dataset, held_out, args.DEFAULT_SEED, record)


def _summary(result, setup, study: str, storage: str, best_dir: Path, best) -> dict:
    from pointlab.search.urls import masked

    ranked = sorted(
        (r for r in result.rows if r.value is not None),
        key=lambda r: (r.value, r.slot),
    )
    quality = best.quality.to_dict() if best.quality is not None else None
    return {
        "kind": "generate",
        "objective": "energy distance of the samples to the held-out points (lower is better)",
        "study": study,
        "storage": masked(storage),
        "space": [p.spec for p in setup.params],
        "strategy": setup.strategy,
        "trials": [
            {
                "slot": r.slot,
                "params": r.params,
                "distance": r.value,
                "se": _se(r),
                "state": r.state,
            }
            for r in ranked
        ],
        "best": {"slot": result.best.slot, "params": result.best.params, "run": str(best_dir)},
        "best_quality": quality,
    }


def _se(row) -> float | None:
    """The jackknife standard error of a trial's distance (None: diverged, or not finished)."""
    quality = (row.result or {}).get("quality") or {}
    return quality.get("model", {}).get("se")


def _print_report(console: Console, result, setup, summary: dict) -> None:
    from rich.table import Table

    from pointlab.cli.sweep_output import params_text, value_text

    quality = summary["best_quality"] or {}
    table = Table(title=f"best trials of {len(result.rows)} (energy distance, held-out points)")
    table.add_column("trial", justify="right")
    for p in setup.params:
        table.add_column(p.name, justify="right")
    table.add_column("distance ± se", justify="right")
    table.add_column("status", justify="right")
    rows = {r.slot: r for r in result.rows}
    for entry in summary["trials"][:10]:
        row = rows[entry["slot"]]
        table.add_row(
            str(row.slot),
            *[value_text(row.params.get(p.name)) for p in setup.params],
            f"{row.value:.4g}" + ("" if entry["se"] is None else f" ± {entry['se']:.2g}"),
            str((row.result or {}).get("status")),
        )
    console.print(table)

    def say(text: str) -> None:
        console.print(text, markup=False, highlight=False, soft_wrap=True)

    how = "new study" if result.created else "resumed or shared study"
    say(f"{how} {summary['study']!r} in {summary['storage']}")
    say(
        f"best: trial {result.best.slot} ({params_text(result.best.params)}), distance "
        f"{result.best.value:.4g}"
    )
    if quality:
        say(
            f"references on the same points: fitted Gaussian {quality['gaussian']['value']:.4g}, "
            f"floor (a second held-out sample) {quality['floor']['value']:.4g}"
        )
        if quality["margin_below_gaussian_in_se"] < 2:
            say("note: the best lies not 2 standard errors below the Gaussian: train longer")
    say(
        f"wrote {summary['best']['run']} (repeat it: pointlab generate --config "
        f"{summary['best']['run']}/config.json)"
    )
