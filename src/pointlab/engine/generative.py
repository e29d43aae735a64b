"""Generative members: what a flow-matching or DDPM member trains on at each step, and its inputs.

A generative member is an MLP whose inputs are fixed embeddings of a noisy point and of time,
[embed(x), embed(y), embed(time), one-hot(label)], and whose 2 outputs are a regression target
(`models.Architecture.outputs`), trained with the squared error (`losses.member_squared_error`).
At every step, for each of the member's data points x1 (standardized, (M, B, 2)):

- flow matching (conditional flow matching on the straight path): noise x0 ~ N(0, I), time
  t ~ U[0, 1); input point x_t = (1 - t) x0 + t x1, target the velocity x1 - x0, time value t;
- DDPM (as tanelp/tiny-diffusion trains it): a linear beta schedule from 1e-4 to 0.02 over T
  steps, noise eps ~ N(0, I), step k uniform in {0, ..., T-1}; input point
  sqrt(abar_k) x1 + sqrt(1 - abar_k) eps, target eps (the network predicts the noise), time value k.

The noise and the time of each point are a pure function of (member seed, epoch, the point's
position in the member's own training set), hashed as the dropout masks are
(`batches.dropout_uniform`, on streams of their own; normals by Box-Muller): a member draws the
same numbers alone or among neighbours, in any batch order, and a reference loop can be fed them
(`member_draws`). The loss the bookkeeping logs is measured on one fixed draw
(`EVALUATION_EPOCH`, seed 0), the same for every member, so history rows compare.

Embeddings (tiny-diffusion's, all fixed functions of their input, no parameters, so the network
after them is the engine's plain MLP with its hand-written backward):
- sinusoidal (size S): [sin(v f_0), ..., sin(v f_{S/2-1}), cos(v f_0), ...], f_i =
  10000^(-i / (S/2 - 1)); coordinates are multiplied by 25 first; flow's time by 100 (so its
  frequencies see what a 100-step DDPM's see over its step numbers);
- linear: v / S (coordinates v * 25 / S); identity: v; zero: 0 (each one column).
tiny-diffusion's `learnable` embedding (a Linear(1, S) per coordinate) is not offered: a linear
map in front of the first layer adds no function the first layer cannot already compute.

Members may differ in method parameters (T, embeddings, their size, conditioning): their inputs
are padded to the widest member's (`padding.padded_architecture`), a member's own inputs in the
first columns and zeros after, so its first layer owns the first rows of the padded weight.

Not here: the loss (`losses.py`), the step (`population.py`), sampling and the user-facing config
(`pointlab.generative`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from pointlab.engine.batches import dropout_uniform
from pointlab.generative.config import EMBEDDINGS, METHODS

INPUT_SCALE = 25.0  # tiny-diffusion's scale of the coordinates in their embeddings
FLOW_TIME_SCALE = 100.0  # flow's t in [0, 1) times this in its sinusoidal embedding
BETA_START, BETA_END = 1e-4, 0.02  # tiny-diffusion's linear beta schedule
# The draws' streams: hashed as dropout masks of hidden layers no MLP has.
_NOISE_STREAM = 1 << 20
EVALUATION_EPOCH = -1  # the fixed draw of the logged losses (with seed 0)


@dataclass(frozen=True)
class GenerativeSpec:
    """One member's generative setup (the engine's part of `pointlab.generative.GenConfig`)."""

    method: str = "flow"
    steps: int = 50  # ddpm: T, the diffusion steps (training and sampling); flow: unused here
    time_embedding: str = "sinusoidal"
    input_embedding: str = "sinusoidal"
    embedding_size: int = 32
    n_labels: int = 0  # 0: unconditional; K: conditioned on one of K class labels (one-hot)

    def width(self, kind: str) -> int:
        return self.embedding_size if kind == "sinusoidal" else 1

    @property
    def n_inputs(self) -> int:
        """Input features: two embedded coordinates, the embedded time, the label's one-hot."""
        return (
            2 * self.width(self.input_embedding) + self.width(self.time_embedding) + self.n_labels
        )


def embed(values: torch.Tensor, kind: str, size: int, scale: float) -> torch.Tensor:
    """(..., width) embedding of values (...,) (see the module docstring); scale multiplies the
    values first (the coordinates' 25, flow time's 100 for sinusoidal)."""
    if kind == "sinusoidal":
        half = size // 2
        exponent = torch.arange(half, device=values.device, dtype=torch.float32)
        frequencies = torch.exp(exponent * (-math.log(10000.0) / (half - 1)))  # (half,)
        angles = (values * scale).unsqueeze(-1) * frequencies
        return torch.cat((torch.sin(angles), torch.cos(angles)), dim=-1)
    if kind == "linear":
        return (values / size * scale).unsqueeze(-1)
    if kind == "identity":
        return values.unsqueeze(-1)
    if kind == "zero":
        return torch.zeros_like(values).unsqueeze(-1)
    raise ValueError(f"unknown embedding {kind!r}: one of {', '.join(EMBEDDINGS)}")


def member_inputs(
    spec: GenerativeSpec, points: torch.Tensor, time: torch.Tensor, labels: torch.Tensor | None
) -> torch.Tensor:
    """(..., spec.n_inputs) inputs of one member for points (..., 2) at time values (...,) (flow:
    t; ddpm: the step number k, as a float) and labels (...,) int64 (ignored if unconditional)."""
    coordinate_scale = 1.0 if spec.input_embedding == "identity" else INPUT_SCALE
    time_scale = 1.0
    if spec.method == "flow" and spec.time_embedding == "sinusoidal":
        time_scale = FLOW_TIME_SCALE
    parts = [
        embed(points[..., 0], spec.input_embedding, spec.embedding_size, coordinate_scale),
        embed(points[..., 1], spec.input_embedding, spec.embedding_size, coordinate_scale),
        embed(time, spec.time_embedding, spec.embedding_size, time_scale),
    ]
    if spec.n_labels:
        assert labels is not None, "a conditional member needs labels"
        parts.append(torch.nn.functional.one_hot(labels, spec.n_labels).to(points.dtype))
    return torch.cat(parts, dim=-1)


def ddpm_schedule(steps: int) -> dict[str, torch.Tensor]:
    """tiny-diffusion's NoiseScheduler tables (float32, (steps,) each) for a linear schedule."""
    betas = torch.linspace(BETA_START, BETA_END, steps, dtype=torch.float32)
    alphas = 1.0 - betas
    cumulative = torch.cumprod(alphas, dim=0)
    previous = torch.cat((torch.ones(1), cumulative[:-1]))
    return {
        "betas": betas,
        "sqrt_cumulative": cumulative**0.5,
        "sqrt_one_minus_cumulative": (1 - cumulative) ** 0.5,
        "sqrt_inverse": torch.sqrt(1 / cumulative),
        "sqrt_inverse_minus_one": torch.sqrt(1 / cumulative - 1),
        "posterior_x0": betas * torch.sqrt(previous) / (1.0 - cumulative),
        "posterior_xt": (1.0 - previous) * torch.sqrt(alphas) / (1.0 - cumulative),
        "posterior_variance": (betas * (1.0 - previous) / (1.0 - cumulative)).clip(1e-20),
    }


def draws(seeds: torch.Tensor, epoch: int, rows: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(noise (M, B, 2) standard normal, u (M, B) uniform in [0, 1)) of members with these seeds
    (M,) at their training points rows (M, B) (positions in each member's own set) in `epoch`."""
    uniform = dropout_uniform(seeds, epoch, _NOISE_STREAM, rows, 3)  # (M, B, 3) in [0, 1)
    radius = torch.sqrt(-2.0 * torch.log1p(-uniform[..., 0]))  # 1 - u in (0, 1]: finite
    angle = (2 * math.pi) * uniform[..., 1]
    noise = torch.stack((radius * torch.cos(angle), radius * torch.sin(angle)), dim=-1)
    return noise, uniform[..., 2]


def member_draws(seed: int, epoch: int, rows: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(noise (B, 2), u (B,)) a lone member with this seed draws at its points rows (B,) in
    `epoch` (what the engine draws; for reference loops)."""
    noise, u = draws(torch.tensor([seed]), epoch, rows.unsqueeze(0))
    return noise[0], u[0]


def training_pair(
    spec: GenerativeSpec,
    x1: torch.Tensor,
    noise: torch.Tensor,
    u: torch.Tensor,
    schedule: dict[str, torch.Tensor] | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(noisy points (..., 2), time values (...,), targets (..., 2)) of one member from data x1
    (..., 2) and its draws: the definitions of the module docstring. schedule: ddpm's tables
    (`ddpm_schedule(spec.steps)`) on x1's device, when the caller keeps them."""
    if spec.method == "flow":
        t = u.unsqueeze(-1)
        return (1 - t) * noise + t * x1, u, x1 - noise
    if schedule is None:
        schedule = {k: v.to(x1.device) for k, v in ddpm_schedule(spec.steps).items()}
    k = torch.floor(u * spec.steps).clamp(max=spec.steps - 1).long()
    a = schedule["sqrt_cumulative"][k].unsqueeze(-1)
    b = schedule["sqrt_one_minus_cumulative"][k].unsqueeze(-1)
    return a * x1 + b * noise, k.to(x1.dtype), noise


class GenerativeTask:
    """The generative members of one population: their per-step inputs and targets, batched."""

    def __init__(
        self, specs: Sequence[GenerativeSpec], seeds: torch.Tensor, device: torch.device
    ) -> None:
        for spec in specs:
            if spec.method not in METHODS:
                raise ValueError(f"unknown method {spec.method!r}: one of {', '.join(METHODS)}")
        self.specs, self.seeds, self.device = list(specs), seeds, device
        self.n_inputs = max(spec.n_inputs for spec in specs)  # the padded input width
        self.n_outputs = 2
        # Members of one spec are computed together: the usual population has one or a few.
        groups: dict[GenerativeSpec, list[int]] = {}
        for m, spec in enumerate(specs):
            groups.setdefault(spec, []).append(m)
        self.groups = [
            (spec, None if len(rows) == len(specs) else torch.tensor(rows, device=device))
            for spec, rows in groups.items()
        ]
        # DDPM's tables on the device, once per number of steps (not once per step)
        self.schedules = {
            spec.steps: {k: v.to(device) for k, v in ddpm_schedule(spec.steps).items()}
            for spec in specs
            if spec.method == "ddpm"
        }

    def inputs(
        self, points: torch.Tensor, time: torch.Tensor, labels: torch.Tensor | None
    ) -> torch.Tensor:
        """(M, B, n_inputs) padded inputs from noisy points (M, B, 2), time values (M, B) and
        labels (M, B) or None."""
        M, B = points.shape[:2]
        if len(self.groups) == 1 and self.groups[0][0].n_inputs == self.n_inputs:
            return member_inputs(self.groups[0][0], points, time, labels)
        out = torch.zeros(M, B, self.n_inputs, device=points.device)
        for spec, rows in self.groups:
            if rows is None:
                out[..., : spec.n_inputs] = member_inputs(spec, points, time, labels)
                continue
            own = None if labels is None else labels[rows]
            out[rows, :, : spec.n_inputs] = member_inputs(spec, points[rows], time[rows], own)
        return out

    def batch(
        self, epoch: int, x1: torch.Tensor, labels: torch.Tensor, rows: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(inputs (M, B, n_inputs), targets (M, B, 2)) of a training step on data points x1
        (M, B, 2) or shared (B, 2) with labels (M, B) or (B,), at each member's training points
        rows (M, B) (or (1, B) for all members alike), in `epoch`; epoch EVALUATION_EPOCH: the
        fixed draw every member is measured on (seed 0). When that draw is the same for every
        member (one spec, shared points), it is computed once and returned shared: inputs
        (B, n_inputs), targets (B, 2), which the forward pass and the loss broadcast (it is kept
        for every logged epoch, and M copies of it could outweigh the population)."""
        M = len(self.specs)
        evaluation = epoch == EVALUATION_EPOCH
        seeds = self.seeds if not evaluation else torch.zeros_like(self.seeds[:1])
        noise, u = draws(seeds, epoch, rows)
        B = rows.shape[1]
        if len(self.groups) == 1:
            spec = self.groups[0][0]
            schedule = self.schedules.get(spec.steps)
            if evaluation and x1.shape[0] == 1 and rows.shape[0] == 1:  # one draw for all
                noisy, time, targets = training_pair(spec, x1, noise, u, schedule)
                return self.inputs(noisy, time, labels.expand(1, B))[0], targets[0]
            x1 = x1.expand(M, B, 2)
            noisy, time, targets = training_pair(spec, x1, noise, u, schedule)
            return self.inputs(noisy, time, labels.expand(M, B)), targets
        x1 = x1.expand(M, B, 2)
        noise, u, labels = noise.expand(M, B, 2), u.expand(M, B), labels.expand(M, B)
        noisy = torch.empty_like(x1)
        time = torch.empty_like(u)
        targets = torch.empty_like(x1)
        for spec, index in self.groups:
            assert index is not None
            schedule = self.schedules.get(spec.steps)
            pair = training_pair(spec, x1[index], noise[index], u[index], schedule)
            noisy[index], time[index], targets[index] = pair
        return self.inputs(noisy, time, labels), targets
