"""The playground as a notebook widget: `Playground(data="circle", layers="8,8")` shows the
page's plane, curves and network diagram in a notebook cell, with Play, Pause, Step and Reset,
and `result()` gives the model trained so far back to Python as a `runs.RunResult`.

The kernel side is the page's own: one `web.session.Session` (the worker thread that owns the
points and the `LiveTraining`, which steps the engine's `Training`), fed the messages the page
would send over its WebSocket. The front end is the page's drawing modules (`bundle.py`,
`playground.js`). What goes where, as anywidget documents it:

- traits synced both ways: `settings` (the page's settings, named as its link names them; a
  change from the form or from Python sets the playground up again, and the kernel answers with
  the normalized set), and from the kernel `epoch`, `status`, `error`;
- custom messages: the session's `ready` and `frame` to every open view, and a view's `play`,
  `pause`, `step`, `reset` and `select` (compare mode's main model) to the session's inbox.

Training runs in the session's worker thread, never in the kernel's: a cell returns at once and
Play/Pause work while other cells run. The widget has a turn-taking gate of its own, which
`result()` takes to read the training between two of the worker's slices of work.

Not here: the session and its messages (`pointlab.web.session`), the run object
(`pointlab.runs`, built by `pointlab.web.export.member_result`), the front end (`playground.js`).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import anywidget
import traitlets

from pointlab.errors import UserError
from pointlab.runs import RunResult
from pointlab.web.queues import Gate
from pointlab.web.session import Session
from pointlab.widget import bundle

FROM_PAGE = ("play", "pause", "step", "reset")  # what a view may ask of the session
# and `select {member}`: in compare mode, the member the plane, curves and `result()` show
WAIT_FOR_SETUP = 120.0  # seconds `result()` waits for the first setup to be trained on


def _choices() -> dict[str, list[str]]:
    from pointlab.config import ACTIVATIONS, OPTIMIZERS
    from pointlab.web.settings import BOOK_FILES, GENERATORS

    return {
        "data": [*GENERATORS, *BOOK_FILES],
        "activation": list(ACTIVATIONS),
        "optimizer": list(OPTIMIZERS),
    }


class Playground(anywidget.AnyWidget):
    """`pointlab play` in a cell. Settings are the page's (`Playground(data="xor", lr=0.1,
    batch_size=16)`: a keyword's `_` stands for the link's `-`), or `settings={...}`."""

    _esm = traitlets.Unicode(bundle.esm()).tag(sync=True)
    _css = traitlets.Unicode(bundle.css()).tag(sync=True)
    strings = traitlets.Dict(bundle.strings()).tag(sync=True)
    choices = traitlets.Dict(_choices()).tag(sync=True)
    settings = traitlets.Dict().tag(sync=True)
    epoch = traitlets.Int(0).tag(sync=True)
    status = traitlets.Unicode("").tag(sync=True)
    error = traitlets.Unicode("").tag(sync=True)

    def __init__(self, settings: dict[str, Any] | None = None, **options: Any) -> None:
        from pointlab.web.settings import parse

        wanted = {k.replace("_", "-"): _text(v) for k, v in options.items()}
        chosen = {**(settings or {}), **wanted}
        parse(chosen)  # a bad setting: one UserError line now, not a message in the widget later
        super().__init__(settings=chosen)
        self._accepted: dict[str, Any] | None = None  # the settings the session trains on
        self._ready: dict[str, Any] | None = None  # its last `ready`, for views opened later
        self._set_up = threading.Event()
        self._frame = threading.Condition()
        self._last: dict[str, Any] | None = None  # the last frame
        self._gate = Gate(1)
        # The page's Export writes under a runs folder; the widget has no such button (`result()`
        # and `runs.write_run` instead), so the session is never asked to write there.
        self._session = Session(self._from_session, Path("runs"), gate=self._gate)
        self.on_msg(self._from_page)
        self.observe(self._on_settings, names="settings")
        self._submit({"type": "setup", "settings": dict(self.settings)})
        self._submit({"type": "view", "diagram": True})

    # --- what Python may do, as the buttons do ------------------------------------------------
    def play(self) -> None:
        self._submit({"type": "play"})

    def pause(self) -> None:
        self._submit({"type": "pause"})

    def step(self) -> None:
        self._submit({"type": "step"})

    def reset(self) -> None:
        self._submit({"type": "reset"})

    def select(self, member: int) -> None:
        """Compare mode: make `member` (an index into the population) the main model."""
        self._submit({"type": "select", "member": member})

    def wait(self, epoch: int, timeout: float = 60.0) -> int:
        """Block until a frame shows `epoch` epochs trained, or training stopped for good (its
        epochs done, diverged, ...); the epoch reached. TimeoutError after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        with self._frame:
            while not self._reached(epoch):
                left = deadline - time.monotonic()
                if left <= 0:
                    now = self._last["epoch"] if self._last else 0
                    raise TimeoutError(f"the playground reached epoch {now}, not {epoch}")
                self._frame.wait(left)
            assert self._last is not None
            return int(self._last["epoch"])

    def _reached(self, epoch: int) -> bool:
        last = self._last
        if last is None:
            return False
        return last["epoch"] >= epoch or _state(last["status"]) not in ("playing", "paused")

    def result(self) -> RunResult:
        """The main model (compare mode: the one selected) as it is now, as a `RunResult`
        (`path` None: not written; write it with `pointlab.runs.write_run`). Taken between two
        slices of training, so it may be called while playing."""
        from pointlab.web.export import member_result

        self._set_up.wait(WAIT_FOR_SETUP)
        self._gate.acquire(lambda: False, None)
        try:
            session = self._session
            live, setup, dataset = session.live, session.setup, session.dataset
            if live is None or setup is None or dataset is None:
                raise UserError(f"the playground is not set up: {self.error or 'no answer yet'}")
            return member_result(
                live,
                session.main,
                dataset,
                setup.val_fraction,
                setup.data.seed,
                session.edited,
                made_by="pointlab.widget.Playground",
            )
        finally:
            self._gate.release()

    def __repr__(self) -> str:
        """<Playground circle, layers 4: epoch 120, paused> (where a widget cannot be drawn)."""
        data, layers = self.settings.get("data", "spiral"), self.settings.get("layers", "16,16")
        status = self.status or "setting up"
        return f"<Playground {data}, layers {layers}: epoch {self.epoch}, {status}>"

    def close(self) -> None:
        """Stop the session's worker (after its current piece of work) and close the views."""
        if hasattr(self, "_session"):  # not when __init__ failed before making it
            self._session.close()
        super().close()

    # --- messages -----------------------------------------------------------------------------
    def _submit(self, message: dict[str, Any]) -> None:
        if not self._session.submit(message):
            self.error = f"{message['type']}: too many messages waiting; try again in a moment"

    def _on_settings(self, change: dict[str, Any]) -> None:
        if change["new"] != self._accepted:
            self._submit({"type": "setup", "settings": dict(change["new"])})

    def _from_page(self, _widget: Any, content: Any, _buffers: Any) -> None:
        kind = content.get("type") if isinstance(content, dict) else None
        if kind in FROM_PAGE:
            self._submit({"type": kind})
        elif kind == "select":
            self._submit({"type": "select", "member": content.get("member")})
        elif kind == "hello":  # a view opened: what it needs to draw now
            if self._ready is not None:
                self.send(self._ready)
            self._submit({"type": "view", "diagram": True})  # answered with a frame

    def _from_session(self, message: dict[str, Any]) -> None:
        """The session's answers (called in its worker thread)."""
        kind = message.get("type")
        if kind == "ready":
            self._ready, self._accepted = message, dict(message["settings"])
            self.error = ""
            self.settings = self._accepted  # equal to `_accepted`: not set up again
            self._set_up.set()
        elif kind == "frame":
            with self._frame:
                self._last = message
                self._frame.notify_all()
            self.epoch, self.status = int(message["epoch"]), str(message["status"])
        elif kind == "error":
            self.error = str(message["message"])
            if self._accepted is not None:
                self.settings = self._accepted  # the form shows what trains
            else:
                self._set_up.set()  # refused before any setup: `result()` says why at once
        self.send(message)
        if kind == "frame":
            self._session.frame_sent()


def _text(value: Any) -> str:
    """A keyword's value as the page's link writes it (True/False: on/off, for standardize)."""
    if isinstance(value, bool):
        return "on" if value else "off"
    return str(value)


def _state(status: str) -> str:
    """A frame's status without the collapse note ("collapsed at epoch 9 · playing")."""
    return status.split(" · ")[-1]
