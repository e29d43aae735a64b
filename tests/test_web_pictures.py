"""The playground's pictures in-process: regions bytes that hold every class's probability (so the
page can draw smooth boundaries for any K), and Download PNG's figure, drawn on the server as
`pointlab train` draws boundary.png."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest

from pointlab import generators
from pointlab.config import TrainConfig
from pointlab.web import pictures
from pointlab.web.figure import member_png
from pointlab.web.live import LiveTraining
from webclient import session, setup, until

pytestmark = pytest.mark.usefixtures("one_thread")
EXTENT = [[-0.05, 1.05], [-0.05, 1.05]]


def trained_spiral(classes: int) -> LiveTraining:
    data = generators.make("spiral", n=150, classes=classes)
    config = TrainConfig(hidden=(8,), epochs=20, lr=0.03)
    live = LiveTraining([config], data, None, classes, log_every=5)
    while not live.finished:
        live.step()
    return live


def test_regions_of_three_classes_hold_every_class_probability():
    live = trained_spiral(3)
    (encoded,) = pictures.regions(live, [0], EXTENT, 10)
    got = np.frombuffer(base64.b64decode(encoded), np.uint8).reshape(100, 3) / 255
    want = live.regions([0], pictures.grid(EXTENT, 10))[0]  # (100, 3)
    assert np.abs(got - want).max() <= 0.5 / 255 + 1e-6
    assert np.abs(got.sum(1) - 1).max() < 3 / 255  # each cell's probabilities, rounded


def test_member_png_is_the_figure_pointlab_train_draws():
    from PIL import Image

    live = trained_spiral(3)
    png = member_png(live, 0, "spiral", EXTENT, "lr=0.03")
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.size == (750, 780)  # plots.boundary.SIZE at 100 dpi
    # The regions fill most of it, in the palette's three class colours and more (title, legend).
    assert len(image.convert("RGB").getcolors(1 << 20)) > 100


def test_picture_message_draws_the_main_member(client):
    with session(client) as ws:
        setup(ws, data="moons", epochs=30, compare="lr=0.01 0.1")
        ws.send_json({"type": "select", "member": 1})
        until(ws, lambda m: m["type"] == "frame" and m["main"] == 1)
        ws.send_json({"type": "picture"})
        answer = until(ws, lambda m: m["type"] in ("picture", "error"))
    assert answer["type"] == "picture", answer
    assert answer["name"] == "pointlab-moons-epoch-0.png"
    assert base64.b64decode(answer["png"]).startswith(b"\x89PNG\r\n\x1a\n")


def test_download_png_of_the_largest_model_stays_within_a_pages_budget():
    from pointlab.plots.boundary import GRID
    from pointlab.web import budget

    assert budget.picture_steps(TrainConfig(hidden=(16, 16)), 2, GRID) == GRID
    largest = TrainConfig(hidden=(256,) * 6)
    steps = budget.picture_steps(largest, 10, GRID)
    assert 40 <= steps < GRID
    macs = 2 * 256 + 5 * 256 * 256 + 256 * 10
    assert 2 * macs * steps**2 <= budget.MAX_FLOPS


def test_member_png_predicts_as_the_model_trains_features_and_scaling_included(monkeypatch):
    import dataclasses

    import pointlab.plots.boundary as boundary

    seen = {}
    real = boundary.compute_boundary

    def spy(predict_proba, *args, **kwargs):
        seen["predict"] = predict_proba
        return real(predict_proba, *args, **kwargs)

    monkeypatch.setattr(boundary, "compute_boundary", spy)
    data = generators.make("circle", n=120)
    far = dataclasses.replace(data, X=data.X * 300 + 500)  # standardization matters here
    config = TrainConfig(hidden=(), features=("x2", "y2"), epochs=10, lr=0.1)
    live = LiveTraining([config], far, None, 2, log_every=5)
    while not live.finished:
        live.step()
    extent = [[480.0, 820.0], [480.0, 820.0]]
    member_png(live, 0, "circle", extent)
    points = pictures.grid(extent, 10)
    np.testing.assert_allclose(seen["predict"](points), live.regions([0], points)[0], atol=1e-5)
