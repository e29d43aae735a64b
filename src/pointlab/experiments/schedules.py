"""Experiment `schedules`: constant, step, cosine, warmup + cosine and cosine with warm restarts.

Claims: Loshchilov & Hutter 2017 ("SGDR: Stochastic gradient descent with warm restarts") anneal
the learning rate along a cosine, with restarts; Goyal et al. 2017 ("Accurate, large minibatch SGD:
training ImageNet in 1 hour") warm up linearly so that a peak learning rate too large for the start
of training becomes usable. Here, on 2-D points with the population engine:
- each schedule and the training loss it gives (one population, seeds x schedules);
- a scan of peak learning rates with and without warmup (one population): some peak fails without
  warmup and trains with it;
- cosine ends with a lower training loss than constant at the same peak;
- `pointlab.engine.schedules` equals `torch.optim.lr_scheduler` (SequentialLR warmup included),
  epoch by epoch.

Not here: the schedules themselves (`pointlab.engine.schedules`), the drawing
(`pointlab.plots.lines`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from pointlab import engine, generators
from pointlab.config import TrainConfig
from pointlab.engine.schedules import lr_table
from pointlab.experiments.base import Claim, Context, Report, mean_at_most
from pointlab.plots.lines import Panel, Series, plot_panels
from pointlab.splits import split

NAME = "schedules"


@dataclass(frozen=True)
class Budget:
    """The five-schedule comparison (n points, epochs, batch, peak lr, seeds) and the warmup
    scan (its epochs, warmup epochs, seeds and peak learning rates)."""

    n: int = 800
    epochs: int = 60
    batch: int = 32
    lr: float = 0.3
    seeds: int = 3
    scan_epochs: int = 300
    scan_warmup: int = 60
    scan_seeds: int = 4
    scan_lrs: tuple[float, ...] = (0.4, 0.8, 1.2, 1.6, 2.4, 3.2)


FULL = Budget()
# Quick: fewer schedule epochs; the scan is the full one at the two peaks where warmup matters.
QUICK = Budget(epochs=30, scan_lrs=(1.2, 1.6))
# Validation accuracy that counts as trained: a nonlinear fit of moons reaches ~1.0, while a run
# knocked back to an almost linear boundary ends near 0.88-0.91.
TRAINS = 0.95


def schedule_configs(base: TrainConfig) -> dict[str, TrainConfig]:
    """The five schedules compared, all with the same peak learning rate and epoch budget."""
    e = base.epochs
    return {
        "constant": base.replace(schedule="constant"),
        "step": base.replace(schedule="step", step_size=e // 3, gamma=0.1),
        "cosine": base.replace(schedule="cosine"),
        "warmup + cosine": base.replace(schedule="cosine", warmup=e // 10),
        "cosine restarts": base.replace(schedule="cosine_restarts", step_size=e // 3),
    }


def torch_lrs(config: TrainConfig) -> np.ndarray:
    """The learning rate of each epoch from torch's own schedulers, stepped once per epoch."""
    sched = torch.optim.lr_scheduler
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=config.lr)
    main: sched.LRScheduler
    if config.schedule == "step":
        main = sched.StepLR(opt, step_size=config.step_size, gamma=config.gamma)
    elif config.schedule == "cosine":
        t_max = max(config.epochs - config.warmup, 1)
        main = sched.CosineAnnealingLR(opt, T_max=t_max, eta_min=config.lr_end)
    elif config.schedule == "cosine_restarts":
        main = sched.CosineAnnealingWarmRestarts(opt, T_0=config.step_size, eta_min=config.lr_end)
    else:
        main = sched.ConstantLR(opt, factor=1.0, total_iters=0)
    scheduler: sched.LRScheduler = main
    if config.warmup > 0:
        w = config.warmup
        warm = sched.LinearLR(opt, start_factor=1 / (w + 1), end_factor=1.0, total_iters=w)
        scheduler = sched.SequentialLR(opt, [warm, main], milestones=[w])
    out = []
    for _ in range(config.epochs):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        scheduler.step()
    return np.array(out)


def torch_agreement(epochs: int = 90) -> float:
    """Largest relative difference between pointlab's and torch's learning rates over every
    schedule kind, with and without warmup, over all epochs."""
    worst = 0.0
    base = TrainConfig(lr=0.5, epochs=epochs, lr_end=0.01, step_size=epochs // 4, gamma=0.5)
    for kind in ("constant", "step", "cosine", "cosine_restarts"):
        for warmup in (0, 7):
            config = base.replace(schedule=kind, warmup=warmup)
            ours = np.array([lr_table([config], e)[0] for e in range(epochs)])
            worst = max(worst, float(np.max(np.abs(ours - torch_lrs(config)) / torch_lrs(config))))
    return worst


def run(ctx: Context) -> Report:
    s = QUICK if ctx.quick else FULL
    seeds = ctx.seed_count(s.seeds)
    # 1. The five schedules: overlapping Gaussian blobs (the loss has a floor above 0) and
    # minibatch momentum SGD, whose gradient noise keeps a constant rate above that floor.
    ctx.say("schedules: five schedules")
    blobs = generators.make("gauss", n=s.n, noise=0.2, seed=0)
    train, val, _ = split(blobs, 0.25, 0.25, seed=0)
    base = TrainConfig(
        hidden=(32, 32), optimizer="momentum", lr=s.lr, epochs=s.epochs, batch_size=s.batch
    )
    kinds = schedule_configs(base)
    configs = [c.replace(seed=k) for c in kinds.values() for k in range(seeds)]
    results = engine.train(configs, train.X, train.y, val.X, val.y, log_every=1, device=ctx.device)
    epochs = np.array(results[0].history["epoch"])
    curves = {}  # name -> (seeds, epochs+1) training loss
    for i, name in enumerate(kinds):
        chunk = results[i * seeds : (i + 1) * seeds]
        curves[name] = np.array([r.history["train_loss"] for r in chunk])
    final = {name: float(np.mean(c[:, -1])) for name, c in curves.items()}
    cosine_gap = curves["cosine"][:, -1] - curves["constant"][:, -1]  # (seeds,) paired by seed
    final_val = {
        name: float(np.mean([r.last("val_acc") for r in results[i * seeds : (i + 1) * seeds]]))
        for i, name in enumerate(kinds)
    }

    # 2. Peak learning rates with and without warmup: separable moons (a nonlinear fit reaches
    # ~1.0), full-batch momentum SGD, cosine after the warmup.
    ctx.say("schedules: warmup scan")
    moons = generators.make("moons", n=s.n, seed=0)
    train, val, _ = split(moons, 0.25, 0.25, seed=0)
    scan = TrainConfig(hidden=(32,), optimizer="momentum", schedule="cosine", epochs=s.scan_epochs)
    lrs, ss = s.scan_lrs, ctx.seed_count(s.scan_seeds)
    scan_configs = [
        scan.replace(lr=lr, warmup=w, seed=k)
        for lr in lrs
        for w in (0, s.scan_warmup)
        for k in range(ss)
    ]
    scan_results = engine.train(
        scan_configs, train.X, train.y, val.X, val.y, log_every=50, device=ctx.device
    )
    table = []  # one row per (lr, warmup)
    for j in range(0, len(scan_configs), ss):
        chunk = scan_results[j : j + ss]
        accs = [0.0 if r.status == "diverged" else r.last("val_acc") for r in chunk]
        worst = max(float(np.nanmax(r.history["train_loss"])) for r in chunk)
        table.append(
            dict(
                lr=scan_configs[j].lr,
                warmup=scan_configs[j].warmup,
                val_acc=float(np.mean(accs)),
                trained=sum(a >= TRAINS for a in accs),
                diverged=sum(r.status == "diverged" for r in chunk),
                max_loss=worst,
            )
        )
    no_warm = [r for r in table if r["warmup"] == 0]
    warm = [r for r in table if r["warmup"] > 0]
    rescued = [
        a["lr"]
        for a, b in zip(no_warm, warm, strict=True)
        if a["trained"] <= ss // 2 and b["trained"] == ss
    ]
    largest = {
        name: max([r["lr"] for r in rows if r["trained"] == ss], default=0.0)
        for name, rows in (("no warmup", no_warm), ("warmup", warm))
    }

    # 3. The schedule functions against torch.optim.lr_scheduler.
    agreement = torch_agreement()

    names = list(kinds)
    steps = np.arange(base.epochs)
    lr_series = [Series(n, steps, [lr_table([kinds[n]], int(e))[0] for e in steps]) for n in names]
    loss_series = [
        Series(
            n, epochs, np.exp(np.log(curves[n]).mean(0)), band=(curves[n].min(0), curves[n].max(0))
        )
        for n in names
    ]
    plot_panels(
        ctx.path("schedules.png"),
        f"Five schedules, peak lr {base.lr}, momentum SGD, batch "
        f"{base.batch_size}, Gaussian blobs ({s.n // 2} training points, {seeds} seeds)",
        [
            Panel("learning rate per epoch", "epoch", "learning rate", lr_series),
            Panel(
                "training loss (band: min-max over seeds)",
                "epoch",
                "training loss (BCE)",
                loss_series,
                logy=True,
            ),
        ],
    )
    plot_panels(
        ctx.path("warmup.png"),
        f"Peak learning rate with and without {s.scan_warmup} "
        f"warmup epochs (full batch, cosine, {s.scan_epochs} epochs, {ss} seeds)",
        [
            Panel(
                "validation accuracy at the end (diverged = 0)",
                "peak learning rate",
                "validation accuracy",
                [
                    Series("no warmup", lrs, [r["val_acc"] for r in no_warm], "o-"),
                    Series(
                        f"warmup {s.scan_warmup} epochs", lrs, [r["val_acc"] for r in warm], "s-"
                    ),
                    Series(f"trained (>= {TRAINS})", lrs, [TRAINS] * len(lrs), ":", "k"),
                ],
                logx=True,
            ),
            Panel(
                "seeds that trained",
                "peak learning rate",
                f"seeds with val acc >= {TRAINS}",
                [
                    Series("no warmup", lrs, [r["trained"] for r in no_warm], "o-"),
                    Series("warmup", lrs, [r["trained"] for r in warm], "s-"),
                ],
                logx=True,
                ylim=(-0.2, ss + 0.2),
            ),
        ],
    )

    claims = [
        Claim(
            "a peak lr that fails without warmup trains with it",
            f"some peak lr: with warmup {ss}/{ss} seeds reach val acc {TRAINS}, without "
            f"warmup at most {ss // 2}/{ss} (diverged counts as failed)",
            rescued or "none",
            bool(rescued),
        ),
        Claim(
            "cosine ends lower than constant",
            "mean final training loss cosine - constant < 0 (paired by seed, 95% t interval)",
            f"{final['cosine']:.4f} vs {final['constant']:.4f}",
            mean_at_most(cosine_gap, 0.0),
        ),
        Claim(
            "schedules equal torch.optim.lr_scheduler",
            "max relative difference < 1e-9 (every kind, with and without SequentialLR warmup)",
            agreement,
            agreement < 1e-9,
        ),
    ]
    rows = "\n".join(f"| {n} | {final[n]:.4f} | {final_val[n]:.3f} |" for n in names)
    scan_rows = "\n".join(
        f"| {a['lr']} | {a['trained']}/{ss} ({a['diverged']} NaN) | {a['val_acc']:.3f} "
        f"| {b['trained']}/{ss} ({b['diverged']} NaN) | {b['val_acc']:.3f} |"
        for a, b in zip(no_warm, warm, strict=True)
    )
    findings = (
        f"Final training loss and validation accuracy (mean over {seeds} seeds):\n\n"
        f"| schedule | final train loss | val acc |\n| --- | --- | --- |\n{rows}\n\n"
        f"Warmup scan (trained = val acc >= {TRAINS}; NaN = marked diverged by the engine):\n\n"
        f"| peak lr | no warmup: trained | val acc | warmup: trained | val acc |\n"
        f"| --- | --- | --- | --- | --- |\n{scan_rows}\n\n"
        f"Largest peak lr where every seed trains: {largest['no warmup']} without warmup, "
        f"{largest['warmup']} with warmup. In 2-D a too-large first step rarely overflows to NaN: "
        "the loss jumps, ReLU units die or the net falls back to an almost linear "
        "boundary (moons: ~0.88 accuracy). So a run counts as failed when it ends below "
        f"{TRAINS} validation accuracy or diverges, not only on NaN. "
        + (
            "At still larger peaks warmup does not help either: the window where it rescues a "
            "run is narrow.\n\n"
            if rescued and any(b["lr"] > max(rescued) and b["trained"] < ss for b in warm)
            else "\n\n"
            if rescued
            else "No peak of this scan failed without warmup and trained with it.\n\n"
        )
        + f"Schedules against torch: largest relative difference {agreement:.2e}."
    )
    method = (
        f"Data: split 50/25/25 train/val/test (seed 0). Schedules: `gauss` ({s.n} points, "
        "noise 0.2: overlapping blobs, so the training loss has a floor above 0), MLP (32, 32) "
        f"ReLU, momentum SGD (0.9), peak lr {base.lr}, batch "
        f"{base.batch_size}, {base.epochs} epochs; step: x0.1 every {base.epochs // 3} epochs; "
        f"warmup {base.epochs // 10} epochs; restarts every {base.epochs // 3} epochs; {seeds} "
        f"seeds; one engine population. Warmup scan: `moons` ({s.n} points), MLP (32,), full "
        "batch momentum SGD, cosine "
        f"over {s.scan_epochs} epochs, peak lr in {list(lrs)}, warmup 0 or "
        f"{s.scan_warmup} epochs, {ss} seeds, one population. Torch check: `lr_table` "
        "against StepLR, CosineAnnealingLR, CosineAnnealingWarmRestarts, ConstantLR, each also "
        "behind LinearLR in SequentialLR, stepped once per epoch for 90 epochs."
    )
    return Report(
        title="Learning-rate schedules and warmup",
        claim=(
            "Loshchilov & Hutter (2017, SGDR) anneal the learning rate along a cosine, optionally "
            "with warm restarts; Goyal et al. (2017) warm the learning rate up linearly so that a "
            "large peak learning rate does not wreck the start of training. Annealing ends lower "
            "than a constant rate; warmup makes a peak usable that fails without it."
        ),
        method=method,
        claims=claims,
        figures=[
            ("schedules.png", "Each schedule (left) and its training loss (right)."),
            ("warmup.png", "Peak learning rate with and without warmup."),
        ],
        findings=findings,
        numbers=dict(
            final_train_loss=final,
            final_val_acc=final_val,
            warmup_scan=table,
            largest_trained_lr=largest,
            rescued_lrs=rescued,
            torch_max_rel_diff=agreement,
        ),
    )
