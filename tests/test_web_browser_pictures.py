"""The playground's pictures and shared state in Chromium: a compared member repeats alone, smooth
boundaries and a PNG worth keeping, the Playground's toggles, clicked points in the link.

Uses the server, browser and page of `test_web_browser.py` (a module-scoped server of its own).
Skipped where /usr/bin/chromium is missing."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from test_web_browser import (  # noqa: F401
    CHROMIUM,
    SHOTS,
    browser,
    by_testid,
    page,
    server,
    shot,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"
    ),
]

SMALL = "?data=moons&points=120&epochs=60&layers=8,8&data-seed=5"


def played(tab, url: str) -> dict:
    """The numbers of the finished frame of the page at `url`, played to its last epoch."""
    tab.goto(url)
    tab.wait_for_function("window.pointlab.frame !== null")
    by_testid(tab, "play").click()
    tab.wait_for_function("window.pointlab.frame.status === 'finished'", timeout=120_000)
    return tab.evaluate("window.pointlab.frame.now")


def test_a_compared_member_repeats_when_set_alone(page, server):  # noqa: F811
    together = played(page, server["url"] + SMALL + "&compare=seed=0 3")
    assert page.evaluate("window.pointlab.data.members") == ["seed=0", "seed=3"]
    alone = played(page, server["url"] + SMALL + "&seed=3")
    for key in ("train_loss", "val_loss", "val_acc"):
        assert together[key][1] == pytest.approx(alone[key][0], rel=1e-5), key


# The boundary line's pixels (dark: the regions are pale colours), as [x, y] on the regions canvas.
LINE_PIXELS = """() => {
    const canvas = document.querySelector('[data-testid=boundary]');
    const { width, height } = canvas;
    const pixels = canvas.getContext('2d').getImageData(0, 0, width, height).data;
    const out = [];
    for (let y = 0; y < height; y++) {
        for (let x = 0; x < width; x++) {
            const i = 4 * (y * width + x);
            if (pixels[i] + pixels[i + 1] + pixels[i + 2] < 240) out.push([x, y]);
        }
    }
    return out;
}"""

DRAW_COST = """async () => {
    const plane = await import('/static/js/plane.js');
    const f = window.pointlab.frame, canvas = document.createElement('canvas');
    canvas.width = canvas.height = 480;
    const bytes = plane.decode(f.regions), colours = window.pointlab.data.colours;
    const start = performance.now();
    for (let i = 0; i < 20; i++) plane.drawRegions(canvas, bytes, f.grid, colours);
    return (performance.now() - start) / 20;
}"""


def test_three_class_boundaries_are_smooth_and_cheap(page, server):  # noqa: F811
    played(page, server["url"] + "?data=spiral&classes=3&epochs=400&speed=full")
    line = page.evaluate(LINE_PIXELS)
    assert len(line) > 500
    # A boundary traced along the cell edges of the 40 x 40 grid (stair steps) lies on the
    # columns and rows that are multiples of 12 pixels of the 480-pixel canvas; a smooth one
    # crosses the cells anywhere.
    on_edges = sum(min(x % 12, 12 - x % 12) <= 1 or min(y % 12, 12 - y % 12) <= 1 for x, y in line)
    assert on_edges / len(line) < 0.7, on_edges / len(line)
    cost = page.evaluate(DRAW_COST)
    print(f"drawRegions of 3 classes on a 480-pixel canvas: {cost:.1f} ms")
    assert cost < 60  # a frame is 83 ms at 12 a second
    shot(page, "play-three-classes")


def test_download_png_is_the_figure_pointlab_train_draws(page, server):  # noqa: F811
    played(page, server["url"] + "?data=spiral&classes=3&epochs=200&speed=full")
    with page.expect_download() as download:
        by_testid(page, "png").click()
    saved = download.value
    assert saved.suggested_filename == "pointlab-spiral-epoch-200.png"
    data = Path(saved.path()).read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (750, 780)  # the figure of a run's boundary.png
    SHOTS.mkdir(exist_ok=True)
    (SHOTS / "play-download.png").write_bytes(data)
