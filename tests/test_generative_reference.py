"""Generative members against plain PyTorch: every member of a population (other learning rates,
widths, steps, embeddings, batch sizes, conditioning) must train exactly as a lone
`torch.nn.Sequential` behind tiny-diffusion-style embedding modules, trained by `torch.autograd`
and `torch.optim.AdamW` with gradient clipping, fed the same noise and times
(`engine.generative.member_draws`, as the dropout reference is fed `dropout_keep`)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from pointlab.engine.batches import epoch_order
from pointlab.engine.generative import EVALUATION_EPOCH, member_draws
from pointlab.engine.models import Architecture, init_theta, member_state, to_sequential
from pointlab.features import fit_scaling
from pointlab.generative import GenConfig, train_generators
from pointlab.generators import make

pytestmark = pytest.mark.usefixtures("one_thread")

RTOL = 1e-5


class Embedding(torch.nn.Module):
    """tiny-diffusion's positional embeddings, written as that project writes them."""

    def __init__(self, kind: str, size: int, scale: float = 1.0) -> None:
        super().__init__()
        self.kind, self.size, self.scale = kind, size, scale
        half = size // 2
        self.frequencies = torch.exp(-math.log(10000.0) / (half - 1) * torch.arange(half))

    def forward(self, v: torch.Tensor) -> torch.Tensor:
        if self.kind == "sinusoidal":
            angles = (v * self.scale).unsqueeze(-1) * self.frequencies.unsqueeze(0)
            return torch.cat((torch.sin(angles), torch.cos(angles)), dim=-1)
        if self.kind == "linear":
            return (v / self.size * self.scale).unsqueeze(-1)
        if self.kind == "identity":
            return v.unsqueeze(-1)
        return v.unsqueeze(-1) * 0  # zero


class Denoiser(torch.nn.Module):
    """[embed(x), embed(y), embed(time), one-hot(label)] -> the MLP -> 2 outputs."""

    def __init__(self, c: GenConfig, n_labels: int) -> None:
        super().__init__()
        coordinate = 1.0 if c.input_embedding == "identity" else 25.0
        timescale = 100.0 if c.method == "flow" and c.time_embedding == "sinusoidal" else 1.0
        self.x = Embedding(c.input_embedding, c.embedding_size, coordinate)
        self.y = Embedding(c.input_embedding, c.embedding_size, coordinate)
        self.time = Embedding(c.time_embedding, c.embedding_size, timescale)
        self.n_labels = n_labels
        width = c.embedding_size if c.input_embedding == "sinusoidal" else 1
        n_inputs = 2 * width + (c.embedding_size if c.time_embedding == "sinusoidal" else 1)
        self.arch = Architecture(c.hidden, c.activation, 2, n_inputs + n_labels, outputs=2)
        self.mlp = to_sequential(self.arch)
        self.mlp.load_state_dict(member_state(self.arch, init_theta(self.arch, [c.seed]), 0))

    def forward(self, points, time, labels):
        parts = [self.x(points[:, 0]), self.y(points[:, 1]), self.time(time)]
        if self.n_labels:
            parts.append(F.one_hot(labels, self.n_labels).float())
        return self.mlp(torch.cat(parts, dim=-1))


def training_pair(c: GenConfig, x1, noise, u):
    """(noisy points, time values, targets), flow matching's or tiny-diffusion's add_noise."""
    if c.method == "flow":
        t = u.unsqueeze(1)
        return (1 - t) * noise + t * x1, u, x1 - noise
    betas = torch.linspace(1e-4, 0.02, c.steps, dtype=torch.float32)
    alphas_cumprod = torch.cumprod(1.0 - betas, axis=0)
    k = torch.floor(u * c.steps).clamp(max=c.steps - 1).long()
    s1 = (alphas_cumprod**0.5)[k].reshape(-1, 1)
    s2 = ((1 - alphas_cumprod) ** 0.5)[k].reshape(-1, 1)
    return s1 * x1 + s2 * noise, k.float(), noise


def reference_train(c: GenConfig, X, labels, n_labels: int, log_every: int):
    model = Denoiser(c, n_labels if c.conditional else 0)
    optimizer = torch.optim.AdamW(model.parameters(), lr=c.lr, weight_decay=c.weight_decay)
    scheduler = None
    if c.schedule == "cosine":
        scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, c.epochs, c.lr / 100)
    X, labels = torch.as_tensor(X), torch.as_tensor(labels)
    n = len(X)

    def loss_on(rows, seed, epoch):
        noise, u = member_draws(seed, epoch, rows)
        points, time, target = training_pair(c, X[rows], noise, u)
        return F.mse_loss(model(points, time, labels[rows]), target)

    history = []
    for epoch in range(c.epochs + 1):
        if epoch % log_every == 0 or epoch == c.epochs:
            with torch.no_grad():
                history.append(float(loss_on(torch.arange(n), 0, EVALUATION_EPOCH)))
        if epoch == c.epochs:
            break
        order = epoch_order(c.seed, epoch, n)
        size = c.batch_size or n
        for start in range(0, n, size):
            optimizer.zero_grad()
            loss_on(order[start : start + size], c.seed, epoch).backward()
            if c.clip_grad is not None:
                torch.nn.utils.clip_grad_norm_(model.parameters(), c.clip_grad)
            optimizer.step()
        if scheduler is not None:
            scheduler.step()
    return np.array(history), model.mlp.state_dict()


def _assert_matches(result, X, labels, n_labels, log_every):
    config = result.config
    history, state = reference_train(config, X, labels, n_labels, log_every)
    got = np.array(result.history["train_loss"])
    np.testing.assert_allclose(got, history, rtol=RTOL, atol=1e-7, err_msg=str(config))
    for key, value in state.items():
        difference = torch.linalg.norm(result.model.state[key] - value) / torch.linalg.norm(value)
        assert difference < RTOL, f"{key}: relative difference {difference:.2e} ({config})"


@pytest.mark.parametrize("method", ["flow", "ddpm"])
def test_every_member_trains_as_a_lone_torch_loop(method):
    data = make("moons", n=90, seed=2)
    X = fit_scaling(data.X).apply(data.X).astype(np.float32)
    base = GenConfig(method=method, hidden=(16, 12), embedding_size=8, epochs=6, batch_size=32)
    configs = [
        base,
        base.replace(lr=3e-3, seed=1, hidden=(24, 8), steps=20, clip_grad=None),
        base.replace(seed=2, input_embedding="identity", time_embedding="linear", steps=7),
        base.replace(seed=3, input_embedding="linear", time_embedding="zero", batch_size=None),
        base.replace(seed=4, embedding_size=12, weight_decay=0.0, batch_size=20, epochs=4),
        base.replace(seed=7, schedule="constant", lr=2e-3),
        base.replace(seed=5, conditional=True, activation="gelu", time_embedding="identity"),
        base.replace(seed=6, hidden=(8, 8, 8), activation="tanh"),  # a population of its own
    ]
    results = train_generators(data.X, configs, labels=data.y, log_every=2)
    for result in results:
        _assert_matches(result, X, data.y, 2, log_every=2)


def test_flow_and_ddpm_members_share_one_population():
    data = make("moons", n=64, seed=5)
    X = fit_scaling(data.X).apply(data.X).astype(np.float32)
    base = GenConfig(hidden=(16, 16), embedding_size=8, epochs=5, batch_size=16)
    configs = [base, base.replace(method="ddpm", seed=1, steps=12, lr=2e-3)]
    for result in train_generators(data.X, configs, log_every=1):
        _assert_matches(result, X, data.y, 2, log_every=1)


def test_members_of_one_spec_measured_on_one_shared_draw():
    # One spec for all: the logged loss's draw is computed once and broadcast (engine.generative)
    data = make("moons", n=50, seed=6)
    X = fit_scaling(data.X).apply(data.X).astype(np.float32)
    base = GenConfig(method="ddpm", steps=15, hidden=(12, 12), embedding_size=8, epochs=4)
    configs = [
        base.replace(seed=s, lr=1e-3 * (s + 1), batch_size=[16, None, 7][s]) for s in range(3)
    ]
    for result in train_generators(data.X, configs, log_every=1):
        _assert_matches(result, X, data.y, 2, log_every=1)
