"""Members of different widths in one population: each member's parameters inside a padded layout.

A population's layout is the widest member's, layer by layer (`padded_architecture`): a member of
hidden widths (16, 64) in a population padded to (128, 128) owns, in each layer's weight
(fan_in, fan_out), the top-left block of its own shape, and the first entries of each bias.
Everything else in its row of theta (M, P) is padding, held at exactly zero the way pruned
parameters are (`population.py`: zero at the start, no gradient, re-zeroed after each update).

Why the member still trains exactly as alone: a padded hidden unit has zero incoming weights and
bias, so its pre-activation is 0; its outgoing weights are 0, so whatever act(0) is (0.5 for a
sigmoid) nothing of it reaches the next layer, and no gradient reaches the member's own weights
through it. Each matrix product sums the member's own terms plus exact zeros: only the summation
order inside the product may differ (rounding, ~1e-7). The initial weights are drawn from the
member's own seed in its own layout (`models.init_theta`) and then placed, so a member starts
from the numbers it would start from alone; its minibatches depend on its seed only
(`batches.py`). `tests/test_engine_reference.py` holds padded members to lone torch loops.

Members must share the depth (and activation, normalization, loss, optimizer kind:
`padding_key`): a shallower member cannot be padded into a deeper one exactly for every
activation. Skips (`residual`) may differ: each member's own skips are applied
(`models.skip_coefficients` of the members' own architectures). Normalization pads too: a padded
unit's scale and shift are padding (zero), so its normalized output is 0; layer norm counts only
a member's own units (`norms.py`), batch norm's statistics are per unit anyway.

Not here: which members are worth padding together (a padded member costs what the widest
costs; `pointlab.search.packing` decides), the training step (`population.py`).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from pointlab.config import TrainConfig
from pointlab.engine.models import Architecture, init_theta, layer_views, norm_views


def padding_key(config: TrainConfig) -> tuple:
    """Members with equal keys can share a population: `group_key()` with the depth in place of
    the widths, and the same inputs (`features`, `standardize`: a population has one X)."""
    inputs = (config.features, config.standardize)
    shape = (len(config.hidden), config.activation, config.norm)
    return (*shape, config.loss, config.optimizer, *inputs)


def padded_hidden(hidden: Sequence[tuple[int, ...]]) -> tuple[int, ...]:
    """The widest width of each layer over members of one depth."""
    depths = {len(h) for h in hidden}
    if len(depths) != 1:
        raise ValueError(f"members of one population need one depth, got depths {sorted(depths)}")
    return tuple(max(widths) for widths in zip(*hidden, strict=True))


def padded_architecture(archs: Sequence[Architecture]) -> Architecture:
    """The layout of a population whose members have these architectures."""
    first = archs[0]
    for arch in archs:
        if (arch.activation, arch.n_classes, arch.outputs, arch.norm) != (
            first.activation,
            first.n_classes,
            first.outputs,
            first.norm,
        ):
            raise ValueError(
                "members of one population need one activation, normalization, classes and outputs"
            )
    # Inputs are padded like hidden units: a member with fewer input features (a generative
    # member's smaller embedding) owns the first rows of the first weight, its inputs the first
    # columns, and zeros fill the rest (`generative.py` lays its inputs out so).
    n_inputs = max(arch.n_inputs for arch in archs)
    # No skips of its own: each member's come from its own architecture.
    return Architecture(
        padded_hidden([a.hidden for a in archs]),
        first.activation,
        first.n_classes,
        n_inputs,
        first.outputs,
        norm=first.norm,
    )


def member_index(padded: Architecture, arch: Architecture) -> torch.Tensor:
    """(P_arch,) positions in the padded flat layout of the entries of `arch`'s own flat layout,
    in that layout's order: theta_own = theta_padded[index]."""
    positions = torch.arange(padded.n_params).unsqueeze(0)  # (1, P) the padded layout's numbering
    parts = []
    for (w, b), (fan_in, fan_out) in zip(
        layer_views(padded, positions), arch.layer_shapes, strict=True
    ):
        parts.append(w[0, :fan_in, :fan_out].reshape(-1))  # row-major, as layer_views reads it
        parts.append(b[0, 0, :fan_out])
    for (scale, shift), width in zip(norm_views(padded, positions), arch.hidden, strict=False):
        parts.append(scale[0, 0, :width])
        parts.append(shift[0, 0, :width])
    return torch.cat(parts)


def init_padded(
    padded: Architecture, archs: Sequence[Architecture], seeds: Sequence[int]
) -> torch.Tensor:
    """(M, P) initial parameters in the padded layout: member m's own `init_theta` draws, placed;
    zeros elsewhere."""
    if all(arch.hidden == padded.hidden for arch in archs):
        return init_theta(padded, list(seeds))
    theta = torch.zeros(len(archs), padded.n_params)
    for arch in dict.fromkeys(archs):  # each distinct architecture once, in order
        rows = [m for m, a in enumerate(archs) if a == arch]
        own = init_theta(arch, [seeds[m] for m in rows])  # (rows, P_arch)
        theta[torch.tensor(rows).unsqueeze(1), member_index(padded, arch).unsqueeze(0)] = own
    return theta


def own_mask(padded: Architecture, archs: Sequence[Architecture]) -> torch.Tensor | None:
    """(M, P) bool, True where an entry is a member's own parameter; None when nothing is padded."""
    if all(arch.hidden == padded.hidden for arch in archs):
        return None
    mask = torch.zeros(len(archs), padded.n_params, dtype=torch.bool)
    for m, arch in enumerate(archs):
        mask[m, member_index(padded, arch)] = True
    return mask


def unpad(
    padded: Architecture, arch: Architecture, theta: torch.Tensor, member: int
) -> torch.Tensor:
    """(1, P_arch) member's parameters in its own layout, from theta (M, P) in the padded one."""
    row = theta[member : member + 1]
    if arch.hidden == padded.hidden:
        return row
    return row[:, member_index(padded, arch).to(theta.device)]
