"""Experiment `generative-ablations`: tiny-diffusion's ablation gallery, measured.

tanelp/tiny-diffusion trains a DDPM (an MLP with sinusoidal embeddings of the time and of each
coordinate) on 2-D point sets and shows, one model at a time, what changes when the learning
rate, the number of diffusion steps, the width or the input embedding changes. Here every
setting of that gallery, over several seeds, trains as ONE engine population per point set (the
engine groups generative members by depth and activation only; widths, learning rates, steps and
embeddings differ per member), on a high-frequency set (`checkerboard`) and a low-frequency one
(`moons`). A flow-matching setting joins the population, and its models are also sampled with
fewer Euler steps, so the sampling steps are judged apart from training (a DDPM's T changes
both). Each model's samples are then measured against held-out points, beside a Gaussian fitted
to the training points (what a model must beat) and a second held-out sample (the floor).

The number: the squared MMD with a narrow Gaussian kernel (bandwidth a tenth of the held-out
points' median distance, fixed per set, so every model is measured with the same ruler;
`generative.quality`), which tells fine structure such as the checkerboard's squares apart far
better than the energy distance at these sample sizes; the energy distance is reported beside it.
Verdicts compare settings seed by seed (the same seed draws the same training batches, noise
and times) with Student's t over the seeds' differences (`base.mean_at_least`).

Not here: training and sampling (`pointlab.generative`), the metric (`generative.quality`), the
figure and method text (`experiments/generative_ablations_figures.py`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from pointlab.experiments.base import (
    Claim,
    Context,
    Report,
    all_of,
    follow,
    mean_at_least,
    mean_text,
)
from pointlab.generative.config import GenConfig

NAME = "generative-ablations"
SETS = ("checkerboard", "moons")  # high-frequency first: the input-embedding claim is about it
BASE = GenConfig(method="ddpm", hidden=(64, 64, 64), steps=50)
# (label, changes to BASE): tiny-diffusion's gallery, each knob moved one way or two
SETTINGS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("base", {}),
    ("lr 1e-4", {"lr": 1e-4}),
    ("lr 0.1", {"lr": 0.1}),
    ("T = 10", {"steps": 10}),
    ("T = 200", {"steps": 200}),
    ("width 16", {"hidden": (16, 16, 16)}),
    ("identity input", {"input_embedding": "identity"}),
    ("flow", {"method": "flow"}),  # flow matching, 50 Euler steps
)
# (label, trained setting, sampling steps): the same trained models sampled with fewer steps
RESAMPLED: tuple[tuple[str, str, int], ...] = (("flow, 5 steps", "flow", 5),)
LABELS = tuple(label for label, _ in SETTINGS) + tuple(label for label, _, _ in RESAMPLED)
HELD_OUT = 2 / 3  # of the points: a third to measure against, a third the floor's sample
BANDWIDTH_SHARE = 0.1  # the kernel's bandwidth: this share of the median held-out distance


@dataclass(frozen=True)
class Budget:
    points: int  # per set, before the three-way split
    epochs: int
    seeds: int


QUICK = Budget(points=1200, epochs=60, seeds=3)
FULL = Budget(points=3000, epochs=300, seeds=4)


def configs(b: Budget) -> list[GenConfig]:
    """Setting-major: member i * seeds + s is setting i, seed s."""
    base = BASE.replace(epochs=b.epochs)
    return [base.replace(seed=s, **changes) for _, changes in SETTINGS for s in range(b.seeds)]


def measure_set(kind: str, b: Budget, device: str) -> dict[str, Any]:
    """Train every setting on one set as one population, sample each model as many points as
    the held-out third holds, and measure them and the two references."""
    from pointlab.generative import sample_population, train_generators
    from pointlab.generative.quality import distance, gaussian_sample, median_distance
    from pointlab.generative.run import make_points, split_points

    dataset, record = make_points(kind, n=b.points, seed=0)
    data = split_points(dataset, HELD_OUT, 0, record)
    held, n = data.held_out.X, len(data.held_out)
    width = BANDWIDTH_SHARE * median_distance(held)
    members = configs(b)
    results = train_generators(data.train.X, members, device=device)
    samples = sample_population(results, n, seed=0)  # one array (n, 2) per member
    for _, trained, steps in RESAMPLED:  # its members' models again, with fewer steps
        i = [label for label, _ in SETTINGS].index(trained)
        group = results[i * b.seeds : (i + 1) * b.seeds]
        samples += sample_population(group, n, seed=0, steps=steps)

    def both(points: np.ndarray) -> tuple[float, float, float, float]:
        if not np.isfinite(points).all():  # a diverged model: as far as a distance gets
            return math.inf, 0.0, math.inf, 0.0
        mmd = distance(points, held, bandwidth=width)
        energy = distance(points, held)
        return mmd.value, mmd.se, energy.value, energy.se

    shape = (len(LABELS), b.seeds)
    table = np.array([both(s) for s in samples]).reshape(*shape, 4)
    refs = {
        "gaussian": both(gaussian_sample(data.train.X, n, seed=0)),
        "floor": both(data.floor.X[:n]),
    }
    return dict(
        held_out=held,
        samples=samples,
        bandwidth=width,
        mmd=table[..., 0],
        mmd_se=table[..., 1],
        energy=table[..., 2],
        energy_se=table[..., 3],
        references=refs,
        n=n,
        train=len(data.train),
    )


def index(label: str) -> int:
    return LABELS.index(label)


def gap(got: dict, kind: str, worse: str, better: str) -> np.ndarray:
    """Per-seed log ratio of the distances, log(worse / better): > 0 where `worse` is farther.
    Log ratios, because a diverged or untrained model can sit orders of magnitude away and
    the seeds' spread of a plain difference would then swamp the gap."""
    mmd = got[kind]["mmd"]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.log(np.maximum(mmd[index(worse)], 1e-12) / np.maximum(mmd[index(better)], 1e-12))
    return np.nan_to_num(ratio, posinf=50.0)  # a diverged model (inf) is simply far worse


def judge(got: dict) -> list[Claim]:
    def raises(name: str, worse: str, better: str, kinds=SETS) -> Claim:
        gaps = {k: gap(got, k, worse, better) for k in kinds}
        return Claim(
            name,
            f"on {' and '.join(kinds)}: mean over seeds of log(MMD {worse} / MMD {better}) > 0, "
            "whole 95% t interval",
            "; ".join(f"{k} {mean_text(v, 2)}" for k, v in gaps.items()),
            all_of(mean_at_least(v, 1e-9) for v in gaps.values()),
        )

    beats = {}
    for k in SETS:
        gaussian = got[k]["references"]["gaussian"][0]
        beats[k] = np.log(gaussian / np.maximum(got[k]["mmd"][index("base")], 1e-12))
    return [
        Claim(
            "the base setting beats the fitted Gaussian on both sets",
            "mean over seeds of log(MMD Gaussian / MMD base) > 0, whole 95% t interval",
            "; ".join(f"{k} {mean_text(v, 2)}" for k, v in beats.items()),
            all_of(mean_at_least(v, 1e-9) for v in beats.values()),
        ),
        raises(
            "sinusoidal input embeddings lower the distance on checkerboard",
            "identity input",
            "base",
            kinds=("checkerboard",),
        ),
        raises("fewer diffusion steps raise the distance (T = 10 against 50)", "T = 10", "base"),
        raises("too low a learning rate raises it (1e-4 against 3e-3)", "lr 1e-4", "base"),
        raises("too high a learning rate raises it (0.1 against 3e-3)", "lr 0.1", "base"),
        raises("wider nets lower it (width 64 against 16)", "width 16", "base"),
        raises(
            "fewer sampling steps raise it (flow matching: 5 Euler steps against 50, same models)",
            "flow, 5 steps",
            "flow",
        ),
    ]


def findings(got: dict, claims: list[Claim]) -> str:
    lines = []
    for k in SETS:
        g = got[k]
        ref = g["references"]
        row = ", ".join(f"{label} {np.mean(g['mmd'][i]):.3g}" for i, label in enumerate(LABELS))
        lines.append(
            f"- **{k}** (narrow-kernel MMD², mean over seeds; Gaussian {ref['gaussian'][0]:.3g} "
            f"± {ref['gaussian'][1]:.2g}, floor {ref['floor'][0]:.3g} ± {ref['floor'][1]:.2g}): "
            f"{row}."
        )
    embedding, steps, euler = claims[1], claims[2], claims[-1]
    lines += [
        "",
        follow(
            embedding,
            "On checkerboard the identity input embedding leaves the squares blurred: the "
            "network sees x and y as two plain numbers and its smooth functions of them cannot "
            "switch sharply at the squares' edges, where the sinusoidal features (frequencies "
            "up to 25 per unit) can.",
            "On checkerboard the identity input embedding was not measurably worse here.",
        ),
        follow(
            steps,
            "With T = 10 the linear schedule (betas 1e-4 to 0.02, as tiny-diffusion's) never "
            "brings the data near noise, yet sampling starts from pure noise: the samples keep "
            "much of that noise. T = 200 reaches nearer pure noise and is compared in the table.",
            "Ten diffusion steps did not measurably raise the distance here.",
        ),
        follow(
            euler,
            "The same flow-matching models sampled with 5 Euler steps instead of 50 land farther "
            "from the data: large steps along curved paths overshoot and blur the samples.",
            "5 Euler steps were not measurably worse than 50 for these flow-matching models.",
        ),
    ]
    return "\n".join(lines)


def run(ctx: Context) -> Report:
    from pointlab.experiments.generative_ablations_figures import figure, method

    b = QUICK if ctx.quick else FULL
    b = replace(b, seeds=ctx.seed_count(b.seeds))
    got: dict[str, Any] = {}
    for kind in SETS:
        ctx.say(f"{NAME}: {kind}, {len(SETTINGS)} settings x {b.seeds} seeds, one population")
        got[kind] = measure_set(kind, b, ctx.device)
    claims = judge(got)
    numbers = {
        "budget": b.__dict__,
        "settings": list(LABELS),
        "base": BASE.replace(epochs=b.epochs).to_dict(),
        "reference_columns": ["mmd", "mmd_se", "energy", "energy_se"],
        "mmd": "squared MMD, Gaussian kernel of each set's bandwidth; arrays (settings, seeds)",
    }
    for kind in SETS:
        g = got[kind]
        numbers[kind] = {
            key: g[key]
            for key in ("mmd", "mmd_se", "energy", "energy_se", "bandwidth", "n", "train")
        } | {"references": g["references"]}
    return Report(
        title="tiny-diffusion's ablation gallery, measured: learning rate, steps, width, "
        "input embeddings",
        claim=(
            "tanelp/tiny-diffusion (a DDPM on 2-D points, after Ho et al. 2020) shows in its "
            "ablation gallery that sinusoidal embeddings of the input coordinates are what let "
            "a small MLP learn high-frequency sets, and that the learning rate, the number of "
            "diffusion steps and the width each matter. Here each is a claim about a distance "
            "between generated and held-out points that can fail."
        ),
        method=method(b, got),
        claims=claims,
        figures=[figure(ctx, b, got)],
        findings=findings(got, claims),
        numbers=numbers,
    )
