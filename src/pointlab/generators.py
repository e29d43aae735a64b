"""Generators of 2-D point data sets: pure functions, one signature, one seed each.

    make_KIND(n=200, classes=2, noise=DEFAULT, label_noise=0.0, seed=0) -> Dataset

The book's three sets follow its `create_data.py`: points uniform in [0, 1)^2, label 1 above the
boundary and 0 below.
- linear: boundary y = 0.8x + 0.1.
- curve: boundary y = 0.3 sin(10x) + 0.2 cos(15x) + 0.1 sin(20x) + 0.5 + e, e ~ N(0, 0.02) (a
  standard deviation) drawn for each point.
- linear and curve: a point within 0.1 of the boundary (vertically) takes the other side's label
  with probability `noise` (the book's 0.3 by default), its own side's label otherwise.
- random: labels 0 or 1 with probability 1/2 each, unrelated to the points; `noise` is unused.
They exist for two classes only.

The other sets live around the unit square too, centred on (0.5, 0.5), with balanced classes; their
`noise` is the standard deviation of Gaussian jitter added to every point (which can push a few
points outside the square): circle (K rings), xor (two classes), gauss (one blob per class, `noise`
is the blob's spread), spiral (K interleaved arms), moons (two classes).

The toy sets of the normalizing-flow and flow-matching papers follow FFJORD's `toy_data.py` (the
sets torchcfm and tiny-diffusion reuse), mapped from FFJORD's box [-4, 4]^2 onto the unit square
(divided by 8, centred on (0.5, 0.5)), each labelled where a label is natural:
- 8gaussians: eight blobs on a circle; gaussian i has class i mod K (K = 2, 4 or 8, default 8).
- swissroll: the 2-D swiss roll; class c is the c-th of K equal stretches along the roll.
- checkerboard: uniform on the 8 dark squares of a 4 x 4 board; the class colours those squares
  as a second, diagonal board (the square's row parity), so squares meeting at a corner differ.
- pinwheel: K arms (default 5) bending outwards, class = arm.
- twospirals: two spirals of 1.5 turns from the centre, class = spiral.
Their `noise` is again a standard deviation of Gaussian jitter, at FFJORD's own by default.

`label_noise` P corrupts labels last, as Zhang et al. 2017 do: each label is replaced, with
probability P, by a class drawn uniformly from all K (so it may stay the same). The points and the
clean labels do not depend on P.

Not here: loading and saving files (`pointlab.data`), pictures (`pointlab.plots`).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from pointlab.data import Dataset
from pointlab.errors import UserError

CENTER = 0.5


def make_linear(
    n: int = 200, classes: int = 2, noise: float = 0.3, label_noise: float = 0.0, seed: int = 0
) -> Dataset:
    _check("linear", n, classes, label_noise, two_classes=True, noise_probability=noise)
    rng = np.random.default_rng(seed)
    X = _unit_square(rng, n)  # (n, 2)
    boundary = 0.8 * X[:, 0] + 0.1
    y = _book_labels(rng, X[:, 1] - boundary, noise)
    return _finish("linear", X, y, classes, label_noise, rng, (n, classes, noise, seed))


def make_curve(
    n: int = 200, classes: int = 2, noise: float = 0.3, label_noise: float = 0.0, seed: int = 0
) -> Dataset:
    _check("curve", n, classes, label_noise, two_classes=True, noise_probability=noise)
    rng = np.random.default_rng(seed)
    X = _unit_square(rng, n)  # (n, 2)
    x = X[:, 0]
    boundary = curve_boundary(x) + rng.normal(0.0, 0.02, n)
    y = _book_labels(rng, X[:, 1] - boundary, noise)
    return _finish("curve", X, y, classes, label_noise, rng, (n, classes, noise, seed))


def curve_boundary(x: np.ndarray) -> np.ndarray:
    """The book's curve without its per-point jitter e."""
    return 0.3 * np.sin(10 * x) + 0.2 * np.cos(15 * x) + 0.1 * np.sin(20 * x) + 0.5


def make_random(
    n: int = 200, classes: int = 2, noise: float = 0.0, label_noise: float = 0.0, seed: int = 0
) -> Dataset:
    _check("random", n, classes, label_noise, two_classes=True, noise_spread=noise)
    rng = np.random.default_rng(seed)
    X = _unit_square(rng, n)  # (n, 2)
    y = rng.integers(0, 2, n)
    return _finish("random", X, y, classes, label_noise, rng, (n, classes, noise, seed))


def make_circle(
    n: int = 200, classes: int = 2, noise: float = 0.02, label_noise: float = 0.0, seed: int = 0
) -> Dataset:
    """Class c lies in the ring of radii (c + 0.1)/K .. (c + 0.9)/K times 0.5: class 0 in the
    middle, rings separated by gaps that noise fills."""
    _check("circle", n, classes, label_noise, noise_spread=noise)
    rng = np.random.default_rng(seed)
    y = _balanced(rng, n, classes)
    radius = 0.5 * (y + rng.uniform(0.1, 0.9, n)) / classes
    angle = rng.uniform(0.0, 2 * math.pi, n)
    X = _polar(radius, angle) + rng.normal(0.0, noise, (n, 2))
    return _finish("circle", X, y, classes, label_noise, rng, (n, classes, noise, seed))


def make_xor(
    n: int = 200, classes: int = 2, noise: float = 0.02, label_noise: float = 0.0, seed: int = 0
) -> Dataset:
    """Uniform in [0, 1)^2; label 1 where exactly one coordinate is above 0.5. The label is taken
    before the jitter, so noise blurs the quadrant edges."""
    _check("xor", n, classes, label_noise, two_classes=True, noise_spread=noise)
    rng = np.random.default_rng(seed)
    X = _unit_square(rng, n)  # (n, 2)
    y = ((X[:, 0] > CENTER) ^ (X[:, 1] > CENTER)).astype(np.int64)
    X = X + rng.normal(0.0, noise, (n, 2))
    return _finish("xor", X, y, classes, label_noise, rng, (n, classes, noise, seed))


def make_gauss(
    n: int = 200, classes: int = 2, noise: float = 0.1, label_noise: float = 0.0, seed: int = 0
) -> Dataset:
    """One round Gaussian blob per class (standard deviation `noise`), the centres spread evenly on
    a circle of radius 0.25."""
    _check("gauss", n, classes, label_noise, noise_spread=noise)
    rng = np.random.default_rng(seed)
    y = _balanced(rng, n, classes)
    centres = _polar(
        np.full(classes, 0.25), math.pi / 4 + 2 * math.pi * np.arange(classes) / classes
    )
    X = centres[y] + rng.normal(0.0, noise, (n, 2))
    return _finish("gauss", X, y, classes, label_noise, rng, (n, classes, noise, seed))


def make_spiral(
    n: int = 200, classes: int = 2, noise: float = 0.02, label_noise: float = 0.0, seed: int = 0
) -> Dataset:
    """K arms turning 1.75 times around the centre, arm c rotated by 2 pi c / K."""
    _check("spiral", n, classes, label_noise, noise_spread=noise)
    rng = np.random.default_rng(seed)
    y = _balanced(rng, n, classes)
    t = rng.uniform(0.05, 1.0, n)  # how far along its arm each point is
    angle = 1.75 * 2 * math.pi * t + 2 * math.pi * y / classes
    X = _polar(0.45 * t, angle) + rng.normal(0.0, noise, (n, 2))
    return _finish("spiral", X, y, classes, label_noise, rng, (n, classes, noise, seed))


def make_moons(
    n: int = 200, classes: int = 2, noise: float = 0.03, label_noise: float = 0.0, seed: int = 0
) -> Dataset:
    """Two interleaved half circles (scikit-learn's moons), scaled by 1/3 into the unit square."""
    _check("moons", n, classes, label_noise, two_classes=True, noise_spread=noise)
    rng = np.random.default_rng(seed)
    y = _balanced(rng, n, classes)
    angle = rng.uniform(0.0, math.pi, n)
    upper = np.column_stack([np.cos(angle), np.sin(angle)])  # (n, 2), class 0
    lower = np.column_stack([1 - np.cos(angle), 0.5 - np.sin(angle)])  # (n, 2), class 1
    moons = np.where(y[:, None] == 0, upper, lower)
    X = (moons - [0.5, 0.25]) / 3 + CENTER + rng.normal(0.0, noise, (n, 2))
    return _finish("moons", X, y, classes, label_noise, rng, (n, classes, noise, seed))


def make_eight_gaussians(
    n: int = 200, classes: int = 8, noise: float = 0.044, label_noise: float = 0.0, seed: int = 0
) -> Dataset:
    """Eight round blobs (standard deviation `noise`) centred on a circle of radius 0.354, at
    angles 2 pi i / 8; each point picks its blob with the sizes differing by at most one.
    FFJORD's radius 4 / sqrt(2) and spread 0.5 / sqrt(2), divided by 8."""
    _check("8gaussians", n, classes, label_noise, noise_spread=noise)
    if 8 % classes:
        raise UserError(f"8gaussians: classes must be 2, 4 or 8 (it divides 8), got {classes}")
    rng = np.random.default_rng(seed)
    blob = _balanced(rng, n, 8)
    angle = 2 * math.pi * blob / 8
    X = _polar(np.full(n, 0.5 / math.sqrt(2)), angle) + rng.normal(0.0, noise, (n, 2))
    y = blob % classes
    return _finish("8gaussians", X, y, classes, label_noise, rng, (n, classes, noise, seed))


def make_swissroll(
    n: int = 200, classes: int = 2, noise: float = 0.025, label_noise: float = 0.0, seed: int = 0
) -> Dataset:
    """scikit-learn's swiss roll seen from the side, as FFJORD draws it: t uniform in
    [1.5 pi, 4.5 pi], the point (t cos t, t sin t) / 40 (FFJORD's / 5, then / 8); class c where
    t lies in the c-th of K equal stretches, outermost last."""
    _check("swissroll", n, classes, label_noise, noise_spread=noise)
    rng = np.random.default_rng(seed)
    y = _balanced(rng, n, classes)
    t = 1.5 * math.pi * (1 + 2 * (y + rng.random(n)) / classes)  # uniform, stretch by stretch
    X = _polar(t / 40, t) + rng.normal(0.0, noise, (n, 2))
    return _finish("swissroll", X, y, classes, label_noise, rng, (n, classes, noise, seed))


def make_checkerboard(
    n: int = 200, classes: int = 2, noise: float = 0.0, label_noise: float = 0.0, seed: int = 0
) -> Dataset:
    """Uniform on the squares (row i, column j) of a 4 x 4 board over [0, 1)^2 with i + j even
    (FFJORD's checkerboard); class = i mod 2, so the 8 occupied squares form a second board whose
    neighbours (squares meeting at a corner) have different classes. FFJORD adds no jitter."""
    _check("checkerboard", n, classes, label_noise, two_classes=True, noise_spread=noise)
    rng = np.random.default_rng(seed)
    y = _balanced(rng, n, classes)
    square = rng.integers(0, 4, n)  # which of its class's 4 squares
    row = 2 * (square // 2) + y
    column = 2 * (square % 2) + y  # i + j even: columns of row i have i's parity
    corner = np.column_stack([column, row]) / 4  # (n, 2)
    X = corner + rng.random((n, 2)) / 4 + rng.normal(0.0, noise, (n, 2))
    return _finish("checkerboard", X, y, classes, label_noise, rng, (n, classes, noise, seed))


def make_pinwheel(
    n: int = 200, classes: int = 5, noise: float = 0.025, label_noise: float = 0.0, seed: int = 0
) -> Dataset:
    """FFJORD's pinwheel with K arms: a point (r, s) with r ~ N(1, 0.3) along its arm and
    s ~ N(0, 4 noise) across it, turned by 2 pi c / K + 0.25 exp(r) and scaled by 1/4 (FFJORD's
    2, then / 8), so the arms bend outwards; class = arm. `noise` is the arm's width in the unit
    square (FFJORD's 0.1 across, scaled)."""
    _check("pinwheel", n, classes, label_noise, noise_spread=noise)
    rng = np.random.default_rng(seed)
    y = _balanced(rng, n, classes)
    along = rng.normal(1.0, 0.3, n)
    across = rng.normal(0.0, 1.0, n) * 4 * noise
    turn = 2 * math.pi * y / classes + 0.25 * np.exp(along)
    cos, sin = np.cos(turn), np.sin(turn)
    X = CENTER + np.column_stack([along * cos - across * sin, along * sin + across * cos]) / 4
    return _finish("pinwheel", X, y, classes, label_noise, rng, (n, classes, noise, seed))


def make_twospirals(
    n: int = 200, classes: int = 2, noise: float = 0.015, label_noise: float = 0.0, seed: int = 0
) -> Dataset:
    """FFJORD's 2spirals: a turn u = 3 pi sqrt(v), v uniform, gives the point
    (-u cos u, u sin u) / 24 (FFJORD's / 3, then / 8) for class 0 and its mirror through the
    centre for class 1: 1.5 turns each, denser towards the outside as the arc is. FFJORD's jitter
    (N(0, 0.1) plus U(0, 0.5)) becomes one Gaussian of about the same spread."""
    _check("twospirals", n, classes, label_noise, two_classes=True, noise_spread=noise)
    rng = np.random.default_rng(seed)
    y = _balanced(rng, n, classes)
    u = 3 * math.pi * np.sqrt(rng.random(n))
    arm = np.column_stack([-u * np.cos(u), u * np.sin(u)]) / 24  # (n, 2)
    X = CENTER + np.where(y[:, None] == 0, arm, -arm) + rng.normal(0.0, noise, (n, 2))
    return _finish("twospirals", X, y, classes, label_noise, rng, (n, classes, noise, seed))


GENERATORS: dict[str, Callable[..., Dataset]] = {
    "linear": make_linear,
    "curve": make_curve,
    "random": make_random,
    "circle": make_circle,
    "xor": make_xor,
    "gauss": make_gauss,
    "spiral": make_spiral,
    "moons": make_moons,
    "8gaussians": make_eight_gaussians,
    "swissroll": make_swissroll,
    "checkerboard": make_checkerboard,
    "pinwheel": make_pinwheel,
    "twospirals": make_twospirals,
}


def make(kind: str, **kwargs: float) -> Dataset:
    """`GENERATORS[kind](**kwargs)`, refusing an unknown kind with the list of known ones."""
    if kind not in GENERATORS:
        raise UserError(f"unknown data set kind {kind!r}; choose from {', '.join(GENERATORS)}")
    return GENERATORS[kind](**kwargs)


def _check(
    kind: str,
    n: int,
    classes: int,
    label_noise: float,
    two_classes: bool = False,
    noise_probability: float | None = None,
    noise_spread: float | None = None,
) -> None:
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise UserError(f"{kind}: the number of points must be a whole number >= 1, got {n!r}")
    if isinstance(classes, bool) or not isinstance(classes, int | np.integer) or classes < 2:
        raise UserError(
            f"{kind}: the number of classes must be a whole number >= 2, got {classes!r}"
        )
    if two_classes and classes != 2:
        raise UserError(f"{kind}: this data set has exactly 2 classes, got classes={classes}")
    if not 0.0 <= label_noise <= 1.0:
        raise UserError(f"{kind}: label noise is a probability in [0, 1], got {label_noise}")
    if noise_probability is not None and not 0.0 <= noise_probability <= 1.0:
        raise UserError(
            f"{kind}: noise is the probability of the other side's label near the boundary, "
            f"in [0, 1], got {noise_probability}"
        )
    if noise_spread is not None and not 0.0 <= noise_spread < math.inf:
        raise UserError(f"{kind}: noise is a standard deviation >= 0, got {noise_spread}")


def _book_labels(rng: np.random.Generator, above: np.ndarray, flip: float) -> np.ndarray:
    """Labels (n,) from the signed vertical distance to the boundary: 1 above, 0 on or below, and
    within 0.1 of the boundary the other side's label with probability `flip`."""
    side = (above > 0).astype(np.int64)
    # One draw per point, near the boundary or not, so the stream never depends on the labels.
    flipped = (np.abs(above) < 0.1) & (rng.random(len(above)) < flip)
    return np.where(flipped, 1 - side, side)


def _unit_square(rng: np.random.Generator, n: int) -> np.ndarray:
    """Points (n, 2) uniform in [0, 1)^2, drawn as float32 so that labels computed from them hold
    exactly for the float32 points a Dataset stores (a float64 draw can round up to 1.0)."""
    return rng.random((n, 2), dtype=np.float32).astype(np.float64)


def _balanced(rng: np.random.Generator, n: int, classes: int) -> np.ndarray:
    """Labels (n,) with class sizes differing by at most one, in random order."""
    return rng.permutation(np.arange(n) % classes).astype(np.int64)


def _polar(radius: np.ndarray, angle: np.ndarray) -> np.ndarray:
    """Points (n, 2) around the centre of the unit square."""
    return CENTER + np.column_stack([radius * np.cos(angle), radius * np.sin(angle)])


def _finish(
    kind: str,
    X: np.ndarray,
    y: np.ndarray,
    classes: int,
    label_noise: float,
    rng: np.random.Generator,
    call: tuple[int, int, float, int],
) -> Dataset:
    """Apply label noise last (so points and clean labels never depend on it) and build the
    Dataset, whose `source` is the call that remakes it."""
    if label_noise > 0:
        corrupt = rng.random(len(y)) < label_noise
        y = np.where(corrupt, rng.integers(0, classes, len(y)), y)
    n, classes, noise, seed = call
    source = (
        f"pointlab.generators.{GENERATORS[kind].__name__}(n={n}, classes={classes}, noise={noise}, "
        f"label_noise={label_noise}, seed={seed})"
    )
    return Dataset(X.astype(np.float32), y.astype(np.int64), classes, kind, source)
