"""The playground's Generate mode in a real browser: Playwright drives Debian's Chromium against
`pointlab play` started as a subprocess. The pictures of the mode in docs/ come from here
(docs/play-generate.png and docs/play-generate-ja.png).

Skipped where /usr/bin/chromium is missing (`.ci/run` installs it with apt-get)."""

from __future__ import annotations

import re
import signal
from pathlib import Path

import pytest

import servers

from conftest import POINTLAB

DOCS = Path(__file__).resolve().parent.parent / "docs"
SHOTS = DOCS.parent / "screenshots"  # git-ignored

pytestmark = servers.BROWSER_TEST

# Small and quick on two shared cores; the page's own defaults are larger.
QUICK = "data=moons&layers=64,64&epochs=600&speed=full"
PICTURE = "data=moons&points=500&epochs=600&speed=full"  # the defaults' network, for docs/
FINISHED = "(g => g.frame.status === 'finished' && 'path' in g.frame)(window.pointlab.generate)"
# The mean distance from each sample drawn now to its nearest data point.
SHOWN_DISTANCE = """() => {
    const g = window.pointlab.generate, xy = g.shown, data = g.data.points;
    let total = 0;
    for (let j = 0; j < xy.length; j += 2) {
        let best = Infinity;
        for (const [x, y] of data) best = Math.min(best, (xy[j] - x) ** 2 + (xy[j + 1] - y) ** 2);
        total += Math.sqrt(best);
    }
    return total / (xy.length / 2);
}"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    process, url = servers.start_play(POINTLAB, "--runs", str(tmp_path_factory.mktemp("runs")))
    yield url
    process.send_signal(signal.SIGINT)
    process.communicate(timeout=20)


def by_testid(page, name: str):
    return page.locator(f"[data-testid={name}]")


def picture(page, name: str) -> None:
    """The header, the mode switch and the panels, as docs/ shows them."""
    DOCS.mkdir(exist_ok=True)
    box = page.locator("main").bounding_box()
    assert box is not None
    clip = {"x": 0, "y": 0, "width": 1280, "height": box["y"] + box["height"] + 8}
    page.screenshot(path=str(DOCS / name), clip=clip)


def scrub(page, t: float) -> None:
    page.evaluate(
        "t => { const s = document.getElementById('gen-time'); s.value = t; "
        "s.dispatchEvent(new Event('input')); }",
        t,
    )


def test_generate_mode_learns_moons_and_scrubs_from_noise_to_data(page, server):
    page.goto(server + "?" + PICTURE)
    page.wait_for_function("window.pointlab.frame !== null")
    by_testid(page, "mode-generate").click()
    g = "window.pointlab.generate"
    page.wait_for_function(f"{g}.frame && 'distance' in {g}.frame")
    assert page.evaluate(f"{g}.data.name") == "moons"
    assert "mode=generate" in page.url and "method=flow" in page.url
    assert page.locator("#model-panel").is_hidden() and page.locator("#gen-panel").is_visible()
    # The link's data and the page's speed carry over; the models' settings go through the form.
    assert page.locator("[data-gen=layers]").input_value() == "128,128,128"
    page.locator("[data-gen=epochs]").fill("600")
    page.locator("[data-gen=epochs]").blur()
    page.wait_for_function(f"{g}.data.settings.epochs === '600' && {g}.frame.epoch === 0")
    # The numbers the page shows (below 0, an unbiased estimate's noise at the floor, it says so).
    untrained = page.evaluate(f"{g}.frame.distance")
    reference = page.evaluate(f"{g}.data.reference")
    by_testid(page, "play").click()
    page.wait_for_function(FINISHED, timeout=180_000)
    assert by_testid(page, "epoch").inner_text() == "600"
    trained = page.evaluate(f"{g}.frame.distance")
    shown = by_testid(page, "gen-distance").inner_text()
    assert shown == (
        f"{trained:.3f}" if trained >= 0 else "≈ 0: not told apart from the data with these points"
    )
    # Trained, the samples lie closer to the moons than before, and than a fitted Gaussian's.
    assert trained < 0.8 * untrained and trained < 0.8 * reference, (trained, untrained, reference)

    # Scrubbing time: at 0 the samples are the noise, at 1 they lie on the moons.
    scrub(page, 0)
    assert by_testid(page, "gen-time-label").inner_text().startswith("t = 0.00")
    at_noise = page.evaluate(SHOWN_DISTANCE)
    scrub(page, 1)
    at_data = page.evaluate(SHOWN_DISTANCE)
    assert at_data < 0.5 * at_noise, (at_data, at_noise)

    # The vector field at a time chosen with the slider, and the paths.
    by_testid(page, "gen-field").check()
    page.wait_for_function(f"{g}.field !== null && {g}.field.t === 1")
    scrub(page, 0.5)
    page.wait_for_function(f"{g}.field.t === 0.5")
    by_testid(page, "gen-paths").check()
    scrub(page, 1)
    page.wait_for_function(f"{g}.field.t === 1")
    picture(page, "play-generate.png")

    # Back to classifying: the classifier's panels and counters.
    by_testid(page, "mode-classify").click()
    assert page.locator("#model-panel").is_visible() and page.locator("#gen-panel").is_hidden()
    assert "mode=generate" not in page.url


def test_compare_a_bad_setting_and_a_link_in_generate_mode(page, server, tmp_path):
    page.goto(server + "?mode=generate&steps=20&" + QUICK)
    g = "window.pointlab.generate"
    page.wait_for_function(f"{g}.frame !== null")
    assert page.locator("[data-gen=steps]").input_value() == "20"
    assert "generate" in page.evaluate("document.body.className")
    # A bad value: the one-line message, and the form goes back to what trains.
    page.locator("[data-gen=steps]").fill("0")
    page.locator("[data-gen=steps]").blur()
    by_testid(page, "error").filter(has_text="steps: 0 is outside 1..1000").wait_for()
    assert page.locator("[data-gen=steps]").input_value() == "20"
    # A bad CSV: the loader's one line, as in the classifier's mode.
    bad = tmp_path / "bad.csv"
    bad.write_text("0.1,0.2,0\n0.3,abc,1\n")
    by_testid(page, "upload").set_input_files(str(bad))
    by_testid(page, "error").filter(has_text="bad.csv:2").wait_for()
    # A good one: the Generate mode learns its points.
    good = tmp_path / "mine.csv"
    good.write_text("".join(f"{x / 9},{(x * 7 % 10) / 9},{x % 2}\n" for x in range(10)))
    by_testid(page, "upload").set_input_files(str(good))
    page.wait_for_function(f"{g}.data.name === 'mine.csv' && {g}.data.points.length === 10")
    assert by_testid(page, "error").inner_text() == ""
    # Compare: the population's small multiples, one per member.
    by_testid(page, "gen-compare").fill("lr=0.001 0.01")
    by_testid(page, "gen-compare").blur()
    page.wait_for_function(f"{g}.data.members.length === 2")
    by_testid(page, "step").click()
    page.wait_for_function("document.querySelectorAll('[data-testid=gen-member]').length === 2")
    assert by_testid(page, "error").inner_text() == ""
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "play-generate-compare.png"), full_page=True)


# Names that stay as they are in Japanese: functions, settings as the link writes them.
NAMES = {"pointlab", "ReLU", "Leaky", "tanh", "GELU", "CSV", "XOR", "Shift", "MB", "x", "y", "t"}
# What the Generate mode shows: its visible texts, titles and placeholders.
GEN_TEXTS = """() => {
    const out = [];
    for (const root of document.querySelectorAll('header, .controls, #gen-panel, #gen-view')) {
        const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
        while (walker.nextNode()) {
            const parent = walker.currentNode.parentElement;
            if (!parent.closest('#lang') && parent.checkVisibility()) {
                out.push(walker.currentNode.textContent);
            }
        }
        for (const el of root.querySelectorAll('[title], [placeholder], optgroup')) {
            if (!el.checkVisibility() && el.tagName !== 'OPTGROUP') continue;
            out.push(el.title || '', el.label || '');
            if (el.dataset.gen !== 'compare') out.push(el.placeholder || '');
        }
    }
    return out.join(' ');
}"""


def test_the_japanese_generate_mode_has_its_words(page, server):
    page.goto(server + "?mode=generate&lang=ja&" + PICTURE)
    g = "window.pointlab.generate"
    page.wait_for_function(f"{g}.frame !== null && 'path' in {g}.frame")
    by_testid(page, "play").click()
    page.wait_for_function(FINISHED, timeout=180_000)
    page.wait_for_function("document.documentElement.lang === 'ja'")
    text = re.sub(r"\w+\.csv|pointlab[. ]play", "", page.evaluate(GEN_TEXTS))
    english = sorted(set(re.findall(r"[A-Za-z]+", text)) - NAMES)
    assert not english, english
    terms = ("生成モデル", "生成", "フローマッチング", "拡散モデル", "ノイズ", "時刻", "サンプル")
    for term in terms:
        assert term in text, term
    assert by_testid(page, "mode-generate").inner_text() == "生成"
    by_testid(page, "gen-paths").check()
    scrub(page, 1)
    picture(page, "play-generate-ja.png")
