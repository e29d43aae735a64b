"""The generative pictures on synthetic numbers: a path that interpolates Gaussian noise to moons in
a straight line, and analytic fields. What a user checks: two colours on shared axes, a line per
path with its ends marked, arrows where the field points, a GIF of about 40 small frames whose
first and last frames can be written as PNGs.

Run as a script (`uv run python tests/test_generative_plots.py docs`) it writes the example
pictures docs/generate-*.png and docs/generate-flow.gif from the exact flow-matching field of
moons (the field a perfect model would learn), integrated from noise."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from matplotlib.collections import LineCollection
from matplotlib.colors import to_rgba
from matplotlib.quiver import Quiver
from PIL import Image

from pointlab import generators
from pointlab.errors import UserError
from pointlab.plots import generative as gp
from pointlab.plots import generative_animation as ga
from pointlab.plots.save import new_figure

from conftest import is_png


def moons(n: int = 400, seed: int = 0) -> np.ndarray:
    return generators.make("moons", n=n, seed=seed).X.astype(np.float64)


def straight_path(data: np.ndarray, steps: int = 20, seed: int = 1) -> np.ndarray:
    """(steps + 1, n, 2): each point on the line from its noise to its data point."""
    noise = data.mean(axis=0) + data.std() * np.random.default_rng(seed).normal(size=data.shape)
    t = np.linspace(0.0, 1.0, steps + 1)[:, None, None]
    return (1 - t) * noise + t * data


def rotation(points: np.ndarray, t: float) -> np.ndarray:
    """Turning about (0.5, 0.5), faster as t grows."""
    d = points - 0.5
    return (1 + t) * np.column_stack([-d[:, 1], d[:, 0]])


def test_samples_and_data_share_the_axes_in_two_colours():
    data, samples = moons(), moons(seed=1) + [0.3, 0.0]
    ax = new_figure(5, 5).add_subplot()
    gp.draw_samples(ax, samples, data)
    drawn_data, drawn_samples = ax.collections
    assert to_rgba(drawn_data.get_facecolors()[0])[:3] == to_rgba(gp.DATA_COLOUR)[:3]
    assert to_rgba(drawn_samples.get_facecolors()[0])[:3] == to_rgba(gp.SAMPLE_COLOUR)[:3]
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    both = np.concatenate([data, samples])
    assert x0 < both[:, 0].min() and both[:, 0].max() < x1 and x1 - x0 == pytest.approx(y1 - y0)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["data", "generated"]


def test_paths_are_thin_lines_from_noise_dots_to_sample_dots():
    path = straight_path(moons(100), steps=10)
    ax = new_figure(5, 5).add_subplot()
    gp.draw_paths(ax, path, max_paths=60)
    (lines,) = [c for c in ax.collections if isinstance(c, LineCollection)]
    segments = lines.get_segments()
    assert len(segments) == 60 and all(len(s) == 11 for s in segments)
    assert np.allclose(segments[5], path[:, 5])
    starts, ends = [c for c in ax.collections if not isinstance(c, LineCollection)]
    ax = new_figure(5, 5).add_subplot()
    gp.draw_paths(ax, path, data=moons(100, seed=3), max_paths=60)
    assert len(ax.collections) == 4  # the faint data first, under the lines and the dots
    assert np.allclose(starts.get_offsets(), path[0, :60])
    assert np.allclose(ends.get_offsets(), path[-1, :60])


def test_the_field_is_sampled_on_the_grid_and_drawn_as_arrows():
    box = (0.0, 1.0, 0.0, 1.0)
    grid = gp.compute_field(rotation, [0.0, 1.0], box, cells=11)
    assert grid.vectors.shape == (2, 11, 11, 2)
    # At (x, y) = (1.0, 0.5) the rotation points straight up, twice as fast at t = 1.
    assert np.allclose(grid.vectors[:, 5, 10], [[0.0, 0.5], [0.0, 1.0]])
    ax = new_figure(4, 4).add_subplot()
    gp.draw_field(ax, grid, 1, data=moons())
    (arrows,) = [c for c in ax.collections if isinstance(c, Quiver)]
    assert np.allclose(arrows.U.reshape(11, 11), grid.vectors[1, ..., 0])


def test_a_field_that_gives_the_wrong_shape_is_refused_in_words():
    with pytest.raises(UserError, match=r"the field at t = 0.5 gave \(3,\) velocities"):
        gp.compute_field(lambda p, t: np.zeros(3), [0.5], (0, 1, 0, 1))


def test_plot_field_draws_one_panel_per_time(tmp_path):
    out = gp.plot_field(rotation, [0.0, 0.5, 1.0], moons(), tmp_path / "field.png")
    assert is_png(out)
    assert Image.open(out).size[0] > 2.5 * Image.open(out).size[1]  # a row of three panels


@pytest.mark.parametrize(
    ("path", "words"),
    [
        (np.zeros((1, 5, 2)), "T >= 1"),
        (np.zeros((4, 5)), "a path must be"),
        (np.zeros((3, 5, 3)), "x, y"),
    ],
)
def test_bad_paths_are_refused_in_words(tmp_path, path, words):
    with pytest.raises(UserError, match=words):
        gp.plot_paths(path, tmp_path / "p.png")


def test_frame_steps_are_evenly_spaced_from_first_to_last():
    steps = ga.frame_steps(101)
    assert len(steps) == 40 and steps[0] == 0 and steps[-1] == 100
    assert np.ptp(np.diff(steps)) <= 1
    assert ga.frame_steps(6) == [0, 1, 2, 3, 4, 5]


def test_the_animation_is_a_small_looping_gif_of_forty_frames(tmp_path):
    data = moons(500)
    out = ga.save_animation(straight_path(data, steps=100), tmp_path / "flow.gif", data=data)
    gif = Image.open(out)
    assert gif.format == "GIF" and gif.n_frames == 40 and gif.size == (320, 320)
    assert gif.info["loop"] == 0
    assert out.stat().st_size < 600_000
    with pytest.raises(UserError, match="written as .gif"):
        ga.save_animation(straight_path(data), tmp_path / "flow.mp4")


def test_first_and_last_frames_are_pictures_of_noise_and_samples(tmp_path):
    data = moons(300)
    path = straight_path(data)
    first = ga.plot_frame(path, 0, tmp_path / "first.png", data=data)
    last = ga.plot_frame(path, -1, tmp_path / "last.png", data=data)
    assert is_png(first) and is_png(last)
    ax = new_figure(4, 4).add_subplot()
    ga.draw_frame(ax, path, -1, box=gp.data_box(path), data=data)
    assert np.allclose(ax.collections[-1].get_offsets(), data)
    assert ax.get_title() == "t = 1.00"


def exact_moons_flow(n: int = 1000, steps: int = 100, seed: int = 0):
    """The flow-matching field of moons itself (noise N(mean, sd^2 I), straight paths), which a
    perfect model would learn, and its Euler path from n noise points: (field, path, data)."""
    data = moons(2000, seed)
    mean, sd = data.mean(axis=0), data.std()
    z_data = (data - mean) / sd

    def field(points: np.ndarray, t: float) -> np.ndarray:
        z, s = (points - mean) / sd, max(1.0 - t, 1e-3)
        gaps = z[:, None, :] - t * z_data[None]  # (N, n, 2)
        logits = -(gaps**2).sum(axis=-1) / (2 * s * s)
        weights = np.exp(logits - logits.max(axis=1, keepdims=True))
        weights /= weights.sum(axis=1, keepdims=True)
        return sd * (weights @ z_data - z) / s

    x = mean + sd * np.random.default_rng(seed + 1).normal(size=(n, 2))
    path = [x]
    for k in range(steps):
        x = x + field(x, k / steps) / steps
        path.append(x)
    return field, np.stack(path), data


def write_docs(folder: Path) -> None:
    field, path, data = exact_moons_flow()
    gp.plot_samples(path[-1], data, folder / "generate-samples.png")
    gp.plot_paths(path, folder / "generate-paths.png", data=data)
    gp.plot_field(field, [0.0, 0.5, 0.9], data, folder / "generate-field.png")
    ga.save_animation(path, folder / "generate-flow.gif", data=data)
    ga.plot_frame(path, 0, folder / "generate-first.png", data=data)
    ga.plot_frame(path, -1, folder / "generate-last.png", data=data)


if __name__ == "__main__":
    write_docs(Path(sys.argv[1]))
