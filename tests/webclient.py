"""What the playground's in-process tests share: the page's origin, a tab's WebSocket, and waiting
for the message a user would wait for.

Imported by name (`from webclient import session, setup, until`); the app itself comes from each
test file's `client` fixture (Starlette's TestClient around `create_app`).

Not here: the real browser (`test_web_browser.py`).
"""

from __future__ import annotations

import threading

ORIGIN = "http://127.0.0.1:8050"
WS = "ws://127.0.0.1:8050/ws"


def session(client, headers=None):
    return client.websocket_connect(WS, headers={"origin": ORIGIN, **(headers or {})})


def until(ws, predicate, limit=2000):
    """Messages until one satisfies `predicate`; it is returned."""
    for _ in range(limit):
        message = ws.receive_json()
        if predicate(message):
            return message
        if message["type"] == "error" and message["message"].startswith("internal error"):
            # The worker reports its own failures this way and then waits: fail, never hang.
            raise AssertionError(message["message"])
    raise AssertionError("no such message")


def setup(ws, **settings):
    ws.send_json(
        {"type": "setup", "settings": {k.replace("_", "-"): v for k, v in settings.items()}}
    )
    ready = until(ws, lambda m: m["type"] in ("ready", "error"))
    return ready


def workers() -> set[threading.Thread]:
    """The sessions' worker threads alive now."""
    return {t for t in threading.enumerate() if t.name == "pointlab-play"}
