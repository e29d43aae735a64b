"""Experiment `adversarial`: small, chosen changes of a point flip a network's answer, and
adversarial training makes it harder.

Goodfellow et al. 2015, "Explaining and harnessing adversarial examples": one step along the sign
of the input gradient (FGSM) flips many answers. Madry et al. 2018, "Towards deep learning models
resistant to adversarial attacks": projected gradient descent (PGD) is the stronger attack, and
training on PGD's points (adversarial training) makes a network robust to it. Tsipras et al.
2019, "Robustness may be at odds with accuracy": the robustness costs clean accuracy.

On the spiral (points in the unit square, two arms a class): ONE engine population holds standard
training (eps 0) and adversarial training at each training eps, several seeds each; the
adversarial members train on PGD's points through the engine's `train_inputs` hook
(`attacks.Adversary`), a member with eps 0 exactly as without it (`tests/test_attacks.py`). The
networks take the points standardized, as `pointlab train` feeds them; every eps is in the units
of the points, and the attacks differentiate through the standardization. Then every member is
attacked on test points with FGSM and PGD at each eps, and each test point's L-infinity distance
to the member's boundary is estimated (the smallest eps at which PGD flips it, by bisection).

Verdicts over few seeds use Student's t (mean +- t standard errors, t for n - 1 degrees of
freedom, paired by seed where two trainings are compared: the same seed starts both;
`base.mean_at_least`).

Not here: the attacks (`pointlab.attacks`), the figure (`experiments/adversarial_figures.py`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import torch

from pointlab import attacks, engine, features, generators
from pointlab.config import TrainConfig
from pointlab.experiments.base import (
    Claim,
    Context,
    Report,
    all_of,
    follow,
    mean_at_least,
    mean_at_most,
    mean_text,
)

NAME = "adversarial"
HIDDEN = (64, 64)
MAIN_EPS = 0.04  # the eps of the claims: within half the gap between the spiral's arms
LARGEST = 0.2  # the margins' bisection searches [0, LARGEST]; the arms are ~0.13 apart
NOISE = 0.01  # the arms' jitter: half the generator's default, so that a robust boundary exists


@dataclass(frozen=True)
class Budget:
    n_train: int
    n_test: int
    epochs: int  # full batch, Adam
    seeds: int  # per training eps
    train_eps: tuple[float, ...]  # 0 first: standard training
    train_steps: int  # PGD steps of each training pass
    attack_eps: tuple[float, ...]  # 0 first: clean accuracy
    attack_steps: int  # PGD steps of the evaluation (and of the margins' bisection)
    halvings: int  # of the margins' bisection


QUICK = Budget(
    n_train=300,
    n_test=500,
    epochs=600,
    seeds=3,
    train_eps=(0.0, MAIN_EPS),
    train_steps=3,
    attack_eps=(0.0, 0.01, 0.02, 0.03, 0.04, 0.05, 0.06),
    attack_steps=10,
    halvings=8,
)
FULL = Budget(
    n_train=300,
    n_test=1000,
    epochs=1000,
    seeds=6,
    train_eps=(0.0, 0.02, MAIN_EPS, 0.06),
    train_steps=5,
    attack_eps=(0.0, 0.005, 0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.08),
    attack_steps=20,
    halvings=10,
)


def data(b: Budget):
    """Spiral training and test points, from different seeds."""
    return (
        generators.make("spiral", n=b.n_train, noise=NOISE, seed=0),
        generators.make("spiral", n=b.n_test, noise=NOISE, seed=1),
    )


def overlapping(X: np.ndarray, y: np.ndarray, eps: float) -> float:
    """The share of points with a point of another class within 2 eps in L-infinity: their eps
    balls overlap, so no boundary keeps both balls on their own sides."""
    distance = np.abs(X[:, None, :] - X[None, :, :]).max(2)  # (N, N)
    other = np.where(y[:, None] != y[None, :], distance, np.inf).min(1)  # (N,)
    return float((other <= 2 * eps).mean())


def configs(b: Budget) -> list[TrainConfig]:
    """One member per (training eps, seed), eps-major: member g * seeds + s."""
    return [
        TrainConfig(hidden=HIDDEN, lr=0.01, epochs=b.epochs, seed=s)
        for _ in b.train_eps
        for s in range(b.seeds)
    ]


def train_and_attack(b: Budget, device: str) -> dict:
    """Train the population (adversarial members through the `train_inputs` hook), then attack
    every member on the test points. Arrays are (groups, seeds, ...): group g trained at
    `train_eps[g]`."""
    train, test = data(b)
    members = configs(b)
    first = members[0]
    scaling = features.fit(train.X, first.standardize)  # as `pointlab train` does
    inputs = attacks.ModelInputs(first.features, scaling)
    where = engine.resolve_device(device)
    eps = torch.tensor([e for e in b.train_eps for _ in range(b.seeds)], device=where)
    points = torch.as_tensor(train.X, dtype=torch.float32, device=where)
    training = engine.Training(
        members,
        features.model_inputs(train.X, first.features, scaling),
        train.y,
        [np.arange(len(train.y))] * len(members),
        device=device,
        log_every=b.epochs,
        train_inputs=attacks.Adversary(points, inputs, eps, steps=b.train_steps),
    )
    results = training.run()
    pop = training.population

    def model(x: torch.Tensor) -> torch.Tensor:
        return pop.logits(x, train=False)

    M, shape = len(members), (len(b.train_eps), b.seeds)
    P = torch.as_tensor(test.X, dtype=torch.float32, device=where)  # (N, 2)
    Y = torch.as_tensor(test.y, device=where)  # (N,)
    acc = {"fgsm": np.zeros((M, len(b.attack_eps))), "pgd": np.zeros((M, len(b.attack_eps)))}
    moved = None
    for j, e in enumerate(b.attack_eps):
        radius = torch.full((M,), e, device=where)
        fgsm_points = attacks.fgsm(model, inputs, P, Y, radius)
        pgd_points = attacks.pgd(model, inputs, P, Y, radius, b.attack_steps)
        acc["fgsm"][:, j] = attacks.accuracy(model, inputs, fgsm_points, Y).cpu().numpy()
        acc["pgd"][:, j] = attacks.accuracy(model, inputs, pgd_points, Y).cpu().numpy()
        if e == MAIN_EPS:
            moved = pgd_points.cpu().numpy()  # (M, N, 2), for the arrows
    # Robust accuracy on the training points themselves, against robust test accuracy
    Ptrain, Ytrain = points, torch.as_tensor(train.y, device=where)
    radius = torch.full((M,), MAIN_EPS, device=where)
    train_moved = attacks.pgd(model, inputs, Ptrain, Ytrain, radius, b.attack_steps)
    train_robust = attacks.accuracy(model, inputs, train_moved, Ytrain).cpu().numpy()
    margin = attacks.margins(
        model, inputs, P, Y, M, largest=LARGEST, steps=b.attack_steps, halvings=b.halvings
    ).cpu()  # (M, N)
    return dict(
        train=train,
        test=test,
        inputs=inputs,
        arch=pop.arch,
        theta=pop.theta.detach().cpu(),
        moved=moved,
        fgsm=acc["fgsm"].reshape(*shape, -1),
        pgd=acc["pgd"].reshape(*shape, -1),
        margin=margin.numpy().reshape(*shape, -1),
        train_acc=np.array([r.last("train_acc") for r in results]).reshape(shape),
        train_robust=train_robust.reshape(shape),
        overlap={e: overlapping(train.X, train.y, e) for e in b.train_eps},
    )


def run(ctx: Context) -> Report:
    from pointlab.experiments.adversarial_figures import figure, method

    b = QUICK if ctx.quick else FULL
    b = replace(b, seeds=ctx.seed_count(b.seeds))
    ctx.say(f"adversarial: training {len(b.train_eps)} x {b.seeds} members, one population")
    got = train_and_attack(b, ctx.device)
    claims, words = judge(b, got)
    return Report(
        title="Adversarial examples and adversarial training on 2-D points",
        claim=(
            "Goodfellow et al. 2015, *Explaining and harnessing adversarial examples*: a step of "
            "size eps along the sign of the input gradient (FGSM) flips the answers of a network "
            "that is accurate on clean inputs. Madry et al. 2018, *Towards deep learning models "
            "resistant to adversarial attacks*: projected gradient descent (PGD) is the stronger "
            "attack, and training on PGD's points makes a network robust to it, with a wider "
            "margin around the data. Tsipras et al. 2019, *Robustness may be at odds with "
            "accuracy*: that robustness costs clean accuracy."
        ),
        method=method(b),
        claims=claims,
        figures=[figure(ctx, b, got)],
        findings=words,
        numbers=dict(
            budget=b.__dict__,
            train_eps=list(b.train_eps),
            attack_eps=list(b.attack_eps),
            fgsm_accuracy=got["fgsm"],
            pgd_accuracy=got["pgd"],
            median_margin=np.median(got["margin"], axis=2),
            mean_margin=got["margin"].mean(2),
            train_accuracy=got["train_acc"],
            train_pgd_accuracy=got["train_robust"],
            share_of_training_points_whose_balls_overlap=got["overlap"],
        ),
    )


def judge(b: Budget, got: dict) -> tuple[list[Claim], str]:
    """The claims and the findings' words, from the measured accuracies and margins."""
    fgsm, pgd, margin = got["fgsm"], got["pgd"], got["margin"]  # (groups, seeds, ...)
    j = b.attack_eps.index(MAIN_EPS)
    adv = b.train_eps.index(MAIN_EPS)
    clean = pgd[:, :, 0]  # (groups, seeds): eps 0 is the clean test accuracy
    gap = fgsm - pgd  # (groups, seeds, eps)
    mean_gap = gap.mean(1)  # (groups, eps)
    low = np.unravel_index(mean_gap.argmin(), mean_gap.shape)
    high = np.unravel_index(mean_gap.argmax(), mean_gap.shape)
    # The median: a point far from every boundary counts as LARGEST, which the mean would feel.
    typical = np.median(margin, axis=2)  # (groups, seeds)
    ratio = np.log(typical[adv] / typical[0])  # (seeds,) paired by seed
    claims = [
        Claim(
            "PGD lowers accuracy at least as much as FGSM at every eps",
            "test accuracy under FGSM - under PGD >= -0.01 at every eps and training (mean "
            "over seeds +- t standard errors)",
            f"smallest {mean_gap[low]:+.3f} (trained at eps {b.train_eps[low[0]]:g}, attacked "
            f"at {b.attack_eps[low[1]]:g}); largest {mean_gap[high]:+.3f} (trained at "
            f"{b.train_eps[high[0]]:g}, attacked at {b.attack_eps[high[1]]:g})",
            all_of(
                mean_at_least(gap[g, :, e], -0.01)
                for g in range(len(b.train_eps))
                for e in range(len(b.attack_eps))
            ),
        ),
        Claim(
            "an accurate standard network is fragile",
            f"standard training: clean test accuracy >= 0.95, and under PGD at eps {MAIN_EPS:g} "
            "<= 0.85 (mean over seeds +- t standard errors)",
            f"clean {mean_text(clean[0])}, PGD {mean_text(pgd[0, :, j])}",
            all_of([mean_at_least(clean[0], 0.95), mean_at_most(pgd[0, :, j], 0.85)]),
        ),
        Claim(
            "adversarial training raises accuracy under attack",
            f"PGD accuracy at eps {MAIN_EPS:g}, trained at eps {MAIN_EPS:g} - standard >= 0.03 "
            "(paired by seed, +- t standard errors)",
            mean_text(pgd[adv, :, j] - pgd[0, :, j]),
            mean_at_least(pgd[adv, :, j] - pgd[0, :, j], 0.03),
        ),
        Claim(
            "adversarial training widens the margin",
            f"median L-infinity distance from test points to the boundary, trained at eps "
            f"{MAIN_EPS:g} / standard >= 1.1 (log ratio paired by seed, +- t standard errors)",
            f"x{np.exp(ratio.mean()):.2f} ({typical[adv].mean():.4f} vs "
            f"{typical[0].mean():.4f}; log ratio {mean_text(ratio)})",
            mean_at_least(ratio, np.log(1.1)),
        ),
        Claim(
            f"at eps {MAIN_EPS:g}, inside the gap between the arms, robustness costs no clean "
            "accuracy",
            f"clean test accuracy, standard - trained at eps {MAIN_EPS:g} <= 0.02 (paired by "
            "seed, +- t standard errors)",
            mean_text(clean[0] - clean[adv]),
            mean_at_most(clean[0] - clean[adv], 0.02),
        ),
    ]
    big = [g for g, e in enumerate(b.train_eps) if e > MAIN_EPS]
    if big:  # the full run also trains at an eps wider than the gap between the arms allows
        g = big[0]
        claims.append(
            Claim(
                f"at eps {b.train_eps[g]:g}, wider than the gap between the arms allows, "
                "robustness costs clean accuracy (Tsipras et al.)",
                f"clean test accuracy, standard - trained at eps {b.train_eps[g]:g} >= 0.02 "
                "(paired by seed, +- t standard errors)",
                mean_text(clean[0] - clean[g]),
                mean_at_least(clean[0] - clean[g], 0.02),
            )
        )
    return claims, findings(b, got, claims)


def findings(b: Budget, got: dict, claims: list[Claim]) -> str:
    pgd, fgsm, margin, robust = got["pgd"], got["fgsm"], got["margin"], got["train_robust"]
    j = b.attack_eps.index(MAIN_EPS)
    adv = b.train_eps.index(MAIN_EPS)
    rows = [
        f"| {e:g} | {fgsm[g, :, 0].mean():.3f} | {fgsm[g, :, j].mean():.3f} | "
        f"{pgd[g, :, j].mean():.3f} | {robust[g].mean():.3f} | {pgd[g, :, -1].mean():.3f} | "
        f"{np.median(margin[g], axis=1).mean():.4f} |"
        for g, e in enumerate(b.train_eps)
    ]
    stronger, fragile, raises, wider, free = claims[:5]
    gap = (fgsm - pgd).mean(1)  # (groups, eps)
    g0, e0 = np.unravel_index(gap.argmin(), gap.shape)
    closest = (
        f"the closest case, networks trained at eps {b.train_eps[g0]:g} attacked at "
        f"{b.attack_eps[e0]:g}, has FGSM {-gap[g0, e0]:.3f} ahead of PGD in the mean, with "
        f"clean accuracy {fgsm[g0, :, 0].mean():.3f}"
    )
    words = [
        follow(
            fragile,
            f"A standard network that classifies {fgsm[0, :, 0].mean():.1%} of the test points "
            f"right keeps only {pgd[0, :, j].mean():.1%} of them when each may move by "
            f"{MAIN_EPS:g} in x and in y ({MAIN_EPS:.0%} of the unit square's side).",
            "The standard network was not both accurate (>= 0.95) and fragile (<= 0.85 under "
            f"PGD at {MAIN_EPS:g}) here.",
            "Whether the standard network is both accurate and fragile, the seeds cannot settle.",
        ),
        follow(
            stronger,
            "PGD never did worse than FGSM, and pulls ahead as eps grows: where the boundary "
            "curves within the ball, one signed step overshoots or stops short.",
            "At some eps FGSM lowered accuracy more than PGD by over 0.01.",
            "Whether PGD is at least as strong as FGSM at every eps, the seeds cannot settle: "
            f"{closest}.",
        ),
        follow(
            raises,
            f"Adversarial training at eps {MAIN_EPS:g} raised accuracy under that attack "
            f"(to {pgd[adv, :, j].mean():.1%}).",
            f"Adversarial training at eps {MAIN_EPS:g} did not raise accuracy under that "
            "attack by 0.03.",
            f"Whether adversarial training at eps {MAIN_EPS:g} raises accuracy under that attack "
            "by 0.03, the seeds cannot settle.",
        ),
        follow(
            wider,
            "It moved the boundary away from the points: the median distance grew by a tenth "
            "or more.",
            "It did not widen the median distance to the boundary by a tenth.",
            "Whether it widens the median distance to the boundary by a tenth, the seeds cannot "
            "settle.",
        ),
        follow(
            free,
            "It cost no clean accuracy: at this eps the balls of only "
            f"{got['overlap'][MAIN_EPS]:.0%} of the training points overlap a ball of the other "
            "class, and the gap between the arms leaves room for a boundary with a margin.",
            "It cost clean accuracy even at this eps.",
            "Whether it costs clean accuracy at this eps, the seeds cannot settle.",
        ),
        f"On its own training points the adversarially trained network keeps "
        f"{robust[adv].mean():.1%} under PGD at {MAIN_EPS:g}, on test points "
        f"{pgd[adv, :, j].mean():.1%}: robustness generalizes less well than accuracy (Schmidt "
        "et al. 2018 find that it needs more data).",
    ]
    if len(claims) > 5:
        big = next(g for g, e in enumerate(b.train_eps) if e > MAIN_EPS)
        words.append(
            follow(
                claims[5],
                f"Trained at eps {b.train_eps[big]:g}, where the balls of "
                f"{got['overlap'][b.train_eps[big]]:.0%} of the training points overlap a ball "
                "of the other class (no boundary keeps both on their sides), it cost clean "
                f"accuracy, as Tsipras et al. find: {fgsm[big, :, 0].mean():.1%} against "
                f"{fgsm[0, :, 0].mean():.1%}.",
                f"Trained at eps {b.train_eps[big]:g}, wider than the gap allows, it still did "
                "not cost 0.02 of clean accuracy.",
                f"Whether training at eps {b.train_eps[big]:g} costs 0.02 of clean accuracy, the "
                "seeds cannot settle.",
            )
        )
    table = (
        f"| trained at eps | clean acc | FGSM at {MAIN_EPS:g} | PGD at {MAIN_EPS:g} | "
        f"PGD at {MAIN_EPS:g}, training points | PGD at {b.attack_eps[-1]:g} | "
        "median margin |\n| --- | --- | --- | --- | --- | --- | --- |\n" + "\n".join(rows)
    )
    return (
        " ".join(words)
        + "\n\n"
        + table
        + "\n\n(test points unless said; means over seeds; margin: L-infinity)"
    )
