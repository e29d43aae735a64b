"""Batched MLPs: the parameters of M models of one architecture live in one flat tensor.

All parameters of a population are one tensor `theta` of shape (M, P); each layer's weight and bias
are views into it, weight (M, fan_in, fan_out), bias (M, 1, fan_out). So the optimizer updates every
layer of every member with a few element-wise kernels on one tensor, whatever the depth.

Exported weights follow `torch.nn.Sequential` of `torch.nn.Linear` layers (keys `0.weight`,
`0.bias`, ..., weight (fan_out, fan_in)), so a member loads into a plain PyTorch model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from pointlab.engine.products import affine

ACTIVATION_FUNCTIONS = {
    "relu": torch.relu,
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "gelu": F.gelu,
    "leaky_relu": F.leaky_relu,
    "identity": lambda x: x,
}
IN_PLACE = {"relu": torch.relu_, "tanh": torch.tanh_, "sigmoid": torch.sigmoid_}
ACTIVATION_MODULES = {
    "relu": torch.nn.ReLU,
    "tanh": torch.nn.Tanh,
    "sigmoid": torch.nn.Sigmoid,
    "gelu": torch.nn.GELU,
    "leaky_relu": torch.nn.LeakyReLU,
    "identity": torch.nn.Identity,
}


@dataclass(frozen=True)
class Architecture:
    """Shapes shared by every member of a population."""

    hidden: tuple[int, ...]
    activation: str
    n_classes: int = 2
    n_inputs: int = 2
    # None: a classifier's logits, as n_classes says; a number: that many real-valued outputs (a
    # generative model's velocity or noise, `engine.generative`), n_classes then unused.
    outputs: int | None = None

    @property
    def n_outputs(self) -> int:
        if self.outputs is not None:
            return self.outputs
        # Two classes: one logit (the book's case); K > 2 classes: K logits and a softmax.
        return 1 if self.n_classes == 2 else self.n_classes

    @property
    def layer_shapes(self) -> list[tuple[int, int]]:
        widths = [self.n_inputs, *self.hidden, self.n_outputs]
        return list(zip(widths[:-1], widths[1:], strict=True))

    @property
    def n_params(self) -> int:
        return sum(fan_in * fan_out + fan_out for fan_in, fan_out in self.layer_shapes)

    def sequential_indices(self, dropout: bool) -> list[int]:
        """Index of each Linear layer inside the matching `torch.nn.Sequential`."""
        per_hidden = 3 if dropout else 2  # Linear, activation[, Dropout]
        return [i * per_hidden for i in range(len(self.layer_shapes))]


def layer_views(arch: Architecture, theta: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Views (weight (M, fan_in, fan_out), bias (M, 1, fan_out)) into theta (M, P)."""
    views, offset = [], 0
    m = theta.shape[0]
    for fan_in, fan_out in arch.layer_shapes:
        w = theta[:, offset : offset + fan_in * fan_out].view(m, fan_in, fan_out)
        offset += fan_in * fan_out
        b = theta[:, offset : offset + fan_out].view(m, 1, fan_out)
        offset += fan_out
        views.append((w, b))
    return views


def init_theta(arch: Architecture, seeds: list[int], dtype=torch.float32) -> torch.Tensor:
    """(M, P) initial parameters, member m drawn from its own seed.

    The distribution is `torch.nn.Linear`'s default (kaiming_uniform with a=sqrt(5), which is
    U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weight and bias alike), so runs compare with the book's.
    """
    theta = torch.empty(len(seeds), arch.n_params, dtype=dtype)
    for m, seed in enumerate(seeds):  # once per run, not per step
        generator = torch.Generator().manual_seed(int(seed))
        offset = 0
        for fan_in, fan_out in arch.layer_shapes:
            bound = 1.0 / math.sqrt(fan_in)
            size = fan_in * fan_out + fan_out
            theta[m, offset : offset + size].uniform_(-bound, bound, generator=generator)
            offset += size
    return theta


def forward(
    arch: Architecture,
    layers: list[tuple[torch.Tensor, torch.Tensor]],
    x: torch.Tensor,
    dropout: torch.Tensor | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Logits (M, B, n_outputs) for inputs x, shared (B, D) or per member (M, B, D).

    dropout: per-member drop probability (M, 1, 1), applied after each hidden activation in
    training; None in evaluation.
    """
    act = ACTIVATION_FUNCTIONS[arch.activation]
    # In place where autograd allows it (these save their output, not their input, and baddbmm's
    # backward needs only its inputs): one full-size activation tensor less per layer.
    act_ = IN_PLACE.get(arch.activation)
    h = x
    last = len(layers) - 1
    for i, (w, b) in enumerate(layers):
        if h.dim() == 2:  # shared inputs: the same points for every member
            h = h.expand(w.shape[0], *h.shape)
        h = affine(b, h, w)  # (M, B, fan_out)
        if i < last:
            h = act_(h) if act_ is not None else act(h)
            if dropout is not None:
                keep = 1.0 - dropout
                mask = torch.rand(h.shape, generator=generator, device=h.device) < keep
                h = h * mask / keep
    return h


def member_state(arch: Architecture, theta: torch.Tensor, member: int, dropout: bool = False):
    """Member's weights as a `torch.nn.Sequential` state dict (CPU tensors, weight (out, in))."""
    state = {}
    views = layer_views(arch, theta[member : member + 1].detach())
    for index, (w, b) in zip(arch.sequential_indices(dropout), views, strict=True):
        state[f"{index}.weight"] = w[0].T.contiguous().cpu()
        state[f"{index}.bias"] = b[0, 0].contiguous().cpu()
    return state


def theta_from_states(
    arch: Architecture, states: list[dict], dropout: bool = False
) -> torch.Tensor:
    """Inverse of member_state: (M, P) from M Sequential state dicts."""
    theta = torch.empty(len(states), arch.n_params)
    views = layer_views(arch, theta)
    for m, state in enumerate(states):
        for index, (w, b) in zip(arch.sequential_indices(dropout), views, strict=True):
            w[m].copy_(state[f"{index}.weight"].T)
            b[m, 0].copy_(state[f"{index}.bias"])
    return theta


def param_mask_from_states(
    arch: Architecture, masks: list[dict], dropout: bool = False
) -> torch.Tensor:
    """(M, P) float mask in theta's layout from M per-member masks shaped as Sequential state dicts.

    masks[m] maps `"{i}.weight"` to a (fan_out, fan_in) tensor or array of 1 (keep) / 0 (pruned)
    and optionally `"{i}.bias"` to (fan_out,); a bias or layer left out is kept whole. This is the
    shape `member_state` exports and `torch.nn.utils.prune` leaves in `weight_mask`.
    """
    mask = torch.ones(len(masks), arch.n_params)
    views = layer_views(arch, mask)
    for m, state in enumerate(masks):
        for index, (w, b) in zip(arch.sequential_indices(dropout), views, strict=True):
            if f"{index}.weight" in state:
                w[m].copy_(torch.as_tensor(state[f"{index}.weight"]).T)
            if f"{index}.bias" in state:
                b[m, 0].copy_(torch.as_tensor(state[f"{index}.bias"]))
    return mask


def to_sequential(arch: Architecture, dropout: float = 0.0) -> torch.nn.Sequential:
    """The plain PyTorch model of this architecture (the engine's reference in the tests)."""
    modules: list[torch.nn.Module] = []
    shapes = arch.layer_shapes
    for i, (fan_in, fan_out) in enumerate(shapes):
        modules.append(torch.nn.Linear(fan_in, fan_out))
        if i < len(shapes) - 1:
            modules.append(ACTIVATION_MODULES[arch.activation]())
            if dropout > 0:
                modules.append(torch.nn.Dropout(dropout))
    return torch.nn.Sequential(*modules)
