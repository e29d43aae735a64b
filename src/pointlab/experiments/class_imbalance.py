"""Experiment `class-imbalance`: on a 1:20 data set plain training neglects the rare class, and
class weights, class-balanced minibatches or a moved decision threshold each win it back
(Buda, Maki & Mazurowski 2018, "A systematic study of the class imbalance problem in CNNs").

Data: scikit-learn's two moons with noise, so that they overlap (`generators.make_moons`), the
lower moon (class 1) subsampled to one point for every 20 of class 0: training, validation and
test sets drawn alike from their own seeds. Four ways to train the same MLP, each over seeds, the
first three as one population (the same initial weights per seed, so differences are paired):
- plain: every point counts once, random minibatches;
- class weights: `class_weight="balanced"` (scikit-learn's n / (2 count_c): about 10.5 for the
  rare class against 0.53);
- balanced batches: `balanced_batches`, minibatches drawn with replacement, each class equally
  likely (oversampling, Buda et al.'s best remedy);
- threshold moving: the plain model, with class 1 predicted where its probability exceeds the
  threshold that maximizes balanced accuracy on the validation points (not 0.5).
Measured on the test points: the rare class's recall and balanced accuracy (the mean recall of
the two classes), and plain accuracy, which hides the neglect. Verdicts take paired differences
over seeds with Student's t (`base.at_least` with n - 1 degrees of freedom).

Not here: the options themselves (`engine.losses.class_weights`, `engine.batches.balanced_order`),
the metrics (`pointlab.metrics`), drawing (`plots.boundary`, `plots.precision_recall`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pointlab import engine, generators, metrics
from pointlab.checkpoint import TrainedModel
from pointlab.config import TrainConfig
from pointlab.data import Dataset
from pointlab.experiments.base import (
    Claim,
    Context,
    Report,
    at_least,
    at_most,
    mean_at_most,
    standard_error,
)
from pointlab.plots.boundary import compute_boundary, draw_boundary
from pointlab.plots.palette import LINE_COLOURS
from pointlab.plots.precision_recall import draw_precision_recall
from pointlab.plots.save import new_figure, save_figure

NAME = "class-imbalance"
RATIO = 20  # points of class 0 for each point of class 1
NOISE = 0.1  # the moons' spread: they overlap, so a boundary must trade one class for the other
ARMS = ("plain", "class weights", "balanced batches", "threshold moving")
TRAINED = {  # the options of each trained arm
    "plain": {},
    "class weights": {"class_weight": "balanced"},
    "balanced batches": {"balanced_batches": True},
}


@dataclass(frozen=True)
class Budget:
    majority: int  # training points of class 0 (class 1: majority / RATIO)
    epochs: int
    seeds: int


FULL = Budget(majority=2000, epochs=400, seeds=16)
QUICK = Budget(majority=1000, epochs=200, seeds=8)
MODEL = dict(hidden=(32, 32), activation="relu", lr=0.01, batch_size=64)


def imbalanced_moons(majority: int, seed: int) -> Dataset:
    """Two moons with `majority` points of class 0 and majority / RATIO of class 1 (the first
    ones the generator drew of it: a fixed, seeded subsample)."""
    moons = generators.make("moons", n=2 * majority, noise=NOISE, seed=seed)
    rare = np.flatnonzero(moons.y == 1)[: majority // RATIO]
    keep = np.sort(np.r_[np.flatnonzero(moons.y == 0), rare])
    return moons.subset(keep, name=f"moons 1:{RATIO}")


def best_threshold(y: np.ndarray, p1: np.ndarray) -> float:
    """The threshold on P(class 1) that maximizes balanced accuracy on (y, p1): class 1 where
    p1 >= threshold; midway between neighbouring scores, the lowest such on ties."""
    scores = np.unique(p1)
    candidates = np.r_[(scores[:-1] + scores[1:]) / 2, 0.5]
    bacc = [metrics.balanced_accuracy(y, (p1 >= t).astype(int), 2) for t in candidates]
    return float(candidates[int(np.argmax(bacc))])


def moved(model: TrainedModel, threshold: float):
    """predict_proba of `model` with its threshold moved to `threshold`: the logit shifted by
    logit(threshold), so 0.5 of the shifted probability is `threshold` of the model's."""
    shift = np.log(threshold / (1 - threshold))

    def predict_proba(X: np.ndarray) -> np.ndarray:
        z = model.logits(X)[:, 0] - shift
        p1 = 1 / (1 + np.exp(-z))
        return np.column_stack([1 - p1, p1])

    return predict_proba


def run(ctx: Context) -> Report:
    b = QUICK if ctx.quick else FULL
    seeds = range(ctx.seed_count(b.seeds))
    train = imbalanced_moons(b.majority, seed=0)
    val = imbalanced_moons(b.majority, seed=1)
    test = imbalanced_moons(5 * b.majority, seed=2)
    configs = [
        TrainConfig(**MODEL, epochs=b.epochs, seed=s, **TRAINED[arm])  # type: ignore[arg-type]
        for arm in TRAINED
        for s in seeds
    ]
    n = len(seeds)
    ctx.say(
        f"class-imbalance: {len(configs)} models ({len(TRAINED)} ways x {n} seeds), one population"
    )
    results = engine.train(
        configs, train.X, train.y, val.X, val.y, device=ctx.device, log_every=b.epochs
    )
    models = {
        arm: [TrainedModel(r.config, 2, r.final_state) for r in results[i * n : (i + 1) * n]]
        for i, arm in enumerate(TRAINED)
    }
    predictors = {arm: [m.predict_proba for m in ms] for arm, ms in models.items()}
    thresholds = [best_threshold(val.y, m.predict_proba(val.X)[:, 1]) for m in models["plain"]]
    predictors["threshold moving"] = [
        moved(m, t) for m, t in zip(models["plain"], thresholds, strict=True)
    ]

    measured = {arm: _measure(predictors[arm], test) for arm in ARMS}  # arm -> metric -> (seeds,)
    claims = _claims(measured, n)
    name = _figure(ctx, train, test, predictors, measured, thresholds[0])

    def mean(arm: str, metric: str) -> float:
        return float(measured[arm][metric].mean())

    table = "\n".join(
        f"| {arm} | {mean(arm, 'recall_1'):.3f} | {mean(arm, 'balanced_accuracy'):.3f} | "
        f"{mean(arm, 'accuracy'):.3f} | {mean(arm, 'recall_0'):.3f} |"
        for arm in ARMS
    )
    findings = (
        f"Test means over {n} seeds ({len(test)} points, {int(test.y.sum())} of class 1):\n\n"
        "| training | recall of class 1 | balanced accuracy | accuracy | recall of class 0 |\n"
        "| --- | --- | --- | --- | --- |\n"
        f"{table}\n\n"
        f"Predicting class 0 everywhere would score accuracy {1 - test.y.mean():.3f} and balanced "
        f"accuracy 0.5. The thresholds chosen on validation data: "
        f"{', '.join(f'{t:.3f}' for t in thresholds)} (0.5 is plain training's)."
    )
    return Report(
        title="Class imbalance: plain training neglects the rare class; weights, resampling or "
        "a moved threshold win it back",
        claim=(
            "Buda, Maki & Mazurowski (2018), 'A systematic study of the class imbalance problem "
            "in convolutional neural networks': imbalance hurts the minority class; "
            "oversampling it (here: class-balanced minibatches) restores performance, and so "
            "does weighting the loss; moving the decision threshold to compensate for the prior "
            "class probabilities recovers much of the loss without retraining."
        ),
        method=(
            f"Data: two moons (noise {NOISE}), class 1 subsampled to 1:{RATIO}: "
            f"{len(train)} training points ({int(train.y.sum())} of class 1), {len(val)} "
            f"validation (seed 1), {len(test)} test (seed 2). Model: MLP 2-32-32-1 ReLU, Adam lr "
            f"{MODEL['lr']}, minibatches of {MODEL['batch_size']}, {b.epochs} epochs, final "
            f"weights; {n} seeds, the three trained ways as one population of {len(configs)} "
            "(seed s starts from the same weights in each). Threshold moving: the plain model "
            "with the threshold on P(class 1) that maximizes balanced accuracy on the validation "
            "points. Verdicts: paired differences over seeds, mean +- Student's t(n - 1) "
            "standard errors."
        ),
        claims=claims,
        figures=[
            (
                name,
                "decision boundaries (seed 0, over its training points, class 1 blue, "
                "misclassified ringed) of each way, the "
                "recall and balanced accuracy of every seed, and precision-recall on the test",
            )
        ],
        findings=findings,
        numbers={
            "measured": {a: {k: v.tolist() for k, v in m.items()} for a, m in measured.items()},
            "thresholds": thresholds,
            "seeds": n,
            "train_points": len(train),
            "train_class_1": int(train.y.sum()),
            "epochs": b.epochs,
        },
    )


def _measure(predictors, test: Dataset) -> dict[str, np.ndarray]:
    """(seeds,) of recall of each class, balanced accuracy and accuracy on the test points."""
    rows = []
    for predict in predictors:
        predicted = (predict(test.X)[:, 1] > 0.5).astype(np.int64)
        recall = metrics.class_recall(test.y, predicted, 2)
        rows.append((recall[0], recall[1], recall.mean(), float(np.mean(predicted == test.y))))
    columns = np.array(rows).T
    return dict(
        zip(("recall_0", "recall_1", "balanced_accuracy", "accuracy"), columns, strict=True)
    )


def _paired(measured, arm: str, base: str, metric: str) -> tuple[float, float]:
    """Mean and standard error over seeds of arm's metric minus base's, seed by seed."""
    difference = measured[arm][metric] - measured[base][metric]
    return float(difference.mean()), standard_error(difference)


def _claims(measured, n: int) -> list[Claim]:
    t = n - 1  # degrees of freedom: one group of seeds, or differences paired by seed
    plain = measured["plain"]
    gap, gap_se = (
        float((plain["accuracy"] - plain["balanced_accuracy"]).mean()),
        standard_error(plain["accuracy"] - plain["balanced_accuracy"]),
    )
    recall, recall_se = _paired(measured, "class weights", "plain", "recall_1")
    claims = [
        Claim(
            "plain training neglects the rare class",
            "plain recall of class 1 <= 0.75 (test, mean over seeds)",
            f"{plain['recall_1'].mean():.3f} +- {standard_error(plain['recall_1']):.3f}",
            mean_at_most(plain["recall_1"], 0.75),
        ),
        Claim(
            "accuracy hides it",
            "plain accuracy - plain balanced accuracy >= 0.03",
            f"{gap:+.3f} +- {gap_se:.3f}",
            at_least(gap, 0.03, gap_se, t),
        ),
        Claim(
            "class weights raise the rare class's recall",
            "recall of class 1, class weights - plain >= 0.1 (paired by seed)",
            f"{recall:+.3f} +- {recall_se:.3f}",
            at_least(recall, 0.1, recall_se, t),
        ),
    ]
    for arm in ("class weights", "balanced batches", "threshold moving"):
        gain, se = _paired(measured, arm, "plain", "balanced_accuracy")
        claims.append(
            Claim(
                f"{arm} raise{'s' if arm == 'threshold moving' else ''} balanced accuracy",
                f"balanced accuracy, {arm} - plain >= 0.03 (paired by seed)",
                f"{gain:+.3f} +- {se:.3f}",
                at_least(gain, 0.03, se, t),
            )
        )
    match, match_se = _paired(measured, "threshold moving", "class weights", "balanced_accuracy")
    claims.append(
        Claim(
            "threshold moving matches reweighting, without retraining",
            "|balanced accuracy, threshold moving - class weights| <= 0.03 (paired by seed)",
            f"{match:+.3f} +- {match_se:.3f}",
            at_most(abs(match), 0.03, match_se, t),
        )
    )
    return claims


def _figure(ctx: Context, train, test, predictors, measured, threshold: float) -> str:
    figure = new_figure(16, 9.5, dpi=72)
    axes = figure.subplots(2, 3)
    boundary_axes = [axes[0, 0], axes[0, 1], axes[1, 0], axes[1, 1]]
    for ax, arm in zip(boundary_axes, ARMS, strict=True):
        picture = compute_boundary(predictors[arm][0], train, steps=160)
        m = measured[arm]
        title = (
            f"{arm} (seed 0): recall of class 1 {m['recall_1'][0]:.2f}, "
            f"balanced acc. {m['balanced_accuracy'][0]:.2f}"
        )
        if arm == "threshold moving":
            title += f"\nthreshold {threshold:.3f}"
        draw_boundary(ax, picture, title=title, colourbar=False, legend=False, point_size=9)
    _draw_seeds(axes[0, 2], measured)
    curves = {
        arm: metrics.precision_recall(test.y, predictors[arm][0](test.X)[:, 1]) for arm in TRAINED
    }
    colours = dict(zip(ARMS, LINE_COLOURS, strict=False))
    draw_precision_recall(axes[1, 2], curves, colours)
    # Where threshold moving sits: the plain model's curve at its chosen threshold.
    p1 = predictors["plain"][0](test.X)[:, 1]
    chosen = p1 >= threshold
    if chosen.any():
        precision = float(test.y[chosen].mean())
        recall = float(chosen[test.y == 1].mean())
        axes[1, 2].scatter(
            [recall],
            [precision],
            color=colours["threshold moving"],
            zorder=4,
            label="threshold moving",
        )
        axes[1, 2].legend(fontsize="small", loc="lower left")
    axes[1, 2].set_title("precision-recall on the test points (seed 0)", fontsize=10)
    figure.suptitle(
        f"class-imbalance: two moons at 1:{RATIO}, {len(train)} training points "
        f"({int(train.y.sum())} of class 1)"
    )
    return save_figure(figure, ctx.path("class_imbalance.png")).name


def _draw_seeds(ax, measured) -> None:
    """Recall of class 1 and balanced accuracy of every seed, per way of training."""
    for j, (metric, label, marker) in enumerate(
        (("recall_1", "recall of class 1", "o"), ("balanced_accuracy", "balanced accuracy", "s"))
    ):
        for i, arm in enumerate(ARMS):
            values = measured[arm][metric]
            x = i + (j - 0.5) * 0.3 + np.linspace(-0.05, 0.05, len(values))
            ax.scatter(
                x,
                values,
                color=LINE_COLOURS[j],
                marker=marker,
                s=18,
                alpha=0.8,
                label=label if i == 0 else None,
            )
            ax.hlines(
                values.mean(),
                i + (j - 0.5) * 0.3 - 0.12,
                i + (j - 0.5) * 0.3 + 0.12,
                color="black",
                linewidth=1.5,
            )
    ax.set_xticks(range(len(ARMS)), [a.replace(" ", "\n") for a in ARMS], fontsize=9)
    ax.set_ylim(0, 1.02)
    ax.set_ylabel("on the test points (bars: mean over seeds)")
    ax.set_title("every seed", fontsize=10)
    ax.grid(True, axis="y", alpha=0.3)
    ax.legend(fontsize="small", loc="lower right")
