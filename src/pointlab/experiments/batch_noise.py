"""Experiment `batch-noise`: why minibatches are drawn at random.

1. Order. The book's fundamentals: learning from randomly drawn minibatches keeps each step an
   unbiased estimate of the full gradient. Against it: the training set sorted by class and fed in
   that fixed order, so every epoch ends on a run of class-1 batches (Bengio 2012, "Practical
   recommendations", and LeCun et al. 1998, "Efficient BackProp", warn against exactly this).
   Both orders train as members of ONE engine population; only the order of the point indices
   differs (the engine's own per-member random order for the one, the sorted order for the other,
   given to the engine through its `batch_order` hook).
2. Size. Keskar et al. 2017, "On large-batch training for deep learning: generalization gap and
   sharp minima": with Adam, large batches converge to sharper minima (larger top Hessian
   eigenvalue) that generalize worse. Here small batches against full batch, each at its best
   learning rate on validation data, on the book's noisy curve data; sharpness by power iteration.

Not here: the Hessian (`experiments/hessian.py`), the drawing (`plots/regions.py`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import torch

from pointlab import engine, generators
from pointlab.config import TrainConfig
from pointlab.engine.models import Architecture, theta_from_states
from pointlab.experiments import hessian
from pointlab.experiments.base import (
    Claim,
    Context,
    Report,
    at_least,
    at_most,
    difference_se,
    follow,
    interval,
    mean_at_least,
    standard_error,
)
from pointlab.experiments.members import error_rate
from pointlab.plots.regions import draw_lines
from pointlab.plots.save import new_figure, save_figure

NAME = "batch-noise"
HIDDEN = (32, 32)


@dataclass(frozen=True)
class Budget:
    n_train: int
    order_epochs: int
    order_seeds: int
    order_batch: int
    size_epochs: int
    size_seeds: int
    small_batch: int
    lrs: tuple[float, ...]  # Adam learning rates tried for each batch size
    power_iters: int


QUICK = Budget(
    n_train=400,
    order_epochs=40,
    order_seeds=4,
    order_batch=20,
    size_epochs=150,
    size_seeds=2,
    small_batch=16,
    lrs=(0.001, 0.003, 0.01, 0.03, 0.1),
    power_iters=30,
)
FULL = Budget(
    n_train=400,
    order_epochs=150,
    order_seeds=16,
    order_batch=20,
    size_epochs=600,
    size_seeds=4,
    small_batch=16,
    lrs=(0.0003, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3),
    power_iters=60,
)


def data(n_train: int):
    """The book's curve with its label flips near the boundary: train, validation, test."""
    return (
        generators.make("curve", n=n_train, seed=0),
        generators.make("curve", n=2000, seed=1),
        generators.make("curve", n=4000, seed=2),
    )


# --- 1. order ------------------------------------------------------------------------------------
def train_orders(b: Budget, device: str) -> dict[str, np.ndarray]:
    """Sorted and random members in one population, SGD with momentum, minibatches of
    `order_batch`; after every epoch each member's validation accuracy and the share of validation
    points it calls class 1. Returns arrays (epochs + 1, M) and `sorted` (M,) bool."""
    train, val, _ = data(b.n_train)
    n = len(train.y)
    kinds = ["sorted"] * b.order_seeds + ["random"] * b.order_seeds
    configs = [
        TrainConfig(
            hidden=HIDDEN,
            optimizer="momentum",
            lr=0.05,
            batch_size=b.order_batch,
            epochs=b.order_epochs,
            seed=s,
        )
        for s in list(range(b.order_seeds)) * 2
    ]
    X = np.concatenate([train.X, val.X])
    y = np.concatenate([train.y, val.y])
    where = engine.resolve_device(device)
    is_sorted = torch.tensor([k == "sorted" for k in kinds], device=where).unsqueeze(1)
    by_class = torch.as_tensor(np.argsort(train.y, kind="stable"), device=where)  # 0s then 1s

    def sorted_order(epoch: int, order: torch.Tensor) -> torch.Tensor:
        # The sorted members' positions by class; the random ones keep the engine's own order.
        return torch.where(is_sorted, by_class.expand_as(order), order)

    history: dict[str, list[np.ndarray]] = {"val_acc": [], "share_1": [], "train_loss": []}

    def record(epoch: int, metrics: dict[str, np.ndarray]) -> None:
        pop = training.population
        assert pop.val is not None  # made with validation indices below
        val_x, _, _ = pop.full_batch_inputs(pop.val)
        with torch.no_grad():
            share = (pop.logits(val_x, train=False)[..., 0] > 0).float().mean(1)  # (M,)
        history["val_acc"].append(metrics["val_acc"])
        history["share_1"].append(share.cpu().numpy())
        history["train_loss"].append(metrics["train_loss"])

    training = engine.Training(
        configs,
        X,
        y,
        [np.arange(n)] * len(configs),
        [np.arange(n, len(y))] * len(configs),
        device=device,
        log_every=1,
        callback=record,
        batch_order=sorted_order,
    )
    training.run()
    out: dict[str, Any] = {k: np.array(v) for k, v in history.items()}
    out["sorted"] = np.array([k == "sorted" for k in kinds])
    out["true_share_1"] = float(val.y.mean())
    return out


# --- 2. size -------------------------------------------------------------------------------------
def train_sizes(b: Budget, device: str) -> dict:
    """Small batches and full batch at every learning rate, one population; the best learning rate
    of each size by mean validation accuracy; its test error and sharpness per seed."""
    train, val, test = data(b.n_train)
    sizes = {"small": b.small_batch, "full": None}
    configs = [
        TrainConfig(
            hidden=HIDDEN,
            lr=lr,
            batch_size=size,
            epochs=b.size_epochs,
            seed=s,
        )
        for name, size in sizes.items()
        for lr in b.lrs
        for s in range(b.size_seeds)
    ]
    results = engine.train(
        configs, train.X, train.y, val.X, val.y, log_every=b.size_epochs, device=device
    )
    arch = Architecture(HIDDEN, "relu")
    out: dict = {"val_by_lr": {}}
    for name, size in sizes.items():  # the batch size tells the members apart
        by_lr = {
            lr: [r for r in results if r.config.batch_size == size and r.config.lr == lr]
            for lr in b.lrs
        }
        val_acc = {lr: float(np.mean([r.last("val_acc") for r in rs])) for lr, rs in by_lr.items()}
        best = max(val_acc, key=val_acc.__getitem__)
        theta = theta_from_states(arch, [r.final_state for r in by_lr[best]])
        out["val_by_lr"][name] = val_acc
        out[name] = dict(
            lr=best,
            test_error=error_rate(arch, theta, test.X, test.y),
            train_acc=np.array([r.last("train_acc") for r in by_lr[best]]),
            train_loss=np.array([r.last("train_loss") for r in by_lr[best]]),
            sharpness=hessian.top_eigenvalue(arch, theta, train.X, train.y, b.power_iters),
        )
    return out


def run(ctx: Context) -> Report:
    b = QUICK if ctx.quick else FULL
    # --seeds raises the full version's seeds per condition (never below the calibrated counts)
    b = replace(
        b, order_seeds=ctx.seed_count(b.order_seeds), size_seeds=ctx.seed_count(b.size_seeds)
    )
    ctx.say("batch-noise: sorted against random order, one population")
    orders = train_orders(b, ctx.device)
    ctx.say("batch-noise: small against full batch at every learning rate")
    sizes = train_sizes(b, ctx.device)

    srt, rnd = orders["sorted"], ~orders["sorted"]
    true_share = orders["true_share_1"]
    # The last few epochs, averaged: the verdict is about where training settles, not one epoch.
    tail = slice(-max(1, b.order_epochs // 5), None)
    bias = orders["share_1"][tail].mean(0) - true_share  # (M,)
    acc = orders["val_acc"][tail].mean(0)  # (M,)
    bias_sorted, bias_random = float(bias[srt].mean()), float(bias[rnd].mean())
    acc_gap = float(acc[rnd].mean() - acc[srt].mean())
    acc_gap_se, acc_gap_df = difference_se(acc[rnd], acc[srt])
    small, full = sizes["small"], sizes["full"]
    # Sharpness spans orders of magnitude: compare logs (the ratio of geometric means).
    log_full, log_small = np.log(full["sharpness"]), np.log(small["sharpness"])
    sharp_ratio = float(np.exp(log_full.mean() - log_small.mean()))
    sharp_se, sharp_df = difference_se(log_full, log_small)
    err_gap = float(full["test_error"].mean() - small["test_error"].mean())
    # Few seeds a side (two in the quick run): the intervals take Student's t (base.py's rule).
    err_gap_se, err_gap_df = difference_se(full["test_error"], small["test_error"])
    claims = [
        Claim(
            "sorted order leaves a model biased toward the class it saw last",
            "share of validation points called class 1, minus the true share, >= 0.1 (sorted)",
            f"{bias_sorted:+.3f} +- {standard_error(bias[srt]):.3f}",
            mean_at_least(bias[srt], 0.1),
        ),
        Claim(
            "random order is not biased",
            "|share called class 1 - true share| <= 0.05 (random order)",
            f"{bias_random:+.3f} +- {standard_error(bias[rnd]):.3f}",
            at_most(abs(bias_random), 0.05, standard_error(bias[rnd]), int(rnd.sum()) - 1),
        ),
        Claim(
            "random order gives better validation accuracy",
            "validation acc, random - sorted >= 0.03",
            f"{acc_gap:+.3f} +- {acc_gap_se:.3f}",
            at_least(acc_gap, 0.03, acc_gap_se, acc_gap_df),
        ),
        Claim(
            "full batch finds sharper minima (Keskar et al.)",
            "top Hessian eigenvalue, full / small batch >= 1.5 (geometric means over seeds, "
            "each at its best lr)",
            f"{sharp_ratio:.2f} ({np.median(full['sharpness']):.3g} vs "
            f"{np.median(small['sharpness']):.3g}; log se {sharp_se:.2f})",
            at_least(np.log(sharp_ratio), np.log(1.5), sharp_se, sharp_df),
        ),
        Claim(
            "and generalizes worse on noisy data (Keskar et al.)",
            "test error, full - small batch > 0 (95% Student's t interval over seeds)",
            f"{err_gap:+.3f} +- {err_gap_se:.3f}",
            at_least(err_gap, 0.0, err_gap_se, err_gap_df),
        ),
    ]
    names = [_order_figure(ctx, b, orders), _size_figure(ctx, b, sizes)]
    return Report(
        title="Random minibatches: sorted order biases the model; batch size and sharpness",
        claim=(
            "The book's fundamentals: learning from randomly drawn minibatches keeps training "
            "unbiased (also Bengio 2012, *Practical recommendations for gradient-based training*; "
            "LeCun et al. 1998, *Efficient BackProp*: shuffle the examples, never present one "
            "class after another). Keskar et al. 2017, *On large-batch training for deep "
            "learning: generalization gap and sharp minima*: large batches converge to sharp "
            "minima of the training loss and generalize worse than small batches."
        ),
        method=_method(b, sizes),
        claims=claims,
        figures=names,
        findings=_findings(b, claims, bias_sorted, bias_random, acc, srt, rnd, sizes, sharp_ratio),
        numbers=dict(
            order={k: v for k, v in orders.items()},
            bias_sorted=bias_sorted,
            bias_random=bias_random,
            val_acc_gap=acc_gap,
            sizes=sizes,
            sharpness_ratio=sharp_ratio,
            test_error_gap=err_gap,
            budget=b.__dict__,
        ),
    )


def _order_figure(ctx, b, orders) -> tuple[str, str]:
    figure = new_figure(11, 4.2, dpi=90, h_pad=0.12)
    ax_acc, ax_share = figure.subplots(1, 2)
    epochs = np.arange(b.order_epochs + 1)
    srt = orders["sorted"]
    for ax, key, label in (
        (ax_acc, "val_acc", "validation accuracy"),
        (ax_share, "share_1", "share of validation points called class 1"),
    ):
        values = orders[key]
        draw_lines(
            ax,
            epochs,
            {
                "sorted by class, fixed order": values[:, srt].mean(1),
                "drawn at random every epoch": values[:, ~srt].mean(1),
            },
            bands={
                "sorted by class, fixed order": (values[:, srt].min(1), values[:, srt].max(1)),
                "drawn at random every epoch": (values[:, ~srt].min(1), values[:, ~srt].max(1)),
            },
            styles={"sorted by class, fixed order": "-", "drawn at random every epoch": "-"},
            title=label + " after each epoch",
            xlabel="epoch",
            ylabel=label,
        )
    ax_share.axhline(orders["true_share_1"], color="black", ls=":", label="true share")
    ax_share.legend(fontsize=8)
    figure.suptitle(f"minibatch order: {b.order_seeds} seeds each, batch {b.order_batch}")
    name = save_figure(figure, ctx.path("batch_noise_order.png")).name
    return name, "sorted against random minibatch order: accuracy and bias after each epoch"


def _size_figure(ctx, b, sizes) -> tuple[str, str]:
    figure = new_figure(11, 4.2, dpi=90, h_pad=0.12)
    ax_lr, ax_sharp = figure.subplots(1, 2)
    draw_lines(
        ax_lr,
        list(b.lrs),
        {
            f"batch {b.small_batch}": [sizes["val_by_lr"]["small"][lr] for lr in b.lrs],
            "full batch": [sizes["val_by_lr"]["full"][lr] for lr in b.lrs],
        },
        title="validation accuracy against Adam's lr",
        xlabel="learning rate",
        ylabel="validation accuracy (mean over seeds)",
        logx=10,
    )
    for name, label in (("small", f"batch {b.small_batch}"), ("full", "full batch")):
        ax_sharp.scatter(sizes[name]["sharpness"], sizes[name]["test_error"], label=label, s=30)
    ax_sharp.set(
        xscale="log",
        xlabel="sharpness: top Hessian eigenvalue of the training loss",
        ylabel="test error",
        title="each at its best lr: sharpness and test error",
    )
    ax_sharp.grid(alpha=0.3)
    ax_sharp.legend(fontsize=8)
    figure.suptitle("batch size (Keskar et al. 2017) on the book's noisy curve data")
    name = save_figure(figure, ctx.path("batch_noise_size.png")).name
    return name, "small against full batch: learning rates, sharpness and test error"


def _method(b: Budget, sizes) -> str:
    return (
        f"Data: the book's curve with its label flips near the boundary ({b.n_train} training, "
        "2,000 validation, 4,000 test points). Order: MLP (32, 32), SGD with momentum 0.9, lr "
        f"0.05, minibatches of {b.order_batch}, {b.order_epochs} epochs, {b.order_seeds} seeds "
        "per order; the sorted members see every class-0 point, then every class-1 point, in "
        "the same order each epoch; the random members use the engine's per-member order. The "
        "verdicts average the last fifth of the epochs. Size: MLP (32, 32), Adam, lr in "
        f"{list(b.lrs)}, batch {b.small_batch} against full batch, {b.size_epochs} epochs, "
        f"{b.size_seeds} seeds each; the best lr per size by mean validation accuracy "
        f"(batch {b.small_batch}: {sizes['small']['lr']:g}, full: {sizes['full']['lr']:g}); "
        f"sharpness by {b.power_iters} steps of power iteration on exact Hessian-vector products "
        "of the full training loss, float64."
    )


def _findings(b, claims, bias_sorted, bias_random, acc, srt, rnd, sizes, sharp_ratio) -> str:
    small, full = sizes["small"], sizes["full"]
    # A best lr at the end of the grid was not really tuned: say so beside the comparison.
    edges = [
        f"{label}'s best lr, {sizes[name]['lr']:g}, is the {end} tried, so a {end[:-3]}er one "
        "might do better"
        for name, label in (("small", f"batch {b.small_batch}"), ("full", "full batch"))
        for end, lr in (("largest", max(b.lrs)), ("smallest", min(b.lrs)))
        if sizes[name]["lr"] == lr
    ]
    edge_words = f" ({'; '.join(edges)})" if edges else ""

    def row(name, label):
        s = sizes[name]
        return (
            f"| {label} | {s['lr']:g} | {s['train_acc'].mean():.3f} | "
            f"{np.median(s['sharpness']):.3g} | {s['test_error'].mean():.3f} |"
        )

    biased, unbiased, better, sharper, worse = claims
    order_words = follow(
        biased,
        "Each epoch's last steps see only class 1, so the model an epoch ends with leans that way",
        "The sorted order did not leave a bias of 0.1 or more here",
        "Whether the sorted order leaves a bias of 0.1 or more, the seeds cannot settle",
    ) + follow(
        unbiased,
        "; random order makes every batch a small unbiased sample of both classes.",
        "; random order left a bias of its own.",
        "; whether random order is unbiased to within 0.05, the seeds cannot settle.",
    )
    accuracy_words = follow(
        better,
        "Random order gave the better validation accuracy.",
        "Random order did not give validation accuracy 0.03 better than sorted order.",
        "Whether random order gives validation accuracy 0.03 better, the seeds cannot settle.",
    )
    sharp_words = follow(
        sharper,
        f"Keskar et al.'s sharpness claim holds here (full / small = {sharp_ratio:.2f})",
        f"Keskar et al.'s sharpness claim does not hold here (full / small = {sharp_ratio:.2f})",
        f"Keskar et al.'s sharpness claim is not settled by these seeds (full / small = "
        f"{sharp_ratio:.2f})",
    )
    error_words = follow(
        worse,
        "full batch generalized worse",
        "full batch did not generalize worse",
        "whether full batch generalizes worse, these seeds cannot tell",
    )
    bound = ""
    if worse.passed is None:  # what the interval does rule out
        gap = float(full["test_error"].mean() - small["test_error"].mean())  # the claim's err_gap
        upper = interval(gap, *difference_se(full["test_error"], small["test_error"]))[1]
        bound = (
            f"; at 95% confidence full batch is at most {upper:.3f} worse, below the 3 to 5 "
            "points Keskar et al. report on CIFAR and TIMIT"
            if upper < 0.03
            else ""
        )
    return (
        f"Order: the sorted members ended their epochs calling {bias_sorted:+.1%} more "
        f"validation points class 1 than there are (random order: {bias_random:+.1%}), and "
        f"reached validation accuracy {acc[srt].mean():.3f} against {acc[rnd].mean():.3f}. "
        f"{order_words} {accuracy_words}\n\n"
        "| batch | best lr | train acc | sharpness (median) | test error |\n"
        "| --- | --- | --- | --- | --- |\n"
        f"{row('small', str(b.small_batch))}\n{row('full', 'full')}\n\n"
        f"Size{edge_words}: {sharp_words}; {error_words} "
        f"({full['test_error'].mean():.3f} against {small['test_error'].mean():.3f}){bound}. "
        "In 2-D with a small MLP the noise of 16-point batches acts on a loss surface that is "
        "already easy; the paper's networks and data are far larger, and later work (Dinh et "
        "al. 2017) showed sharpness alone need not predict generalization."
    )
