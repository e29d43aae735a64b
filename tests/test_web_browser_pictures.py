"""The playground's pictures and shared state in Chromium: a compared member repeats alone, smooth
boundaries and a PNG worth keeping, the Playground's toggles, clicked points in the link.

Uses the server, browser and page of `test_web_browser.py` (a module-scoped server of its own).
Skipped where /usr/bin/chromium is missing."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

import servers
from test_web_browser import SHOTS, by_testid, server, shot  # noqa: F401 (the fixture)

pytestmark = servers.BROWSER_TEST

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


# Pixels drawn (not transparent) on the points canvas, and the regions canvas's share of pixels
# in one of the classes' flat colours (as "discretize output" paints them).
DRAWN_POINTS = """() => {
    const canvas = document.querySelector('#points');
    const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    let drawn = 0;
    for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) drawn += 1;
    return drawn;
}"""
FLAT_SHARE = """() => {
    const canvas = document.querySelector('[data-testid=boundary]');
    const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    const counts = new Map();
    for (let i = 0; i < pixels.length; i += 4) {
        const key = pixels[i] * 65536 + pixels[i + 1] * 256 + pixels[i + 2];
        counts.set(key, (counts.get(key) || 0) + 1);
    }
    const top = [...counts.values()].sort((a, b) => b - a).slice(0, 3);
    return top.reduce((a, b) => a + b, 0) / (pixels.length / 4);
}"""


def test_show_test_data_and_discretize_output_are_toggles_kept_in_the_link(page, server):  # noqa: F811
    played(page, server["url"] + "?data=circle&epochs=100&speed=full&show-test=0&discretize=1")
    assert not by_testid(page, "show-test").is_checked()
    assert by_testid(page, "discretize").is_checked()
    assert "show-test=0" in page.url and "discretize=1" in page.url
    hidden, flat = page.evaluate(DRAWN_POINTS), page.evaluate(FLAT_SHARE)
    assert flat > 0.8  # two flat colours (and the boundary line's few pixels)
    by_testid(page, "show-test").check()
    by_testid(page, "discretize").uncheck()
    page.wait_for_function("!window.location.search.includes('show-test')")
    assert "discretize" not in page.url  # both back to their defaults
    shown, shaded = page.evaluate(DRAWN_POINTS), page.evaluate(FLAT_SHARE)
    assert shown > hidden * 1.1  # the validation squares (a fifth of the points) are back
    assert shaded < 0.5  # shaded by the model's certainty
    assert page.evaluate("window.pointlab.frame.status") == "finished"  # a view, not a setup
    page.goto(server["url"] + "?data=circle&discretize=maybe")
    page.wait_for_function("window.pointlab.frame !== null")
    assert "discretize=maybe" in by_testid(page, "notice").inner_text()
    assert not by_testid(page, "discretize").is_checked()


def test_the_noise_slider_says_what_noise_means_for_the_data_set(page, server):  # noqa: F811
    page.goto(server["url"] + "?data=linear")
    page.wait_for_function("window.pointlab.frame !== null")
    meaning = by_testid(page, "noise-meaning")
    assert "probability" in meaning.inner_text() and "0.3" in meaning.inner_text()
    by_testid(page, "dataset").select_option("spiral")
    page.wait_for_function("window.pointlab.data.name === 'spiral'")
    assert "standard deviation" in meaning.inner_text() and "0.02" in meaning.inner_text()
    slider = by_testid(page, "noise-slider")
    slider.fill("0.1")  # a range input's fill sets its value and fires input and change
    page.wait_for_function("window.pointlab.data.settings.noise === '0.1'")
    assert "noise=0.1" in page.url
    assert page.locator("[name=noise]").input_value() == "0.1"
    by_testid(page, "dataset").select_option("curve.csv")
    page.wait_for_function("window.pointlab.data.name === 'curve.csv'")
    assert "generated data" in meaning.inner_text() and slider.is_disabled()
    page.goto(server["url"] + "?data=gauss&lang=ja")
    page.wait_for_function("window.pointlab.frame !== null")
    assert "標準偏差" in meaning.inner_text() and "0.1" in meaning.inner_text()
    shot(page, "play-noise-ja")


def test_clicked_points_travel_in_the_link(page, server, browser):  # noqa: F811
    page.goto(server["url"] + "?data=moons&points=40&epochs=50")
    page.wait_for_function("window.pointlab.frame !== null")
    plane = page.locator("#points")
    plane.click(position={"x": 60, "y": 60})
    page.wait_for_function("window.pointlab.data.points.length === 41")
    first = page.evaluate("window.pointlab.data.points[3]")
    box = page.evaluate(
        """([x, y]) => { const [[x0, x1], [y0, y1]] = window.pointlab.data.extent;
        return [(x - x0) / (x1 - x0) * 480, (y1 - y) / (y1 - y0) * 480]; }""",
        first,
    )
    plane.click(position={"x": box[0], "y": box[1]}, modifiers=["Shift"])
    page.wait_for_function("window.pointlab.data.points.length === 40")
    page.wait_for_function("window.location.search.includes(';r')")
    assert "edits=a" in page.url
    points = page.evaluate("window.pointlab.data.points")
    other = browser.new_page()
    other.goto(page.url)
    other.wait_for_function("window.pointlab.frame !== null")
    assert other.evaluate("window.pointlab.data.points") == points
    assert by_testid(other, "notice").inner_text() == ""
    # Another data set: the clicks belonged to the old one.
    other.locator("[name=points]").fill("60")
    other.locator("[name=points]").dispatch_event("change")
    other.wait_for_function("window.pointlab.data.points.length === 60")
    assert "edits" not in other.url
    other.close()


def test_the_page_says_when_the_link_is_full_of_clicks(page, server):  # noqa: F811
    full = ";".join(f"a0.5,0.{i:03d},0" for i in range(100))
    page.goto(server["url"] + f"?data=moons&points=40&epochs=50&edits={full}")
    page.wait_for_function("window.pointlab.frame !== null")
    assert len(page.evaluate("window.pointlab.data.points")) == 140
    page.locator("#points").click(position={"x": 400, "y": 400})
    page.wait_for_function("window.pointlab.data.points.length === 141")
    assert "first 100 clicked points" in by_testid(page, "notice").inner_text()


def test_discretize_output_flattens_compare_modes_small_pictures_too(page, server):  # noqa: F811
    share = """(discrete) => {
        const canvas = document.querySelector('[data-testid=members] canvas');
        const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
        const counts = new Map();
        for (let i = 0; i < pixels.length; i += 4) {
            const key = pixels[i] * 65536 + pixels[i + 1] * 256 + pixels[i + 2];
            counts.set(key, (counts.get(key) || 0) + 1);
        }
        const top = [...counts.values()].sort((a, b) => b - a).slice(0, 2);
        return top.reduce((a, b) => a + b, 0) / (pixels.length / 4);
    }"""
    played(page, server["url"] + "?data=circle&epochs=100&speed=full&compare=lr=0.01 0.1")
    shaded = page.evaluate(share)
    by_testid(page, "discretize").check()
    page.wait_for_function("window.location.search.includes('discretize=1')")
    flat = page.evaluate(share)  # measured: 0.68 shaded, 0.95 flat
    assert flat > 0.85 and flat > shaded + 0.1, (shaded, flat)
