"""The playground's hidden widths in a real browser: a link may spell them as `--layers` does, and
the page shows the widths it names, spelled back as the server gives them (8,4 or none)."""

from __future__ import annotations

import servers
from test_web_browser import server  # noqa: F401 (the fixture)

LAYERS_IN_URL = "(want) => new URLSearchParams(window.location.search).get('layers') === want"

pytestmark = servers.BROWSER_TEST


def test_a_link_with_bracketed_widths_opens_with_those_layers(page, server):  # noqa: F811
    page.goto(server["url"] + "?data=xor&epochs=50&layers=[8,%204]")
    page.wait_for_function("window.pointlab.frame !== null")
    assert page.locator("[name=layers]").input_value() == "8,4"
    assert page.locator("#widths input").count() == 2
    assert "layers=8,4" in page.url

    for _ in range(2):
        page.locator("#remove-layer").click()
    page.wait_for_function(LAYERS_IN_URL, arg="none")
    assert page.locator("#widths input").count() == 0
    page.locator("#add-layer").click()
    page.wait_for_function(LAYERS_IN_URL, arg="8")
    assert page.locator("#widths input").count() == 1
