"""A multi-layer perceptron built from `Tensor`s: the book's `simple` and `complex` models.

Layer i computes z_i = h_{i-1} @ W_i + b_i and, except for the last layer, h_i = act(z_i), with
h_0 = x the points (N, 2). W_i is (fan_in, fan_out), so `h @ W` reads like the maths; PyTorch's
`nn.Linear` stores the transpose (fan_out, fan_in), which `from_state` / `state` convert.

The bias: by default a (fan_out,) vector that numpy broadcasts over the N rows, and whose gradient
is the sum of the rows' gradients. With `broadcast_bias=False` it is a (1, fan_out) matrix
multiplied by a column of ones (z = h @ W + 1 @ b): the same numbers through a matrix product,
which the tests use to check the broadcasting rule against a path without it.

Not here: the operations (`tensor.py`), the losses (`losses.py`), training (`train.py`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from pointlab.autodiff.losses import bce_with_logits, cross_entropy, mse
from pointlab.autodiff.tensor import Tensor

ACTIVATIONS = ("relu", "tanh", "sigmoid", "leaky_relu", "identity")


def activate(z: Tensor, activation: str) -> Tensor:
    if activation == "identity":
        return z
    if activation not in ACTIVATIONS:
        raise ValueError(f"pointlab.autodiff has no {activation!r}; it has {ACTIVATIONS}")
    return getattr(z, activation)()


def activation_slope(z: np.ndarray, activation: str) -> np.ndarray:
    """act'(z), element-wise: the local derivative the backward pass multiplies by."""
    if activation == "relu":
        return (z > 0).astype(z.dtype)
    if activation == "leaky_relu":
        return np.where(z > 0, 1.0, 0.01)
    if activation == "tanh":
        return 1 - np.tanh(z) ** 2
    if activation == "sigmoid":
        s = 1 / (1 + np.exp(-z))
        return s * (1 - s)
    return np.ones_like(z)


@dataclass
class LayerValues:
    """What the forward pass keeps of one layer: z = h_in @ W + b, and h = act(z) (h is z for
    the output layer, whose values are the logits)."""

    z: Tensor  # (N, fan_out)
    h: Tensor  # (N, fan_out)


class MLP:
    def __init__(
        self,
        layers: list[tuple[np.ndarray, np.ndarray]],
        activation: str = "relu",
        n_classes: int = 2,
        broadcast_bias: bool = True,
    ) -> None:
        """layers: (W (fan_in, fan_out), b (fan_out,)) per layer, copied into float64 tensors."""
        if activation not in ACTIVATIONS:
            raise ValueError(f"pointlab.autodiff has no {activation!r}; it has {ACTIVATIONS}")
        self.activation, self.n_classes, self.broadcast_bias = activation, n_classes, broadcast_bias
        self.weights: list[Tensor] = []
        self.biases: list[Tensor] = []
        for i, (w, b) in enumerate(layers, start=1):
            bias = np.array(b, dtype=np.float64).reshape(-1 if broadcast_bias else (1, -1))
            self.weights.append(Tensor(np.array(w, dtype=np.float64), label=f"W{i}"))
            self.biases.append(Tensor(bias, label=f"b{i}"))

    @property
    def widths(self) -> list[int]:
        """[n_inputs (2 for points of the plane), hidden..., n_outputs]"""
        return [self.weights[0].shape[0], *(w.shape[1] for w in self.weights)]

    def parameters(self) -> list[Tensor]:
        """W1, b1, W2, b2, ...: the order of `torch.nn.Sequential(...).parameters()`."""
        return [p for pair in zip(self.weights, self.biases, strict=True) for p in pair]

    def forward(self, x: Tensor) -> list[LayerValues]:
        """Every layer's values for inputs x (N, n_inputs); the last layer's h are the logits."""
        values = []
        h = x
        last = len(self.weights)
        for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=True), start=1):
            product = h @ w  # (N, fan_out)
            product.label = f"{h.label or 'h'} @ W{i}"
            if self.broadcast_bias:
                z = product + b  # (N, fan_out) + (fan_out,): the bias is added to every row
            else:
                ones = Tensor(np.ones((h.shape[0], 1)), label="1")
                z = product + ones @ b  # (N, fan_out) + (N, 1) @ (1, fan_out)
            z.label = f"z{i}"
            if i < last:
                h = activate(z, self.activation)
                h.label = f"h{i}"
            else:
                h = z
            values.append(LayerValues(z, h))
        return values

    def __call__(self, x: Tensor) -> Tensor:
        """Logits (N, n_outputs)."""
        return self.forward(x)[-1].h

    def pattern(self, x: Tensor) -> np.ndarray:
        """Which hidden units are on (z > 0) for each point, all layers in one flat bool array:
        where it changes, a ReLU network's loss has a kink."""
        values = self.forward(x)[:-1]
        return np.concatenate([v.z.data.ravel() > 0 for v in values] or [np.zeros(0, bool)])

    def loss(self, logits: Tensor, y: np.ndarray, kind: str = "bce") -> Tensor:
        return model_loss(logits, y, self.n_classes, kind)

    # -- to and from PyTorch's layout -------------------------------------------------------

    @classmethod
    def from_state(
        cls,
        state: Mapping[str, Any],
        activation: str,
        n_classes: int = 2,
        broadcast_bias: bool = True,
    ) -> MLP:
        """From a `torch.nn.Sequential` state dict (keys `0.weight`, `0.bias`, `2.weight`, ...;
        weight (fan_out, fan_in)); torch tensors or numpy arrays."""
        weight_keys = sorted(
            (k for k in state if k.endswith(".weight")), key=lambda k: int(k.split(".")[0])
        )
        layers = []
        for key in weight_keys:
            w = _numpy(state[key]).T  # (fan_in, fan_out)
            b = _numpy(state[key[: -len("weight")] + "bias"])
            layers.append((w, b))
        return cls(layers, activation, n_classes, broadcast_bias)

    def state(self, dropout: bool = False) -> dict[str, np.ndarray]:
        """A `torch.nn.Sequential` state dict (numpy float64, weight (fan_out, fan_in)); with
        `dropout` the keys skip the Dropout modules, as the engine's models have them."""
        step = 3 if dropout else 2
        out = {}
        for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            out[f"{i * step}.weight"] = w.data.T.copy()
            out[f"{i * step}.bias"] = b.data.reshape(-1).copy()
        return out

    @classmethod
    def init(
        cls, hidden: tuple[int, ...], activation: str, n_classes: int = 2, seed: int = 0
    ) -> MLP:
        """The initial weights pointlab's engine draws for this seed for 2-D points (float32
        values, held in float64), so the two start from the same point."""
        from pointlab.engine.models import Architecture, init_theta, member_state

        arch = Architecture(tuple(hidden), activation, n_classes)
        state = member_state(arch, init_theta(arch, [seed]), 0)
        return cls.from_state(state, activation, n_classes)


def model_loss(logits: Tensor, y: np.ndarray, n_classes: int, kind: str = "bce") -> Tensor:
    """The engine's losses: kind "bce" is binary cross-entropy from the one logit (2 classes) or
    softmax cross-entropy (K classes); "mse" is the squared error of the probabilities."""
    if kind == "bce":
        return bce_with_logits(logits, y) if n_classes == 2 else cross_entropy(logits, y)
    if kind == "mse":
        if n_classes == 2:
            return mse(logits.sigmoid(), np.asarray(y, dtype=np.float64).reshape(-1, 1))
        return mse(logits.softmax(), np.eye(n_classes)[np.asarray(y, dtype=np.int64)])
    raise ValueError(f"unknown loss {kind!r}")


def _numpy(value: Any) -> np.ndarray:
    if hasattr(value, "detach"):  # a torch tensor
        value = value.detach().cpu().double().numpy()
    return np.asarray(value, dtype=np.float64)
