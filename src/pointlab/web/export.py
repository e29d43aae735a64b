"""Export: the playground's main model as a run directory, the same files `pointlab train` writes.

    RUN_DIR/data.csv            the points (train and validation together, the book's format)
    RUN_DIR/config.json         the RunSpec: data = data.csv, the split, the config with
                                epochs = the epochs trained so far, and the result summary
    RUN_DIR/metrics.csv, model.safetensors, boundary.png, loss.png

So `pointlab evaluate RUN_DIR RUN_DIR/data.csv` and `pointlab predict` take it, and for points that
were not edited during training `pointlab train RUN_DIR/data.csv` with the same settings repeats
it (the live loop gives the engine's weights, epoch for epoch). The files are written by the
library's one run writer, `pointlab.runs.write_run`, from a `RunResult` built here.

Not here: training (`live.py`), the run directory format (`pointlab.runs`).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING

from pointlab import runs
from pointlab.checkpoint import TrainedModel
from pointlab.data import save_csv

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
    saved = dataclasses.replace(dataset, source=str(data_path.resolve()), columns=None)
    spec = runs.RunSpec.for_data(
        config,
        saved,
        val_fraction=setup.val_fraction if live.val is not None else 0.0,
        split_seed=live.configs[m].seed,
        log_every=live.log_every,
    )
    status = "diverged" if live.diverged[m] else "finished"
    if not live.diverged[m] and live.epoch < live.max_epochs:
        status = "interrupted"  # paused before its epochs: what `pointlab train` says on Ctrl-C
    result = runs.RunResult(
        spec=spec,
        model=TrainedModel(config, dataset.n_classes, live.state(m)),
        history={k: list(v[m]) for k, v in live.history.items()},
        status=status,
        stopped_epoch=live.epoch,
        weights="final",
        weights_epoch=live.epoch,
        made_by="pointlab play" + (" (points edited while training)" if session.edited else ""),
        data=runs.RunData(data=dataset, train=live.train, val=live.val, test=None),
    )
    runs.write_run(run_dir, result)
    return run_dir
