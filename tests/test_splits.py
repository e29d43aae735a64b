"""Train / validation / test splits and k folds: sizes, stratification, seeds, no overlap."""

import numpy as np
import pytest

from pointlab.errors import UserError
from pointlab.generators import make
from pointlab.splits import kfold, split


def test_split_is_a_stratified_partition():
    data = make("gauss", n=300, classes=3)
    train, val, test = split(data, val_fraction=0.2, test_fraction=0.1, seed=1)
    assert [len(train), len(val), len(test)] == [210, 60, 30]
    assert val.class_counts().tolist() == [20, 20, 20] and test.class_counts().tolist() == [10] * 3
    points = np.concatenate([train.X, val.X, test.X])
    assert len(np.unique(points, axis=0)) == 300  # every point in exactly one part
    assert train.n_classes == val.n_classes == test.n_classes == 3
    assert val.name == "gauss (validation)"


def test_split_seed_reproduces_and_another_differs():
    data = make("curve")
    first, again, other = split(data, seed=3)[1], split(data, seed=3)[1], split(data, seed=4)[1]
    assert np.array_equal(first.X, again.X) and not np.array_equal(first.X, other.X)


def test_zero_fractions_give_empty_parts():
    data = make("linear", n=40)
    train, val, test = split(data, val_fraction=0.0)
    assert len(train) == 40 and len(val) == 0 and len(test) == 0
    assert val.X.shape == (0, 2) and val.class_counts().tolist() == [0, 0]


@pytest.mark.parametrize(("val", "test"), [(1.0, 0.0), (-0.1, 0.0), (0.5, 0.5), (0.2, 1.2)])
def test_bad_fractions_are_refused(val, test):
    with pytest.raises(UserError, match="fraction"):
        split(make("xor"), val_fraction=val, test_fraction=test)


def test_kfold_covers_every_point_once_and_is_stratified():
    data = make("moons", n=103)
    folds = kfold(data, k=5, seed=0)
    assert len(folds) == 5
    held_out = np.concatenate([val for _, val in folds])
    assert np.array_equal(np.sort(held_out), np.arange(103))
    sizes = [len(val) for _, val in folds]
    assert max(sizes) - min(sizes) <= 1
    for train, val in folds:
        assert len(np.intersect1d(train, val)) == 0 and len(train) + len(val) == 103
        counts = np.bincount(data.y[val], minlength=2)
        assert abs(counts[0] - counts[1]) <= 1


def test_kfold_seeded_and_refuses_bad_k():
    data = make("random", n=30)
    first, again = kfold(data, 3, 1), kfold(data, 3, 1)
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(first, again, strict=True))
    with pytest.raises(UserError, match="k-fold"):
        kfold(data, 1)
    with pytest.raises(UserError, match="k-fold"):
        kfold(data, 31)
