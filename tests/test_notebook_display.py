"""Results show themselves in Jupyter: each `_repr_html_` rendered and read as a person would
(the numbers, the verdicts, the pictures embedded), each plain `repr` one short, useful line."""

from __future__ import annotations

import base64
import re
from html.parser import HTMLParser

import numpy as np
import pytest

import pointlab
from pointlab.experiments.base import Claim, Report, write
from pointlab.plots.points import plot_points

from conftest import PNG_SIGNATURE


class Page(HTMLParser):
    """The text a reader sees and the images, of one HTML fragment."""

    def __init__(self, markup: str) -> None:
        super().__init__()
        self.text: list[str] = []
        self.images: list[bytes] = []
        self.tags: list[str] = []
        self.feed(markup)

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        src = dict(attrs).get("src") or ""
        if tag == "img":
            assert src.startswith("data:image/png;base64,"), src[:40]  # embedded, not fetched
            self.images.append(base64.b64decode(src.split(",", 1)[1]))

    def handle_data(self, data):
        self.text.append(data)

    @property
    def words(self) -> str:
        return " ".join(" ".join(self.text).split())


def short(text: str) -> bool:
    return "\n" not in text and len(text) < 200


def test_a_data_set_shows_its_points_and_counts():
    data = pointlab.make_data("moons", n=60, seed=0)
    page = Page(data._repr_html_())
    assert "moons" in page.words and "60" in page.words and "0: 30, 1: 30" in page.words
    assert len(page.images) == 1 and page.images[0].startswith(PNG_SIGNATURE)
    assert "script" not in page.tags
    assert repr(data) == "<Dataset moons: 60 points, 2 classes (0: 30, 1: 30)>"


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("nb") / "run"
    data = pointlab.make_data("moons", n=80, seed=1)
    config = pointlab.TrainConfig(hidden=(8,), epochs=40, seed=0)
    return pointlab.train(data, config, out=out), out


def test_a_trained_run_shows_its_numbers_regions_and_curves(trained):
    result, out = trained
    val_acc = result.last("val_acc")
    for shown in (result, pointlab.load_run(out)):
        page = Page(shown._repr_html_())
        assert "finished at epoch 40" in page.words
        assert f"{val_acc:.4g}" in page.words and "MLP 2-8-1 relu" in page.words
        assert "decision regions" in page.words and "learning curves" in page.words
        assert len(page.images) == 2 and all(i.startswith(PNG_SIGNATURE) for i in page.images)
        text = repr(shown)
        assert short(text) and str(out) in text and f"val acc {val_acc:.4g}" in text
        assert "tensor" not in text  # not the weights


def test_a_run_not_written_draws_its_pictures():
    data = pointlab.make_data("xor", n=60, seed=0)
    result = pointlab.train(data, pointlab.TrainConfig(hidden=(4,), epochs=5), val_fraction=0)
    page = Page(result._repr_html_())
    assert len(page.images) == 2 and "not written" in page.words
    assert "val loss / accuracy – / –" in page.words  # no validation data: nothing to show
    assert short(repr(result)) and "val acc" not in repr(result)


def test_an_experiment_report_shows_verdicts_and_figures(tmp_path):
    data = pointlab.make_data("circle", n=40, seed=0)
    plot_points(data, tmp_path / "points.png")
    report = Report(
        title="Depth helps",
        claim="someone said so",
        method="ran it",
        claims=[
            Claim("deep beats shallow", "acc gap >= 0.05", 0.12, True),
            Claim("no divergence", "diverged == 0", float("nan"), True),  # a NaN fails
            Claim("wide is enough", "gap <= 0.01", 0.02, None),
        ],
        figures=[("points.png", "the circle's points")],
        findings="Depth helped by 0.12.",
    )
    before = Page(report._repr_html_())
    assert before.images == []  # not written yet: no folder to find the figures in
    write(report, tmp_path, "depth", quick=True)
    page = Page(report._repr_html_())
    assert report.verdict() in page.words
    assert "deep beats shallow acc gap >= 0.05 0.12 holds" in page.words
    assert "no divergence diverged == 0 nan fails" in page.words
    assert "wide is enough gap <= 0.01 0.02 inconclusive" in page.words
    assert len(page.images) == 1 and "the circle's points" in page.words
    markup = report._repr_html_()
    assert re.search(r"color: #cf222e[^>]*>fails<", markup)  # a failed claim in red
    assert repr(report) == f"<Report 'Depth helps': {report.verdict()}>"
    assert np.isnan(report.claims[1].measured)
