"""The quality number: the energy distance between generated and held-out points, its standard
error against repeated draws, and the two references (a fitted Gaussian must lose to the data's
own second sample by more than two standard errors on moons)."""

import math
import time

import numpy as np
import pytest

from pointlab import generators
from pointlab.errors import UserError
from pointlab.generative.quality import (
    Estimate,
    compare,
    distance,
    gaussian_sample,
    margin,
    median_distance,
    references,
)


def moons(n: int, seed: int, shift: float = 0.0) -> np.ndarray:
    return generators.make("moons", n=n, noise=0.05, seed=seed).X.astype(np.float64) + shift


def normal(n: int, seed: int, shift: float = 0.0) -> np.ndarray:
    points = np.random.default_rng(seed).normal(size=(n, 2))
    points[:, 0] += shift
    return points


def test_two_samples_of_one_distribution_are_zero_within_their_error():
    floor = distance(moons(2000, 1), moons(2000, 2))
    assert abs(floor.value) < 2 * floor.se
    assert 0 < floor.se < 1e-3


def test_the_distance_grows_with_a_shift():
    held_out = moons(1000, 2)
    values = [distance(moons(1000, 1, shift), held_out) for shift in (0.0, 0.05, 0.1, 0.2)]
    assert [e.value for e in values] == sorted(e.value for e in values)
    assert margin(values[0], values[1]) > 2  # a shift of a sixth of a moon's width shows
    # Energy distance of a small shift s of one distribution grows as s^2.
    assert values[3].value / values[2].value == pytest.approx(4, rel=0.25)


def test_the_distance_is_in_the_datas_units():
    x, y = moons(500, 1, 0.1), moons(500, 2)
    plain, scaled = distance(x, y), distance(3 * x + 7, 3 * y + 7)
    assert scaled.value == pytest.approx(3 * plain.value, rel=1e-9)
    assert scaled.se == pytest.approx(3 * plain.se, rel=1e-9)


@pytest.mark.parametrize(("shift", "low", "high"), [(0.3, 0.8, 1.25), (1.0, 0.8, 1.25)])
def test_the_standard_error_matches_repeated_draws_where_the_distributions_differ(shift, low, high):
    estimates = [distance(normal(300, r, shift), normal(300, 1000 + r)) for r in range(120)]
    spread = np.std([e.value for e in estimates], ddof=1)  # the error the SE claims to be
    assert low < np.mean([e.se for e in estimates]) / spread < high


def test_the_standard_error_at_the_floor_errs_on_the_safe_side():
    # Two samples of one distribution: the jackknife overstates the error by about sqrt(2).
    estimates = [distance(normal(300, r), normal(300, 1000 + r)) for r in range(120)]
    spread = np.std([e.value for e in estimates], ddof=1)
    assert 1.0 < np.mean([e.se for e in estimates]) / spread < 2.0
    inside = np.mean([abs(e.value) < 2 * e.se for e in estimates])
    assert inside >= 0.9  # the null distribution is skewed (a weighted chi-square), not normal


def test_on_moons_the_gaussian_reference_lies_clearly_above_the_floor():
    train, a, b = moons(2000, 1), moons(2000, 2), moons(2000, 3)
    refs = references(train, a, b, n=2000, seed=0)
    assert set(refs) == {"gaussian", "floor"}
    assert abs(refs["floor"].value) < 2 * refs["floor"].se
    assert margin(refs["floor"], refs["gaussian"]) > 2
    assert references(train, a, b, n=2000, seed=0) == refs  # seeded: the same numbers again


def test_n_2000_takes_well_under_a_second_of_cpu():
    x, y = moons(2000, 1), moons(2000, 2)
    distance(x, y)  # warm up BLAS
    start = time.process_time()  # CPU time: the machine's other load does not count
    distance(x, y)
    assert time.process_time() - start < 1.0


def test_large_samples_are_subsampled_by_the_seed():
    x, y = moons(3000, 1, 0.1), moons(3000, 2)
    assert distance(x, y, seed=1, max_points=1000) == distance(x, y, seed=1, max_points=1000)
    assert distance(x, y, seed=1, max_points=1000) != distance(x, y, seed=2, max_points=1000)


def test_margin_counts_standard_errors():
    assert margin(Estimate(1.0, 0.3), Estimate(2.0, 0.4)) == pytest.approx(2.0)
    assert margin(Estimate(2.0, 0.3), Estimate(1.0, 0.4)) == pytest.approx(-2.0)
    assert str(Estimate(0.012345, 0.00123)) == "0.01235 ± 0.0012"


@pytest.mark.parametrize(
    ("samples", "words"),
    [
        (np.zeros((2, 2)), r"samples must be an \(N, d\) array with N >= 3"),
        (np.zeros(10), "samples must be an"),
        (np.array([[0.0, 1.0], [np.nan, 0.0], [1.0, 1.0]]), "samples hold NaN or infinity"),
        (np.zeros((10, 3)), "samples have 3 coordinates but held-out points 2"),
    ],
)
def test_bad_points_are_refused_in_words(samples, words):
    with pytest.raises(UserError, match=words):
        distance(samples, moons(10, 0))


def test_references_refuse_too_few_floor_points():
    with pytest.raises(UserError, match="the floor needs 100 points"):
        references(moons(50, 1), moons(50, 2), moons(50, 3), n=100)


def test_compare_is_the_difference_of_the_distances_with_a_tighter_error():
    x, r, y = moons(800, 1, 0.05), moons(800, 2, 0.1), moons(800, 3)
    gap = compare(x, r, y)
    alone_x, alone_r = distance(x, y), distance(r, y)
    assert gap.value == pytest.approx(alone_x.value - alone_r.value, rel=1e-9)
    assert gap.se < math.hypot(alone_x.se, alone_r.se)  # the held-out draw moves both alike


def test_the_error_of_a_comparison_matches_repeated_draws():
    gaps = [
        compare(normal(300, r, 0.3), normal(300, 500 + r, 0.6), normal(300, 1000 + r))
        for r in range(120)
    ]
    spread = np.std([g.value for g in gaps], ddof=1)
    assert 0.8 < np.mean([g.se for g in gaps]) / spread < 1.25
    assert np.mean([g.value for g in gaps]) < 0  # the smaller shift lies closer


def test_the_gaussian_reference_uses_the_points_gaussian_sample_draws():
    train, a, b = moons(500, 1), moons(500, 2), moons(500, 3)
    points = gaussian_sample(train, 400, seed=5)
    assert points.shape == (400, 2)
    assert np.allclose(points.mean(axis=0), train.mean(axis=0), atol=0.03)
    refs = references(train, a, b, n=400, seed=5)
    assert refs["gaussian"] == distance(points, a, seed=5)


def test_a_narrow_gaussian_kernel_tells_a_checkerboard_from_its_gaussian_fit():
    def data(n, seed):
        return generators.make("checkerboard", n=n, seed=seed).X.astype(np.float64)

    train, a, b = data(2000, 0), data(1000, 1), data(1000, 2)
    gaussian = gaussian_sample(train, 1000, seed=0)
    narrow = median_distance(a) / 10
    energy = compare(b, gaussian, a)  # the data's own second sample against the Gaussian
    kernel = compare(b, gaussian, a, bandwidth=narrow)
    assert -kernel.value / kernel.se > 6 > -energy.value / energy.se  # as the docstring says
    floor = distance(b, a, bandwidth=narrow)
    assert abs(floor.value) < 2 * floor.se


def test_the_kernel_estimate_is_the_textbook_unbiased_mmd():
    x, y, s = moons(60, 1, 0.1), moons(50, 2), 0.2

    def k(p, q):
        return np.exp(-((p[:, None] - q[None]) ** 2).sum(-1) / (2 * s * s))

    kxx, kyy = k(x, x), k(y, y)
    mmd2 = (
        (kxx.sum() - np.trace(kxx)) / (60 * 59)
        + (kyy.sum() - np.trace(kyy)) / (50 * 49)
        - 2 * k(x, y).mean()
    )
    assert distance(x, y, bandwidth=s).value == pytest.approx(mmd2, rel=1e-9)
    assert median_distance(y) == pytest.approx(
        np.median(np.sqrt(((y[:, None] - y[None]) ** 2).sum(-1))[np.triu_indices(50, 1)])
    )
