"""The playground's ASGI app: the page, its static files, the CSV upload and the live WebSocket.

    GET  /                the page (static/index.html)
    GET  /static/...      the page's scripts and styles, only from this package's static/ folder
    POST /api/upload      a CSV (at most 5 MB), parsed by `pointlab.data.load_csv` only: the
                          points as JSON, or the loader's one-line error
    WS   /ws              one tab's session (session.py): settings and buttons in, frames out

Every request passes `GuardMiddleware` (security.py) first. A WebSocket message that is not one
JSON object under 2 MB (binary, nested past the parser's depth, a list) is answered with an error
message and the tab stays connected; so is a message that finds the tab's inbox full. Answers the
tab is slow to read are bounded too: past `MAX_UNREAD` waiting, such error answers are dropped.
All tabs share one `queues.Gate` of `workers` slots: that many tabs work at once; and at most
`max_tabs` are open (one more is told so, and closed with code 1013, "try again later").

Not here: training (`session.py`, `live.py`), the command line (`pointlab.cli.play_cmd`).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import tempfile
from importlib import resources
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket, WebSocketDisconnect

from pointlab.data import load_csv
from pointlab.errors import UserError
from pointlab.web.queues import Gate
from pointlab.web.security import GuardMiddleware, json_error, read_limited
from pointlab.web.session import PATIENCE, Session, kind_of
from pointlab.web.settings import MAX_CLASSES, MAX_POINTS

MAX_MESSAGE = 2 * 1024 * 1024  # characters of one WebSocket message (5000 points fit easily)
MAX_UNREAD = 64  # answers waiting for a tab that reads slowly, past which error answers drop
MAX_TABS = 64  # open at once: each holds a thread, and memory while it has a setup
STATIC = Path(str(resources.files("pointlab.web") / "static"))
BAD_MESSAGE = "messages must be JSON objects under 2 MB, sent as text"


def create_app(
    host: str = "127.0.0.1",
    runs_root: str | Path = "runs",
    workers: int | None = None,
    patience: float = PATIENCE,
    max_tabs: int = MAX_TABS,
    lesson_folders: list[Path] | None = None,
) -> Starlette:
    """The app for a server bound to `host`; exports go into `runs_root`. `workers`: how many
    tabs work at once (None: half the cores, at least one, since torch's own threads use the
    rest); `patience`: seconds a tab's message waits for its turn before it is refused;
    `max_tabs`: how many tabs may be open at once; `lesson_folders`: a teacher's lessons, looked
    in before the shipped ones (`pointlab play --lessons DIR`)."""
    root = Path(runs_root)
    gate = Gate(workers if workers is not None else max(1, (os.cpu_count() or 1) // 2))
    tabs = [0]  # open now; changed only on the event loop

    async def page(request: Request) -> Response:
        return HTMLResponse((STATIC / "index.html").read_text(encoding="utf-8"))

    async def upload(request: Request) -> Response:
        name = _safe_name(request.query_params.get("name", "upload.csv"))
        try:
            body = await read_limited(request)
            dataset = await asyncio.to_thread(_parse_csv, body, name)
        except UserError as error:
            return json_error(str(error), 413 if "larger than" in str(error) else 400)
        return JSONResponse(
            {
                "name": name,
                "X": dataset.X.astype(float).tolist(),
                "y": dataset.y.tolist(),
                "n_classes": dataset.n_classes,
            }
        )

    async def live(websocket: WebSocket) -> None:
        await websocket.accept()
        if tabs[0] >= max_tabs:
            why = f"the server has {max_tabs} pages open, its limit: close one, then reload"
            await websocket.send_text(json.dumps({"type": "error", "message": why}))
            await websocket.close(code=1013, reason=why)
            return
        tabs[0] += 1
        try:
            await serve_tab(websocket)
        finally:
            tabs[0] -= 1

    async def serve_tab(websocket: WebSocket) -> None:
        loop = asyncio.get_running_loop()
        outbox: asyncio.Queue[tuple[str, bool]] = asyncio.Queue()

        def send(message: dict[str, Any]) -> None:  # called by the session's worker thread
            text = json.dumps(message, allow_nan=False)
            try:
                loop.call_soon_threadsafe(outbox.put_nowait, (text, message["type"] == "frame"))
            except RuntimeError:  # the server is shutting down: nobody is listening
                session.close()

        def refuse(why: str) -> None:  # an answer of the event loop's own
            if outbox.qsize() < MAX_UNREAD:
                outbox.put_nowait((json.dumps({"type": "error", "message": why}), False))

        session = Session(send, root, gate, patience, lesson_folders or [])

        async def sender() -> None:
            while True:
                text, is_frame = await outbox.get()
                await websocket.send_text(text)
                if is_frame:
                    session.frame_sent()

        task = asyncio.create_task(sender())
        try:
            while True:
                received = await websocket.receive()
                if received["type"] == "websocket.disconnect":
                    break
                message = _message(received.get("text"))
                if message is None:
                    refuse(BAD_MESSAGE)
                elif not session.submit(message):
                    refuse(
                        f"{kind_of(message)}: this page has {session.inbox.limit} messages waiting "
                        "for the server; it was not done, try again when they are answered"
                    )
        except WebSocketDisconnect:
            pass
        finally:
            session.close()  # closing the tab cancels what it queued and stops its training
            task.cancel()

    routes = [
        Route("/", page),
        Route("/api/upload", upload, methods=["POST"]),
        WebSocketRoute("/ws", live),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    app = Starlette(routes=routes, middleware=[Middleware(GuardMiddleware, bound=host)])
    app.state.gate = gate  # the turns the tabs take, for whoever embeds or tests the app
    return app


def _message(text: str | None) -> dict[str, Any] | None:
    """The JSON object of a text frame; None for anything else (a binary frame has no text)."""
    if text is None or len(text) > MAX_MESSAGE:
        return None
    try:
        message = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: nested deeper than the parser goes
        return None
    return message if isinstance(message, dict) else None


def _safe_name(name: str) -> str:
    """The uploaded file's own name, for messages only: no folders, plain characters."""
    base = re.split(r"[\\/]", name)[-1]
    safe = re.sub(r"[^A-Za-z0-9._ -]", "_", base).strip(" .")[:80]
    return safe or "upload.csv"


def _parse_csv(body: bytes, name: str):
    """The points of an uploaded CSV, by the same loader as `pointlab train`; its errors name
    the uploaded file (not the temporary copy) and the line."""
    with tempfile.TemporaryDirectory(prefix="pointlab-upload-") as folder:
        path = Path(folder) / name
        path.write_bytes(body)
        try:
            dataset = load_csv(path)
        except UserError as error:
            raise UserError(str(error).replace(str(path), name)) from None
    if len(dataset) > MAX_POINTS:
        raise UserError(f"{name}: {len(dataset)} points; the playground takes at most {MAX_POINTS}")
    if dataset.n_classes > MAX_CLASSES:
        raise UserError(
            f"{name}: {dataset.n_classes} classes; the playground takes at most {MAX_CLASSES}"
        )
    return dataset
