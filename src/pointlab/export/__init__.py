"""A trained model taken out of pointlab: `onnx` writes one ONNX file (raw points in, class
probabilities out) that any ONNX runtime runs; `page` writes one self-contained HTML page that
draws the model's regions and classifies the points a person taps, with the weights inside it.
Both start from `TrainedModel.torch_module()`, the one torch function from raw points to
probabilities, so what a run does to its points travels with it; `check_exportable` refuses a
model whose torch function does not give what `predict_proba` gives (a step before the network
that it does not hold yet), so an export is never silently wrong.

Not here: the command (`pointlab.cli.export_cmd`); a playground member written as a run
directory (`pointlab.web.export`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from pointlab.errors import UserError

if TYPE_CHECKING:
    from pointlab.checkpoint import TrainedModel
    from pointlab.data import Dataset
    from pointlab.runs import Run

# Points the check runs on: a 7 x 7 grid from -3 to 3 (the unit square's corners among them).
CHECK_POINTS = np.stack(np.meshgrid(np.linspace(-3, 3, 7), np.linspace(-3, 3, 7)), -1).reshape(
    -1, 2
)
TOLERANCE = 1e-5  # largest |torch_module - predict_proba| allowed, in probability


def run_data(run: Run, path: str | None = None, columns: str | None = None) -> Dataset | None:
    """The labelled points an export shows and checks: the file at `path`, else the run's own
    training file while it is still there (None for a run trained on generated data)."""
    from pointlab.data import load_csv

    if path is not None:
        return load_csv(path, columns)
    if Path(run.spec.data).is_file():
        return load_csv(run.spec.data, run.spec.columns)
    return None


def check_exportable(model: TrainedModel) -> None:
    """UserError unless `model.torch_module()` gives `model.predict_proba`'s probabilities."""
    import torch

    points = CHECK_POINTS.astype(np.float32)  # (49, 2)
    try:
        with torch.no_grad():
            got = model.torch_module()(torch.as_tensor(points)).numpy()
    except RuntimeError:  # a network that takes other inputs than the raw points
        got = None
    if got is None or np.abs(got - model.predict_proba(points)).max() > TOLERANCE:
        raise UserError(
            "this model changes its points before its network in a way the export does not "
            "take along yet (TrainedModel.torch_module); nothing written"
        )
