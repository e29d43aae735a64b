"""A trained model taken out of pointlab: `onnx` writes one ONNX file (raw points in, class
probabilities out) that any ONNX runtime runs; `page` writes one self-contained HTML page that
draws the model's regions and classifies the points a person taps, with the weights inside it.
Both start from `TrainedModel.torch_module()`, the one torch function from raw points to
probabilities, so what a run does to its points travels with it.

Not here: the command (`pointlab.cli.export_cmd`); a playground member written as a run
directory (`pointlab.web.export`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pointlab.data import Dataset
    from pointlab.runs import Run


def run_data(run: Run, path: str | None = None, columns: str | None = None) -> Dataset | None:
    """The labelled points an export shows and checks: the file at `path`, else the run's own
    training file while it is still there (None for a run trained on generated data)."""
    from pointlab.data import load_csv

    if path is not None:
        return load_csv(path, columns)
    if Path(run.spec.data).is_file():
        return load_csv(run.spec.data, run.spec.columns)
    return None
