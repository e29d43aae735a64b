"""`pointlab explain DATA`: one training step of a model, taken apart, checked, and drawn.

Only arguments, files and output live here: the step is computed by
`pointlab.explain.explain_step` (on `pointlab.autodiff`), the report text by
`pointlab.explain.report`, the pictures by `pointlab.plots.explain`. torch and matplotlib are
imported inside `run`, so `pointlab --help` does not load them.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rich.console import Console

from pointlab.autodiff.mlp import ACTIVATIONS
from pointlab.autodiff.optim import SUPPORTED as OPTIMIZERS
from pointlab.cli import args as shared
from pointlab.errors import UserError


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "explain",
        help="take one training step apart: forward, loss, backward, update, with pictures",
        description="Take one full-batch training step of a model on DATA and explain it: each "
        "layer's values, the loss, each layer's gradients and the chain-rule products behind "
        "them (one weight followed from the loss back to itself), the optimizer's update and "
        "the loss after it, and a finite-difference check of the gradients. Computed with "
        "pointlab.autodiff (float64, checked against PyTorch). Writes report.md, trace.json "
        "and pictures into --out.",
    )
    p.add_argument("data", metavar="DATA", help="CSV of points (the book's format, or a header)")
    # The model's flags are `pointlab train`'s (one grammar each), with the choices
    # pointlab.autodiff follows.
    shared.add_model(p)
    shared.add_training_flag(
        p,
        "hidden",
        help="hidden layer widths, e.g. 64,64; none = no hidden layer; overrides --model",
    )
    shared.add_training_flag(p, "activation", choices=ACTIVATIONS)
    shared.add_training_flag(p, "optimizer", choices=OPTIMIZERS)
    shared.add_training_flag(p, "lr", help="learning rate")
    shared.add_training_flag(p, "seed", help="seed of the initialization")
    p.add_argument(
        "--run",
        metavar="RUN_DIR",
        default=None,
        help="explain a step of this run's model (made by pointlab train) instead of a fresh one",
    )
    p.add_argument(
        "--epoch",
        type=shared.whole,
        default=None,
        metavar="N",
        help="first train N epochs (full batch, with pointlab.autodiff, from the seed's initial "
        "weights; with --run: the run's config and seed), then explain step N + 1, with the "
        "optimizer's state as training left it (default: a fresh model, or the run's saved "
        "weights)",
    )
    p.add_argument(
        "--weight",
        type=_weight,
        metavar="LAYER,A,J",
        default=None,
        help="the weight to follow, W_LAYER[A, J] (default: the first layer's weight with the "
        "largest gradient)",
    )
    shared.add_columns(p)
    p.add_argument(
        "--out",
        metavar="DIR",
        default=None,
        help="report folder (default: runs/explain/<data>-<model>, -epoch<N> with --epoch)",
    )
    p.add_argument(
        "--json",
        action="store_true",
        help="print loss before and after, gradient norms per layer and the gradient check's "
        "largest relative error as JSON (the report is written too)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace, console: Console) -> int:
    from pointlab.data import load_csv

    if args.epoch is not None and args.epoch < 0:
        raise UserError(f"--epoch must be >= 0, got {args.epoch}")
    dataset = load_csv(args.data, args.columns)
    config, model, optimizer, points, n_classes, notes, name = _setup(args, dataset)
    after = "" if args.epoch is None else f"-epoch{args.epoch}"  # each epoch its own report
    out = Path(args.out) if args.out else Path("runs") / "explain" / f"{dataset.name}-{name}{after}"

    from pointlab.autodiff import MLP
    from pointlab.explain import (
        PICTURES,
        explain_step,
        plane_extent,
        plane_values,
        report_markdown,
    )

    before = MLP.from_state(model.state(), model.activation, n_classes)  # kept for pictures
    trace = explain_step(
        model,
        config,
        points.X,
        points.y,
        n_classes,
        optimizer=optimizer,
        weight=args.weight,
        notes=tuple(notes),
    )
    extent = plane_extent(points.X)
    # the traced path's unit in each layer from the weight's up: drawn first, titled in red
    layers = range(trace.trace.layer, len(trace.widths))
    units = dict(zip(layers, trace.trace.path_units, strict=True))
    planes = plane_values(before, points.X, extent, first_units=units)
    files = _write(
        out, trace, planes, points, extent, units, report_markdown, PICTURES, Path(args.data).name
    )

    if args.json:
        summary = {**trace.summary(), "report": str(out / "report.md")}
        print(json.dumps(summary, indent=2))
        return 0
    console.print(_table(trace))
    t = trace.trace
    _say(
        console,
        f"loss {trace.loss_before:.6g} -> {trace.loss_after:.6g} after {trace.optimizer} step "
        f"{trace.step} (the gradient predicted {trace.predicted_change:+.3g}, it changed by "
        f"{trace.loss_after - trace.loss_before:+.3g})",
    )
    _say(
        console,
        f"traced {t.parameter}[{t.row}, {t.col}]: dL/dw = {t.gradient:.6g} (the sum of "
        f"{trace.n_points} points' shares: {t.sum_of_shares:.6g}); w {t.value_before:.6g} -> "
        f"{t.value_after:.6g}",
    )
    _say(
        console,
        f"gradient check: {len(trace.check)} weights, largest relative error "
        f"{trace.max_rel_error:.1e} (finite differences vs backward)",
    )
    for note in notes:
        _say(console, f"note: {note}")
    _say(console, f"report: {out / 'report.md'} ({', '.join(f.name for f in files)})")
    return 0


def _setup(args, dataset):
    """(config, model, optimizer or None, points, n_classes, notes, name for the folder)."""
    from pointlab.autodiff import MLP, train_config
    from pointlab.config import preset

    notes: list[str] = []
    if args.run is None:
        values = shared.given(args)  # the flags given; TrainConfig's defaults for the rest
        model = args.model or "complex"
        if "hidden" in values:  # --layers overrides --model
            name = "mlp-" + "-".join(map(str, values["hidden"]))
        else:
            name, values["hidden"] = model, preset(model)
        config = shared.build_config(values)
        n_classes, points = dataset.n_classes, dataset
    else:
        from pointlab.runs import load_run
        from pointlab.splits import split

        run = load_run(args.run)
        config, n_classes = run.spec.config, run.model.n_classes
        name = Path(args.run).name
        if dataset.n_classes > n_classes:
            raise UserError(
                f"{args.data}: has labels up to {dataset.n_classes - 1}; the run's model knows "
                f"{n_classes} classes"
            )
        points = dataset
        if run.spec.val_fraction > 0 and Path(args.data).resolve() == Path(run.spec.data):
            points, _, _ = split(dataset, run.spec.val_fraction, seed=run.spec.split_seed)
            notes.append(
                f"the step uses the run's {len(points)} training points (its validation "
                f"split of {run.spec.val_fraction:g} is left out, as in training)"
            )
        points = _as_trained(run, points, notes)
        if config.batch_size is not None:
            notes.append(
                f"the run used minibatches of {config.batch_size}; this step uses all the points"
            )
        if config.dropout > 0:
            notes.append("the run used dropout; this step does not, so every number is exact")
        if config.schedule != "constant" or config.warmup:
            notes.append(f"the learning rate is the config's {config.lr:g}, without its schedule")
    if args.run is not None and args.epoch is None:
        model = MLP.from_state(run.model.state, config.activation, n_classes)
        notes.append(
            f"the run's saved weights, after its {run.result.get('stopped_epoch', '?')} epochs; "
            f"a run keeps no optimizer state, so {config.optimizer} starts afresh (as at step 1 "
            "of training); use --epoch N to replay the run up to epoch N instead"
        )
        return config, model, None, points, n_classes, notes, name
    epochs = args.epoch or 0
    if epochs == 0:
        return (
            config,
            MLP.init(config.hidden, config.activation, n_classes, config.seed),
            None,
            points,
            n_classes,
            notes,
            name,
        )
    model, optimizer, _ = train_config(config, points.X, points.y, n_classes, epochs=epochs)
    notes.append(
        f"trained {epochs} epochs first (pointlab.autodiff, float64, full batch, from the "
        f"initial weights of seed {config.seed}); the optimizer's state is the one those "
        "epochs left"
    )
    return config, model, optimizer, points, n_classes, notes, name


def _as_trained(run, points, notes: list[str]):
    """The points as the run's network took them: standardized by the run's training points
    (`pointlab.features`), with a note; a run of other inputs than x, y is refused (the step
    draws maps of the plane of its two inputs)."""
    import dataclasses

    model = run.model
    if not model.arch.plain:  # pointlab.autodiff's MLP is a plain stack of layers
        from pointlab.config import hidden_text

        has = ["skip connections (--residual)"] if any(model.arch.skips) else []
        if model.arch.norm != "none":
            has.append(f"{model.arch.norm} normalization (--norm {model.arch.norm})")
        act = model.arch.activation
        shape = f"--layers {hidden_text(model.arch.hidden)}" + (
            f" --activation {act}" if act in ACTIVATIONS else ""
        )
        raise UserError(
            f"{run.path}: explain takes a plain MLP; this one has {' and '.join(has)}; explain "
            f"the plain one of its shape instead (pointlab explain DATA {shape}, without --run), "
            "or watch what skips and normalization do to training in `pointlab experiment "
            "skip-connections` and `pointlab experiment normalization`"
        )
    if model.config.features != ("x", "y"):
        shown = ",".join(model.config.features)
        raise UserError(
            f"{run.path}: explain takes a model of the inputs x,y; this one's are {shown}"
        )
    if run.spec.config.l1:
        notes.append(f"the run's L1 penalty ({run.spec.config.l1:g}) is left out of this step")
    if model.scaling is None:
        return points
    mean, std = (
        ", ".join(f"{v:.4g}" for v in pair) for pair in (model.scaling.mean, model.scaling.std)
    )
    notes.append(
        f"the points are standardized as the run trained on them: (x, y) minus ({mean}), "
        f"divided by ({std}); every number and picture is in those units"
    )
    return dataclasses.replace(points, X=model.inputs(points.X))


def _write(out: Path, trace, planes, points, extent, units, report_markdown, pictures, data_name):
    from matplotlib.figure import Figure

    from pointlab.data import write_atomic
    from pointlab.plots.explain import draw_activations, draw_gradients, draw_graph, save

    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UserError(f"{out}: cannot create the report folder: {error.strerror}") from None
    rows = len(planes)
    columns = max(len(p.units) for p in planes) + 1
    size = (max(2.5 * columns, 6.5), 2.4 * rows + 0.7)
    figure = Figure(figsize=size, dpi=100, layout="constrained")
    draw_activations(figure, planes, points.X, points.y, extent, trace.activation, units)
    figure.suptitle(
        f"Forward pass of {trace.model}, before the step:\neach layer's units over the plane",
        fontsize=11,
    )
    files = [save(figure, out / pictures["activations"])]
    n_columns = sum(1 for n in trace.graph_nodes if n.kind in ("operation", "loss")) + 1
    figure = Figure(figsize=(max(1.25 * n_columns + 0.5, 7.0), 4.4), dpi=110, layout="constrained")
    draw_graph(figure, trace)
    files.append(save(figure, out / pictures["graph"]))
    figure = Figure(figsize=(14, 4.4), dpi=100, layout="constrained")
    draw_gradients(figure, trace)
    files.append(save(figure, out / pictures["gradients"]))
    text = report_markdown(trace, data_name)
    files.append(write_atomic(out / "report.md", lambda f: f.write(text.encode())))
    document = json.dumps(trace.to_dict(), indent=1) + "\n"
    files.append(write_atomic(out / "trace.json", lambda f: f.write(document.encode())))
    return files


def _table(trace):
    from rich.table import Table

    table = Table(title=f"pointlab explain: {trace.model}, {trace.optimizer} step {trace.step}")
    table.add_column("layer", justify="right")
    table.add_column("forward z", justify="right")
    table.add_column("‖dL/dz‖", justify="right")
    table.add_column("‖dL/dW‖", justify="right")
    table.add_column("‖dL/db‖", justify="right")
    table.add_column("‖ΔW‖ / ‖W‖", justify="right")
    updates = {u.layer: u for u in trace.updates}
    for forward, backward in zip(
        trace.forward, sorted(trace.backward, key=lambda b: b.layer), strict=True
    ):
        shape = "(" + ", ".join(map(str, forward.z.shape)) + ")"
        table.add_row(
            str(forward.layer),
            shape,
            f"{backward.dz.norm:.3g}",
            f"{backward.dW.norm:.3g}",
            f"{backward.db.norm:.3g}",
            f"{updates[forward.layer].ratio:.2e}",
        )
    table.caption = (
        f"{trace.n_points} points · loss {trace.loss_before:.5g} -> {trace.loss_after:.5g} · "
        f"gradient check max rel. error {trace.max_rel_error:.1e}"
    )
    return table


def _weight(text: str) -> tuple[int, int, int]:
    try:
        layer, a, j = (int(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r}: give LAYER,A,J, e.g. 1,0,5 for W1[0, 5]"
        ) from None
    return layer, a, j


def _say(console: Console, text: str) -> None:
    console.print(text, markup=False, highlight=False, soft_wrap=True)
