"""Pictures of a generative model on 2-D points: its samples over the data, the paths they take
from noise to data, and the learned vector field at a few times.

Everything here takes plain numbers, so a picture can be drawn before (or without) a model:
- samples and data: float (n, 2) arrays;
- a path: float (T+1, n, 2), step 0 the noise and step T the samples;
- a field: a callable `field(points (N, 2), t) -> velocities (N, 2)`, turned into numbers by
  `compute_field` on a grid over a box, then drawn by `draw_field`.
All panels of one picture share one `Box`, square, around the data (`data_box`), so what moves is
the points, not the axes. Data are drawn in tab:blue and generated points in tab:orange (the
palette's first two line colours) in every picture, the animation's frames included.

Not here: the animation (`plots.generative_animation`), sampling or training a model
(`pointlab.generative`), the distance between samples and data (`generative.quality`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from numpy.typing import ArrayLike

from pointlab.errors import UserError
from pointlab.plots.palette import LINE_COLOURS
from pointlab.plots.save import new_figure, save_figure

DATA_COLOUR, SAMPLE_COLOUR = LINE_COLOURS[0], LINE_COLOURS[1]
NOISE_COLOUR = "0.35"  # the start of a path: grey, neither data nor sample
Box = tuple[float, float, float, float]  # (x_min, x_max, y_min, y_max), square
Field = Callable[[np.ndarray, float], np.ndarray]


@dataclass(frozen=True)
class FieldGrid:
    """A vector field sampled on a grid: `vectors[k, i, j]` is the velocity at (xs[j], ys[i]) at
    time `times[k]`."""

    xs: np.ndarray  # (cells,)
    ys: np.ndarray  # (cells,)
    times: tuple[float, ...]
    vectors: np.ndarray  # (len(times), cells, cells, 2)


def data_box(*point_sets: ArrayLike, margin: float = 0.08, quantile: float = 0.005) -> Box:
    """The square box around the point sets: from the `quantile` to the 1 - `quantile` quantile
    of each coordinate over all of them (so a few stray noise points do not shrink the picture),
    widened by `margin` of its side on every side."""
    points = np.concatenate([as_points("points", p).reshape(-1, 2) for p in point_sets])
    low, high = np.quantile(points, [quantile, 1 - quantile], axis=0)  # (2,), (2,)
    centre, half = (low + high) / 2, max(float((high - low).max()) / 2, 1e-6)
    half *= 1 + 2 * margin
    return (centre[0] - half, centre[0] + half, centre[1] - half, centre[1] + half)


def draw_samples(
    ax: Axes,
    samples: ArrayLike,
    data: ArrayLike,
    *,
    box: Box | None = None,
    title: str | None = None,
) -> None:
    """The data and the generated samples as two clouds on the same axes."""
    samples, data = as_points("samples", samples), as_points("data", data)
    size = marker_size(max(len(samples), len(data)))
    ax.scatter(data[:, 0], data[:, 1], s=size, c=DATA_COLOUR, alpha=0.5, lw=0, label="data")
    ax.scatter(
        samples[:, 0],
        samples[:, 1],
        s=1.5 * size,
        c=SAMPLE_COLOUR,
        alpha=0.7,
        lw=0,
        label="generated",
    )
    frame_axes(ax, box or data_box(data, samples), title or f"{len(samples)} generated points")
    ax.legend(loc="upper right", fontsize="small", markerscale=8 / max(size, 1) ** 0.5)


def draw_paths(
    ax: Axes,
    path: ArrayLike,
    *,
    data: ArrayLike | None = None,
    box: Box | None = None,
    max_paths: int = 300,
    title: str | None = None,
) -> None:
    """Up to `max_paths` paths from noise (grey dots, step 0) to samples (orange dots, step T) as
    thin lines, over the faint data if given: the first `max_paths` of the n, so the same points
    are drawn in every picture."""
    from matplotlib.collections import LineCollection

    steps = as_path(path)[:, :max_paths]  # (T+1, k, 2)
    if data is not None:
        points = as_points("data", data)
        ax.scatter(
            points[:, 0], points[:, 1], s=marker_size(len(points)), c=DATA_COLOUR, alpha=0.2, lw=0
        )
    lines = np.transpose(steps, (1, 0, 2))  # (k, T+1, 2): one polyline per point
    ax.add_collection(LineCollection(list(lines), colors="0.25", linewidths=0.4, alpha=0.35))
    size = marker_size(steps.shape[1]) * 1.5
    ax.scatter(steps[0][:, 0], steps[0][:, 1], s=size, c=NOISE_COLOUR, lw=0, label="noise (start)")
    ax.scatter(
        steps[-1][:, 0], steps[-1][:, 1], s=size, c=SAMPLE_COLOUR, lw=0, label="sample (end)"
    )
    default = f"{steps.shape[1]} paths, {len(steps) - 1} steps from noise to data"
    frame_axes(ax, box or data_box(steps), title or default)
    ax.legend(loc="upper right", fontsize="small", markerscale=2)


def compute_field(field: Field, times: Sequence[float], box: Box, cells: int = 21) -> FieldGrid:
    """`field` evaluated on a cells x cells grid over `box` at each of `times`."""
    xs = np.linspace(box[0], box[1], cells)
    ys = np.linspace(box[2], box[3], cells)
    grid_x, grid_y = np.meshgrid(xs, ys)  # (cells, cells) each: row i is ys[i]
    points = np.column_stack([grid_x.ravel(), grid_y.ravel()])  # (cells^2, 2)
    vectors = []
    for t in times:
        v = np.asarray(field(points, float(t)), dtype=np.float64)
        if v.shape != points.shape or not np.isfinite(v).all():
            raise UserError(
                f"the field at t = {t} gave {v.shape} velocities, not finite ({len(points)}, 2)"
            )
        vectors.append(v.reshape(cells, cells, 2))
    return FieldGrid(xs, ys, tuple(float(t) for t in times), np.stack(vectors))


def draw_field(
    ax: Axes,
    grid: FieldGrid,
    index: int,
    *,
    data: ArrayLike | None = None,
    title: str | None = None,
) -> None:
    """Arrows of the field at `grid.times[index]` over the faint data. An arrow's length is to the
    panel's own scale (its 95th percentile speed as 1.5 grid cells), its colour the speed on one
    log scale shared by all of the grid's times, so panels compare by colour."""
    from matplotlib.colors import LogNorm

    speeds = np.linalg.norm(grid.vectors, axis=-1)  # (k, cells, cells)
    cell = float(grid.xs[1] - grid.xs[0])
    # Arrows: this panel's own scale (the field near t = 1 is many times faster than at t = 0,
    # and one scale would shrink the early panels to dots). Colours: one log scale for all.
    top = max(float(np.quantile(speeds[index], 0.95)), 1e-12)
    low, high = _speed_range(speeds)
    if data is not None:
        points = as_points("data", data)
        ax.scatter(
            points[:, 0], points[:, 1], s=marker_size(len(points)), c=DATA_COLOUR, alpha=0.25, lw=0
        )
    u, v = grid.vectors[index, ..., 0], grid.vectors[index, ..., 1]
    ax.quiver(
        grid.xs,
        grid.ys,
        u,
        v,
        np.clip(speeds[index], low, high),
        cmap="viridis",
        norm=LogNorm(low, high),
        angles="xy",
        scale_units="xy",
        scale=top / (1.5 * cell),
        width=0.004,
    )
    box = (float(grid.xs[0]), float(grid.xs[-1]), float(grid.ys[0]), float(grid.ys[-1]))
    frame_axes(ax, box, title or f"t = {grid.times[index]:.2f}")


def plot_samples(
    samples: ArrayLike, data: ArrayLike, path: str | os.PathLike[str], title: str | None = None
) -> Path:
    """`draw_samples` into a picture file; return its path."""
    figure = new_figure(5.2, 5.0)
    draw_samples(figure.add_subplot(), samples, data, title=title)
    return save_figure(figure, path)


def plot_paths(
    path: ArrayLike, out: str | os.PathLike[str], *, data: ArrayLike | None = None
) -> Path:
    """`draw_paths` into a picture file, in the box of the data and the path; return its path."""
    figure = new_figure(5.2, 5.0)
    steps = as_path(path)
    box = data_box(steps, *([] if data is None else [data]))
    draw_paths(figure.add_subplot(), steps, data=data, box=box)
    return save_figure(figure, out)


def plot_field(
    field: Field,
    times: Sequence[float],
    data: ArrayLike,
    out: str | os.PathLike[str],
    cells: int = 21,
) -> Path:
    """A row of `draw_field` panels, one per time, over the data's box and a colour bar of the
    speed; return the path."""
    if not times:
        raise UserError("give at least one time to draw the field at")
    points = as_points("data", data)
    grid = compute_field(field, times, data_box(points), cells)
    figure = new_figure(3.0 * len(times) + 0.8, 3.4)
    axes = figure.subplots(1, len(times), squeeze=False)[0]
    for index, ax in enumerate(axes):
        draw_field(ax, grid, index, data=points)
    figure.colorbar(axes[-1].collections[-1], ax=list(axes), label="speed", shrink=0.8)
    figure.suptitle("learned velocity field, noise (t = 0) to data (t = 1)", fontsize=11)
    return save_figure(figure, out)


def frame_axes(ax: Axes, box: Box, title: str) -> None:
    ax.set_xlim(box[0], box[1])
    ax.set_ylim(box[2], box[3])
    ax.set_aspect("equal")
    ax.set_title(title, fontsize=10)
    ax.grid(True, alpha=0.3)


def _speed_range(speeds: np.ndarray) -> tuple[float, float]:
    """The colour scale's ends: the 2nd and 98th percentile of the speeds over all times, at
    least a factor of 10 apart."""
    high = max(float(np.quantile(speeds, 0.98)), 1e-9)
    low = min(max(float(np.quantile(speeds, 0.02)), high / 1000), high / 10)
    return low, high


def marker_size(n: int) -> float:
    """Dots that stay visible for a hundred points and do not merge into a blot for ten
    thousand (points^2)."""
    return float(np.clip(900 / max(n, 1) ** 0.75, 1.0, 12.0))


def as_points(what: str, values: ArrayLike) -> np.ndarray:
    points = np.asarray(values, dtype=np.float64)
    if points.ndim < 2 or points.shape[-1] != 2 or points.size == 0:
        raise UserError(f"{what} must be (..., 2) arrays of x, y; got shape {points.shape}")
    return points


def as_path(values: ArrayLike) -> np.ndarray:
    steps = as_points("a path", values)
    if steps.ndim != 3 or len(steps) < 2:
        raise UserError(f"a path must be (T+1, n, 2) with T >= 1; got shape {steps.shape}")
    return steps
