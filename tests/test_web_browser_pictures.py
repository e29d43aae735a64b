"""The playground's pictures and shared state in Chromium: a compared member repeats alone, smooth
boundaries and a PNG worth keeping, the Playground's toggles, clicked points in the link.

Uses the server, browser and page of `test_web_browser.py` (a module-scoped server of its own).
Skipped where /usr/bin/chromium is missing."""

from __future__ import annotations

import pytest

from test_web_browser import CHROMIUM, browser, by_testid, page, server, shot  # noqa: F401

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
