"""One browser tab's playground: a worker thread that owns its points and its population, and the
dispatch of the tab's messages to it.

The tab talks over one WebSocket. Its messages (JSON objects with a `type`) wait in the tab's
bounded inbox (`queues.Inbox`) for one worker thread, so all training and all torch work happen
off the server's event loop and no lock guards the state: only the worker touches it. Each piece
of work (a message, or a slice of training while playing) first waits its turn at the gate that
all tabs share (`queues.Gate`), and a setup, an edit or an explained step is priced first and
refused when it costs more than a page may ask for (`budget.py`). While playing, the worker trains
epoch after epoch and sends a frame about 12 times a second: the epoch, the speed, every member's
numbers, new history rows, the decision regions of the main member (and of every member in compare
mode), and, when the page shows it, each hidden unit's activation with its weights. A frame is
skipped, not queued, while two are still on their way, so a slow page never makes the server fall
behind. Closing the tab cancels what it queued; the worker ends after its current piece of work.

Messages from the page:
    setup {settings}        build data and members from the settings (see settings.py)
    points {X, y, name}     the points of an uploaded CSV (already parsed by the loader)
    play, pause, step, reset
    add_point {x, y, label}, remove_point {index}     edit the points; training goes on, and
                            the setup's `edits` (the link's) records the click, up to MAX_EDITS
    select {member}         make a member of the population the main model
    view {network, layer}   whether to send the inside-the-network pictures, and of which layer
    view {diagram: bool}    whether to send the whole network drawn (every layer's first units)
    speed {epochs_per_s}    the most epochs a second while playing; null or 0: as fast as it can
    export                  write the main model as a run directory (export.py)
    explain                 one training step of the main model explained (pointlab.explain)
    picture                 the main model's regions as `pointlab train` draws them (figure.py)
    lessons                 the lesson index; lesson {name}: one lesson (web/lessons.py)
    check {lesson, task, settings}   a lesson's goal checked over seeds on these settings
    gen_...                 the Generate mode's messages (generate.py), answered with gen_ready
                            and frames {mode: "generate"}; it plays at the same speed, and one
                            mode trains at a time (its play pauses the other's)
Messages to the page: ready, frame, error {message}, exported {path}, explained {trace},
picture {png: base64 PNG bytes, name: a file name for it}, lessons {lessons, errors},
lesson {...}, checked {met, total, seeds, seconds}.

Not here: the HTTP side and its checks (`app.py`, `security.py`), the points (`points.py`), the
pictures (`pictures.py`), the training loop (`live.py`).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from pointlab.config import TrainConfig
from pointlab.data import Dataset
from pointlab.errors import UserError
from pointlab.web import budget, lessons, pictures, points
from pointlab.web import settings as settings_mod
from pointlab.web.generate import Generate
from pointlab.web.queues import Gate, Inbox
from pointlab.web.settings import MAX_EDITS, UPLOAD, Setup, shown, whole

if TYPE_CHECKING:
    from pointlab.web.generate_live import LiveGeneration
    from pointlab.web.live import LiveTraining  # torch: imported when training starts

FRAME_INTERVAL = 1 / 12  # seconds between frames while training: 12 refreshes a second
# Compare mode's small pictures and the network view: at most 5 a second, and rarer when drawing
# them costs more than a tenth of the time (64 members of the book's complex model).
THUMB_INTERVAL = NETWORK_INTERVAL = 0.2
MAX_IN_FLIGHT = 2  # frames sent but not yet written to the socket
PATIENCE = 30.0  # seconds a message waits for a turn at the gate before the tab is told "busy"


class Session:
    def __init__(
        self,
        send: Callable[[dict[str, Any]], None],
        runs_root: Path,
        gate: Gate | None = None,
        patience: float = PATIENCE,
        lesson_folders: Sequence[Path] = (),
    ) -> None:
        """`send(message)` must be thread-safe: the worker calls it. `gate`: the turns shared
        with the server's other tabs (a gate of one's own when None). `lesson_folders`: a
        teacher's lessons, looked in before the shipped ones."""
        self.send, self.runs_root = send, runs_root
        self.lesson_folders = lessons.folders(lesson_folders)
        self.gate, self.patience = gate if gate is not None else Gate(1), patience
        self.inbox = Inbox()
        self.in_flight = 0  # frames on their way; the sender decrements it (a race only skews it)
        self.setup: Setup | None = None
        self.uploaded: Dataset | None = None
        self.dataset: Dataset | None = None
        self.live: LiveTraining | None = None
        self.playing = False
        self.edited = False  # points changed while training: an export cannot be repeated
        self.main = 0
        self.network_layer: int | None = None  # None: the network view is closed
        self.diagram = False  # send the whole network (frame["diagram"]) while True
        self.speed: float | None = None  # epochs a second while playing; None: full speed
        self._credit, self._credit_at, self._wait = 0.0, 0.0, 0.0  # the speed's epoch budget
        # The Generate mode (generate.py): its `gen_` messages, frames and training.
        self.generate = Generate(self._send_frame, self._backed_up, lambda: self.uploaded)
        self.thread = threading.Thread(target=self._serve, name="pointlab-play", daemon=True)
        self.thread.start()

    # --- called from the event loop -----------------------------------------------------------
    def submit(self, message: dict[str, Any]) -> bool:
        """Queue a message for the worker; False (nothing queued) when the inbox is full."""
        return self.inbox.put(message)

    def close(self) -> None:
        """The tab is gone: cancel what it queued and stop (after the current piece of work)."""
        self.playing = self.generate.playing = False
        self.inbox.close()

    def frame_sent(self) -> None:
        self.in_flight = max(0, self.in_flight - 1)

    # --- the worker ---------------------------------------------------------------------------
    def _serve(self) -> None:
        import torch

        torch.set_grad_enabled(True)
        try:
            while not self.inbox.closed:
                # Playing: wait only until the next epoch is due (no wait at full speed).
                training = self._training_now
                message = self.inbox.get(
                    wait=not training or self._wait > 0, timeout=self._wait if training else None
                )
                if message is not None or self._training_now:
                    self._work(message)
        finally:
            from pointlab.cpu import release_freed_memory

            self.live = self.generate.live = None  # the tab is gone: its populations go now
            release_freed_memory()  # and the memory it held goes back to the machine

    @property
    def _training_now(self) -> bool:
        classifier = self.playing and self.live is not None and not self.live.finished
        return classifier or self.generate.training_now

    def _work(self, message: dict[str, Any] | None) -> None:
        """Handle `message` (None: train until the next frame) in a turn at the gate. A slice of
        training waits as long as it must, but gives its place up for a newer message; a message
        waits `patience` seconds, then the tab is told the server is busy."""
        inbox = self.inbox
        if message is None:
            turn = self.gate.acquire(lambda: inbox.closed or not inbox.empty(), None)
        else:
            turn = self.gate.acquire(lambda: inbox.closed, self.patience)
        if not turn:
            if message is not None and not inbox.closed:
                self.send({"type": "error", "message": self._busy(message)})
            return
        try:
            if message is None:
                self._train_for(FRAME_INTERVAL)
            else:
                self._handle(message)
        except UserError as error:
            self.send({"type": "error", "message": str(error)})
        except Exception as error:  # a bug: say so in the page, keep serving the tab
            self.playing = False
            self.send({"type": "error", "message": f"internal error: {error!r}"})
        finally:
            self.gate.release()

    def _busy(self, message: dict[str, Any]) -> str:
        return (
            f"{kind_of(message)}: the server is busy with other pages' work "
            f"({self.gate.waiting} waiting for a turn); it was not done, try again in a moment"
        )

    def _handle(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if isinstance(kind, str) and kind.startswith("gen_"):
            if kind == "gen_play":  # one mode trains at a time, at the page's speed
                self.playing = False
                self._credit, self._credit_at = 1.0, time.perf_counter()
            self.generate.handle(message)
        elif kind == "setup":
            raw = message.get("settings")
            if not isinstance(raw, dict):
                raise UserError("setup: settings must be an object")
            self._setup(settings_mod.parse(raw))
        elif kind == "points":
            self.uploaded = points.uploaded(message)
            if self.setup is not None:
                raw = dict(self.setup.settings, data=UPLOAD, edits="")
                self._setup(settings_mod.parse(raw))
        elif kind == "lessons":
            self.send(lessons.index(self.lesson_folders))
        elif kind == "lesson":
            self.send(lessons.lesson(message.get("name"), self.lesson_folders))
        elif kind == "check":
            self.send(lessons.check(message, self.lesson_folders))
        elif kind == "speed":
            self.speed = _epochs_per_s(message.get("epochs_per_s"))
            self._credit, self._credit_at = 0.0, time.perf_counter()
        elif self.live is None or self.setup is None or self.dataset is None:
            raise UserError(f"{kind_of(message)}: set the playground up first")
        elif kind == "play":
            self.playing, self.generate.playing = not self.live.finished, False
            self._credit, self._credit_at = 1.0, time.perf_counter()  # the first epoch now
            self._frame(force=True)
        elif kind == "pause":
            self.playing = False
            self._frame(force=True)
        elif kind == "step":
            self.playing = False
            self.live.step()
            self._frame(force=True)
        elif kind == "reset":
            self._setup(self.setup, playing=False)
        elif kind in ("add_point", "remove_point"):
            self._edit(*points.click(self.dataset, message))
        elif kind == "select":
            self.main = settings_mod.member(message, self.live.M)
            self._frame(force=True)
        elif kind == "view":
            if "diagram" in message:
                self.diagram = bool(message["diagram"])
            else:
                layer = whole(message.get("layer"))
                self.network_layer = layer if layer is not None and layer >= 0 else None
            self._frame(force=True)
        elif kind == "export":
            from pointlab.web.export import export_run

            live, setup = self.live, self.setup
            path = export_run(
                live,
                self.main,
                self.dataset,
                setup.val_fraction,
                setup.data.seed,
                self.edited,
                self.runs_root,
            )
            self.send({"type": "exported", "path": str(path)})
        elif kind == "explain":
            self.send({"type": "explained", "trace": self._explain()})
        elif kind == "picture":
            self.send(self._picture())
        else:
            raise UserError(f"unknown message type {shown(message.get('type'))}")

    # --- data and members ---------------------------------------------------------------------
    def _setup(self, setup: Setup, playing: bool | None = None) -> None:
        from pointlab.web.live import LiveTraining

        dataset = points.replay(points.make(setup.data, self.uploaded), setup.data.edits)
        train, val = points.split_points(dataset, setup.val_fraction, setup.data.seed)
        _check_cost(setup.members, dataset.n_classes, train, val, "this setup")
        self.live = None  # the old population goes before the new one is built
        epochs = setup.members[0].epochs
        live = LiveTraining(
            list(setup.members), train, val, dataset.n_classes, log_every=_log_every(epochs)
        )
        self.setup, self.dataset, self.live = setup, dataset, live
        self.extent = points.extent(dataset.X)
        self.edited = False
        self.edits_left_out = 0  # clicks past MAX_EDITS: trained on, not in the link
        self.main = min(self.main, live.M - 1)
        if playing is not None:
            self.playing = playing
        self._sent_rows = [0] * live.M
        self._speed = (time.perf_counter(), 0)
        self._thumbs_due = self._network_due = 0.0
        self.send(self._ready())
        self._frame(force=True)

    def _edit(self, dataset: Dataset, edit: str) -> None:
        """Train on the edited points from here on: the weights stay, so the page shows the
        model adapting. `edit` (the click, as the link writes it) joins the setup's edits, so
        the link and Reset keep it, unless the link holds MAX_EDITS already."""
        live, setup = self._training, self.setup
        assert setup is not None
        train, val = points.split_points(dataset, setup.val_fraction, setup.data.seed)
        _check_cost(live.configs, dataset.n_classes, train, val, "this many points")
        self.dataset = dataset
        edited = settings_mod.with_edit(setup, edit)
        if edited is None:
            self.edits_left_out += 1
        else:
            self.setup = edited
        live.set_data(train, val, keep_weights=True)
        self.edited = True
        self.send(self._ready())
        self._frame(force=True)

    def _explain(self) -> dict[str, Any]:
        """A JSON-able trace of one training step of the main member."""
        from pointlab.explain import trace_step

        live, m = self._training, self.main
        cost = budget.explain_cost(live.configs[m], live.n_classes, len(live.train))
        cost.check("Step and explain of this model on these points")
        return trace_step(
            live.configs[m],
            live.state(m),
            live.inputs(m, live.train.X),
            live.train.y,
            live.n_classes,
        )

    def _picture(self) -> dict[str, Any]:
        """The main member's figure, as Download PNG saves it."""
        import base64

        from pointlab.web.figure import member_png

        live, m, dataset = self._training, self.main, self.dataset
        assert dataset is not None and self.setup is not None
        label = self.setup.labels[m] if m < len(self.setup.labels) else ""
        png = member_png(live, m, dataset.name, self.extent, label)
        slug = "".join(c if c.isalnum() else "-" for c in dataset.name).strip("-")
        name = f"pointlab-{slug}-epoch-{live.epoch}.png"
        return {"type": "picture", "png": base64.b64encode(png).decode(), "name": name}

    def _ready(self) -> dict[str, Any]:
        from pointlab.plots.points import class_colours

        assert self.setup is not None and self.dataset is not None and self.live is not None
        train, val = self.live.train, self.live.val
        parts = [train] if val is None else [train, val]
        xy = np.concatenate([part.X for part in parts])
        labels = np.concatenate([part.y for part in parts])
        return {
            "type": "ready",
            "settings": self.setup.settings,
            "name": self.dataset.name,
            "n_classes": self.dataset.n_classes,
            "colours": class_colours(self.dataset.n_classes),
            "extent": self.extent,
            "points": np.round(xy.astype(np.float64), 5).tolist(),
            "labels": labels.tolist(),
            "n_train": len(train),
            # The page removes points by index into this list; the worker maps it back.
            "index": points.point_index(self.dataset, parts),
            "members": list(self.setup.labels),
            "axes": [[k, list(v)] for k, v in self.setup.axes],
            "layers": list(self.setup.members[self.main].hidden),
            "epochs": self.live.max_epochs,
            # The generator's own noise, which an empty noise field means (None: not generated).
            "noise_default": points.noise_default(self.setup.data.kind),
            "edits_limit": MAX_EDITS,
            "edits_left_out": self.edits_left_out,  # clicks trained on that the link lacks
        }

    # --- training and frames ------------------------------------------------------------------
    def _train_for(self, seconds: float) -> None:
        """Train until the next frame is due (or the end, or a message), then send the frame.
        With a speed set, train only the epochs that are due at that rate, and set `_wait` to
        the time until the next ones (the worker waits that long for a message first). The
        Generate mode's training when it plays, else the classifier's."""
        generating = self.generate.training_now
        live: LiveTraining | LiveGeneration = (
            self.generate.live if self.generate.live is not None and generating else self._training
        )
        frame = self.generate.frame if generating else self._frame
        now = time.perf_counter()
        deadline = now + seconds
        budget = math.inf
        if self.speed is not None:
            # Epochs owed since the last call, at most a few frames' worth: no burst after a stall.
            owed = self._credit + self.speed * (now - self._credit_at)
            self._credit = min(owed, max(1.0, 4 * self.speed * seconds))
            self._credit_at = now
            budget = math.floor(self._credit)
        trained = 0
        while (
            not live.finished
            and trained < budget
            and time.perf_counter() < deadline
            and self.inbox.empty()
        ):
            live.step()
            trained += 1
        self._wait = 0.0
        if self.speed is not None:
            self._credit -= trained
            if trained < budget and not live.finished:
                pass  # behind (the frame's time ran out, or a message came): go on at once
            elif self.speed * seconds >= 1:  # fast: the next frame's epochs a frame from now
                self._wait = max(0.0, deadline - time.perf_counter())
            else:  # slow: wake when the next epoch is due
                self._wait = min(seconds, max(0.0, (1 - self._credit) / self.speed))
        if live.finished:
            self.playing = False
        if trained or live.finished:
            frame(force=live.finished)

    def _frame(self, force: bool = False) -> None:
        live = self.live
        if live is None or (self.in_flight >= MAX_IN_FLIGHT and not force):
            return
        now = time.perf_counter()
        start, start_epoch = self._speed
        speed = (live.epoch - start_epoch) / (now - start) if now > start else 0.0
        if now - start > 1.0:  # a moving window of about a second
            self._speed = (now, live.epoch)
        if not self.playing:
            self._speed, speed = (now, live.epoch), 0.0
        numbers = live.measure()
        status = "playing" if self.playing else "paused"
        if live.finished:
            status = live.statuses[self.main]
        collapsed = live.collapsed_epoch[self.main]
        if collapsed is not None:  # one output for every point, for good (engine/tracker.py)
            status = f"collapsed at epoch {collapsed} · {status}"
        frame: dict[str, Any] = {
            "type": "frame",
            "epoch": live.epoch,
            "epochs_per_s": round(speed, 1),
            "status": status,
            "main": self.main,
            "now": {k: pictures.floats(v) for k, v in numbers.items()},
            "rows": self._new_rows(),
            "diverged": live.diverged.tolist(),
            "regions": pictures.regions(live, [self.main], self.extent, pictures.GRID)[0],
            "grid": pictures.GRID,
        }
        if live.M > 1 and (force or now >= self._thumbs_due):
            members = list(range(live.M))
            frame["thumbs"] = pictures.regions(live, members, self.extent, pictures.THUMB_GRID)
            frame["thumb_grid"] = pictures.THUMB_GRID
            self._thumbs_due = now + max(THUMB_INTERVAL, 10 * (time.perf_counter() - now))
        if (self.network_layer is not None or self.diagram) and (force or now >= self._network_due):
            start = time.perf_counter()
            if self.network_layer is not None:
                frame["network"] = pictures.network(
                    live, self.main, self.network_layer, self.extent
                )
            if self.diagram:
                frame["diagram"] = pictures.diagram(live, self.main, self.extent)
            self._network_due = now + max(NETWORK_INTERVAL, 10 * (time.perf_counter() - start))
        self.in_flight += 1
        self.send(frame)

    def _send_frame(self, message: dict[str, Any]) -> None:
        """Send a message of the Generate mode; its frames count as on their way."""
        if message["type"] == "frame":
            self.in_flight += 1
        self.send(message)

    def _backed_up(self) -> bool:
        return self.in_flight >= MAX_IN_FLIGHT

    @property
    def _training(self) -> LiveTraining:
        """The live training, for the steps that run only after setup has made it."""
        assert self.live is not None, "no training before setup"
        return self.live

    def _new_rows(self) -> list[dict[str, list[float | None]]]:
        """History rows logged since the last frame, per member: {epoch: [...], train_loss: ...}."""
        live, out = self._training, []
        for m in range(live.M):
            start = self._sent_rows[m]
            out.append({k: pictures.floats(v[m][start:]) for k, v in live.history.items()})
            self._sent_rows[m] = len(live.history["epoch"][m])
        return out


def _check_cost(
    configs: Sequence[TrainConfig], n_classes: int, train: Dataset, val: Dataset | None, what: str
) -> None:
    """Refuse training that costs more than a page may ask for, or than the machine has free."""
    n_val = len(val) if val is not None else 0
    budget.training_cost(configs, n_classes, len(train), n_val).check(what)
    budget.check_free_memory(configs, n_classes, len(train), n_val)


def _epochs_per_s(value: Any) -> float | None:
    """A speed from the page: a positive number of epochs a second, or None for full speed."""
    if value is None or value == 0:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value < 0
    ):
        raise UserError("speed: epochs_per_s must be a positive number, 0 or null (full speed)")
    return float(value)


def kind_of(message: dict[str, Any]) -> str:
    """A message's type as an answer names it."""
    kind = message.get("type")
    return kind if isinstance(kind, str) and len(kind) <= 40 else shown(kind)


def _log_every(epochs: int) -> int:
    """About 500 history rows: smooth curves, and a logged row costs a validation pass."""
    return max(1, epochs // 500)
