"""What the commands' pictures and help say: the run title names the schedule, `data show --help`
names the colour of every class it draws, a one-dimension sweep draws the loss against it once
and says so, and a piped sweep says what it is doing line by line."""

from __future__ import annotations

import io
import re

import pytest
from rich.console import Console

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


def test_one_dimension_sweep_draws_the_loss_against_it_once_and_says_so(
    tmp_path, monkeypatch, capsys
):
    """With one searched dimension, sweep_loss.png and sweep_points.png were the same plot."""
    titles = []
    draw = sweep_plots.plot_loss_vs_params

    def spy(rows, params, path, title):
        titles.append(title)
        return draw(rows, params, path, title)

    monkeypatch.setattr(sweep_plots, "plot_loss_vs_params", spy)
    space = ["--space", "lr=loguniform(1e-3,3e-1)", "--layers", "8", "--device", "cpu"]
    out = tmp_path / "s"
    args = ["sweep", str(CURVE), *space, "--trials", "3", "--epochs", "20", "--out", str(out)]
    out.mkdir()
    (out / "sweep_points.png").write_bytes(b"an earlier sweep's picture")
    console = Console(file=io.StringIO(), width=200)
    assert main(args, console) == 0
    assert titles == ["random search: validation loss against lr, the one searched dimension"]
    assert "one searched dimension: sweep_loss.png shows the points tried" in (
        console.file.getvalue()
    )
    assert is_png(out / "sweep_loss.png") and is_png(out / "sweep_curves.png")
    assert not (out / "sweep_points.png").exists()


def test_a_piped_sweep_says_what_it_is_doing_line_by_line(tmp_path, monkeypatch):
    """A 32-trial sweep printed nothing for 47 s when piped."""
    from pointlab.cli import sweep_output

    monkeypatch.setattr(sweep_output.SweepProgress, "LINE_EVERY", 0.0)  # every epoch callback
    console = Console(file=io.StringIO(), width=200)  # not a terminal: as when piped
    space = ["--space", "lr=loguniform(1e-3,3e-1)", "--space", "width=4,8", "--device", "cpu"]
    out = tmp_path / "s"
    args = ["sweep", str(CURVE), *space, "--trials", "4", "--epochs", "30", "--out", str(out)]
    assert main(args, console) == 0
    lines = console.file.getvalue().splitlines()
    progress = [line for line in lines if line.startswith("sweep: ")]
    assert progress[0].startswith("sweep: 0 of 4 trials done; training: epoch ")
    assert any("; training: epoch 10 of 30 (" in line for line in progress)
    assert re.fullmatch(r"sweep: 4 of 4 trials done \(\d+ s\)", progress[-1])
    assert "one searched dimension" not in console.file.getvalue()
    assert is_png(out / "sweep_points.png")  # two dimensions: the points tried, apart
