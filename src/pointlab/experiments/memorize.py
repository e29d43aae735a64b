"""Experiment `memorize`: a network fits labels that mean nothing (Zhang et al. 2017).

Zhang, Bengio, Hardt, Recht, Vinyals, "Understanding deep learning requires rethinking
generalization" (ICLR 2017): Table 1 (random labels reach 100% training accuracy, with or without
weight decay, while test accuracy falls to chance), Figure 1 (training curves per condition; test
error grows with the label-corruption level) and Theorem 1 (a two-layer ReLU network with 2n + d
weights can represent any labels of n points in d dimensions). Here in 2-D on the book's curve
data: every corruption level and seed is one member of ONE population, each with its own labels
(X is every member's copy concatenated; members train on their own index range).

Not here: training (`pointlab.engine`), the decision-boundary picture (`pointlab.plots.boundary`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from pointlab import engine, generators
from pointlab.checkpoint import TrainedModel
from pointlab.config import TrainConfig
from pointlab.experiments.base import (
    Claim,
    Context,
    Report,
    at_most,
    combined_se,
    follow,
    standard_error,
)
from pointlab.plots.boundary import compute_boundary, draw_boundary
from pointlab.plots.save import new_figure, save_figure

NAME = "memorize"
LEVELS = (0.0, 0.25, 0.5, 0.75, 1.0)
K = 2  # classes: the book's curve data; chance is 1/K
WEIGHT_DECAY = 5e-4
RANDOM_SEEDS = 6  # at least this many seeds for the random-label condition


@dataclass(frozen=True)
class Budget:
    """Training points, epochs and seeds per level: 2-D memorization is slow, and its time grows
    fast with n."""

    n: int
    epochs: int
    seeds: int  # per corruption level; the full version takes more when asked (--seeds)


FULL = Budget(n=100, epochs=4000, seeds=1)
# Quick mode needs several seeds per level for its test-accuracy claims: one draw of corrupted
# labels moves test accuracy by 0.03-0.06 (sd over 12 seeds at n = 60), and the 0.07 criterion
# then failed in 45% of one-seed runs against none with 6 seeds (issue 14). The members are small:
# all of them are one population.
QUICK = Budget(n=60, epochs=800, seeds=6)


def standardize(X: np.ndarray) -> np.ndarray:
    # The points are uniform in [0, 1)^2: centre and scale to unit variance, as Zhang et al. whiten
    # their images. Unscaled inputs fit random labels far more slowly (kinks start off the data).
    return (np.asarray(X, dtype=np.float64) - 0.5) * np.sqrt(12.0)


# --- Theorem 1, built explicitly -------------------------------------------------------------
def theorem1_network(X: np.ndarray, y: np.ndarray, seed: int = 0) -> torch.nn.Sequential:
    """The two-layer ReLU network of Zhang et al.'s Theorem 1 that fits labels y of points X.

    c(x) = sum_j w_j relu(<a, x> - b_j): project on a direction a where the n points are distinct
    (the best of 16 random ones, to keep the gaps wide), put b_j between consecutive projections;
    then A_ij = relu(z_i - b_j) is lower triangular with a positive diagonal and w = A^-1 y.
    Weights: a (d) + b (n) + w (n) = 2n + d, all float64.
    """
    rng = np.random.default_rng(seed)
    X = np.asarray(X, dtype=np.float64)
    n, d = X.shape
    directions = rng.normal(size=(16, d))
    gaps = [np.diff(np.sort(X @ a), prepend=-np.inf).min() / np.linalg.norm(a) for a in directions]
    a = directions[int(np.argmax(gaps))]
    z = X @ a
    order = np.argsort(z)
    zs = z[order]
    b = np.concatenate([[zs[0] - 1.0], (zs[:-1] + zs[1:]) / 2])  # b_0 < z_1 < b_1 < z_2 < ...
    A = torch.relu(torch.tensor(zs[:, None] - b[None, :]))  # (n, n) lower triangular
    target = torch.tensor(np.asarray(y, dtype=np.float64)[order])
    w = torch.linalg.solve_triangular(A, target[:, None], upper=False)[:, 0]
    net = torch.nn.Sequential(torch.nn.Linear(d, n), torch.nn.ReLU(), torch.nn.Linear(n, 1, False))
    net = net.double()
    first, last = net[0], net[2]
    assert isinstance(first, torch.nn.Linear) and isinstance(last, torch.nn.Linear)
    with torch.no_grad():
        first.weight.copy_(torch.tensor(a).expand(n, d))  # every hidden unit shares a: d weights
        first.bias.copy_(torch.tensor(-b))
        last.weight.copy_(w[None, :])
    return net


def theorem1_error(n: int, seed: int, d: int = 2) -> tuple[float, int]:
    """Largest |c(x_i) - y_i| for n random points with random real labels, and the weight count."""
    rng = np.random.default_rng(seed)
    X, y = rng.random((n, d)), rng.normal(size=n)
    net = theorem1_network(X, y, seed)
    with torch.no_grad():
        fitted = net(torch.tensor(X))[:, 0].numpy()
    return float(np.abs(fitted - y).max()), d + 2 * n  # a is shared: d + n biases + n outputs


# --- the trained populations ---------------------------------------------------------------
def _population(n, seeds, conditions, test, epochs):
    """One population: a member per (p, weight decay, seed), each with its own corrupted labels;
    `ps` gives each member's corruption level p."""
    Xs, ys, train_index, configs, ps = [], [], [], [], []
    for p, wd in conditions:
        # Random labels get extra seeds: one draw of 100 random labels agrees with the truth on
        # new points by 0.5 +- 0.05, so "at chance" needs an average over several.
        for s in range(max(len(seeds), RANDOM_SEEDS)) if (p, wd) == (1.0, 0.0) else seeds:
            # Same points for every p (generators draw points before labels), own corruption.
            d = generators.make("curve", n=n, noise=0.0, label_noise=p, seed=s)
            train_index.append(np.arange(len(ys) * n, (len(ys) + 1) * n))
            Xs.append(d.X), ys.append(d.y)
            configs.append(TrainConfig(epochs=epochs, weight_decay=wd, seed=s))
            ps.append(p)
    val = np.arange(len(ys) * n, len(ys) * n + len(test.y))
    X = standardize(np.concatenate([*Xs, test.X]))
    y = np.concatenate([*ys, test.y])
    return configs, X, y, train_index, [val] * len(configs), ps


def _closest_opposite_pair(n: int, seeds) -> list[float]:
    """Per seed, the distance between the closest two random-label points of different labels."""
    out = []
    for s in seeds:
        d = generators.make("curve", n=n, noise=0.0, label_noise=1.0, seed=s)
        dist = np.linalg.norm(d.X[:, None] - d.X[None], axis=2)  # (n, n)
        out.append(float(dist[d.y[:, None] != d.y[None]].min()))
    return out


def _se(results) -> float:
    """Standard error of the mean final test accuracy over these members (inf for one seed:
    one seed cannot say how far its number is from the mean)."""
    return standard_error([r.last("val_acc") for r in results])


def _fit_epoch(result) -> float:
    """First logged epoch with 100% training accuracy (inf if never)."""
    for epoch, acc in zip(result.history["epoch"], result.history["train_acc"], strict=True):
        if acc >= 1.0:
            return float(epoch)
    return float("inf")


def run(ctx: Context) -> Report:
    budget = QUICK if ctx.quick else FULL
    n, epochs = budget.n, budget.epochs
    seeds = list(range(ctx.seed_count(budget.seeds)))
    test = generators.make("curve", n=2000, noise=0.0, seed=10_000)  # clean labels, fresh points
    conditions = [(p, 0.0) for p in LEVELS] + [(0.0, WEIGHT_DECAY), (1.0, WEIGHT_DECAY)]
    if ctx.quick:
        conditions = conditions[:-2] + [(1.0, WEIGHT_DECAY)]
    configs, X, y, train_index, val_index, ps = _population(n, seeds, conditions, test, epochs)
    ctx.say(f"training {len(configs)} members as one population ({epochs} epochs)")
    results = engine.train_population(
        configs, X, y, train_index=train_index, val_index=val_index, device=ctx.device, log_every=10
    )
    levels = {id(r): p for r, p in zip(results, ps, strict=True)}  # member -> its p

    def pick(p, wd):
        return [r for r in results if levels[id(r)] == p and r.config.weight_decay == wd]

    rows = {}
    for p, wd in conditions:
        rs = pick(p, wd)
        rows[(p, wd)] = {
            # "reaches 100%": the best training accuracy along the way (Adam can lose one point
            # again at the end of a long run); the final one is reported alongside
            "train_acc": float(np.mean([r.best("train_acc") for r in rs])),
            "final_train_acc": float(np.mean([r.last("train_acc") for r in rs])),
            "test_acc": float(np.mean([r.last("val_acc") for r in rs])),
            "fit_epoch": float(np.median([_fit_epoch(r) for r in rs])),  # median: one slow seed
            "share_fitted": float(np.mean([r.best("train_acc") >= 1.0 for r in rs])),
            "predicted": (1 - p) + p / K,
        }
    true, rand = rows[(0.0, 0.0)], rows[(1.0, 0.0)]
    randoms = pick(1.0, 0.0)  # more seeds than the other levels (RANDOM_SEEDS)
    ratio = rand["fit_epoch"] / true["fit_epoch"]
    # In 2-D two points with different random labels can lie almost on top of each other (the
    # closest such pair is reported); a seed can then miss 100% by that one point in the budget.
    # So the fitting claims count the seeds that reach 100%, and report the worst accuracy.
    plain = [r for r in results if r.config.weight_decay == 0]
    share_all = float(np.mean([r.best("train_acc") >= 1.0 for r in plain]))
    min_train = min(r.best("train_acc") for r in plain)
    closest = _closest_opposite_pair(n, range(max(len(seeds), RANDOM_SEEDS)))
    # (1 - p) + p/K assumes a perfect clean model. With clean test accuracy a0 < 1, a rule that
    # copies the (corrupted) label of nearby training points scores a0 q + (1 - a0)(1 - q) for K=2,
    # q = (1 - p) + p/2: that is the prediction checked; the raw formula's gap is reported too.
    a0 = true["test_acc"]
    for p in LEVELS:
        q = rows[(p, 0.0)]["predicted"]
        rows[(p, 0.0)]["predicted_a0"] = a0 * q + (1 - a0) * (1 - q)
    gaps = {p: abs(rows[(p, 0.0)]["test_acc"] - rows[(p, 0.0)]["predicted_a0"]) for p in LEVELS}
    worst = max(gaps, key=gaps.__getitem__)
    deviation = gaps[worst]
    # Its standard error over seeds: the level's mean test accuracy and a0 both carry seed noise
    # (the prediction moves by (2q - 1) times a0's error).
    q_worst = rows[(worst, 0.0)]["predicted"]
    deviation_se, deviation_df = combined_se(
        (_se(pick(worst, 0.0)), len(pick(worst, 0.0)) - 1),
        (abs(2 * q_worst - 1) * _se(pick(0.0, 0.0)), len(pick(0.0, 0.0)) - 1),
    )
    raw_deviation = max(
        abs(rows[(p, 0.0)]["test_acc"] - rows[(p, 0.0)]["predicted"]) for p in LEVELS
    )
    test_curve = [rows[(p, 0.0)]["test_acc"] for p in LEVELS]
    falling = all(
        a > b for a, b in zip(test_curve, test_curve[1:], strict=False)
    )  # strictly, level by level
    wd_rand = rows[(1.0, WEIGHT_DECAY)]["train_acc"]
    theorem = {m: max(theorem1_error(m, s)[0] for s in range(5)) for m in (10, 25, 50, 100)}
    claims = [
        Claim(
            "true labels reach 100% training accuracy",
            "best train acc == 1.0 (p = 0)",
            true["train_acc"],
            true["train_acc"] >= 1.0,
        ),
        Claim(
            "random labels reach 100% training accuracy",
            ">= 3/4 of the random-label seeds reach 100% training accuracy",
            rand["share_fitted"],
            rand["share_fitted"] >= 0.75,
        ),
        Claim(
            "random labels: test accuracy at chance",
            f"|test acc - 1/{K}| <= 0.06 (mean, 95% t interval over seeds)",
            rand["test_acc"],
            at_most(abs(rand["test_acc"] - 1 / K), 0.06, _se(randoms), len(randoms) - 1),
        ),
        Claim(
            "fitting random labels takes many times longer",
            "epochs to 100%: random / true >= 2 (the paper: about 3)",
            ratio,
            ratio >= 2,
        ),
        Claim(
            "100% training accuracy at every corruption level",
            ">= 3/4 of all members reach 100%, none below 99%",
            f"{share_all:.2f} (worst {min_train:.3f})",
            share_all >= 0.75 and min_train >= 0.99,
        ),
        Claim(
            "test accuracy falls with the corruption level",
            "strictly decreasing in p",
            " > ".join(f"{a:.3f}" for a in test_curve),
            falling,
        ),
        Claim(
            "test accuracy is close to (1 - p) + p/K, scaled by the clean model's accuracy a0",
            "max over p of |test acc - (a0 q + (1 - a0)(1 - q))| <= 0.07, q = (1 - p) + p/K "
            "(95% t interval over seeds; straddling it is inconclusive)",
            f"{deviation:.3f} +- {deviation_se:.3f} (p = {worst})",
            at_most(deviation, 0.07, deviation_se, deviation_df),
        ),
        Claim(
            "weight decay does not stop memorization",
            f"random labels, weight decay {WEIGHT_DECAY:g}: best train acc >= 0.99",
            wd_rand,
            wd_rand >= 0.99,
        ),
        Claim(
            "Theorem 1: 2n + d weights fit any n labels",
            "max |c(x_i) - y_i| < 1e-8 for n <= 100 (float64)",
            max(theorem.values()),
            max(theorem.values()) < 1e-8,
        ),
    ]
    numbers = {
        "rows": {f"p={p},wd={wd}": v for (p, wd), v in rows.items()},
        "fit_ratio": ratio,
        "formula_deviation": deviation,
        "formula_deviation_se": deviation_se,
        "raw_formula_deviation": raw_deviation,
        "share_fitted_all": share_all,
        "closest_opposite_pair": closest,
        "theorem1_max_error": theorem,
        "n_train": n,
        "epochs": epochs,
        "seeds": len(seeds),
    }
    if (0.0, WEIGHT_DECAY) in rows:
        wd_true = rows[(0.0, WEIGHT_DECAY)]["test_acc"]
        effect = wd_true - true["test_acc"]
        numbers["weight_decay_effect_on_true_test_acc"] = effect
        claims.append(
            Claim(
                "weight decay changes true-label test accuracy only a little",
                "|test acc with - without| <= 0.03",
                effect,
                abs(effect) <= 0.03,
            )
        )

    names = [_curves_figure(ctx, pick, rows, n), _boundary_figure(ctx, pick, n)]
    formula = next(c for c in claims if c.name.startswith("test accuracy is close to"))
    findings = _findings(rows, ratio, theorem, n, raw_deviation, formula, deviation) + (
        f"\n\n{share_all:.0%} of all members without weight decay reached 100% training accuracy "
        f"(the worst ended its best at {min_train:.3f}). The closest pair of points with different "
        f"random labels, per seed: {', '.join(f'{c:.4f}' for c in closest)} (unit square): a "
        "network must fold its boundary between two such points, which takes a sharp function; "
        "CIFAR images are never that close."
    )
    return Report(
        title="Memorization: a network fits random labels (Zhang et al. 2017)",
        claim=(
            "Zhang et al. 2017, *Understanding deep learning requires rethinking generalization* "
            "(Table 1, Figure 1, Theorem 1), and the book's limits chapter: a network reaches 100% "
            "training accuracy on labels that mean nothing, with or without weight decay; test "
            "accuracy then falls to chance; with a fraction p of labels replaced by random "
            "classes, "
            "test accuracy falls with p; random labels take longer to fit (about 3x in the paper). "
            "Theorem 1: a two-layer ReLU network with 2n + d weights represents any labels of n "
            "points in d dimensions."
        ),
        method=(
            f"Data: the book's curve boundary without its label flips (`make('curve', n={n}, "
            f"noise=0, label_noise=p, seed=s)`; each label replaced with probability p by a "
            f"uniformly drawn class, as in the paper); inputs standardized; test: 2,000 fresh "
            f"points with clean labels. Model: the book's `complex` (128, 128), Adam lr 0.003, "
            f"full batch, {epochs} epochs. Conditions p in {list(LEVELS)}, and weight decay "
            f"{WEIGHT_DECAY:g} (L2) for "
            + ("p = 1" if ctx.quick else "p = 0 and p = 1")
            + f"; {len(seeds)} seed(s) each; all {len(configs)} members one population, each with "
            "its own labels. Time to fit: first epoch (logged every 10) with 100% training "
            "accuracy. Theorem 1: built in float64 for n = 10, 25, 50, 100 random points in 2-D "
            "with random real labels, 5 draws each."
        ),
        claims=claims,
        figures=names,
        findings=findings,
        numbers=numbers,
    )


def _curves_figure(ctx, pick, rows, n):
    figure = new_figure(13, 4.4, dpi=90)
    ax_loss, ax_fit, ax_test = figure.subplots(1, 3)
    colours = dict(zip(LEVELS, ["tab:blue", "tab:green", "tab:olive", "tab:orange", "tab:red"]))  # noqa: B905
    for p in LEVELS:
        r = pick(p, 0.0)[0]  # seed 0
        ax_loss.plot(r.history["epoch"], r.history["train_loss"], color=colours[p], label=f"p={p}")
    ax_loss.set(
        yscale="log",
        xlabel="epoch",
        ylabel="training loss",
        title="training loss per corruption level (seed 0)",
    )
    ax_loss.legend(fontsize=8)
    fits = [rows[(p, 0.0)]["fit_epoch"] for p in LEVELS]
    ax_fit.plot(LEVELS, fits, "o-")
    ax_fit.set(
        xlabel="label corruption p",
        ylabel="epochs to 100% training accuracy (median)",
        title="time to fit",
    )
    ax_test.plot(
        LEVELS, [rows[(p, 0.0)]["test_acc"] for p in LEVELS], "o-", label="test (measured)"
    )
    ax_test.plot(LEVELS, [rows[(p, 0.0)]["train_acc"] for p in LEVELS], "s--", label="train (best)")
    ax_test.plot(LEVELS, [(1 - p) + p / K for p in LEVELS], "k:", label="(1 - p) + p/K")
    ax_test.plot(
        LEVELS,
        [rows[(p, 0.0)]["predicted_a0"] for p in LEVELS],
        "g--",
        label="scaled by clean accuracy a0",
    )
    ax_test.axhline(1 / K, color="grey", lw=0.8)
    ax_test.set(
        xlabel="label corruption p",
        ylabel="accuracy",
        ylim=(0.4, 1.02),
        title="accuracy against corruption",
    )
    ax_test.legend(fontsize=8)
    figure.suptitle(f"memorize: like Zhang et al. 2017, Figure 1, on {n} points in 2-D")
    name = save_figure(figure, ctx.path("memorize_curves.png")).name
    return name, "training curves, time to fit, accuracy against p"


def _boundary_figure(ctx, pick, n):
    figure = new_figure(10, 5.6, dpi=90)
    axes = figure.subplots(1, 2)
    for ax, p in zip(axes, (0.0, 1.0)):  # noqa: B905
        r = pick(p, 0.0)[0]  # seed 0
        d = generators.make("curve", n=n, noise=0.0, label_noise=p, seed=r.config.seed)
        title = "true labels" if p == 0 else "random labels"
        model = TrainedModel(r.config, r.arch.n_classes, r.final_state)

        def predict_proba(X: np.ndarray, model: TrainedModel = model) -> np.ndarray:
            return model.predict_proba(standardize(X))  # the inputs it was trained on

        picture = compute_boundary(predict_proba, (d.X, d.y), n_classes=K, steps=200)
        draw_boundary(ax, picture, title=title, colourbar=False, point_size=14)
    figure.suptitle("the same network, true against random labels")
    name = save_figure(figure, ctx.path("memorize_boundaries.png")).name
    return name, "decision boundaries after training: true labels and random labels"


def _findings(rows, ratio, theorem, n, raw_deviation, formula: Claim, deviation: float):
    table = [
        "| p | weight decay | train acc | test acc | (1-p)+p/K | scaled by a0 | epochs |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for (p, wd), v in rows.items():
        table.append(
            f"| {p} | {wd:g} | {v['train_acc']:.3f} | {v['test_acc']:.3f} | "
            f"{v['predicted']:.3f} | {v.get('predicted_a0', float('nan')):.3f} | "
            f"{v['fit_epoch']:.0f} |"
        )
    errors = ", ".join(f"n={m}: {e:.1e}" for m, e in theorem.items())
    return "\n".join(table) + (
        f"\n\nRandom labels took {ratio:.1f} times as many epochs as true labels to reach 100% "
        f"training accuracy on {n} points (the paper: about 3 times on CIFAR-10). In 2-D, every "
        "random label needs its own little region carved around its point, and the network's "
        "smooth, low-frequency start is far from that. "
        + follow(
            formula,
            "Test accuracy follows (1 - p) + p/K the way a nearest-neighbour rule would: a test "
            "point takes the label of the training points around it. ",
            "Test accuracy was expected to follow (1 - p) + p/K, as a nearest-neighbour rule "
            "would; here it does not, within the criterion. ",
            "Whether test accuracy follows (1 - p) + p/K, as a nearest-neighbour rule would, the "
            "seeds of this budget cannot settle. ",
        )
        + f"The clean-label model is not perfect on new points ({n} points define the "
        f"curve only roughly): against the raw formula the largest gap is {raw_deviation:.3f}; "
        + follow(
            formula,
            f"scaled by the clean accuracy a0 it is {deviation:.3f}, within the criterion. ",
            f"scaled by the clean accuracy a0 it is still {deviation:.3f}, beyond the criterion, "
            "so that claim does not hold in this run. ",
            f"scaled by the clean accuracy a0 it is {deviation:.3f}, but its seed noise straddles "
            "the criterion (inconclusive at this budget). ",
        )
        + "With weight decay, random labels needed "
        f"{rows[(1.0, WEIGHT_DECAY)]['fit_epoch']:.0f} epochs (median) against "
        f"{rows[(1.0, 0.0)]['fit_epoch']:.0f} without. Theorem 1: {errors}."
    )
