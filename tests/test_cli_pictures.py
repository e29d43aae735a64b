"""What the commands' pictures and help say: the run title names the schedule, `data show --help`
names the colour of every class it draws, a one-dimension sweep's points picture says what it
shows."""

from __future__ import annotations

import pytest

from pointlab.cli import main
from pointlab.config import TrainConfig, describe
from pointlab.plots import sweep as sweep_plots
from pointlab.plots.palette import class_colours

from conftest import CURVE, is_png


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({}, None),
        ({"schedule": "cosine"}, ", cosine schedule"),
        ({"schedule": "cosine", "warmup": 100}, ", cosine schedule, warmup 100"),
        ({"schedule": "step", "step_size": 500, "gamma": 0.5}, ", step schedule (x0.5 every 500)"),
        (
            {"schedule": "cosine_restarts", "step_size": 300},
            ", cosine_restarts schedule (every 300)",
        ),
    ],
)
def test_run_title_names_the_schedule(changes, words):
    title = describe(TrainConfig(**changes), 2)
    if words is None:  # the book's runs keep their title
        assert title == "complex (2-128-128-1 relu), adam lr 0.003"
    else:
        assert title.endswith(words)


def test_data_show_help_names_a_colour_for_each_class_drawn(capsys):
    with pytest.raises(SystemExit):
        main(["data", "show", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    from matplotlib.colors import to_hex

    for k, word in enumerate(["red", "blue", "orange", "green"]):
        assert f"{word} for class {k}" in text
        assert class_colours(4)[k] == to_hex(word if k < 2 else f"tab:{word}")


def test_one_dimension_sweep_titles_its_points_picture_by_that_dimension(tmp_path, monkeypatch):
    titles = []
    draw = sweep_plots.plot_points_tried

    def spy(rows, dims, path, title):
        titles.append(title)
        return draw(rows, dims, path, title)

    monkeypatch.setattr(sweep_plots, "plot_points_tried", spy)
    space = ["--space", "lr=loguniform(1e-3,3e-1)", "--layers", "8", "--device", "cpu"]
    out = tmp_path / "s"
    args = ["sweep", str(CURVE), *space, "--trials", "3", "--epochs", "20", "--out", str(out)]
    assert main(args) == 0
    assert titles == ["random search: validation loss against lr, the one searched dimension"]
    assert is_png(out / "sweep_points.png")
