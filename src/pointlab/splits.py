"""Seeded, stratified splits of a `Dataset`: train / validation / test, and k folds.

Stratified means each class is split on its own, so every part keeps the class proportions of the
whole (up to rounding per class). The randomness comes only from `numpy.random.default_rng(seed)`.
Indices in every part are returned in file order, so a split never reorders the points; shuffling
for minibatches is the engine's business.

Not here: loading (`pointlab.data`), generating (`pointlab.generators`).
"""

from __future__ import annotations

import numpy as np

from pointlab.data import Dataset
from pointlab.errors import UserError


def split(
    dataset: Dataset, val_fraction: float = 0.25, test_fraction: float = 0.0, seed: int = 0
) -> tuple[Dataset, Dataset, Dataset]:
    """(train, validation, test). Each class gives round(n_c * fraction) points to validation and
    to test and the rest to train; a fraction of 0 gives an empty Dataset."""
    if not (0.0 <= val_fraction < 1.0 and 0.0 <= test_fraction < 1.0):
        raise UserError(
            f"validation and test fractions must be in [0, 1), got {val_fraction} and "
            f"{test_fraction}"
        )
    if val_fraction + test_fraction >= 1.0:
        raise UserError(
            f"validation + test fractions must leave points to train on, got "
            f"{val_fraction} + {test_fraction} >= 1"
        )
    rng = np.random.default_rng(seed)
    parts: list[list[np.ndarray]] = [[], [], []]  # train, val, test index chunks
    for members in _class_members(dataset):
        members = rng.permutation(members)
        n_test = round(len(members) * test_fraction)
        n_val = min(round(len(members) * val_fraction), len(members) - n_test)
        parts[2].append(members[:n_test])
        parts[1].append(members[n_test : n_test + n_val])
        parts[0].append(members[n_test + n_val :])
    names = (f"{dataset.name} (train)", f"{dataset.name} (validation)", f"{dataset.name} (test)")
    train, val, test = (
        dataset.subset(_joined(chunks), name) for chunks, name in zip(parts, names, strict=True)
    )
    return train, val, test


def kfold(dataset: Dataset, k: int, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """k stratified folds as (train indices, validation indices) pairs, int64, each point in
    exactly one validation part. Fold sizes differ by at most one."""
    if not 2 <= k <= len(dataset):
        raise UserError(f"k-fold needs 2 <= k <= {len(dataset)} (the number of points), got {k}")
    rng = np.random.default_rng(seed)
    fold = np.empty(len(dataset), dtype=np.int64)  # (N,) fold of each point
    offset = 0
    for members in _class_members(dataset):
        members = rng.permutation(members)
        # Deal each class round-robin, starting where the previous class stopped, so that both
        # the class mix and the total size stay balanced across folds.
        fold[members] = (offset + np.arange(len(members))) % k
        offset += len(members)
    return [(np.flatnonzero(fold != i), np.flatnonzero(fold == i)) for i in range(k)]


def _class_members(dataset: Dataset) -> list[np.ndarray]:
    """Indices of each class's points, int64, class 0 first."""
    return [np.flatnonzero(dataset.y == c) for c in range(dataset.n_classes)]


def _joined(chunks: list[np.ndarray]) -> np.ndarray:
    return np.sort(np.concatenate(chunks)).astype(np.int64) if chunks else np.zeros(0, np.int64)
