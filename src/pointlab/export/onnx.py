"""A trained model as one ONNX file: input `points` (N, 2) float32, raw as the CSV gives them;
output `probabilities` (N, K) float32, as `TrainedModel.predict_proba` gives them.

torch's exporter (`torch.onnx.export(..., dynamo=True)`, the one PyTorch documents since 2.9)
traces `TrainedModel.torch_module()`, so the file holds exactly what pointlab runs; N is a dynamic
axis. The file carries the run's config, class count and the pointlab version as metadata
properties. `largest_difference` runs a file in onnxruntime beside pointlab: the check the command
reports and the tests assert.

The exporter needs the `onnx` extra (onnx, onnxscript; onnxruntime for the check):
`pip install 'pointlab[onnx]'`; without it, `UserError` says so in one line.

Not here: the web page export (`page.py`), the command (`pointlab.cli.export_cmd`).
"""

from __future__ import annotations

import importlib.util
import logging
import warnings

import numpy as np

from pointlab import __version__
from pointlab.checkpoint import TrainedModel
from pointlab.errors import UserError

INPUT = "points"
OUTPUT = "probabilities"
INSTALL = "pip install 'pointlab[onnx]'"
# torch's exporter logs a warning per torchvision operator it could not register: noise here.
EXPORTER_LOGGER = "torch.onnx._internal.exporter._registration"


def require(*modules: str) -> None:
    """UserError naming the extra to install when any of `modules` is missing."""
    missing = [name for name in modules if importlib.util.find_spec(name) is None]
    if missing:
        raise UserError(f"ONNX needs {', '.join(missing)}, not installed: {INSTALL}")


def onnx_bytes(model: TrainedModel) -> bytes:
    """The serialized ONNX model of `model.torch_module()`, N points dynamic."""
    require("onnx", "onnxscript")
    import onnx
    import torch

    from pointlab.export import check_exportable

    check_exportable(model)

    module = model.torch_module()
    example = torch.zeros(3, 2)  # (N, 2); N is exported as dynamic
    n = torch.export.Dim("n")
    exporter_log = logging.getLogger(EXPORTER_LOGGER)
    level = exporter_log.level
    exporter_log.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            program = torch.onnx.export(
                module,
                (example,),
                dynamo=True,
                input_names=[INPUT],
                output_names=[OUTPUT],
                dynamic_shapes={"points": {0: n}},
                verbose=False,
            )
    finally:
        exporter_log.setLevel(level)
    assert program is not None  # dynamo=True always returns the program
    proto = program.model_proto
    proto.doc_string = (
        f"pointlab {__version__}: points (N, 2) -> probabilities (N, {model.n_classes})"
    )
    onnx.helper.set_model_props(
        proto,
        {
            "pointlab_version": __version__,
            "n_classes": str(model.n_classes),
            "config": model.config.to_json(),
        },
    )
    onnx.checker.check_model(proto)
    return proto.SerializeToString()


def run_onnx(blob: bytes, points: np.ndarray) -> np.ndarray:
    """(N, K) probabilities of `points` (N, 2) from the ONNX model `blob`, run by onnxruntime."""
    require("onnxruntime")
    import onnxruntime

    session = onnxruntime.InferenceSession(blob, providers=["CPUExecutionProvider"])
    (out,) = session.run([OUTPUT], {INPUT: np.asarray(points, dtype=np.float32)})
    return np.asarray(out)


def largest_difference(blob: bytes, model: TrainedModel, points: np.ndarray) -> float:
    """The largest |onnxruntime - pointlab| over the probabilities of `points` (N, 2)."""
    return float(np.abs(run_onnx(blob, points) - model.predict_proba(points)).max(initial=0.0))
