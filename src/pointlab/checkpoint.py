"""A trained member on disk: weights in safetensors (never pickle), with the config that made them.

`save_model` writes one `.safetensors` file whose metadata holds the TrainConfig, the number of
classes and the pointlab format version; `load_model` reads it back as a `TrainedModel`, which
predicts class probabilities for new points and scores itself on labelled data (`score`: the one
measurement `evaluate`, `sweep` and `train` all report). `check_record` refuses a run record that
describes another model than the weights it holds; `nonfinite_weights` names NaN weights.

Not here: run directories around the model (`pointlab.runs`), training (`pointlab.engine`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, safe_open, save

from pointlab import metrics
from pointlab.config import TrainConfig
from pointlab.data import Dataset
from pointlab.engine.models import Architecture, architecture, to_module
from pointlab.errors import UserError
from pointlab.features import RAW, Scaling, model_inputs
from pointlab.io import write_atomic

FORMAT_VERSION = 1
CHUNK = 65_536  # points per forward pass of `TrainedModel.logits`: 32 MB a layer of 128 units


@dataclass(frozen=True)
class Score:
    """A model measured on labelled points: mean cross-entropy (the training loss, unweighted)
    and accuracy; the recall of each class and their mean, balanced accuracy (`pointlab.metrics`);
    for two classes the average precision of class 1's probability."""

    loss: float
    accuracy: float
    n: int  # points measured
    recall: tuple[float, ...] = ()  # of each class of the model (NaN: no point of it here)
    balanced_accuracy: float = float("nan")
    average_precision: float | None = None  # two classes only

    def to_dict(self) -> dict[str, Any]:
        """As JSON takes it: NaN as None."""

        def finite(value: float | None) -> float | None:
            return value if value is not None and np.isfinite(value) else None

        return {
            "loss": self.loss,
            "accuracy": self.accuracy,
            "n": self.n,
            "recall": [finite(r) for r in self.recall],
            "balanced_accuracy": finite(self.balanced_accuracy),
            "average_precision": finite(self.average_precision),
        }


# pointlab.features.FEATURES in torch: TF Playground's feature inputs as functions of the
# (standardized) coordinates x, y.
FEATURE_FUNCTIONS = {
    "x": lambda x, y: x,
    "y": lambda x, y: y,
    "x2": lambda x, y: x * x,
    "y2": lambda x, y: y * y,
    "xy": lambda x, y: x * y,
    "sinx": lambda x, y: torch.sin(x),
    "siny": lambda x, y: torch.sin(y),
}


class Inputs(torch.nn.Module):
    """Raw points (N, 2) to a network's inputs (N, D) in torch, so that exports take them along:
    each coordinate standardized by `mean` and `std` when given, then the named feature columns.
    Computed in float64 and cast to float32, as `pointlab.features.model_inputs` computes them in
    numpy (the names are its `FEATURES`)."""

    def __init__(
        self,
        features: tuple[str, ...],
        mean: tuple[float, ...] | None = None,
        std: tuple[float, ...] | None = None,
    ) -> None:
        super().__init__()
        self.features = features
        self.mean, self.std = mean, std

    def forward(self, points: torch.Tensor) -> torch.Tensor:
        p = points.double()  # (N, 2)
        if self.mean is not None and self.std is not None:
            p = (p - torch.tensor(self.mean, dtype=p.dtype)) / torch.tensor(self.std, dtype=p.dtype)
        x, y = p[:, 0], p[:, 1]
        columns = [FEATURE_FUNCTIONS[name](x, y) for name in self.features]
        return torch.stack(columns, dim=1).float()  # (N, D)


class Probabilities(torch.nn.Module):
    """Logits to class probabilities (N, K): a two-class model's one logit through a sigmoid
    (column 1 is P(label 1)), more classes through a softmax."""

    def __init__(self, network: torch.nn.Module, n_classes: int) -> None:
        super().__init__()
        self.network = network
        self.n_classes = n_classes

    def forward(self, points: torch.Tensor) -> torch.Tensor:
        z = self.network(points)  # (N, 1) for two classes, else (N, K)
        if self.n_classes == 2:
            p1 = torch.sigmoid(z[:, :1])
            return torch.cat([1 - p1, p1], dim=1)
        return torch.softmax(z, dim=1)


@dataclass(frozen=True)
class TrainedModel:
    config: TrainConfig
    n_classes: int
    state: dict[str, torch.Tensor]  # torch.nn.Sequential (or engine.models.MLP) state dict
    scaling: Scaling | None = None  # the training points' standardization (pointlab.features)

    @property
    def arch(self) -> Architecture:
        return architecture(self.config, self.n_classes)

    def inputs(self, X: np.ndarray) -> np.ndarray:
        """(N, D) what the network takes for points X (N, 2): its features, scaled."""
        return model_inputs(X, self.config.features, self.scaling)

    def module(self) -> torch.nn.Module:
        """The network, its inputs (N, D) (`inputs`) to logits: a `torch.nn.Sequential`, or
        `engine.models.MLP` for one with skips or normalization (in evaluation mode: batch norm
        uses its running statistics)."""
        model = to_module(self.arch, self.config.dropout)
        model.load_state_dict(self.state)
        return model.eval()

    def torch_module(self) -> torch.nn.Module:
        """The whole model as one torch module, raw points (N, 2) to class probabilities (N, K),
        as `predict_proba` gives them: what `pointlab export` writes out (and checks against
        `predict_proba` first, `pointlab.export.check_exportable`): `inputs` as a torch step
        (`Inputs`) where the model has feature inputs or a scaling, then the network."""
        network: torch.nn.Module = self.module()
        if self.config.features != RAW or self.scaling is not None:
            mean = None if self.scaling is None else self.scaling.mean
            std = None if self.scaling is None else self.scaling.std
            network = torch.nn.Sequential(Inputs(self.config.features, mean, std), network)
        return Probabilities(network, self.n_classes).eval()

    @torch.no_grad()
    def logits(self, X: np.ndarray) -> np.ndarray:
        """(N, n_outputs) logits for points X (N, 2), CHUNK points at a time: a run's scores
        over millions of training points would otherwise hold gigabytes of activations."""
        module = self.module()
        if len(X) <= CHUNK:
            return module(torch.as_tensor(self.inputs(X))).numpy()
        parts = [
            module(torch.as_tensor(self.inputs(X[start : start + CHUNK]))).numpy()
            for start in range(0, len(X), CHUNK)
        ]
        return np.concatenate(parts)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """(N, K) class probabilities; for two classes column 1 is P(label 1)."""
        z = torch.as_tensor(self.logits(X))
        if self.n_classes == 2:
            p1 = torch.sigmoid(z[:, 0])
            return torch.stack([1 - p1, p1], dim=1).numpy()
        return torch.softmax(z, dim=1).numpy()

    def predict(self, X: np.ndarray) -> np.ndarray:
        """(N,) predicted labels."""
        z = self.logits(X)
        return (z[:, 0] > 0).astype(np.int64) if self.n_classes == 2 else z.argmax(1)

    def loss(self, X: np.ndarray, y: np.ndarray) -> float:
        """Mean cross-entropy of the labels y (the training loss, from logits)."""
        z = torch.as_tensor(self.logits(X))
        t = torch.as_tensor(np.asarray(y, dtype=np.int64))
        if self.n_classes == 2:
            f = torch.nn.functional.binary_cross_entropy_with_logits(z[:, 0], t.float())
        else:
            f = torch.nn.functional.cross_entropy(z, t)
        return float(f)

    def score(self, data: Dataset) -> Score:
        """Loss, accuracy, per-class recall, balanced accuracy (and for two classes average
        precision) on a labelled data set (its labels must be classes of this model)."""
        z = torch.as_tensor(self.logits(data.X))  # one forward pass for every number
        t = torch.as_tensor(np.asarray(data.y, dtype=np.int64))
        F = torch.nn.functional
        if self.n_classes == 2:
            loss = F.binary_cross_entropy_with_logits(z[:, 0], t.float())
            predicted = (z[:, 0] > 0).long().numpy()
        else:
            loss = F.cross_entropy(z, t)
            predicted = z.argmax(1).numpy()
        accuracy = float(np.mean(predicted == data.y)) if len(data) else float("nan")
        average = None
        if self.n_classes == 2 and len(data):
            positive = torch.sigmoid(z[:, 0]).numpy()  # P(class 1)
            average = metrics.precision_recall(data.y, positive).average_precision
        return Score(
            float(loss),
            accuracy,
            len(data),
            tuple(float(r) for r in metrics.class_recall(data.y, predicted, self.n_classes)),
            metrics.balanced_accuracy(data.y, predicted, self.n_classes),
            average,
        )


def save_model(
    path: str | Path,
    config: TrainConfig,
    state: dict,
    n_classes: int,
    scaling: Scaling | None = None,
) -> Path:
    path = Path(path)
    metadata = {
        "format": "pointlab-model",
        "format_version": str(FORMAT_VERSION),
        "config": config.to_json(),
        "n_classes": str(n_classes),
    }
    if scaling is not None:  # a model without it takes its inputs unscaled
        metadata["scaling"] = json.dumps(scaling.to_dict())
    # Bytes first, then one atomic write: never a half-written model, and the file gets the
    # umask's mode (safetensors' own save_file makes every file 0600).
    blob = save({k: v.contiguous() for k, v in state.items()}, metadata=metadata)
    return write_atomic(path, lambda file: file.write(blob))


def load_model(path: str | Path) -> TrainedModel:
    """Read a model written by save_model; a clear UserError for anything else."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: no such model file")
    try:
        with safe_open(str(path), framework="pt") as f:
            metadata = f.metadata() or {}
        state = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as error:
        raise UserError(f"{path}: not a readable safetensors model ({error})") from None
    if metadata.get("format") != "pointlab-model":
        raise UserError(f"{path}: not a pointlab model (no pointlab metadata)")
    version = metadata.get("format_version")
    if version != str(FORMAT_VERSION):
        raise UserError(
            f"{path}: model format version {version}, this pointlab reads {FORMAT_VERSION}"
        )
    try:
        config = TrainConfig.from_dict(json.loads(metadata["config"]))
        n_classes = int(metadata["n_classes"])
        scaling = None
        if "scaling" in metadata:
            scaling = Scaling.from_dict(json.loads(metadata["scaling"]))
    except (KeyError, ValueError, TypeError, UserError) as error:
        raise UserError(f"{path}: damaged model metadata ({error})") from None
    model = TrainedModel(config, n_classes, state, scaling)
    try:
        model.module()
    except RuntimeError as error:
        raise UserError(f"{path}: weights do not fit the saved config ({error})") from None
    return model


def check_record(model: TrainedModel, config: TrainConfig, n_classes: int, where: str) -> None:
    """Refuse a run record (`where`, its config.json) that disagrees with the model it holds on
    what the model is (classes, hidden widths, activation, skips, normalization): the weights
    decide what the model computes, so a record edited afterwards would describe another model,
    silently."""
    said = {"classes": n_classes, "hidden": config.hidden, "activation": config.activation}
    held = {"classes": model.n_classes, "hidden": model.config.hidden}
    held["activation"] = model.config.activation
    said["residual"], held["residual"] = config.residual, model.config.residual
    said["norm"], held["norm"] = config.norm, model.config.norm
    wrong = [name for name in said if said[name] != held[name]]
    if wrong:
        says = ", ".join(f"{name} {_show(said[name])}" for name in wrong)
        holds = ", ".join(f"{name} {_show(held[name])}" for name in wrong)
        raise UserError(
            f"{where}: says {says}, but its model.safetensors holds {holds}; the weights "
            "decide the model: restore config.json or train again"
        )


def nonfinite_weights(model: TrainedModel) -> list[str]:
    """Names of the model's weight tensors that hold NaN or infinity (a tampered or broken file:
    training keeps a diverged run's last finite weights)."""
    return [name for name, value in model.state.items() if not bool(torch.isfinite(value).all())]


def _show(value: object) -> str:
    if isinstance(value, tuple | list):
        return ",".join(map(str, value)) if value else "none"
    return str(value)
