"""A trained generative model (`GenModel`), sampled alone or with a whole population in batch.

A GenModel is its GenConfig, the weights of its MLP (a `torch.nn.Sequential` state dict whose
inputs are `engine.generative.member_inputs`), the scaling of the points it learned (samples come
back in data units) and, when conditional, the share of each class label among those points.

Sampling, in the standardized space the model learned, from noise at time 0 to data at time 1:
- flow: Euler steps of the learned velocity, x <- x + v(x, t) / S at t = i / S, i = 0 ... S-1
  (S: `steps`, by default the config's);
- ddpm: tiny-diffusion's ancestral sampling: from step k = T-1 down to 0, the predicted noise
  gives the predicted data point, the posterior mean of the step before, and (k > 0) a draw of
  the posterior noise added. T is the number the model was trained with.
`sample_population` samples many models in one batched program: their weights are padded into
one population layout (`engine.padding`), each step is one forward pass of every member; a member
with fewer steps is done early and waits. Each member's randomness (labels, starting noise, DDPM's
step noise) comes from its own `torch.Generator(seed)`, so a model gives the same samples alone
or among others.

Files: `save(folder)` writes `generator.safetensors` (the weights) and `generator.json` (config,
scaling, labels); `GenModel.load(folder)` reads them back, with one-line errors naming the file.

Not here: training (`training.py`), the embeddings and schedule (`pointlab.engine.generative`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save

from pointlab.engine.generative import GenerativeTask, ddpm_schedule
from pointlab.engine.models import Architecture, forward, layer_views, theta_from_states
from pointlab.engine.padding import member_index, padded_architecture
from pointlab.errors import UserError
from pointlab.features import Scaling
from pointlab.generative.config import GenConfig
from pointlab.io import write_atomic

WEIGHTS, RECORD = "generator.safetensors", "generator.json"
FORMAT = "pointlab-generator"
FORMAT_VERSION = 1


class GenModel:
    """One trained generative model (see the module docstring)."""

    def __init__(
        self,
        config: GenConfig,
        state: dict[str, torch.Tensor],
        scaling: Scaling,
        label_weights: Sequence[float] | None = None,
    ) -> None:
        self.config, self.state, self.scaling = config, state, scaling
        # The share of each label among the training points (conditional models only).
        self.label_weights = None if label_weights is None else [float(w) for w in label_weights]
        n_labels = 0 if label_weights is None else len(label_weights)
        self.spec = config.engine_spec(n_labels)
        self.arch = Architecture(config.hidden, config.activation, 2, self.spec.n_inputs, outputs=2)

    def sample(
        self,
        n: int,
        *,
        seed: int = 0,
        steps: int | None = None,
        label: int | None = None,
        path: bool = False,
    ) -> np.ndarray:
        """(n, 2) samples in data units; path: (steps + 1, n, 2), from the noise at index 0 to
        the samples at the end. steps: flow's Euler steps (None: the config's); a ddpm model
        samples with the T it was trained with (another number is a ValueError). label: the
        class to draw (conditional models; None: labels drawn in the training points'
        proportions)."""
        return sample_population([self], n, seed=seed, steps=steps, label=label, path=path)[0]

    def velocity(self, points: np.ndarray, t: float, label: int | None = None) -> np.ndarray:
        """(n, 2) in data units per unit time at points (n, 2) and time t in [0, 1] (0 noise,
        1 data): flow, the learned velocity; ddpm, the mean of one reverse step (from step
        k = T - 1 - floor(t T)) minus the point, times T (one step takes 1/T of the time).
        A conditional model without a label: the mean of its fields over the labels, weighted
        by their share of the training points (a picture's summary, not a sampler's field)."""
        if self.label_weights is not None and label is None:
            fields = [self.velocity(points, t, k) for k in range(len(self.label_weights))]
            return sum(
                (w * f for w, f in zip(self.label_weights, fields, strict=True)), 0 * fields[0]
            )
        z = torch.as_tensor(self.scaling.apply(points), dtype=torch.float32)  # (n, 2)
        n = len(z)
        labels = self._labels(n, label, None)
        net = _Networks([self])
        T = self.config.steps
        if self.config.method == "flow":
            v = net(z.unsqueeze(0), torch.full((1, n), float(t)), labels)[0]
        else:
            k = T - 1 - min(int(np.floor(t * T)), T - 1)
            tables = ddpm_schedule(T)
            step = torch.full((1, n), float(k))
            eps = net(z.unsqueeze(0), step, labels)[0]
            v = (_posterior_mean(tables, k, z, eps) - z) * T
        return v.numpy().astype(np.float64) * np.asarray(self.scaling.std)

    def _labels(
        self, n: int, label: int | None, generator: torch.Generator | None
    ) -> torch.Tensor | None:
        """(1, n) labels to condition on, or None for an unconditional model."""
        if self.label_weights is None:
            return None
        K = len(self.label_weights)
        if label is not None:
            if not 0 <= int(label) < K:
                raise ValueError(f"label {label} is not one of this model's 0 ... {K - 1}")
            return torch.full((1, n), int(label), dtype=torch.int64)
        weights = torch.tensor(self.label_weights, dtype=torch.float64)
        return torch.multinomial(weights, n, replacement=True, generator=generator).unsqueeze(0)

    # --- files ---------------------------------------------------------------------------------
    def save(self, folder: str | Path) -> None:
        """generator.safetensors and generator.json into `folder` (made if missing)."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        blob = save({k: v.contiguous() for k, v in self.state.items()})
        write_atomic(folder / WEIGHTS, lambda file: file.write(blob))
        record = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "config": self.config.to_dict(),
            "scaling": self.scaling.to_dict(),
            "label_weights": self.label_weights,
        }
        text = json.dumps(record, indent=2, sort_keys=True) + "\n"
        write_atomic(folder / RECORD, lambda file: file.write(text.encode()))

    @classmethod
    def load(cls, folder: str | Path) -> GenModel:
        """Read what `save` wrote; a one-line UserError naming the file for anything else."""
        folder = Path(folder)
        record_path, weights_path = folder / RECORD, folder / WEIGHTS
        for path in (record_path, weights_path):
            if not path.is_file():
                raise UserError(f"{path}: no such file (a generative model folder holds both)")
        try:
            record = json.loads(record_path.read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            raise UserError(f"{record_path}: not readable JSON ({error})") from None
        if not isinstance(record, dict) or record.get("format") != FORMAT:
            raise UserError(f"{record_path}: not a pointlab generative model record")
        if record.get("format_version") != FORMAT_VERSION:
            raise UserError(
                f"{record_path}: format version {record.get('format_version')}, this pointlab "
                f"reads {FORMAT_VERSION}"
            )
        try:
            config = GenConfig.from_dict(record["config"])
            scaling = Scaling.from_dict(record["scaling"])
            label_weights = record.get("label_weights")
            if label_weights is not None and (
                not isinstance(label_weights, list) or not label_weights
            ):
                raise ValueError("label_weights must be a list of each label's share")
            probe = cls(config, {}, scaling, label_weights)  # reads the weights as numbers
        except (KeyError, ValueError, TypeError, UserError) as error:
            raise UserError(f"{record_path}: damaged record ({error})") from None
        try:
            state = load_file(str(weights_path))
        except (SafetensorError, OSError, ValueError) as error:
            raise UserError(f"{weights_path}: not readable safetensors ({error})") from None
        model = cls(config, state, scaling, probe.label_weights)
        try:
            theta_from_states(model.arch, [state])
        except (KeyError, RuntimeError) as error:
            raise UserError(f"{weights_path}: weights do not fit the config ({error})") from None
        return model


class _Networks:
    """The MLPs of some models (one depth and activation) as one padded population, evaluated
    in one batched forward pass: outputs (M, n, 2) from noisy points (M, n, 2), time values
    (M, n) and labels (M, n) or None."""

    def __init__(self, models: Sequence[GenModel]) -> None:
        archs = [model.arch for model in models]
        self.arch = padded_architecture(archs)
        theta = torch.zeros(len(models), self.arch.n_params)
        for m, (model, arch) in enumerate(zip(models, archs, strict=True)):
            theta[m, member_index(self.arch, arch)] = theta_from_states(arch, [model.state])[0]
        self.layers = layer_views(self.arch, theta)
        specs = [model.spec for model in models]
        self.task = GenerativeTask(specs, torch.zeros(len(models)), torch.device("cpu"))

    @torch.no_grad()
    def __call__(
        self, points: torch.Tensor, time: torch.Tensor, labels: torch.Tensor | None
    ) -> torch.Tensor:
        if labels is None:
            labels = torch.zeros(time.shape, dtype=torch.int64)
        return forward(self.arch, self.layers, self.task.inputs(points, time, labels))


def _posterior_mean(tables, k, x: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
    """tiny-diffusion's reverse step without its noise: the data point the predicted noise eps
    implies, then the mean of the step before k. k indexes the tables: a step number into one
    model's (T,) tables, or (members (M, 1, 1), steps (M, 1, 1)) into (M, S) ones."""

    def at(name):
        return tables[name][k]

    x0 = at("sqrt_inverse") * x - at("sqrt_inverse_minus_one") * eps
    return at("posterior_x0") * x0 + at("posterior_xt") * x


def sample_population(
    models: Sequence[GenModel | object],
    n: int,
    seed: int = 0,
    *,
    steps: int | None = None,
    label: int | None = None,
    path: bool = False,
) -> list[np.ndarray]:
    """Samples of every model (GenModels, or results with a `.model`), batched: one array per
    model, as `GenModel.sample` gives it (models of one depth and activation are sampled as one
    population, see the module docstring)."""
    gens = [m if isinstance(m, GenModel) else m.model for m in models]  # type: ignore[attr-defined]
    out: list[np.ndarray | None] = [None] * len(gens)
    groups: dict[tuple, list[int]] = {}
    for i, model in enumerate(gens):
        groups.setdefault((len(model.config.hidden), model.config.activation), []).append(i)
    for indices in groups.values():
        group = [gens[i] for i in indices]
        for i, result in zip(
            indices, _sample_group(group, n, seed, steps, label, path), strict=True
        ):
            out[i] = result
    return out  # type: ignore[return-value]


def _sample_group(
    models: list[GenModel], n: int, seed: int, steps: int | None, label: int | None, path: bool
) -> list[np.ndarray]:
    M = len(models)
    counts = []
    for model in models:
        trained = model.config.steps
        if steps is not None and model.config.method == "ddpm" and steps != trained:
            raise ValueError(f"a ddpm model samples with the {trained} steps it was trained with")
        counts.append(trained if steps is None else int(steps))
    if min(counts) < 1:
        raise ValueError("sampling needs at least 1 step")
    S = max(counts)
    # Each member's own randomness, from its own generator: labels, starting noise, step noise.
    labels, x, noise = [], torch.empty(M, n, 2), torch.zeros(M, S, n, 2)
    for m, model in enumerate(models):
        generator = torch.Generator().manual_seed(int(seed))
        drawn = model._labels(n, label, generator)
        labels.append(torch.zeros(1, n, dtype=torch.int64) if drawn is None else drawn)
        x[m] = torch.randn(n, 2, generator=generator)
        if model.config.method == "ddpm":
            noise[m, : counts[m]] = torch.randn(counts[m], n, 2, generator=generator)
    label_rows = torch.cat(labels)  # (M, n)
    net = _Networks(models)
    is_flow = torch.tensor([model.config.method == "flow" for model in models]).view(M, 1, 1)
    count = torch.tensor(counts, dtype=torch.float32)  # (M,)
    tables = _ddpm_tables(models, S)
    trajectory = [x.clone()] if path else []
    for i in range(S):
        active = (i < count).view(M, 1, 1)
        # flow: t = i / S_m; ddpm: step k = T_m - 1 - i (clamped for members already done)
        k = (count - 1 - i).clamp(min=0).long()  # (M,)
        time = torch.where(is_flow.view(M), i / count, k.float())
        out = net(x, time.unsqueeze(1).expand(M, n), label_rows)
        flowed = x + out / count.view(M, 1, 1)
        step = k.view(M, 1, 1)
        mean = _posterior_mean(tables, (torch.arange(M).view(M, 1, 1), step), x, out)
        spread = tables["posterior_variance"][torch.arange(M).view(M, 1, 1), step].sqrt()
        denoised = mean + torch.where(step > 0, spread * noise[:, i], torch.zeros(()))
        x = torch.where(active, torch.where(is_flow, flowed, denoised), x)
        if path:
            trajectory.append(x.clone())
    results = []
    for m, model in enumerate(models):
        mean_, std_ = np.asarray(model.scaling.mean), np.asarray(model.scaling.std)
        if path:
            mine = torch.stack(trajectory[: counts[m] + 1])[:, m]  # (S_m + 1, n, 2)
        else:
            mine = x[m]
        results.append(mine.numpy().astype(np.float64) * std_ + mean_)
    return results


def _ddpm_tables(models: list[GenModel], S: int) -> dict[str, torch.Tensor]:
    """Each member's DDPM tables, (M, S) (ones for flow members and past a member's T)."""
    names = ddpm_schedule(1).keys()
    tables = {name: torch.ones(len(models), S) for name in names}
    for m, model in enumerate(models):
        if model.config.method == "ddpm":
            own = ddpm_schedule(model.config.steps)
            for name in names:
                tables[name][m, : model.config.steps] = own[name]
    return tables
