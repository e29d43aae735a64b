"""The generative models' toy sets (FFJORD's, on the unit square), checked by their geometry:
each point lies where its formula puts it, its label says which blob, stretch, square, arm or
spiral; `pointlab data make` writes them and refuses bad options in one line."""

import math

import numpy as np
import pytest

from pointlab.cli import main
from pointlab.data import load_csv
from pointlab.errors import UserError
from pointlab.generators import make

TOY_KINDS = ["8gaussians", "swissroll", "checkerboard", "pinwheel", "twospirals"]
CENTRE = np.array([0.5, 0.5])


def polar(data) -> tuple[np.ndarray, np.ndarray]:
    """Radius and angle in [0, 2 pi) of each point around the centre of the unit square."""
    d = data.X.astype(np.float64) - CENTRE  # (n, 2)
    return np.hypot(d[:, 0], d[:, 1]), np.arctan2(d[:, 1], d[:, 0]) % (2 * math.pi)


def turn_gap(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Smallest angle between directions a and b, in [0, pi]."""
    return np.abs((a - b + math.pi) % (2 * math.pi) - math.pi)


@pytest.mark.parametrize("classes", [2, 4, 8])
def test_8gaussians_points_lie_in_their_blob_and_blob_i_has_class_i_mod_k(classes):
    data = make("8gaussians", n=4000, classes=classes, noise=0.02, seed=1)  # blobs 6 sd apart
    blob = np.round(polar(data)[1] / (2 * math.pi / 8)).astype(int) % 8  # nearest centre
    assert (data.y == blob % classes).all()
    centres = 0.5 + 0.354 * np.column_stack(
        [np.cos(blob * math.pi / 4), np.sin(blob * math.pi / 4)]
    )
    offsets = data.X - centres  # (n, 2): N(0, 0.02) in each coordinate
    assert offsets.std(axis=0) == pytest.approx([0.02, 0.02], rel=0.05)
    assert np.bincount(blob, minlength=8).tolist() == [500] * 8


def test_swissroll_turns_with_its_radius_and_classes_are_stretches_outwards():
    data = make("swissroll", n=3000, classes=3, noise=0.0, seed=2)
    radius, angle = polar(data)
    t = radius * 40  # t in [1.5 pi, 4.5 pi], and the point's angle is t
    assert t.min() >= 1.5 * math.pi - 1e-4 and t.max() <= 4.5 * math.pi + 1e-4
    assert turn_gap(angle, t).max() < 1e-3
    stretch = np.floor((t / (1.5 * math.pi) - 1) / 2 * 3).clip(0, 2)
    assert (data.y == stretch).mean() > 0.999  # float32 points can cross a stretch's end


def test_checkerboard_fills_the_dark_squares_and_colours_them_by_row():
    data = make("checkerboard", n=4000, seed=3)
    assert (data.X >= 0).all() and (data.X < 1).all()
    column, row = np.floor(data.X[:, 0] * 4), np.floor(data.X[:, 1] * 4)
    assert ((column + row) % 2 == 0).all()
    assert (data.y == row % 2).all()
    squares = np.unique(np.column_stack([column, row]), axis=0)
    assert len(squares) == 8
    # Uniform on those squares: each holds about an eighth of the points.
    counts = np.unique(column * 4 + row, return_counts=True)[1]
    assert counts.min() > 4000 / 8 * 0.85


def test_pinwheel_arms_bend_outwards_one_class_per_arm():
    data = make("pinwheel", noise=0.0, n=2500, seed=4)
    assert data.n_classes == 5
    radius, angle = polar(data)
    along = radius * 4  # r ~ N(1, 0.3) > 0 but for a few points in ten thousand
    ahead = along > 0.05
    expected = 2 * math.pi * data.y / 5 + 0.25 * np.exp(along)
    assert (turn_gap(angle, expected)[ahead] < 1e-3).mean() > 0.995
    assert along.mean() == pytest.approx(1.0, abs=0.03)


def test_twospirals_are_mirror_images_from_the_centre():
    data = make("twospirals", n=2000, noise=0.0, seed=5)
    u = polar(data)[0] * 24  # the turn, 0 .. 3 pi
    assert u.max() <= 3 * math.pi + 1e-3
    arm = np.column_stack([-u * np.cos(u), u * np.sin(u)]) / 24
    sign = np.where(data.y == 0, 1.0, -1.0)[:, None]
    assert np.abs(data.X - CENTRE - sign * arm).max() < 1e-5
    assert data.class_counts().tolist() == [1000, 1000]


@pytest.mark.parametrize("kind", TOY_KINDS)
def test_toy_sets_stay_near_the_unit_square(kind):
    data = make(kind, n=5000, seed=6)
    assert (data.X > -0.1).all() and (data.X < 1.1).all()
    assert np.abs(data.X.mean(axis=0) - CENTRE).max() < 0.1


@pytest.mark.parametrize(
    ("kind", "options", "words"),
    [
        ("8gaussians", {"classes": 3}, "8gaussians: classes must be 2, 4 or 8"),
        ("8gaussians", {"classes": 16}, "classes must be 2, 4 or 8"),
        ("checkerboard", {"classes": 4}, "checkerboard: this data set has exactly 2 classes"),
        ("twospirals", {"classes": 3}, "exactly 2 classes"),
        ("pinwheel", {"classes": 1}, "number of classes"),
        ("swissroll", {"noise": -0.1}, "standard deviation"),
        ("pinwheel", {"noise": float("inf")}, "standard deviation"),
        ("checkerboard", {"n": 0}, "number of points"),
    ],
)
def test_bad_toy_arguments_are_refused(kind, options, words):
    with pytest.raises(UserError, match=words):
        make(kind, **options)


def test_data_make_writes_a_toy_set_with_its_own_classes(tmp_path, capsys):
    out = tmp_path / "g.csv"
    assert main(["data", "make", "8gaussians", "--n", "80", "--seed", "2", "-o", str(out)]) == 0
    assert "class 7: 10" in capsys.readouterr().out
    data, expected = load_csv(out), make("8gaussians", n=80, seed=2)
    assert data.n_classes == 8 and np.array_equal(data.X, expected.X)
    assert np.array_equal(data.y, expected.y)


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["8gaussians", "--classes", "3"], "8gaussians: classes must be 2, 4 or 8"),
        (["checkerboard", "--classes", "3"], "checkerboard: this data set has exactly 2 classes"),
        (["swissroll", "--noise", "-1"], "swissroll: noise is a standard deviation"),
    ],
)
def test_data_make_refuses_bad_toy_options_in_one_line(tmp_path, capsys, argv, words):
    out = tmp_path / "x.csv"
    assert main(["data", "make", *argv, "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("pointlab: error: ") and words in err and err.count("\n") == 1
    assert not out.exists()
