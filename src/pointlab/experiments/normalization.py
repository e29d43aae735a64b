"""Experiment `normalization`: batch norm widens the range of learning rates that train, and the
loss is smoother along the gradient with it.

Ioffe & Szegedy (2015), "Batch normalization: accelerating deep network training by reducing
internal covariate shift": normalizing each unit's pre-activation over the minibatch lets a
network train at much higher learning rates. Santurkar, Tsipras, Ilyas & Madry (2018), "How does
batch normalization help optimization?": what it changes is the loss landscape, which becomes
smoother: the loss varies less along the gradient, and the gradient predicts the gradient a step
further on. Ba, Kiros & Hinton (2016) normalize over a layer's units instead (layer norm), which
needs no batch.

Here: MLPs of DEPTH hidden layers of WIDTH ReLUs on the two-class spiral, without normalization,
with layer norm and with batch norm (`TrainConfig.norm`), trained by SGD with momentum 0.9 (the
papers' optimizer) on minibatches of BATCH points (batch norm needs them) at a log-spaced grid of
learning rates, over seeds; each norm one population whose members differ in learning rate and
seed. A member *trains* when it did not diverge and ends with training accuracy >= TRAINS. Four
hidden layers, not more: with torch's default initialization a plain net much deeper than that
barely trains at any learning rate in this budget, and the papers compare against plain nets that
do train. Where the norms are compared at one learning rate (how fast they train, how smooth the
loss is) it is the plain net's *reference* rate, its largest at which most seeds train: the edge
of its range, where whether a step works depends on how smooth the loss is. How fast: the first
epoch (measured every LOG_EVERY) at which the training accuracy reaches TRAINS, Ioffe and
Szegedy's "accelerating". Smoothness, Santurkar's way: after a few epochs of training, from every
member's own weights, the full-batch gradient g (batch norm in training mode: statistics over the
whole training set, as Santurkar et al. measured) and the loss and gradient at w - eta g for steps
eta from the member's learning rate to ten times it (momentum 0.9's steady step); the loss's
variation (max - min over the steps, the start included) and the gradient's largest change
||grad L(w) - grad L(w - eta g)|| (its "predictiveness"), by autograd on the engine's forward.

Not here: the figure (`experiments/normalization_figures.py`), normalization itself
(`pointlab.engine.norms`), verdict statistics (`experiments/base.py`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import torch

from pointlab.config import TrainConfig
from pointlab.engine.models import Architecture, forward, layer_views, norm_views, theta_from_states
from pointlab.engine.norms import Norms
from pointlab.engine.training import Training
from pointlab.experiments import base, normalization_figures
from pointlab.experiments.base import Claim, Context, Report
from pointlab.experiments.members import spiral_points

NAME = "normalization"
WIDTH = 32
DEPTH = 4
BATCH = 32
TRAINS = 0.9  # training accuracy a member must reach to count as trained
NORMS = ("none", "layer", "batch")
STEPS = (1.0, 2.0, 4.0, 10.0)  # steps along the gradient, in multiples of the learning rate
LOG_EVERY = 5  # epochs between measurements of the training accuracy (how fast each trains)


@dataclass(frozen=True)
class Budget:
    lrs: tuple[float, ...]  # the learning-rate grid, half a decade apart
    seeds: int
    epochs: int
    probes: tuple[int, ...]  # epochs after which the loss is probed along the gradient
    n_train: int
    n_test: int


def _grid(low: float, high: float) -> tuple[float, ...]:
    """10^low to 10^high, half a decade apart."""
    return tuple(float(10**e) for e in np.arange(low, high + 0.25, 0.5))


QUICK = Budget(_grid(-2.5, 0.5), seeds=3, epochs=60, probes=(5, 60), n_train=400, n_test=1000)
FULL = Budget(_grid(-3, 1), seeds=8, epochs=150, probes=(5, 25, 75, 150), n_train=400, n_test=2000)


@dataclass(frozen=True)
class Along:
    """What the loss does along the gradient, per member (M,) or (M, steps)."""

    loss: np.ndarray  # (M,) at the weights
    grad_norm: np.ndarray  # (M,) |grad L(w)|
    stepped: np.ndarray  # (M, steps) the loss at w - eta g
    change: np.ndarray  # (M, steps) |grad L(w - eta g) - grad L(w)|

    @property
    def variation(self) -> np.ndarray:
        """(M,) max - min of the loss over the start and every step."""
        every = np.concatenate([self.loss[:, None], self.stepped], 1)
        return every.max(1) - every.min(1)

    @property
    def predictiveness(self) -> np.ndarray:
        """(M,) the gradient's largest change over the steps (smaller: more predictive)."""
        return self.change.max(1)


@dataclass(frozen=True)
class NormResult:
    """One norm's members, each (lrs, seeds); probes: epoch -> the loss along the gradient."""

    train_loss: np.ndarray
    train_acc: np.ndarray
    test_acc: np.ndarray
    diverged: np.ndarray
    epochs_to_train: np.ndarray  # first logged epoch with training accuracy >= TRAINS (else
    # the budget plus LOG_EVERY: "not within the budget")
    batch_loss: dict[int, np.ndarray]  # full-batch training loss (batch norm: the set's statistics)
    variation: dict[int, np.ndarray]
    predictiveness: dict[int, np.ndarray]

    @property
    def trains(self) -> np.ndarray:
        """(lrs, seeds) bool: did not diverge and reached TRAINS training accuracy."""
        return ~self.diverged & (np.nan_to_num(self.train_acc) >= TRAINS)


def run(ctx: Context) -> Report:
    b = QUICK if ctx.quick else FULL
    b = replace(b, seeds=ctx.seed_count(b.seeds))
    X, y = spiral_points(b.n_train, b.n_test)
    by_norm = {}
    for norm in NORMS:
        ctx.say(f"normalization: {norm}, {len(b.lrs)} learning rates x {b.seeds} seeds")
        by_norm[norm] = _train_norm(norm, b, X, y, ctx.device)
    claims, numbers = _claims(b, by_norm)
    numbers["budget"] = b.__dict__
    figures = [normalization_figures.figure(ctx, b, by_norm, numbers)]
    return Report(
        title="Normalization: the learning rates that train, and the loss along the gradient",
        claim=(
            "Ioffe & Szegedy 2015, *Batch normalization*: a network with batch normalization "
            "trains at much higher learning rates; Santurkar et al. 2018, *How does batch "
            "normalization help optimization?*: because it makes the loss landscape smoother, "
            "the loss varying less along the gradient and the gradient changing less a step "
            "further on. Ba et al. 2016 normalize over a layer's units instead (layer norm)."
        ),
        method=_method(b),
        claims=claims,
        figures=figures,
        findings=_findings(b, claims, numbers, by_norm),
        numbers=numbers,
    )


def _train_norm(norm: str, b: Budget, X: np.ndarray, y: np.ndarray, device: str) -> NormResult:
    """Every (learning rate, seed) of one norm as one population; the loss along the gradient
    after each probe epoch, and what each member reached after `b.epochs`."""
    hidden = (WIDTH,) * DEPTH
    configs = [
        TrainConfig(
            hidden=hidden,
            norm=norm,
            optimizer="momentum",
            momentum=0.9,
            lr=lr,
            batch_size=BATCH,
            epochs=b.epochs,
            seed=s,
        )
        for lr in b.lrs
        for s in range(b.seeds)
    ]
    train_index = np.arange(b.n_train)
    test_index = np.arange(b.n_train, len(X))
    M = len(configs)
    training = Training(
        configs, X, y, [train_index] * M, [test_index] * M, device=device, log_every=LOG_EVERY
    )
    arch = Architecture(hidden, "relu", norm=norm)
    steps = np.array([c.lr for c in configs])[:, None] * np.array(STEPS)  # (M, steps)
    shape = (len(b.lrs), b.seeds)
    batch_loss, variation, predictiveness = {}, {}, {}
    for probe in b.probes:
        while training.epoch < probe and training.step_epoch():
            pass
        theta = theta_from_states(arch, [training.state(m) for m in range(M)])
        along = along_gradient(arch, theta, X[train_index], y[train_index], steps)
        batch_loss[probe] = along.loss.reshape(shape)
        variation[probe] = along.variation.reshape(shape)
        predictiveness[probe] = along.predictiveness.reshape(shape)
    while training.step_epoch():
        pass
    results = training.results()

    def grid(values) -> np.ndarray:
        return np.array(values).reshape(shape)

    return NormResult(
        grid([r.last("train_loss") for r in results]),
        grid([r.last("train_acc") for r in results]),
        grid([r.last("val_acc") for r in results]),
        grid([r.status == "diverged" for r in results]),
        grid([epochs_to(r.history, b.epochs + LOG_EVERY) for r in results]),
        batch_loss,
        variation,
        predictiveness,
    )


def epochs_to(history: dict[str, list[float]], never: float) -> float:
    """The first logged epoch at which the training accuracy reached TRAINS; `never` if none."""
    for epoch, acc in zip(history["epoch"], history["train_acc"], strict=True):
        if acc >= TRAINS:
            return float(epoch)
    return float(never)


def full_batch_losses(arch: Architecture, theta: torch.Tensor, x, target) -> torch.Tensor:
    """(M,) each member's mean cross-entropy on all points x (N, 2) with targets (M, N), batch
    norm in training mode over all of them (its own throwaway running statistics)."""
    normalize = None
    if arch.norm != "none":
        norms = Norms(arch, [arch] * theta.shape[0], theta.device)
        normalize = norms.bind(norm_views(arch, theta), train=True)
    logits = forward(arch, layer_views(arch, theta), x, normalize=normalize)[..., 0]
    return torch.nn.functional.binary_cross_entropy_with_logits(
        logits, target, reduction="none"
    ).mean(1)


def along_gradient(
    arch: Architecture, theta: torch.Tensor, X: np.ndarray, y: np.ndarray, steps: np.ndarray
) -> Along:
    """The full-batch loss and its gradient g at each member's weights theta (M, P), and at
    w - eta g for each member's steps eta (M, K) (Santurkar et al.'s loss landscape and gradient
    predictiveness)."""
    x = torch.as_tensor(X, dtype=theta.dtype)
    target = torch.as_tensor(y, dtype=theta.dtype).expand(theta.shape[0], -1)

    def loss_and_gradient(at: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        at = at.detach().clone().requires_grad_(True)
        losses = full_batch_losses(arch, at, x, target)
        (grad,) = torch.autograd.grad(losses.sum(), at)
        return losses.detach(), grad

    loss, g = loss_and_gradient(theta)
    eta = torch.as_tensor(steps, dtype=theta.dtype)
    stepped, change = [], []
    for k in range(eta.shape[1]):
        loss_k, g_k = loss_and_gradient(theta - eta[:, k : k + 1] * g)
        stepped.append(loss_k)
        change.append((g_k - g).norm(dim=1))
    return Along(
        loss.numpy(),
        g.norm(dim=1).numpy(),
        torch.stack(stepped, 1).numpy(),
        torch.stack(change, 1).numpy(),
    )


def largest_that_trains(trains: np.ndarray, lrs) -> np.ndarray:
    """(seeds,) log10 of the largest learning rate at which each seed trains (trains (lrs,
    seeds)); a seed that trains at none gets half a decade below the grid's smallest."""
    logs = np.log10(np.asarray(lrs, dtype=float))
    below = logs[0] - 0.5
    return np.array([logs[t].max() if t.any() else below for t in trains.T])


def decades_that_train(trains: np.ndarray) -> np.ndarray:
    """(seeds,) how many decades of the half-decade grid train, per seed (trains (lrs, seeds))."""
    return 0.5 * trains.sum(0)


def reference_lr(plain: NormResult) -> int:
    """Index of the plain net's largest learning rate at which most seeds train (the edge of its
    range, where the papers compare), or of its lowest mean training loss if it trains at none."""
    most = np.flatnonzero(plain.trains.mean(1) > 0.5)
    if len(most):
        return int(most.max())
    return int(np.argmin(np.nan_to_num(plain.train_loss, nan=np.inf).mean(1)))


def _difference(a: np.ndarray, b: np.ndarray) -> tuple[float, float, float]:
    """mean(a) - mean(b) of independent groups over seeds, its standard error and Welch's df."""
    return float(np.mean(a) - np.mean(b)), *base.difference_se(a, b)


def _claims(b: Budget, by_norm: dict[str, NormResult]) -> tuple[list[Claim], dict]:
    plain, layer, batch = (by_norm[n] for n in NORMS)
    ref = reference_lr(plain)
    ref_lr = b.lrs[ref]
    top = {n: largest_that_trains(r.trains, b.lrs) for n, r in by_norm.items()}
    width = {n: decades_that_train(r.trains) for n, r in by_norm.items()}
    higher, higher_se, higher_df = _difference(top["batch"], top["none"])
    wider, wider_se, wider_df = _difference(width["batch"], width["none"])
    layer_wider, layer_se, layer_df = _difference(width["layer"], width["none"])
    speed = {n: np.log10(r.epochs_to_train[ref]) for n, r in by_norm.items()}
    faster, faster_se, faster_df = _difference(speed["none"], speed["batch"])
    later = b.probes[1:]  # after training has started: the first probe finds the plain net on
    # its initial plateau, where every direction is flat (see the findings)

    def smoother(key: str) -> tuple[float, float, float]:
        """log10 plain over batch norm at the reference lr, over the later probes: the mean
        over probes of each seed's log10, then the difference of the groups."""
        logs = [
            np.mean([np.log10(getattr(r, key)[p][ref]) for p in later], 0) for r in (plain, batch)
        ]
        return _difference(logs[0], logs[1])

    flat, flat_se, flat_df = smoother("variation")
    steady, steady_se, steady_df = smoother("predictiveness")
    probes_text = ", ".join(str(p) for p in later)
    claims = [
        Claim(
            "batch norm widens the range of learning rates that train",
            "decades of the learning-rate grid at which a seed trains (no divergence, training "
            f"accuracy >= {TRAINS}): batch norm minus plain >= 1 (mean over seeds)",
            f"{wider:+.2f} +- {wider_se:.2f} decades (batch {width['batch'].mean():.2f}, "
            f"plain {width['none'].mean():.2f})",
            base.at_least(wider, 1.0, wider_se, wider_df),
        ),
        Claim(
            "batch norm trains at learning rates 3 times the plain net's largest",
            "log10 of the largest learning rate that trains, batch norm minus plain >= 0.45 "
            "(about 3 times higher; mean over seeds)",
            f"{higher:+.2f} +- {higher_se:.2f} (batch {top['batch'].mean():.2f}, plain "
            f"{top['none'].mean():.2f})",
            base.at_least(higher, 0.45, higher_se, higher_df),
        ),
        Claim(
            "layer norm widens the range too",
            "decades that train: layer norm minus plain >= 0.5",
            f"{layer_wider:+.2f} +- {layer_se:.2f} decades (layer {width['layer'].mean():.2f})",
            base.at_least(layer_wider, 0.5, layer_se, layer_df),
        ),
        Claim(
            "batch norm trains faster at the plain net's learning rate",
            f"at lr {ref_lr:.3g} (the plain net's largest where most seeds train): epochs to "
            f"training accuracy {TRAINS}, log10 plain minus batch norm >= 0.3 (half the epochs "
            f"or fewer; a seed that never gets there counts {b.epochs + LOG_EVERY})",
            f"{faster:+.2f} +- {faster_se:.2f} (plain {np.mean(10 ** speed['none']):.0f}, "
            f"batch {np.mean(10 ** speed['batch']):.0f} epochs)",
            base.at_least(faster, 0.3, faster_se, faster_df),
        ),
        Claim(
            "the loss varies less along the gradient with batch norm",
            f"at lr {ref_lr:.3g}, after epochs {probes_text}: log10 of the loss's variation "
            "along the gradient (max - min over steps of 1 to 10 learning rates), plain minus "
            "batch norm > 0",
            f"{flat:+.2f} +- {flat_se:.2f}",
            base.at_least(flat, 0.0, flat_se, flat_df),
        ),
        Claim(
            "the gradient is more predictive with batch norm",
            f"at lr {ref_lr:.3g}, after epochs {probes_text}: log10 of the gradient's largest "
            "change along it, |grad L(w - eta g) - grad L(w)|, plain minus batch norm > 0",
            f"{steady:+.2f} +- {steady_se:.2f}",
            base.at_least(steady, 0.0, steady_se, steady_df),
        ),
    ]

    def per_norm(get) -> dict:
        return {n: get(r) for n, r in by_norm.items()}

    numbers = {
        "lrs": list(b.lrs),
        "train_loss": per_norm(lambda r: r.train_loss),
        "train_acc": per_norm(lambda r: r.train_acc),
        "test_acc": per_norm(lambda r: r.test_acc),
        "diverged": per_norm(lambda r: r.diverged.astype(int)),
        "trains": per_norm(lambda r: r.trains.astype(int)),
        "log10_largest_lr_that_trains": top,
        "decades_that_train": width,
        "log10_variation": {
            str(p): per_norm(lambda r, p=p: np.log10(r.variation[p])) for p in b.probes
        },
        "log10_predictiveness": {
            str(p): per_norm(lambda r, p=p: np.log10(r.predictiveness[p])) for p in b.probes
        },
        "epochs_to_train": per_norm(lambda r: r.epochs_to_train),
        "reference_lr": ref_lr,
        "reference_index": ref,
    }
    return claims, numbers


def _method(b: Budget) -> str:
    return (
        f"Data: the two-class spiral, {b.n_train} training and {b.n_test} test points (seeds 0 "
        f"and 1), standardized as `pointlab train` does. Models: {DEPTH} hidden layers of "
        f"{WIDTH} ReLUs, without normalization, with layer norm and with batch norm (`--norm`: "
        "Linear -> norm -> ReLU, torch's eps and momentum); torch's default initialization. "
        f"Training: SGD with momentum 0.9, minibatches of {BATCH}, {b.epochs} epochs, constant "
        f"learning rates {', '.join(f'{lr:.3g}' for lr in b.lrs)}, {b.seeds} seeds each; every "
        "norm one population of its learning rates and seeds. A member trains when it did not "
        f"diverge and ends with training accuracy >= {TRAINS} (batch norm measured in "
        "evaluation mode, with its running statistics); how fast: the first epoch, measured every "
        f"{LOG_EVERY}, with training accuracy >= {TRAINS}, at the plain net's reference rate "
        "(its largest where most seeds train). Along the gradient, after epochs "
        f"{', '.join(str(p) for p in b.probes)}: from each member's weights w, the full-batch "
        "gradient g and the loss and gradient at w - eta g for eta = 1, 2, 4 and 10 times its "
        "learning rate (batch norm with the statistics of all training points, as in training); "
        "the loss's variation is max - min over the start and the steps, the gradient's "
        "predictiveness the largest |grad L(w - eta g) - grad L(w)| (Santurkar et al.'s Figure "
        "4), by autograd on the engine's forward pass. Verdicts: 95% Student's t intervals over "
        "seeds (Welch's degrees of freedom for differences)."
    )


def _findings(b: Budget, claims: list[Claim], numbers: dict, by_norm: dict) -> str:
    rows = []
    for i, lr in enumerate(b.lrs):
        cells = []
        for n in NORMS:
            r = by_norm[n]
            cells.append(f"{np.nanmean(r.train_loss[i]):.3f} ({int(r.trains[i].sum())}/{b.seeds})")
        rows.append(f"| {lr:.3g} | " + " | ".join(cells) + " |")
    wider, higher, layer, faster, flat, steady = claims
    first, ref = b.probes[0], numbers["reference_index"]
    ref_lr = b.lrs[ref]
    early = {n: numbers["log10_variation"][str(first)][n][ref].mean() for n in NORMS}
    loss = {n: float(np.nanmean(by_norm[n].train_loss[ref])) for n in NORMS}
    whole = float(np.nanmean(by_norm["batch"].batch_loss[b.probes[-1]][ref]))
    top = {n: 10 ** numbers["log10_largest_lr_that_trains"][n].mean() for n in NORMS}
    range_words = base.follow(
        wider,
        "Batch norm widens the range of learning rates that train by more than a decade",
        "Batch norm does not widen the range of learning rates that train by a decade here",
        "Whether batch norm widens the range by a decade, the seeds cannot settle",
    )
    top_words = base.follow(
        higher,
        "and its largest rate that trains is at least 3 times the plain net's",
        "but its largest rate that trains is not 3 times the plain net's: most of what it adds "
        "is at the small rates, which it trains much faster",
        "and whether its largest rate that trains is 3 times the plain net's, the seeds cannot "
        "tell",
    )
    layer_words = base.follow(
        layer,
        "Layer norm widens the range too",
        "Layer norm does not widen the range by half a decade",
        "Whether layer norm widens the range, the seeds cannot tell",
    )
    speed_words = base.follow(
        faster,
        f"At lr {ref_lr:.3g} batch norm reaches {TRAINS} training accuracy in half the epochs "
        "or fewer (Ioffe and Szegedy's *accelerating*)",
        f"At lr {ref_lr:.3g} batch norm does not reach {TRAINS} training accuracy in half the "
        "epochs",
        f"Whether batch norm reaches {TRAINS} training accuracy in half the epochs at lr "
        f"{ref_lr:.3g}, the seeds cannot tell",
    )
    smooth_words = base.follow(
        flat,
        "Once training is under way the loss varies less along the gradient with batch norm",
        "The loss does not vary less along the gradient with batch norm here",
        "Whether the loss varies less along the gradient with batch norm, the seeds cannot tell",
    )
    predict_words = base.follow(
        steady,
        "and the gradient changes less a step further on (it is more predictive)",
        "and the gradient does not change less a step further on",
        "and whether the gradient is more predictive, the seeds cannot tell",
    )
    later = [str(p) for p in b.probes[1:]]

    def later_mean(key: str, n: str) -> float:
        return float(np.mean([numbers[key][p][n][ref].mean() for p in later]))

    measured = (
        f"Mean log10 over seeds and the later probes at lr {ref_lr:.3g}: the loss's variation "
        + ", ".join(
            f"{normalization_figures.LABELS[n]} {later_mean('log10_variation', n):.2f}"
            for n in NORMS
        )
        + "; the gradient's change "
        + ", ".join(
            f"{normalization_figures.LABELS[n]} {later_mean('log10_predictiveness', n):.2f}"
            for n in NORMS
        )
        + ". "
    )
    plateau = (
        f"After {first} epochs, though, the plain net's loss is the flattest (log10 variation "
        f"{early['none']:.1f}, against {early['batch']:.1f} with batch norm): it still sits on "
        "the plateau at ln 2, where its small initial signal leaves every direction flat; "
        "Santurkar et al.'s smoothness is of the landscape training moves through, not "
        "flatness at a stall. "
        if early["none"] < early["batch"]
        else ""
    )
    floor = (
        f"Where both train, batch norm ends at a higher training loss than the plain net (at lr "
        f"{ref_lr:.3g}: {loss['batch']:.3f} against {loss['none']:.3f} with the running "
        f"statistics, as it predicts; {whole:.3f} with the whole training set's after the last "
        f"probe, epoch {b.probes[-1]}): it fits the training points less tightly. "
        if loss["batch"] > loss["none"]
        else ""
    )
    return (
        "Mean training loss after the budget (seeds that train / seeds) per learning rate:\n\n"
        "| lr | plain | layer norm | batch norm |\n| --- | --- | --- | --- |\n"
        + "\n".join(rows)
        + f"\n\n{range_words}, {top_words} (largest rate that trains, geometric mean over "
        f"seeds: plain {top['none']:.3g}, layer norm {top['layer']:.3g}, batch norm "
        f"{top['batch']:.3g}). {layer_words}. {speed_words}. {smooth_words}, "
        f"{predict_words}. {measured}{plateau}{floor}"
    ).rstrip()
