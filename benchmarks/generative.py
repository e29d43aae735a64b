"""Generative populations against lone PyTorch loops, side by side in one run; and a default run.

1. 32 flow-matching models (the default GenConfig: 2 -> sinusoidal embeddings -> 3 x 128 GELU ->
   2, AdamW with clipping, cosine schedule, batches of 128) trained as one population by
   `train_generators`, against 32 lone loops doing the same work one after another: a
   `torch.nn` model behind tiny-diffusion-style embedding modules, `torch.optim.AdamW`,
   `CosineAnnealingLR`, `clip_grad_norm_`, a fresh permutation, noise and times each epoch and
   step (`torch.randperm`, `torch.randn`, `torch.rand`), the same number of steps and points.
   Reported: model-steps per second and the ratio; the population runs before and after the lone
   loops, and the ratio takes the mean of the two.
2. The default GenConfig on `moons` alone, on the 2,000 training points `pointlab generate moons`
   trains on, timed, with the energy distance of 2000 samples to 2000 held-out points beside that
   of a Gaussian fitted to the data and of a second held-out sample (a sanity number; the
   project's quality metric is `pointlab.generative.quality`).

    uv run python benchmarks/generative.py              # torch's threads
    uv run python benchmarks/generative.py --threads 1
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import time

import numpy as np
import torch
import torch.nn.functional as F

from pointlab.cpu import keep_freed_memory
from pointlab.features import fit_scaling
from pointlab.generative import GenConfig, train_generators
from pointlab.generators import make


class Sinusoidal(torch.nn.Module):
    def __init__(self, size: int, scale: float) -> None:
        super().__init__()
        half = size // 2
        self.scale = scale
        self.frequencies = torch.exp(-math.log(10000.0) / (half - 1) * torch.arange(half))

    def forward(self, v: torch.Tensor) -> torch.Tensor:
        angles = (v * self.scale).unsqueeze(-1) * self.frequencies
        return torch.cat((torch.sin(angles), torch.cos(angles)), dim=-1)


class FlowModel(torch.nn.Module):
    """tiny-diffusion's MLP shape without its residual blocks: embeddings, then the MLP."""

    def __init__(self, c: GenConfig) -> None:
        super().__init__()
        size = c.embedding_size
        self.x, self.y = Sinusoidal(size, 25.0), Sinusoidal(size, 25.0)
        self.t = Sinusoidal(size, 100.0)
        widths = [3 * size, *c.hidden]
        layers: list[torch.nn.Module] = []
        for fan_in, fan_out in zip(widths[:-1], widths[1:], strict=True):
            layers += [torch.nn.Linear(fan_in, fan_out), torch.nn.GELU()]
        self.mlp = torch.nn.Sequential(*layers, torch.nn.Linear(widths[-1], 2))

    def forward(self, points: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        inputs = torch.cat((self.x(points[:, 0]), self.y(points[:, 1]), self.t(t)), dim=-1)
        return self.mlp(inputs)


def lone_loop(c: GenConfig, X: torch.Tensor) -> None:
    torch.manual_seed(c.seed)
    model = FlowModel(c)
    optimizer = torch.optim.AdamW(model.parameters(), lr=c.lr, weight_decay=c.weight_decay)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, c.epochs, c.lr / 100)
    n, size = len(X), c.batch_size or len(X)
    for _ in range(c.epochs):
        order = torch.randperm(n)
        for start in range(0, n, size):
            x1 = X[order[start : start + size]]
            x0 = torch.randn_like(x1)
            t = torch.rand(len(x1))
            xt = (1 - t[:, None]) * x0 + t[:, None] * x1
            loss = F.mse_loss(model(xt, t), x1 - x0)
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), c.clip_grad or math.inf)
            optimizer.step()
        scheduler.step()


def energy_distance(a: np.ndarray, b: np.ndarray) -> float:
    a64, b64 = torch.as_tensor(a, dtype=torch.float64), torch.as_tensor(b, dtype=torch.float64)
    cross = torch.cdist(a64, b64).mean()
    return float(2 * cross - torch.cdist(a64, a64).mean() - torch.cdist(b64, b64).mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=12, help="epochs of the 32 vs 32 part")
    parser.add_argument("--points", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument(
        "--part", choices=("all", "population", "default"), default="all", help="what to run"
    )
    args = parser.parse_args()
    keep_freed_memory()
    if args.threads:
        torch.set_num_threads(args.threads)
    data = make("moons", n=args.points, seed=1)
    config = GenConfig(epochs=args.epochs)
    steps = args.epochs * -(-args.points // (config.batch_size or args.points))
    print(
        f"# {platform.processor() or platform.machine()}, torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads; load average {os.getloadavg()[0]:.1f} at start"
    )
    print(
        f"# moons, {args.points} points; {args.members} flow-matching models x {args.epochs} "
        f"epochs of batches of {config.batch_size} = {steps} steps each"
    )
    if args.part != "default":
        population_against_lone_loops(args, data, config, steps)
    if args.part != "population":
        default_run()


def population_against_lone_loops(args, data, config: GenConfig, steps: int) -> None:
    X = torch.as_tensor(fit_scaling(data.X).apply(data.X), dtype=torch.float32)
    configs = [config.replace(seed=m) for m in range(args.members)]
    train_generators(data.X, configs[:2], log_every=args.epochs)  # warm up both paths
    lone_loop(config.replace(epochs=1), X)

    def population_run() -> float:
        start = time.perf_counter()
        train_generators(data.X, configs, log_every=args.epochs)
        return time.perf_counter() - start

    # The population before and after the lone loops, so both see the machine's load over the run
    before = population_run()
    start = time.perf_counter()
    for c in configs:
        lone_loop(c, X)
    lone = time.perf_counter() - start
    after = population_run()
    population = (before + after) / 2
    total = args.members * steps
    print(
        "\n| what | seconds | model-steps/s |\n| --- | ---: | ---: |\n"
        f"| {args.members} lone torch loops, one after another | {lone:.1f} | "
        f"{total / lone:,.0f} |\n"
        f"| one population of {args.members} (`train_generators`), before / after them | "
        f"{before:.1f} / {after:.1f} | {total / population:,.0f} |\n\n"
        f"population / lone: **{lone / population:.1f}x** (the mean of the two population runs); "
        f"load average {os.getloadavg()[0]:.1f} at the end"
    )


def default_run() -> None:
    default = GenConfig()
    moons = make("moons", n=2000, seed=1)
    start = time.perf_counter()
    (result,) = train_generators(moons.X, [default])
    seconds = time.perf_counter() - start
    samples = result.model.sample(2000, seed=0)
    held_out, second = make("moons", n=2000, seed=9).X, make("moons", n=2000, seed=10).X
    rng = np.random.default_rng(0)
    gaussian = rng.multivariate_normal(moons.X.mean(0), np.cov(moons.X.T), 2000)
    print(
        f"\ndefault GenConfig on moons (2000 points, {default.epochs} epochs): {seconds:.1f} s; "
        f"energy distance to 2000 held-out points: model {energy_distance(samples, held_out):.5f}, "
        f"Gaussian fit {energy_distance(gaussian, held_out):.5f}, second data sample "
        f"{energy_distance(second, held_out):.5f}; load average {os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main()
