"""A trained model as one self-contained web page: the weights inside it as JSON, a forward pass
in a few dozen lines of plain JavaScript, the regions drawn over the plane with the playground's
own drawing code (`web/static/js/plane.js`, inlined), and each point a person taps or clicks
classified and marked. Nothing is fetched: the file works from disk, offline, on a phone.

The page runs the layers of `TrainedModel.torch_module()`: feature inputs and standardization
(`checkpoint.Inputs`), dense layers and the activations of `engine.models.ACTIVATION_MODULES`
(dropout is the identity at prediction time), and for an `engine.models.MLP` each hidden layer's
skip (a flag on its dense layer: its input is added after its activation) and layer or batch
normalization (batch norm in evaluation mode, its running statistics). A module it
does not know is refused (`UserError`) rather than left out, so the page never silently differs
from `pointlab predict`. JavaScript computes in float64, torch in float32: the probabilities agree
to about 1e-6.

Not here: the ONNX export (`onnx.py`), the command (`pointlab.cli.export_cmd`).
"""

from __future__ import annotations

import html
import json
import re
from importlib import resources
from typing import Any

import numpy as np

from pointlab.checkpoint import Inputs, Probabilities, TrainedModel
from pointlab.data import Dataset
from pointlab.errors import UserError

MAX_POINTS_SHOWN = 2000  # of the run's data, drawn over the regions (a seeded sample beyond it)
UNIT_SQUARE = [[-0.05, 1.05], [-0.05, 1.05]]  # the plane shown when no data comes with the model


def layers(model: TrainedModel) -> list[dict[str, Any]]:
    """The network as the page runs it, in order: {"w": (out, in), "b": (out,), "skip": bool}
    (skip: the layer's input is added to its output after its activation), {"norm": "layer",
    "weight", "bias", "eps"} or {"norm": "batch", "running_mean", "running_var", "weight",
    "bias", "eps"} after a dense layer, {"act": name}, and {"inputs": feature names, "mean",
    "std"} for a step from the points to the inputs."""
    import torch

    from pointlab.engine.models import ACTIVATION_MODULES, MLP
    from pointlab.export import check_exportable

    check_exportable(model)
    names = {cls: name for name, cls in ACTIVATION_MODULES.items()}
    skips: dict[int, bool] = {}  # id of an MLP's Linear layer -> whether its layer skips
    out: list[dict[str, Any]] = []
    for module in model.torch_module().modules():
        # The containers, dropout (the identity when predicting), and the last step to
        # probabilities, which the page does after the layers.
        if isinstance(module, Probabilities | torch.nn.Sequential | torch.nn.Dropout):
            continue
        if isinstance(module, MLP):  # its layers follow, in order; the skips are its own
            for block, skip in zip(module.blocks, module.skips, strict=True):
                skips[id(getattr(module, block[0]))] = skip
        elif isinstance(module, Inputs):
            out.append({"inputs": list(module.features), "mean": module.mean, "std": module.std})
        elif isinstance(module, torch.nn.Linear):
            skip = skips.get(id(module), False)
            out.append({"w": module.weight.tolist(), "b": module.bias.tolist(), "skip": skip})
        elif (norm := _norm(module)) is not None:
            out.append(norm)
        elif type(module) in names:
            out.append({"act": names[type(module)]})
        else:
            raise UserError(f"the web page cannot run a {type(module).__name__} layer yet")
    return out


def _norm(module: Any) -> dict[str, Any] | None:
    """A normalization as the page runs it: layer norm, or batch norm in evaluation mode (by its
    running statistics), each with its scale and shift per unit; None for any other module."""
    import torch

    entry: dict[str, Any]
    if isinstance(module, torch.nn.LayerNorm) and module.elementwise_affine:
        entry = {"norm": "layer"}
    elif isinstance(module, torch.nn.BatchNorm1d) and module.affine and not module.training:
        mean, var = module.running_mean, module.running_var
        if mean is None or var is None:  # one that normalizes by each batch's statistics
            return None
        entry = {"norm": "batch", "running_mean": mean.tolist(), "running_var": var.tolist()}
    else:
        return None
    weight, bias = module.weight.tolist(), module.bias.tolist()
    return {**entry, "weight": weight, "bias": bias, "eps": module.eps}


def page_html(model: TrainedModel, data: Dataset | None, title: str) -> str:
    """The page for `model`, with `data`'s points (if any) drawn over its regions."""
    from pointlab.plots.palette import class_colours
    from pointlab.web.points import extent

    points = np.zeros((0, 2), np.float32)
    labels = np.zeros(0, np.int64)
    about = "no data points shown"
    if data is not None and len(data):
        keep = np.arange(len(data))
        if len(data) > MAX_POINTS_SHOWN:
            keep = np.sort(np.random.default_rng(0).choice(len(data), MAX_POINTS_SHOWN, False))
        points, labels = data.X[keep], data.y[keep]
        about = f"the points of {data.name} ({len(keep)} of {len(data)}) over its regions"
    spec = {
        "classes": model.n_classes,
        "colours": class_colours(model.n_classes),
        "extent": extent(points) if len(points) else UNIT_SQUARE,
        "layers": layers(model),
        "points": points.tolist(),
        "labels": labels.tolist(),
        "about": about,
    }
    # "</" would end the <script> element that holds the JSON.
    blob = json.dumps(spec, separators=(",", ":")).replace("</", "<\\/")
    plane = resources.files("pointlab.web").joinpath("static/js/plane.js").read_text()
    template = resources.files("pointlab.export").joinpath("page.html").read_text()
    parts = {
        "__PLANE_JS__": plane.replace("export function", "function"),
        "__MODEL__": blob,
        "__TITLE__": html.escape(title),
    }
    # One pass, so a title or a data set's name is never taken for a placeholder.
    return re.sub("__(PLANE_JS|MODEL|TITLE)__", lambda m: parts[m.group(0)], template)
