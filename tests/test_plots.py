"""The pictures' contract: `draw_*` functions draw computed numbers onto the Axes they are given,
one palette for K classes, one save helper; and what a user reads in the pictures (the legend,
the titles, the sweep's points picture with one searched dimension)."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.colors import to_rgba

from pointlab import generators
from pointlab.config import TrainConfig
from pointlab.plots import boundary, points, sweep
from pointlab.plots.palette import class_colours
from pointlab.plots.save import fit_title, new_figure, save_figure
from pointlab.search.space import parse_space
from pointlab.search.store import TrialRow

from conftest import is_png


def xor_truth(X: np.ndarray) -> np.ndarray:
    """(N, 2) probabilities of a model that is right wherever xor's label is its quadrant."""
    p1 = ((X[:, 0] > 0.5) ^ (X[:, 1] > 0.5)).astype(float)
    return np.stack([1 - p1, p1], axis=1)


def legend_texts(ax) -> list[str]:
    return [text.get_text() for text in ax.get_legend().get_texts()]


def test_legend_lists_misclassified_only_when_a_point_is():
    data = generators.make("xor", n=200, noise=0.0, seed=0)
    perfect = boundary.compute_boundary(xor_truth, data)
    assert perfect.misclassified == 0
    ax = new_figure(6, 6).add_subplot()
    boundary.draw_boundary(ax, perfect)
    assert not any("misclassified" in t for t in legend_texts(ax))

    flipped = boundary.compute_boundary(lambda X: xor_truth(X)[:, ::-1], data)
    ax = new_figure(6, 6).add_subplot()
    boundary.draw_boundary(ax, flipped)
    assert f"misclassified ({len(data)})" in legend_texts(ax)


def test_class_two_has_one_colour_in_every_picture():
    data = generators.make("spiral", n=300, classes=3, seed=0)
    orange = to_rgba(class_colours(3)[2])
    assert class_colours(3)[:2] == ["#ff0000", "#0000ff"]  # the book's red and blue

    ax = new_figure(6, 6).add_subplot()
    points.draw_points(ax, data)
    assert tuple(ax.collections[2].get_facecolors()[0]) == orange

    def third_everywhere(X: np.ndarray) -> np.ndarray:
        return np.tile([0.1, 0.1, 0.8], (len(X), 1))

    ax = new_figure(6, 6).add_subplot()
    boundary.draw_boundary(ax, boundary.compute_boundary(third_everywhere, data))
    colours = {tuple(c.get_facecolors()[0]) for c in ax.collections if len(c.get_facecolors())}
    assert orange in colours
    region = ax.images[0].get_array()[150, 150]  # (3,) the class-2 region, pale where unsure
    assert np.argmax(region) == 0 and region[0] > region[2]  # orange: red > blue


def test_draw_functions_draw_only_on_the_axes_they_are_given():
    data = generators.make("moons", n=100, seed=0)
    figure = new_figure(8, 8)
    axes = figure.subplots(2, 2).ravel()
    points.draw_points(axes[1], data)
    boundary.draw_boundary(
        axes[2], boundary.compute_boundary(xor_truth, data), colourbar=False, legend=False
    )
    assert axes[1].collections and axes[2].images
    assert not axes[0].collections and not axes[0].images and not axes[3].collections


def test_save_figure_is_atomic_and_names_a_bad_format(tmp_path):
    figure = new_figure(3, 3)
    figure.add_subplot().plot([0, 1], [1, 0])
    path = save_figure(figure, tmp_path / "a.png")
    assert is_png(path)
    assert save_figure(figure, tmp_path / "a.svg").read_text().lstrip().startswith("<?xml")
    from pointlab.errors import UserError

    with pytest.raises(UserError, match=r"a\.xyz: cannot write \.xyz pictures"):
        save_figure(figure, tmp_path / "a.xyz")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.png", "a.svg"]


def _rows(values: list[float], lrs: list[float]) -> list[TrialRow]:
    history = {"epoch": [0, 1], "train_loss": [1.0, 0.5], "val_loss": [1.0, 0.6]}
    return [
        TrialRow(i, i, "complete", {"lr": lr}, v, {}, {"best_epoch": 1}, history)
        for i, (v, lr) in enumerate(zip(values, lrs, strict=True))
    ]


def test_sweep_points_with_one_dimension_plot_loss_against_it():
    (lr,) = parse_space(["lr=loguniform(1e-4,1e-1)"], TrainConfig())
    values, lrs = [0.5, 0.2, 0.9, 0.3], [1e-4, 1e-3, 1e-1, 1e-2]
    ax = new_figure(6, 5).add_subplot()
    sweep.draw_points_tried(ax, _rows(values, lrs), [lr])
    assert "validation loss" in ax.get_ylabel()
    trials = ax.collections[0].get_offsets()
    assert np.allclose(trials[:, 1], values) and np.allclose(trials[:, 0], lrs)
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"


def test_sweep_points_title_is_not_cut(tmp_path, monkeypatch):
    drawn = []
    monkeypatch.setattr(sweep, "save_figure", lambda figure, path: drawn.append(figure) or path)
    (lr,) = parse_space(["lr=loguniform(1e-4,1e-1)"], TrainConfig())
    title = "random search: points tried in the two most important dimensions"
    sweep.plot_points_tried(_rows([0.5, 0.2], [1e-3, 1e-2]), [lr], tmp_path / "p.png", title)
    (figure,) = drawn
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    renderer = FigureCanvasAgg(figure).get_renderer()
    figure.draw(renderer)
    box = figure._suptitle.get_window_extent(renderer)
    assert 0 <= box.x0 and box.x1 <= figure.bbox.width
    assert " ".join(figure._suptitle.get_text().split()) == title


def test_fit_title_keeps_every_word_and_line():
    text = "a long title " * 12 + "\nsecond line"
    wrapped = fit_title(text, 4.0)
    assert wrapped.split() == text.split()
    assert all(len(line) <= 4.0 * 72 / (0.55 * 12) for line in wrapped.splitlines())


def test_plot_boundary_writes_a_picture_with_validation(tmp_path):
    data = generators.make("xor", n=120, seed=1)
    val = generators.make("xor", n=40, seed=2)
    path = boundary.plot_boundary(xor_truth, data, val, tmp_path / "b.png", "xor")
    assert path.stat().st_size > 10_000


def test_a_log_panel_whose_numbers_all_turned_nan_still_draws(tmp_path):
    # An experiment whose training diverged reports NaN; its figure must still be written (with
    # linear axes), not fail with matplotlib's "Data cannot be log-scaled".
    import matplotlib.pyplot as plt

    from pointlab.plots.lines import Panel, Series, draw_panel

    nan = [float("nan")] * 3
    panel = Panel("loss", "epoch", "loss", [Series("run", [1, 2, 4], nan)], logx=True, logy=True)
    figure, ax = plt.subplots()
    draw_panel(ax, panel)
    figure.savefig(tmp_path / "nan.png")
    plt.close(figure)
    assert ax.get_yscale() == "linear" and ax.get_xscale() == "log"
    assert (tmp_path / "nan.png").stat().st_size > 0
