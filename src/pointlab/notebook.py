"""How pointlab's results show themselves in Jupyter: HTML (`_repr_html_`) and a short plain text
(`__repr__`) for a trained run (`runs.Run` read back, `runs.RunResult` just trained), a data set
(`data.Dataset`), an experiment's report (`experiments.base.Report`) and a sweep's result
(`search.sweep.SweepResult`), as scikit-learn's estimators show themselves.

The classes call these functions, so the markup lives here, in one place. The HTML stands alone
(pictures embedded as base64 PNG, styles inline, no script, nothing fetched) and reuses the
pictures a run directory holds (`boundary.png`, `loss.png`) or draws them the way
`runs.write_pictures` does; a data set is drawn by `plots.points`.

Not here: the pictures themselves (`pointlab.plots`), the run record (`pointlab.runs`), the
playground widget (`pointlab.widget`).
"""

from __future__ import annotations

import base64
import html
import math
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pointlab.config import describe

if TYPE_CHECKING:
    from pointlab.data import Dataset
    from pointlab.experiments.base import Report
    from pointlab.runs import Run, RunResult
    from pointlab.search.sweep import SweepResult

MAX_TRIALS_SHOWN = 10  # rows of a sweep's ranked table (as `pointlab sweep` prints)

BOX = "font-family: system-ui, sans-serif; max-width: 980px"
CELL = "padding: 2px 10px; text-align: left; border-bottom: 1px solid #ddd"
PICTURE = "max-width: 100%; height: auto; margin: 6px 0"
VERDICT_COLOURS = {"holds": "#1a7f37", "fails": "#cf222e", "inconclusive": "#9a6700"}


def number(value: Any) -> str:
    """A measurement for a table: 4 significant digits, '–' for none or not finite."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def picture(path: Path, caption: str) -> str:
    """An <img> holding the PNG at `path`, captioned (nothing when the file is not there)."""
    if not path.is_file():
        return ""
    data = base64.b64encode(path.read_bytes()).decode()
    alt, words = html.escape(caption, quote=True), html.escape(caption)
    image = f'<img src="data:image/png;base64,{data}" alt="{alt}" style="{PICTURE}">'
    note = f'<figcaption style="color: #555; font-size: 0.85em">{words}</figcaption>'
    return f'<figure style="margin: 0">{image}{note}</figure>'


def table(rows: Sequence[tuple[str, ...]], header: tuple[str, ...] = ()) -> str:
    """An HTML table of text cells (escaped), with an optional header row."""
    lines = [f'<th style="{CELL}">{html.escape(h)}</th>' for h in header]
    out = [f"<tr>{''.join(lines)}</tr>"] if header else []
    for row in rows:
        cells = "".join(f'<td style="{cell_style(c)}">{html.escape(c)}</td>' for c in row)
        out.append(f"<tr>{cells}</tr>")
    return f'<table style="border-collapse: collapse">{"".join(out)}</table>'


def cell_style(text: str) -> str:
    """A verdict cell in its colour; any other cell plain."""
    colour = VERDICT_COLOURS.get(text)
    return CELL if colour is None else f"{CELL}; color: {colour}; font-weight: bold"


def box(title: str, *parts: str) -> str:
    heading = f'<h3 style="margin: 4px 0">{html.escape(title)}</h3>'
    return f'<div style="{BOX}">{heading}{"".join(parts)}</div>'


# --- runs ------------------------------------------------------------------------------------


def _run_rows(model: str, data: str, summary: dict[str, Any]) -> list[tuple[str, str]]:
    final, test = summary.get("final") or {}, summary.get("test") or {}
    rows = [
        ("model", model),
        ("parameters", number(summary.get("n_params"))),
        ("data", data),
        ("status", f"{summary.get('status')} at epoch {summary.get('stopped_epoch')}"),
        ("weights", str(summary.get("weights"))),
    ]
    for part in ("train", "val"):
        loss, acc = final.get(f"{part}_loss"), final.get(f"{part}_acc")
        rows.append((f"{part} loss / accuracy", f"{number(loss)} / {number(acc)}"))
    if test:
        rows.append(
            ("test loss / accuracy", f"{number(test['loss'])} / {number(test['accuracy'])}")
        )
    return rows


def _run_text(where: str, model: str, summary: dict[str, Any]) -> str:
    final, test = summary.get("final") or {}, summary.get("test") or {}
    scores = [f"train acc {number(final.get('train_acc'))}"]
    if number(final.get("val_acc")) != "–":  # a run without validation data has none
        scores.append(f"val acc {number(final.get('val_acc'))}")
    if test:
        scores.append(f"test acc {number(test.get('accuracy'))}")
    status = f"{summary.get('status')} at epoch {summary.get('stopped_epoch')}"
    return f"<{where}: {model}; {status}; {', '.join(scores)}>"


def run_text(run: Run) -> str:
    """Run('runs/curve-3'): the model, how training ended, its accuracies, on one line."""
    return _run_text(f"Run {run.path}", describe(run.spec.config, run.spec.n_classes), run.result)


def run_html(run: Run) -> str:
    """A run directory read back: its numbers, its regions and its learning curves."""
    from pointlab.runs import BOUNDARY, LOSS

    model = describe(run.spec.config, run.spec.n_classes)
    rows = _run_rows(model, Path(run.spec.data).name, run.result)
    pictures = picture(run.path / BOUNDARY, "decision regions") + picture(
        run.path / LOSS, "learning curves"
    )
    return box(f"pointlab run {run.path}", table(rows), pictures)


def result_text(result: RunResult) -> str:
    where = f"RunResult {result.path}" if result.path else "RunResult (not written)"
    return _run_text(where, result.describe(), result.summary())


def result_html(result: RunResult) -> str:
    """A run just trained: its numbers, and the pictures its run directory has (or would have)."""
    rows = _run_rows(result.describe(), result.data.data.name, result.summary())
    title = f"pointlab run {result.path}" if result.path else "pointlab run (not written)"
    return box(title, table(rows), result_pictures(result))


def result_pictures(result: RunResult) -> str:
    """The regions and learning curves of a run: its run directory's, or drawn as
    `runs.write_pictures` draws them when it has none."""
    from pointlab.runs import BOUNDARY, LOSS, write_pictures

    if result.path is not None and (result.path / BOUNDARY).is_file():
        folder = result.path
        return picture(folder / BOUNDARY, "decision regions") + picture(
            folder / LOSS, "learning curves"
        )
    with tempfile.TemporaryDirectory() as scratch:
        write_pictures(Path(scratch), result)
        pictures = picture(Path(scratch) / BOUNDARY, "decision regions")
        return pictures + picture(Path(scratch) / LOSS, "learning curves")


# --- data sets -------------------------------------------------------------------------------


def _spread(dataset: Dataset) -> str:
    return ", ".join(f"{k}: {n}" for k, n in enumerate(dataset.class_counts()))


def dataset_text(dataset: Dataset) -> str:
    """<Dataset curve: 200 points, 2 classes (0: 100, 1: 100)>"""
    spread = _spread(dataset)
    return (
        f"<Dataset {dataset.name}: {len(dataset)} points, {dataset.n_classes} classes ({spread})>"
    )


def dataset_html(dataset: Dataset) -> str:
    """The points, coloured by class, with their counts and where they came from."""
    from pointlab.plots.points import plot_points

    rows = [
        ("points", str(len(dataset))),
        ("classes", f"{dataset.n_classes} ({_spread(dataset)})"),
        ("source", dataset.source),
    ]
    with tempfile.TemporaryDirectory() as scratch:
        path = plot_points(dataset, Path(scratch) / "points.png")
        shown = picture(path, f"the points of {dataset.name}")
    return box(f"pointlab data set {dataset.name}", table(rows), shown)


# --- experiment reports ----------------------------------------------------------------------


def measured(value: Any) -> str:
    """A claim's measurement as report.md writes it (a NaN stays visible: it fails the claim)."""
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def report_text(report: Report) -> str:
    """<Report 'title': the verdict sentence>"""
    return f"<Report {report.title!r}: {report.verdict()}>"


def report_html(report: Report) -> str:
    """The verdict, each claim with what was measured, and the figures (once the report has been
    written to a folder, where its figures are)."""
    rows = [(c.name, c.criterion, measured(c.measured), c.verdict) for c in report.claims]
    claims = table(rows, ("claim", "criterion", "measured", "verdict"))
    verdict = f"<p><b>{html.escape(report.verdict())}</b></p>"
    findings = f"<p>{html.escape(report.findings)}</p>" if report.findings else ""
    folder = report.folder
    figures = "".join(
        picture(folder / name, caption) for name, caption in report.figures if folder is not None
    )
    return box(report.title, verdict, claims, findings, figures)


# --- sweeps ----------------------------------------------------------------------------------


def _searched(result: SweepResult) -> list[str]:
    """The searched hyperparameters, in the order the trials name them."""
    names: dict[str, None] = {}
    for row in result.rows:
        names.update(dict.fromkeys(row.params))
    return list(names)


def _choice(params: dict[str, Any]) -> str:
    return ", ".join(f"{k}={number(v)}" for k, v in params.items())


def sweep_text(result: SweepResult) -> str:
    """<SweepResult: 8 trials (8 complete); best trial 3 (lr=0.1), val loss 0.12; test acc 0.95>"""
    states: dict[str, int] = {}
    for row in result.rows:
        states[row.state] = states.get(row.state, 0) + 1
    counts = ", ".join(f"{n} {state}" for state, n in sorted(states.items()))
    best = result.best
    test = result.run.test
    tested = f"; test acc {number(test.accuracy)}" if test is not None else ""
    return (
        f"<SweepResult: {len(result.rows)} trials ({counts}); best trial {best.slot} "
        f"({_choice(best.params)}), val loss {number(best.value)}{tested}>"
    )


def sweep_html(result: SweepResult) -> str:
    """The ranked trials (best first, as `pointlab sweep` prints them), the choice and its test,
    the sweep's pictures when its folder was written (`search.folder.write_sweep`), else the
    learning curves of the best trials, and the retrained best run's regions and curves."""
    from pointlab.search import report

    names = _searched(result)
    ranked = report.ranked(result.rows)
    rows = []
    for rank, row in enumerate(ranked[:MAX_TRIALS_SHOWN], 1):
        res = row.result or {}
        rows.append(
            (
                str(rank),
                str(row.slot),
                *(number(row.params.get(name)) for name in names),
                number(row.value),
                number(res.get("val_acc")),
                number(res.get("best_epoch")),
                row.state,
            )
        )
    header = ("rank", "trial", *names, "val loss", "val acc", "best epoch", "state")
    more = len(ranked) - MAX_TRIALS_SHOWN
    left = f"<p>… and {more} more trials</p>" if more > 0 else ""
    best, run = result.best, result.run
    said = [
        ("trials", str(len(result.rows))),
        ("best", f"trial {best.slot} ({_choice(best.params)})"),
        ("retrained", f"{run.describe()}, {run.spec.config.epochs} epochs"),
    ]
    if run.test is not None:
        said.append(
            ("test loss / accuracy", f"{number(run.test.loss)} / {number(run.test.accuracy)}")
        )
    title = "pointlab sweep" + (f" {run.path.parent}" if run.path is not None else "")
    return box(
        title, table(said), table(rows, header), left, _sweep_pictures(result), result_pictures(run)
    )


def _sweep_pictures(result: SweepResult) -> str:
    from pointlab.search.folder import PICTURES

    captions = ("validation loss of each trial", "points tried", "the best trials' curves")
    if result.run.path is not None:  # written: the folder's own pictures
        folder = result.run.path.parent
        return "".join(picture(folder / n, c) for n, c in zip(PICTURES, captions, strict=True))
    from pointlab.plots.sweep import plot_best_curves
    from pointlab.search import report

    complete = [r for r in report.ranked(result.rows) if r.state == "complete"]
    with tempfile.TemporaryDirectory() as scratch:
        path = plot_best_curves(complete, Path(scratch) / PICTURES[2], "the best trials")
        return picture(path, captions[2])
