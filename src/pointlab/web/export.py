"""Export: the playground's main model as a run directory, the same files `pointlab train` writes.

    RUN_DIR/data.csv            the points (train and validation together, the book's format)
    RUN_DIR/config.json         the RunSpec: data = data.csv, the split, the config with
                                epochs = the epochs trained so far, and the result summary
    RUN_DIR/metrics.csv, model.safetensors, boundary.png, loss.png

So `pointlab evaluate RUN_DIR RUN_DIR/data.csv` and `pointlab predict` take it, and for points that
were not edited during training `pointlab train RUN_DIR/data.csv` with the same settings repeats
it (the live loop gives the engine's weights, epoch for epoch). `write_run` is the one place that
writes the files, so that it can move onto the library's run writer when there is one.

Not here: training (`live.py`), the run directory format (`pointlab.runs`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from pointlab import runs
from pointlab.checkpoint import TrainedModel
from pointlab.data import Dataset, save_csv

if TYPE_CHECKING:
    from pointlab.web.session import Session


def export_run(session: Session, root: Path) -> Path:
    """Write the session's main member into a new run directory under `root`; its path."""
    live, setup, dataset = session.live, session.setup, session.dataset
    assert live is not None and setup is not None and dataset is not None
    m = session.main
    config = live.configs[m].replace(epochs=live.epoch)
    run_dir = runs.new_run_dir(dataset.name.replace(" (edited)", "-edited"), root)
    data_path = save_csv(dataset, run_dir / "data.csv")
    spec = runs.RunSpec(
        config=config,
        data=str(data_path.resolve()),
        val_fraction=setup.val_fraction if live.val is not None else 0.0,
        split_seed=live.configs[m].seed,
        n_classes=dataset.n_classes,
        device="cpu",
        log_every=live.log_every,
    )
    history = {k: list(v[m]) for k, v in live.history.items()}
    status = "diverged" if live.diverged[m] else "finished"
    if not live.diverged[m] and live.epoch < live.max_epochs:
        status = "interrupted"  # paused before its epochs: what `pointlab train` says on Ctrl-C
    summary: dict[str, Any] = {
        "status": status,
        "stopped_epoch": live.epoch,
        "best_epoch": None,
        "wall_time": 0.0,
        "n_params": sum(v.numel() for v in live.state(m).values()),
        "final": {k: history[k][-1] if history[k] else float("nan") for k in runs_metrics()},
        "best": {k: _best(k, history[k]) for k in runs_metrics()},
        "test": None,
        "weights": "final",
        "made_by": "pointlab play" + (" (points edited while training)" if session.edited else ""),
    }
    return write_run(run_dir, spec, history, live.state(m), summary, live.train, live.val)


def write_run(
    run_dir: Path,
    spec: runs.RunSpec,
    history: dict[str, list[float]],
    state: dict,
    summary: dict[str, Any],
    train: Dataset,
    val: Dataset | None,
) -> Path:
    """The files of a run directory, in the order `pointlab train` writes them."""
    from pointlab.plots.boundary import plot_boundary
    from pointlab.plots.curves import plot_history

    runs.write_metrics(run_dir, history)
    runs.write_model(run_dir, spec, state)
    runs.write_config(run_dir, spec, summary)
    model = TrainedModel(spec.config, spec.n_classes, state)
    title = f"pointlab play: {train.name.replace(' (train)', '')}, epoch {summary['stopped_epoch']}"
    plot_boundary(model.predict_proba, train, val, run_dir / "boundary.png", title)
    if history["epoch"]:
        plot_history(history, run_dir / "loss.png", title)
    return run_dir


def runs_metrics() -> tuple[str, ...]:
    return ("train_loss", "train_acc", "val_loss", "val_acc")


def _best(metric: str, values: list[float]) -> float:
    finite = [v for v in values if np.isfinite(v)]
    if not finite:
        return float("nan")
    return max(finite) if metric.endswith("acc") else min(finite)
