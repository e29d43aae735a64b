"""Generators, checked by their properties: counts, ranges, the book's band rule, seeds, noise."""

import inspect

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pointlab.data import load_csv, save_csv
from pointlab.errors import UserError
from pointlab.generators import GENERATORS, curve_boundary, make

from conftest import DATA

BOOK_KINDS = ["linear", "curve", "random"]
MULTI_CLASS_KINDS = ["circle", "gauss", "spiral"]


@pytest.mark.parametrize("kind", list(GENERATORS))
def test_default_shapes_types_and_both_classes(kind):
    data = make(kind)
    assert data.X.shape == (200, 2) and data.X.dtype == np.float32
    assert data.y.shape == (200,) and data.y.dtype == np.int64
    k = inspect.signature(GENERATORS[kind]).parameters["classes"].default  # 2, 5 or 8
    assert data.n_classes == k and data.name == kind
    assert data.class_counts().min() >= 0.6 * 200 / k  # every class, in reasonable proportions
    assert f"{GENERATORS[kind].__name__}(" in data.source


@settings(max_examples=30, deadline=None)
@given(
    kind=st.sampled_from(list(GENERATORS)),
    n=st.integers(1, 300),
    seed=st.integers(0, 2**32 - 1),
    label_noise=st.floats(0.0, 1.0),
)
def test_any_arguments_give_n_points_with_labels_in_range(kind, n, seed, label_noise):
    data = make(kind, n=n, seed=seed, label_noise=label_noise)
    assert len(data) == n
    assert ((data.y >= 0) & (data.y < data.n_classes)).all()
    assert np.isfinite(data.X).all()
    if kind in BOOK_KINDS:  # the book's points are uniform in [0, 1)^2
        assert (data.X >= 0).all() and (data.X < 1).all()


@pytest.mark.parametrize("kind", MULTI_CLASS_KINDS)
@pytest.mark.parametrize("classes", [3, 5])
def test_multi_class_kinds_are_balanced(kind, classes):
    data = make(kind, n=101, classes=classes)
    counts = data.class_counts()
    assert data.n_classes == classes and counts.sum() == 101
    assert counts.max() - counts.min() <= 1


def test_linear_band_rule():
    data = make("linear", n=20_000, seed=7)
    x, y = data.X[:, 0].astype(np.float64), data.X[:, 1].astype(np.float64)
    above = y - (0.8 * x + 0.1)
    side = (above > 0).astype(np.int64)
    outside = np.abs(above) >= 0.1
    assert (data.y[outside] == side[outside]).all()
    kept = (data.y[~outside] == side[~outside]).mean()
    assert kept == pytest.approx(0.7, abs=0.02)


def test_curve_band_rule_allowing_for_the_jitter():
    data = make("curve", n=20_000, seed=7)
    x, y = data.X[:, 0].astype(np.float64), data.X[:, 1].astype(np.float64)
    above = y - curve_boundary(x)
    side = (above > 0).astype(np.int64)
    # e ~ N(0, 0.02) moves the boundary: beyond 0.1 + 5 sd the label is the side's, always.
    far = np.abs(above) > 0.1 + 5 * 0.02
    assert (data.y[far] == side[far]).all()
    # Inside the band, away from its edges and from the curve itself (where e can move a point
    # across), about 70% keep their side's label.
    near = (np.abs(above) > 0.02) & (np.abs(above) < 0.08)
    assert (data.y[near] == side[near]).mean() == pytest.approx(0.7, abs=0.03)


@pytest.mark.parametrize("kind", ["linear", "curve"])
def test_book_noise_zero_gives_a_clean_boundary(kind):
    data = make(kind, n=2_000, noise=0.0)
    x, y = data.X[:, 0].astype(np.float64), data.X[:, 1].astype(np.float64)
    boundary = 0.8 * x + 0.1 if kind == "linear" else curve_boundary(x)
    clear = np.abs(y - boundary) > 0.1  # the curve's jitter stays far below 0.1
    assert (data.y[clear] == (y > boundary)[clear]).all()


def test_random_labels_are_unrelated_to_the_points():
    data = make("random", n=20_000, seed=1)
    assert data.y.mean() == pytest.approx(0.5, abs=0.02)
    left = data.X[:, 0] < 0.5
    assert data.y[left].mean() == pytest.approx(data.y[~left].mean(), abs=0.03)


@pytest.mark.parametrize("kind", list(GENERATORS))
def test_a_seed_reproduces_and_another_seed_differs(kind):
    first, again, other = make(kind, seed=3), make(kind, seed=3), make(kind, seed=4)
    assert np.array_equal(first.X, again.X) and np.array_equal(first.y, again.y)
    assert not np.array_equal(first.X, other.X)


@pytest.mark.parametrize("kind", ["curve", "spiral"])
def test_label_noise_keeps_the_points_and_corrupts_labels(kind):
    clean = make(kind, n=20_000, label_noise=0.0)
    assert np.array_equal(clean.y, make(kind, n=20_000).y)  # P = 0 changes nothing
    half = make(kind, n=20_000, label_noise=0.5)
    assert np.array_equal(half.X, clean.X)
    # A corrupted label is a uniform class, so it still agrees half the time: 1 - P/2 agree.
    assert (half.y == clean.y).mean() == pytest.approx(0.75, abs=0.02)
    chance = make(kind, n=20_000, label_noise=1.0)
    assert (chance.y == clean.y).mean() == pytest.approx(0.5, abs=0.02)


def test_label_noise_with_many_classes_gives_chance_agreement():
    clean = make("gauss", n=20_000, classes=5)
    noisy = make("gauss", n=20_000, classes=5, label_noise=1.0)
    assert (noisy.y == clean.y).mean() == pytest.approx(0.2, abs=0.02)
    assert noisy.class_counts().min() > 3_500


@pytest.mark.parametrize(
    ("kind", "options", "words"),
    [
        ("blobs", {}, "unknown data set kind 'blobs'"),
        ("linear", {"n": 0}, "number of points"),
        ("circle", {"n": 2.5}, "number of points"),
        ("gauss", {"classes": 1}, "number of classes"),
        ("curve", {"classes": 3}, "exactly 2 classes"),
        ("xor", {"classes": 3}, "exactly 2 classes"),
        ("moons", {"label_noise": 1.5}, "label noise"),
        ("random", {"label_noise": -0.1}, "label noise"),
        ("linear", {"noise": 2.0}, "probability"),
        ("spiral", {"noise": -1.0}, "standard deviation"),
        ("circle", {"noise": float("nan")}, "standard deviation"),
    ],
)
def test_bad_arguments_are_refused(kind, options, words):
    with pytest.raises(UserError, match=words):
        make(kind, **options)


def test_saved_data_loads_back_exactly(tmp_path):
    data = make("spiral", n=50, classes=4, seed=2)
    back = load_csv(save_csv(data, tmp_path / "s.csv"))
    assert np.array_equal(back.X, data.X) and np.array_equal(back.y, data.y)
    assert back.n_classes == 4


@pytest.mark.parametrize(("kind", "seed"), [("linear", 1), ("curve", 4), ("random", 3)])
def test_committed_data_files_are_remade_byte_for_byte(tmp_path, kind, seed):
    committed = DATA / f"{kind}.csv"
    made = save_csv(make(kind, seed=seed), tmp_path / f"{kind}.csv")
    assert made.read_bytes() == committed.read_bytes()
