"""Batched MLPs: the parameters of M models of one architecture live in one flat tensor.

All parameters of a population are one tensor `theta` of shape (M, P); each layer's weight and bias
are views into it, weight (M, fan_in, fan_out), bias (M, 1, fan_out). So the optimizer updates every
layer of every member with a few element-wise kernels on one tensor, whatever the depth.

Options of the architecture (`residual`, `norm`, both `TrainConfig` fields):
- residual: hidden layer l adds its input to its output, h_l = h_{l-1} + act(a_l), wherever its
  input width equals its output width (`Architecture.skips`; never the first hidden layer, fed by
  the inputs, nor the output layer);
- norm: "layer" or "batch" normalization of each hidden pre-activation, Linear -> Norm -> act
  (with residual: h + act(norm(a))); its scale and shift per unit live in theta after every
  Linear layer's parameters (`norm_views`), batch norm's running statistics outside it
  (`norms.Norms`).

Exported weights follow `torch.nn.Sequential` of `torch.nn.Linear` layers (keys `0.weight`,
`0.bias`, ..., weight (fan_out, fan_in)), so a plain member loads into a plain PyTorch model; a
member with skips or normalization loads into `MLP`, a `torch.nn.Module` with the same keys
(a norm's `torch.nn.LayerNorm` / `torch.nn.BatchNorm1d` state under the index after its Linear).

Not here: normalization's arithmetic and batch statistics (`norms.py`), the training step's
hand-written backward (`backprop.py`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F

from pointlab.engine.products import affine

if TYPE_CHECKING:
    from pointlab.config import TrainConfig

EPS = 1e-5  # torch.nn.LayerNorm's and BatchNorm1d's default eps
# A skip's coefficient per layer: None (no skip), 1.0 (every member), or (M, 1, 1) of 0 / 1.
Skip = float | torch.Tensor | None
# A hidden layer's normalization in a forward pass: (layer index, pre-activation) -> normalized.
Normalize = Callable[[int, torch.Tensor], torch.Tensor]

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
    residual: bool = False  # skip connections around hidden layers of equal in and out width
    norm: str = "none"  # none | layer | batch, of each hidden pre-activation

    @property
    def n_outputs(self) -> int:
        # Two classes: one logit (the book's case); K > 2 classes: K logits and a softmax.
        return 1 if self.n_classes == 2 else self.n_classes

    @property
    def layer_shapes(self) -> list[tuple[int, int]]:
        widths = [self.n_inputs, *self.hidden, self.n_outputs]
        return list(zip(widths[:-1], widths[1:], strict=True))

    @property
    def n_params(self) -> int:
        linear = sum(fan_in * fan_out + fan_out for fan_in, fan_out in self.layer_shapes)
        return linear + self.n_norm_params

    @property
    def n_norm_params(self) -> int:
        """A scale and a shift per hidden unit with normalization, else none."""
        return 0 if self.norm == "none" else 2 * sum(self.hidden)

    @property
    def skips(self) -> tuple[bool, ...]:
        """Whether each layer (hidden ones, then the output layer) adds its input to its output."""
        widths = [self.n_inputs, *self.hidden]
        hidden = [
            self.residual and 0 < i and widths[i] == widths[i + 1] for i in range(len(widths) - 1)
        ]
        return (*hidden, False)

    @property
    def plain(self) -> bool:
        """A plain `torch.nn.Sequential` computes it: no skip, no normalization."""
        return not any(self.skips) and self.norm == "none"

    def sequential_indices(self, dropout: bool) -> list[int]:
        """Index of each Linear layer inside the matching `torch.nn.Sequential` (or `MLP`)."""
        # Linear[, Norm], activation[, Dropout]
        per_hidden = 2 + (self.norm != "none") + bool(dropout)
        return [i * per_hidden for i in range(len(self.layer_shapes))]


def architecture(config: TrainConfig, n_classes: int, n_inputs: int | None = None) -> Architecture:
    """A config's architecture on n_inputs inputs (default: one per feature)."""
    inputs = len(config.features) if n_inputs is None else n_inputs
    return Architecture(
        config.hidden, config.activation, n_classes, inputs, config.residual, config.norm
    )


def skip_coefficients(archs: Sequence[Architecture], device=None) -> list[Skip]:
    """Per layer of a population of these (padded) members, the coefficient of its skip:
    None where no member has one, 1.0 where all do, else (M, 1, 1) 1 / 0 per member."""
    out: list[Skip] = []
    for flags in zip(*(a.skips for a in archs), strict=True):
        if not any(flags):
            out.append(None)
        elif all(flags):
            out.append(1.0)
        else:
            out.append(torch.tensor(flags, dtype=torch.float32, device=device).view(-1, 1, 1))
    return out


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


def norm_views(arch: Architecture, theta: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Views (scale (M, 1, width), shift (M, 1, width)) of each hidden layer's normalization,
    stored after all Linear parameters of theta (M, P); [] without normalization."""
    if arch.norm == "none":
        return []
    views, offset = [], arch.n_params - arch.n_norm_params
    m = theta.shape[0]
    for width in arch.hidden:
        scale = theta[:, offset : offset + width].view(m, 1, width)
        shift = theta[:, offset + width : offset + 2 * width].view(m, 1, width)
        offset += 2 * width
        views.append((scale, shift))
    return views


def init_theta(arch: Architecture, seeds: list[int], dtype=torch.float32) -> torch.Tensor:
    """(M, P) initial parameters, member m drawn from its own seed.

    The distribution is `torch.nn.Linear`'s default (kaiming_uniform with a=sqrt(5), which is
    U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weight and bias alike), so runs compare with the book's.
    Normalization starts as torch's: scale 1, shift 0 (no draws: the Linear layers get the same
    numbers with or without it).
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
    for scale, shift in norm_views(arch, theta):
        scale.fill_(1.0)
        shift.fill_(0.0)
    return theta


def forward(
    arch: Architecture,
    layers: list[tuple[torch.Tensor, torch.Tensor]],
    x: torch.Tensor,
    dropout: torch.Tensor | None = None,
    generator: torch.Generator | None = None,
    *,
    skips: Sequence[Skip] | None = None,
    normalize: Normalize | None = None,
    scales: Callable[[int, torch.Size], torch.Tensor] | None = None,
    hidden: list[torch.Tensor] | None = None,
) -> torch.Tensor:
    """Logits (M, B, n_outputs) for inputs x, shared (B, D) or per member (M, B, D).

    dropout: per-member drop probability (M, 1, 1), applied after each hidden activation in
    training; None in evaluation. scales: instead, hidden layer i's dropout scale (mask / keep)
    from (i, shape) (`population.Population`'s own masks). skips: each layer's skip coefficient
    (`skip_coefficients`; default: arch's own). normalize: each hidden pre-activation's
    normalization (`norms.Norms.bind`); needed when arch has one. hidden: a list that gets each
    hidden layer's output (M, B, width), skip included (the playground draws them).
    """
    act = ACTIVATION_FUNCTIONS[arch.activation]
    # In place where autograd allows it (these save their output, not their input, and baddbmm's
    # backward needs only its inputs): one full-size activation tensor less per layer.
    act_ = IN_PLACE.get(arch.activation)
    if skips is None:
        skips = [1.0 if s else None for s in arch.skips]
    if arch.norm != "none" and normalize is None:
        raise ValueError(f"a forward pass of a {arch.norm}-normalized MLP needs its `normalize`")
    h = x
    last = len(layers) - 1
    for i, (w, b) in enumerate(layers):
        if h.dim() == 2:  # shared inputs: the same points for every member
            h = h.expand(w.shape[0], *h.shape)
        previous = h
        h = affine(b, h, w)  # (M, B, fan_out)
        if i < last:
            if normalize is not None:
                h = normalize(i, h)
            h = act_(h) if act_ is not None else act(h)
            if dropout is not None:
                keep = 1.0 - dropout
                mask = torch.rand(h.shape, generator=generator, device=h.device) < keep
                h = h * mask / keep
            elif scales is not None:
                h = h * scales(i, h.shape)
            skip = skips[i]
            if skip is not None:  # out of place: autograd keeps h, the activation's output
                h = h + previous if isinstance(skip, float) else h + skip * previous
            if hidden is not None:
                hidden.append(h)
    return h


def member_state(
    arch: Architecture,
    theta: torch.Tensor,
    member: int,
    dropout: bool = False,
    stats: Sequence[dict[str, torch.Tensor]] | None = None,
):
    """Member's weights as a `torch.nn.Sequential` (or `MLP`) state dict (CPU tensors, weight
    (out, in)). stats: batch norm's running statistics of each hidden layer
    (`norms.Norms.member_stats`), torch's fresh ones when None."""
    state = {}
    views = layer_views(arch, theta[member : member + 1].detach())
    indices = arch.sequential_indices(dropout)
    for index, (w, b) in zip(indices, views, strict=True):
        state[f"{index}.weight"] = w[0].T.contiguous().cpu()
        state[f"{index}.bias"] = b[0, 0].contiguous().cpu()
    for i, (scale, shift) in enumerate(norm_views(arch, theta[member : member + 1].detach())):
        index = indices[i] + 1
        state[f"{index}.weight"] = scale[0, 0].contiguous().cpu()
        state[f"{index}.bias"] = shift[0, 0].contiguous().cpu()
        if arch.norm == "batch":
            width = arch.hidden[i]
            fresh = {
                "running_mean": torch.zeros(width),
                "running_var": torch.ones(width),
                "num_batches_tracked": torch.tensor(0),
            }
            for key, value in (fresh if stats is None else stats[i]).items():
                state[f"{index}.{key}"] = value.contiguous().cpu()
    return state


def theta_from_states(
    arch: Architecture, states: list[dict], dropout: bool = False
) -> torch.Tensor:
    """Inverse of member_state: (M, P) from M Sequential state dicts."""
    theta = torch.empty(len(states), arch.n_params)
    views = layer_views(arch, theta)
    norms = norm_views(arch, theta)
    indices = arch.sequential_indices(dropout)
    for m, state in enumerate(states):
        for index, (w, b) in zip(indices, views, strict=True):
            w[m].copy_(state[f"{index}.weight"].T)
            b[m, 0].copy_(state[f"{index}.bias"])
        for index, (scale, shift) in zip(indices, norms, strict=False):
            scale[m, 0].copy_(state[f"{index + 1}.weight"])
            shift[m, 0].copy_(state[f"{index + 1}.bias"])
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
    """The plain PyTorch model of this architecture (the engine's reference in the tests):
    Linear[, Norm], activation[, Dropout] per hidden layer, then the output Linear. Its forward
    has no skips: `to_module` gives the model that computes a member with skips."""
    modules: list[torch.nn.Module] = []
    shapes = arch.layer_shapes
    for i, (fan_in, fan_out) in enumerate(shapes):
        modules.append(torch.nn.Linear(fan_in, fan_out))
        if i < len(shapes) - 1:
            if arch.norm == "layer":
                modules.append(torch.nn.LayerNorm(fan_out, eps=EPS))
            elif arch.norm == "batch":
                modules.append(torch.nn.BatchNorm1d(fan_out, eps=EPS))
            modules.append(ACTIVATION_MODULES[arch.activation]())
            if dropout > 0:
                modules.append(torch.nn.Dropout(dropout))
    return torch.nn.Sequential(*modules)


class MLP(torch.nn.Module):
    """An MLP with skips or normalization as one torch module: the modules of `to_sequential`
    under the same names ("0", "1", ...: the same state dict keys), and a forward that adds each
    skip, h_l = h_{l-1} + dropout(act(norm(a_l))). Not a `torch.nn.Sequential`, so that code
    walking a Sequential's layers (the web page export) cannot take it for one and drop the
    skips."""

    def __init__(self, arch: Architecture, dropout: float = 0.0) -> None:
        super().__init__()
        self.skips = arch.skips
        self.n_layers = len(arch.layer_shapes)
        blocks: list[list[str]] = [[] for _ in range(self.n_layers)]
        starts = arch.sequential_indices(dropout > 0)
        for index, module in enumerate(to_sequential(arch, dropout)):
            self.add_module(str(index), module)
            blocks[sum(index >= s for s in starts) - 1].append(str(index))
        self.blocks = blocks  # each layer's module names, Linear first

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x  # (N, n_inputs)
        for block, skip in zip(self.blocks, self.skips, strict=True):
            previous = h
            for name in block:
                h = getattr(self, name)(h)
            if skip:
                h = h + previous
        return h  # (N, n_outputs) logits


def to_module(arch: Architecture, dropout: float = 0.0) -> torch.nn.Module:
    """The PyTorch model that computes a member of this architecture: `to_sequential`'s plain
    Sequential when it is plain, else `MLP` (same state dict keys)."""
    return to_sequential(arch, dropout) if arch.plain else MLP(arch, dropout)
