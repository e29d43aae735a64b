"""The record of one explained training step: typed, frozen, and JSON-able with `to_dict()`.

`step.explain_step` fills it; the CLI renders it as a table and a report, the web playground
sends `to_dict()` to the browser. Layers are numbered from 1 (the first hidden layer) to L (the
output layer); W_i is (fan_in, fan_out), so W1[a, j] connects input a to unit j of layer 1.
Not here: computing it (`step.py`), drawing it (`pointlab.plots.explain`).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

# Decades for histograms of gradient magnitudes: 1e-12 .. 1 (smaller ones go in the first).
HISTOGRAM_EDGES = tuple(float(10.0**e) for e in range(-12, 1))


@dataclass(frozen=True)
class Numbers:
    """An array in brief: its shape, a corner of it, and its size."""

    shape: tuple[int, ...]
    sample: list  # the first rows and columns (at most 3 x 4), nested lists of floats
    mean: float
    min: float
    max: float
    norm: float  # Euclidean norm of all entries

    @classmethod
    def of(cls, a: np.ndarray) -> Numbers:
        a = np.asarray(a, dtype=np.float64)
        corner = a[:3, :4] if a.ndim == 2 else a[:4]
        return cls(
            shape=tuple(int(s) for s in a.shape),
            sample=corner.tolist(),
            mean=float(a.mean()),
            min=float(a.min()),
            max=float(a.max()),
            norm=float(np.linalg.norm(a)),
        )


@dataclass(frozen=True)
class ForwardLayer:
    layer: int
    equations: tuple[str, ...]  # ("z1 = x @ W1 + b1", "h1 = relu(z1)")
    weight: Numbers
    bias: Numbers
    z: Numbers  # (N, fan_out) before the activation
    h: Numbers | None  # (N, fan_out) after it; None for the output layer (z are the logits)
    inactive: float | None  # ReLU: share of z <= 0 (output 0, and no gradient passes back)


@dataclass(frozen=True)
class BackwardLayer:
    """The gradients of one layer, and the chain-rule products that gave them."""

    layer: int
    dz_equation: str  # how dL/dz_i came from the layer above (or from the loss)
    dz: Numbers  # dL/dz_i (N, fan_out)
    dW_equation: str
    dW: Numbers  # dL/dW_i (fan_in, fan_out)
    db_equation: str
    db: Numbers  # dL/db_i (fan_out,)
    dh_equation: str | None  # how dL/dh_{i-1} follows (None for layer 1: that is dL/dx)
    dh: Numbers | None  # dL/dh_{i-1} (N, fan_in)
    dW_histogram: tuple[int, ...]  # how many |dL/dW_i| fall in each decade of HISTOGRAM_EDGES
    dW_zeros: int  # how many are exactly 0 (a ReLU that is off for every point passes nothing)


@dataclass(frozen=True)
class ChainFactor:
    symbol: str  # "dL/dz3[n]", "W3[j, 0]", "relu'(z2[n, k])", ...
    meaning: str
    value: float


@dataclass(frozen=True)
class UpdateTerm:
    name: str
    formula: str
    value: float


@dataclass(frozen=True)
class WeightTrace:
    """One weight followed through the whole step: its value, the chain rule along the path that
    carries most of its gradient for one point, the sum over all paths and points, the update."""

    parameter: str  # "W1"
    layer: int
    row: int  # input unit a
    col: int  # output unit j
    value_before: float
    point: int  # the point n whose chain is shown: the one that contributes most
    point_xy: tuple[float, float]
    point_label: int
    path: tuple[str, ...]  # the units the chain runs through, from the weight to the loss
    path_units: tuple[int, ...]  # the unit at each layer from `layer` to the output
    factors: tuple[ChainFactor, ...]  # from the loss back to the weight
    path_product: float  # the product of the factors: this path's share for point n
    n_paths: int  # paths from this weight to the loss for one point
    point_share: float  # all paths of point n: dL/dz[n, j] * h_in[n, a]
    largest_shares: tuple[tuple[int, float], ...]  # (point, share) of the largest few
    gradient: float  # dL/dw from the backward pass: the sum of every point's share
    sum_of_shares: float  # the same sum, added up here over the N points
    update: tuple[UpdateTerm, ...]
    value_after: float


@dataclass(frozen=True)
class LayerUpdate:
    layer: int
    weight_norm: float  # ||W_i|| before the step
    step_norm: float  # ||W_i after - W_i before||
    max_step: float  # largest |change| of one weight of W_i
    bias_step_norm: float

    @property
    def ratio(self) -> float:
        """||step|| / ||W||: how much of the layer one step changes (often ~1e-3 when healthy)."""
        return self.step_norm / self.weight_norm if self.weight_norm else math.inf


@dataclass(frozen=True)
class GraphNode:
    id: int
    name: str  # "W1", "z1", "loss"
    op: str  # "" for inputs and parameters, else "@", "+", "relu", "bce", ...
    kind: str  # input | labels | parameter | operation | loss
    shape: tuple[int, ...]
    grad_norm: float | None  # ||dL/d(node)|| after the backward pass


@dataclass(frozen=True)
class CheckRow:
    parameter: str
    index: tuple[int, ...]
    backward: float
    numeric: float
    rel_error: float
    crosses_kink: bool  # left out of the maximum: see pointlab.autodiff.gradcheck


@dataclass(frozen=True)
class StepTrace:
    model: str  # "2-128-128-1 relu"
    widths: tuple[int, ...]
    activation: str
    n_classes: int
    loss_kind: str  # bce | mse
    loss_formula: str
    optimizer: str
    hyperparameters: dict[str, float]
    step: int  # which update this is (1 = the first of training)
    n_points: int
    notes: tuple[str, ...]  # what a reader must know (optimizer state fresh, dropout off, ...)
    forward: tuple[ForwardLayer, ...]
    loss_before: float
    accuracy_before: float
    backward: tuple[BackwardLayer, ...]  # from the output layer down to layer 1
    trace: WeightTrace
    updates: tuple[LayerUpdate, ...]
    predicted_change: float  # first order: sum over weights of dL/dw * (change of w)
    loss_after: float
    accuracy_after: float
    check: tuple[CheckRow, ...]
    check_step: float
    graph_nodes: tuple[GraphNode, ...]
    graph_edges: tuple[tuple[int, int], ...]  # (from, to) in the forward direction

    @property
    def max_rel_error(self) -> float:
        """The gradient check's largest relative error (weights that crossed a kink left out)."""
        return max((r.rel_error for r in self.check if not r.crosses_kink), default=0.0)

    def grad_norms(self) -> list[dict[str, float]]:
        """||dL/dW_i|| and ||dL/db_i|| per layer, first layer first."""
        layers = sorted(self.backward, key=lambda b: b.layer)
        return [{"layer": b.layer, "weight": b.dW.norm, "bias": b.db.norm} for b in layers]

    def summary(self) -> dict[str, Any]:
        """The few numbers `pointlab explain --json` prints."""
        return _json(
            {
                "model": self.model,
                "optimizer": self.optimizer,
                "step": self.step,
                "n_points": self.n_points,
                "loss_before": self.loss_before,
                "loss_after": self.loss_after,
                "predicted_change": self.predicted_change,
                "accuracy_before": self.accuracy_before,
                "accuracy_after": self.accuracy_after,
                "grad_norms": self.grad_norms(),
                "traced_weight": {
                    "parameter": self.trace.parameter,
                    "index": [self.trace.row, self.trace.col],
                    "gradient": self.trace.gradient,
                    "before": self.trace.value_before,
                    "after": self.trace.value_after,
                },
                "gradient_check": {
                    "weights_checked": len(self.check),
                    "max_rel_error": self.max_rel_error,
                },
            }
        )

    def to_dict(self) -> dict[str, Any]:
        """Everything, as plain JSON types (non-finite floats become null)."""
        out = dataclasses.asdict(self)
        out["max_rel_error"] = self.max_rel_error
        out["grad_norms"] = self.grad_norms()
        for update, record in zip(self.updates, out["updates"], strict=True):
            record["ratio"] = update.ratio
        return _json(out)


def _json(value: Any) -> Any:
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, dict):
        return {str(k): _json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json(v) for v in value]
    return value


def log_histogram(a: np.ndarray) -> tuple[tuple[int, ...], int]:
    """(counts of nonzero |a| per decade of HISTOGRAM_EDGES, number of exact zeros)."""
    magnitude = np.abs(np.asarray(a, dtype=np.float64)).ravel()
    nonzero = magnitude[magnitude > 0]
    edges = np.array(HISTOGRAM_EDGES)
    clipped = np.clip(nonzero, edges[0], edges[-1])
    counts, _ = np.histogram(clipped, bins=edges)
    return tuple(int(c) for c in counts), int(magnitude.size - nonzero.size)
