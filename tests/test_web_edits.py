"""Clicked points travel in the link: the `edits` setting replays points added and removed, the
server records each click in it (up to MAX_EDITS, and says when it leaves one out), and a bad one
is refused with a message naming it."""

from __future__ import annotations

import pytest

from pointlab.errors import UserError
from pointlab.web.settings import MAX_EDITS, parse
from webclient import session, setup, until

pytestmark = pytest.mark.usefixtures("one_thread")
DATA = dict(data="moons", points=40, epochs=20)


def ready(ws):
    return until(ws, lambda m: m["type"] in ("ready", "error"))


def test_clicks_go_into_the_link_and_the_link_gives_the_same_points(client):
    with session(client) as ws:
        setup(ws, **DATA)
        ws.send_json({"type": "add_point", "x": 0.123456789, "y": 0.9, "label": 1})
        added = ready(ws)
        assert added["settings"]["edits"] == "a0.12346,0.9,1"
        ws.send_json({"type": "remove_point", "index": 3})
        removed = ready(ws)
        assert removed["settings"]["edits"] == "a0.12346,0.9,1;r3"
        assert len(removed["points"]) == 40
        ws.send_json({"type": "reset"})
        assert ready(ws)["points"] == removed["points"]  # Reset keeps the clicked points
    with session(client) as ws:  # the link, opened in another tab
        again = setup(ws, **DATA, edits=removed["settings"]["edits"])
    assert again["type"] == "ready", again
    assert again["points"] == removed["points"] and again["labels"] == removed["labels"]
    assert again["edits_left_out"] == 0


def test_a_click_past_the_limit_trains_but_is_said_to_be_left_out(client):
    full = ";".join(f"a0.5,0.{i:03d},0" for i in range(MAX_EDITS))
    with session(client) as ws:
        first = setup(ws, **DATA, edits=full)
        assert first["type"] == "ready", first
        assert len(first["points"]) == 40 + MAX_EDITS
        ws.send_json({"type": "add_point", "x": 0.7, "y": 0.7, "label": 1})
        after = ready(ws)
    assert len(after["points"]) == 41 + MAX_EDITS  # trained on
    assert after["settings"]["edits"] == full and after["edits_left_out"] == 1


@pytest.mark.parametrize(
    ("edits", "said"),
    [
        ("a0.5,0.5", "write aX,Y,LABEL"),
        ("r999", "edits: r999: no point 999"),
        ("a0.5,0.5,7", "edits: a0.5,0.5,7: label must be 0..1"),
        ("a1.2.3,0,0", "edits: a1.2.3,0,0: not a number"),
        ("a1e9,0,0", "edits: a1e9,0,0: coordinates must be finite"),
    ],
)
def test_a_bad_edit_is_refused_naming_it(client, edits, said):
    with session(client) as ws:
        answer = setup(ws, **DATA, edits=edits)
    assert answer["type"] == "error" and said in answer["message"], answer


def test_a_link_holds_at_most_max_edits():
    with pytest.raises(UserError, match=f"more than the {MAX_EDITS} a link holds"):
        parse({"edits": ";".join(["r0"] * (MAX_EDITS + 1))})


def test_the_page_says_how_many_clicks_a_link_holds():
    import json
    from importlib import resources

    strings = resources.files("pointlab.web") / "static" / "i18n" / "en.json"
    assert f"(up to {MAX_EDITS})" in json.loads(strings.read_text(encoding="utf-8"))["data.hint"]
