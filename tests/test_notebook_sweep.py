"""A sweep's result shows itself in Jupyter: the ranked trials, the choice and its test, the
sweep's pictures and the best run's regions; and a one-line plain repr."""

from __future__ import annotations

import pytest

from pointlab import TrainConfig, make_data
from pointlab.search import folder
from pointlab.search.space import parse_space
from pointlab.search.store import Store
from pointlab.search.sweep import SweepResult, SweepSetup, run_sweep
from test_notebook_display import Page, short

from conftest import PNG_SIGNATURE


@pytest.fixture(scope="module")
def swept(tmp_path_factory) -> tuple[SweepResult, SweepSetup]:
    data = make_data("moons", n=100, seed=1)
    base = TrainConfig(hidden=(4,), epochs=30, seed=0)
    space = parse_space(["lr=0.003,0.03,0.3", "activation=tanh,relu"], base)
    setup = SweepSetup(space, "grid", None, base)
    out = tmp_path_factory.mktemp("sweep")
    result = run_sweep(setup, data, None, Store(folder.default_storage(out), "moons"))
    return result, setup


def test_a_sweep_shows_its_ranked_trials_and_the_best_runs_pictures(swept):
    result, _ = swept
    page = Page(result._repr_html_())
    words = page.words
    assert "rank trial lr activation val loss val acc best epoch state" in words
    best = result.best
    first = f"1 {best.slot} {best.params['lr']:.4g} {best.params['activation']} {best.value:.4g}"
    assert first in words  # the best trial ranks first, with its own numbers
    assert f"trials {len(result.rows)}" in words and "test loss / accuracy" in words
    assert f"{result.run.test.accuracy:.4g}" in words
    # Unwritten: the best trials' curves, then the retrained run's regions and curves.
    assert len(page.images) == 3 and all(i.startswith(PNG_SIGNATURE) for i in page.images)
    assert "script" not in page.tags
    text = repr(result)
    assert short(text) and text.startswith(f"<SweepResult: {len(result.rows)} trials (6 complete)")
    assert f"best trial {best.slot}" in text and "test acc" in text


def test_a_written_sweep_shows_its_folders_pictures(swept, tmp_path):
    result, setup = swept
    out = folder.make_folder(tmp_path / "moons")
    folder.write_sweep(out, result, setup, "moons", folder.default_storage(out))
    page = Page(result._repr_html_())
    assert f"pointlab sweep {out}" in page.words
    # loss, points tried, best curves; then best/'s regions and curves
    assert len(page.images) == 5
    assert page.images[0] == (out / "sweep_loss.png").read_bytes()
    assert page.images[3] == (out / "best" / "boundary.png").read_bytes()
