"""Measures of a classifier on labelled points that accuracy hides: per-class recall, balanced
accuracy, and for two classes the precision-recall curve and its average precision. Pure numpy
functions of labels, predictions and scores, with scikit-learn's definitions:

    class_recall(y, predicted, K)       -> (K,) recall of each class (NaN: no point of it)
    balanced_accuracy(y, predicted, K)  -> the mean recall over the classes present in y
    precision_recall(y, score)          -> PrecisionRecall: precision, recall, thresholds, AP

With 1 of 20 points in the minority class, predicting the majority everywhere scores 95%
accuracy and 50% balanced accuracy, and its minority recall is 0: that is why these are reported
(Buda et al. 2018).

Not here: the model's predictions (`pointlab.checkpoint.TrainedModel`), where these are shown
(`pointlab evaluate`, `pointlab train`'s summary, `plots.curves.draw_precision_recall`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def class_recall(y: np.ndarray, predicted: np.ndarray, n_classes: int) -> np.ndarray:
    """(n_classes,) the share of each class's points predicted as that class; NaN for a class
    with no point in y (scikit-learn's `recall_score(average=None)`, which says 0 there)."""
    y, predicted = np.asarray(y, dtype=np.int64), np.asarray(predicted, dtype=np.int64)
    total = np.bincount(y, minlength=n_classes)[:n_classes].astype(float)
    right = np.bincount(y[predicted == y], minlength=n_classes)[:n_classes]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, right / total, np.nan)


def balanced_accuracy(y: np.ndarray, predicted: np.ndarray, n_classes: int) -> float:
    """The mean of the recall of each class that has points in y (scikit-learn's
    `balanced_accuracy_score`); NaN for no points."""
    recall = class_recall(y, predicted, n_classes)
    return float(np.nanmean(recall)) if np.isfinite(recall).any() else float("nan")


@dataclass(frozen=True)
class PrecisionRecall:
    """The precision-recall curve of scores for the positive class, from the highest threshold
    down: point i predicts positive where score >= thresholds[i]. average_precision is
    sum_i (recall_i - recall_{i-1}) precision_i (recall_{-1} = 0), scikit-learn's step rule, no
    interpolation; positive_share is the precision of guessing (the curve's floor)."""

    precision: np.ndarray  # (T,)
    recall: np.ndarray  # (T,)
    thresholds: np.ndarray  # (T,) decreasing
    average_precision: float
    positive_share: float


def precision_recall(y: np.ndarray, score: np.ndarray, positive: int = 1) -> PrecisionRecall:
    """The curve of `score` (higher: more likely `positive`) against the labels y. With no
    positive point, recall and average precision are NaN."""
    is_positive = np.asarray(y) == positive
    score = np.asarray(score, dtype=np.float64)
    order = np.argsort(-score, kind="stable")
    score, is_positive = score[order], is_positive[order]
    # the last point of each run of tied scores: one threshold per distinct score
    ends = np.r_[np.flatnonzero(np.diff(score) != 0), len(score) - 1] if len(score) else []
    true_pos = np.cumsum(is_positive)[ends].astype(float)
    predicted_pos = np.asarray(ends, dtype=float) + 1
    precision = true_pos / predicted_pos
    n_positive = float(is_positive.sum())
    with np.errstate(invalid="ignore", divide="ignore"):
        recall = true_pos / n_positive
    steps = np.diff(np.r_[0.0, recall])
    average = float(np.sum(steps * precision)) if n_positive else float("nan")
    share = n_positive / len(score) if len(score) else float("nan")
    return PrecisionRecall(precision, recall, score[ends], average, share)
