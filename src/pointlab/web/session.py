"""One browser tab's playground: its points, its population, and a worker thread that trains it.

The tab talks over one WebSocket. Its messages (JSON objects with a `type`) go into a queue that
one worker thread serves, so all training and all torch work happen off the server's event loop and
no lock guards the state: only the worker touches it. While playing, the worker trains epoch after
epoch and sends a frame about 15 times a second: the epoch, the speed, every member's numbers, new
history rows, the decision regions of the main member (and of every member in compare mode), and,
when the page shows it, each hidden unit's activation with its weights. A frame is skipped, not
queued, while two are still on their way, so a slow page never makes the server fall behind.

Messages from the page:
    setup {settings}        build data and members from the settings (see settings.py)
    points {X, y, name}     the points of an uploaded CSV (already parsed by the loader)
    play, pause, step, reset
    add_point {x, y, label}, remove_point {index}     edit the points; training goes on
    select {member}         make a member of the population the main model
    view {network, layer}   whether to send the inside-the-network pictures, and of which layer
    export                  write the main model as a run directory (export.py)
    explain                 one training step explained (pointlab.autodiff, when present)
Messages to the page: ready, frame, error {message}, exported {path}, explained {trace}.

Not here: the HTTP side and its checks (`app.py`, `security.py`), the training loop (`live.py`).
"""

from __future__ import annotations

import base64
import math
import queue
import threading
import time
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from pointlab import generators
from pointlab.data import Dataset, load_csv
from pointlab.errors import UserError
from pointlab.web import settings as settings_mod
from pointlab.web.settings import MAX_CLASSES, MAX_POINTS, UPLOAD, Setup

if TYPE_CHECKING:
    from pointlab.web.live import LiveTraining  # torch: imported when training starts

FRAME_INTERVAL = 1 / 12  # seconds between frames while training: 12 refreshes a second
# Compare mode's small pictures and the network view: at most 5 a second, and rarer when drawing
# them costs more than a tenth of the time (64 members of the book's complex model).
THUMB_INTERVAL = NETWORK_INTERVAL = 0.2
# Cells per side of each picture. The main picture costs a forward pass of GRID^2 points per
# frame: 40^2 costs the book's complex model about 4 ms, 5% of the training time at 12 frames a
# second (the page smooths the grid when it scales it up).
GRID, THUMB_GRID, UNIT_GRID = 40, 24, 24
MAX_UNITS_SHOWN = 32  # of a hidden layer, in the network view
MAX_IN_FLIGHT = 2  # frames sent but not yet written to the socket


class Session:
    def __init__(self, send: Callable[[dict[str, Any]], None], runs_root: Path) -> None:
        """`send(message)` must be thread-safe: the worker calls it."""
        self.send, self.runs_root = send, runs_root
        self.inbox: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.in_flight = 0  # frames on their way; the sender decrements it (a race only skews it)
        self.setup: Setup | None = None
        self.uploaded: Dataset | None = None
        self.dataset: Dataset | None = None
        self.live: LiveTraining | None = None
        self.playing = False
        self.edited = False  # points changed while training: an export cannot be repeated
        self.main = 0
        self.network_layer: int | None = None  # None: the network view is closed
        self.thread = threading.Thread(target=self._serve, name="pointlab-play", daemon=True)
        self.thread.start()

    # --- called from the event loop -----------------------------------------------------------
    def submit(self, message: dict[str, Any]) -> None:
        self.inbox.put(message)

    def close(self) -> None:
        """The tab is gone: stop training now (the worker ends after its current epoch)."""
        self.playing = False
        self.inbox.put(None)

    def frame_sent(self) -> None:
        self.in_flight = max(0, self.in_flight - 1)

    # --- the worker ---------------------------------------------------------------------------
    def _serve(self) -> None:
        import torch

        torch.set_grad_enabled(True)
        while True:
            try:
                block = not (self.playing and self.live is not None and not self.live.finished)
                message = self.inbox.get(block=block)
            except queue.Empty:
                self._train_for(FRAME_INTERVAL)
                continue
            if message is None:
                return
            try:
                self._handle(message)
            except UserError as error:
                self.send({"type": "error", "message": str(error)})
            except Exception as error:  # a bug: say so in the page, keep serving the tab
                self.playing = False
                self.send({"type": "error", "message": f"internal error: {error!r}"})

    def _handle(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind == "setup":
            raw = message.get("settings")
            if not isinstance(raw, dict):
                raise UserError("setup: settings must be an object")
            self._setup(settings_mod.parse(raw))
        elif kind == "points":
            self.uploaded = _points_dataset(message)
            if self.setup is not None:
                raw = dict(self.setup.settings, data=UPLOAD)
                self._setup(settings_mod.parse(raw))
        elif self.live is None:
            raise UserError(f"{kind}: set the playground up first")
        elif kind == "play":
            self.playing = not self.live.finished
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
            self._edit(kind, message)
        elif kind == "select":
            member = message.get("member")
            if not isinstance(member, int) or not 0 <= member < self.live.M:
                raise UserError(f"select: no member {member!r}")
            self.main = member
            self._frame(force=True)
        elif kind == "view":
            layer = message.get("layer")
            self.network_layer = layer if isinstance(layer, int) and layer >= 0 else None
            self._frame(force=True)
        elif kind == "export":
            from pointlab.web.export import export_run

            path = export_run(self, self.runs_root)
            self.send({"type": "exported", "path": str(path)})
        elif kind == "explain":
            from pointlab.web.explain import explain_step

            self.send({"type": "explained", "trace": explain_step(self)})
        else:
            raise UserError(f"unknown message type {kind!r}")

    # --- data and members ---------------------------------------------------------------------
    def _setup(self, setup: Setup | None, playing: bool | None = None) -> None:
        from pointlab.web.live import LiveTraining

        assert setup is not None
        dataset = self._make_data(setup)
        self.setup, self.dataset = setup, dataset
        self.extent = _extent(dataset.X)
        train, val = self._split()
        epochs = setup.members[0].epochs
        self.edited = False
        self.live = LiveTraining(
            list(setup.members), train, val, dataset.n_classes, log_every=_log_every(epochs)
        )
        self.main = min(self.main, self.live.M - 1)
        if playing is not None:
            self.playing = playing
        self._sent_rows = [0] * self.live.M
        self._speed = (time.perf_counter(), 0)
        self._thumbs_due = self._network_due = 0.0
        self.send(self._ready())
        self._frame(force=True)

    def _make_data(self, setup: Setup) -> Dataset:
        recipe = setup.data
        if recipe.kind == UPLOAD:
            if self.uploaded is None:
                raise UserError("data=upload: upload a CSV first (the URL cannot hold its points)")
            return self.uploaded
        if recipe.kind.endswith(".csv"):
            book = resources.files("pointlab.web") / "book" / recipe.kind
            with resources.as_file(book) as path:
                dataset = load_csv(path)
            return Dataset(dataset.X, dataset.y, 2, recipe.kind, f"the book's {recipe.kind}")
        options: dict[str, Any] = dict(
            n=recipe.n, classes=recipe.classes, label_noise=recipe.label_noise, seed=recipe.seed
        )
        if recipe.noise is not None:
            options["noise"] = recipe.noise
        return generators.make(recipe.kind, **options)

    def _split(self) -> tuple[Dataset, Dataset | None]:
        from pointlab.splits import split

        assert self.setup is not None and self.dataset is not None
        fraction = self.setup.val_fraction
        if fraction == 0:
            return self.dataset, None
        # Seeded as `pointlab train` seeds it (split seed = model seed), so an export repeats it.
        train, val, _ = split(self.dataset, fraction, seed=self.setup.members[0].seed)
        if len(train) == 0:
            raise UserError("val-fraction leaves no training points")
        return train, (val if len(val) else None)

    def _edit(self, kind: str, message: dict[str, Any]) -> None:
        assert self.dataset is not None and self.live is not None
        X, y = self.dataset.X, self.dataset.y
        if kind == "add_point":
            x, yy, label = message.get("x"), message.get("y"), message.get("label")
            if not all(isinstance(v, int | float) and math.isfinite(v) for v in (x, yy)):
                raise UserError("add_point: x and y must be finite numbers")
            if not isinstance(label, int) or not 0 <= label < self.dataset.n_classes:
                raise UserError(f"add_point: label must be 0..{self.dataset.n_classes - 1}")
            if len(X) >= MAX_POINTS:
                raise UserError(f"add_point: the limit is {MAX_POINTS} points")
            X = np.concatenate([X, np.array([[x, yy]], dtype=np.float32)])
            y = np.concatenate([y, np.array([label], dtype=np.int64)])
        else:
            index = message.get("index")
            if not isinstance(index, int) or not 0 <= index < len(X):
                raise UserError(f"remove_point: no point {index!r}")
            if len(X) <= 4:
                raise UserError("remove_point: keep at least 4 points")
            X, y = np.delete(X, index, axis=0), np.delete(y, index)
        name = self.dataset.name if self.dataset.name.endswith("(edited)") else None
        self.dataset = Dataset(
            X,
            y,
            self.dataset.n_classes,
            name or f"{self.dataset.name} (edited)",
            self.dataset.source + " (edited in pointlab play)",
        )
        train, val = self._split()
        # The weights stay; only the points change, so the page shows the model adapting.
        self.live.set_data(train, val, keep_weights=True)
        self.edited = True
        self.send(self._ready())
        self._frame(force=True)

    def _ready(self) -> dict[str, Any]:
        from pointlab.plots.points import class_colours

        assert self.setup is not None and self.dataset is not None and self.live is not None
        train, val = self.live.train, self.live.val
        points = np.concatenate([train.X, val.X]) if val is not None else train.X
        labels = np.concatenate([train.y, val.y]) if val is not None else train.y
        return {
            "type": "ready",
            "settings": self.setup.settings,
            "name": self.dataset.name,
            "n_classes": self.dataset.n_classes,
            "colours": class_colours(self.dataset.n_classes),
            "extent": self.extent,
            "points": np.round(points.astype(np.float64), 5).tolist(),
            "labels": labels.tolist(),
            "n_train": len(train),
            # The page removes points by index into this list; the worker maps it back.
            "index": self._point_index(),
            "members": list(self.setup.labels),
            "axes": [[k, list(v)] for k, v in self.setup.axes],
            "layers": list(self.setup.members[self.main].hidden),
            "epochs": self.live.max_epochs,
        }

    def _point_index(self) -> list[int]:
        """For each point as the page lists them (train, then validation), its index in
        self.dataset, so that remove_point can name a point of the unsplit data set."""
        assert self.dataset is not None and self.live is not None
        order: dict[tuple[float, float, int], list[int]] = {}
        for i, (p, label) in enumerate(
            zip(self.dataset.X.tolist(), self.dataset.y.tolist(), strict=True)
        ):
            order.setdefault((p[0], p[1], label), []).append(i)
        out = []
        parts = [self.live.train] + ([self.live.val] if self.live.val is not None else [])
        for part in parts:
            for p, label in zip(part.X.tolist(), part.y.tolist(), strict=True):
                out.append(order[(p[0], p[1], label)].pop(0))
        return out

    # --- training and frames ------------------------------------------------------------------
    def _train_for(self, seconds: float) -> None:
        """Train until the next frame is due (or the end), then send the frame."""
        live = self._training
        deadline = time.perf_counter() + seconds
        while not live.finished and time.perf_counter() < deadline and self.inbox.empty():
            live.step()
        if live.finished:
            self.playing = False
        self._frame(force=live.finished)

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
            "now": {k: _floats(v) for k, v in numbers.items()},
            "rows": self._new_rows(),
            "diverged": live.diverged.tolist(),
            "regions": self._regions([self.main], GRID)[0],
            "grid": GRID,
        }
        if live.M > 1 and (force or now >= self._thumbs_due):
            frame["thumbs"] = self._regions(list(range(live.M)), THUMB_GRID)
            frame["thumb_grid"] = THUMB_GRID
            self._thumbs_due = now + max(THUMB_INTERVAL, 10 * (time.perf_counter() - now))
        if self.network_layer is not None and (force or now >= self._network_due):
            start = time.perf_counter()
            frame["network"] = self._network(self.network_layer)
            self._network_due = now + max(NETWORK_INTERVAL, 10 * (time.perf_counter() - start))
        self.in_flight += 1
        self.send(frame)

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
            out.append({k: _floats(v[m][start:]) for k, v in live.history.items()})
            self._sent_rows[m] = len(live.history["epoch"][m])
        return out

    def _grid(self, cells: int) -> np.ndarray:
        """Centres of cells x cells squares over the extent, row 0 at the top: (cells^2, 2)."""
        (x0, x1), (y0, y1) = self.extent
        xs = x0 + (np.arange(cells) + 0.5) * (x1 - x0) / cells
        ys = y1 - (np.arange(cells) + 0.5) * (y1 - y0) / cells
        gx, gy = np.meshgrid(xs, ys)
        return np.column_stack([gx.ravel(), gy.ravel()]).astype(np.float32)

    def _regions(self, members: list[int], cells: int) -> list[str]:
        """Each member's picture as base64 bytes: P(class 1) * 255 per cell for two classes;
        for K > 2 two bytes per cell, the likeliest class and its probability * 255."""
        probs = self._training.regions(members, self._grid(cells))  # (m, cells^2, K)
        probs = np.nan_to_num(probs, nan=1.0 / probs.shape[2])
        out = []
        for p in probs:
            if p.shape[1] == 2:
                data = np.round(p[:, 1] * 255).astype(np.uint8)
            else:
                top = p.argmax(1)
                data = np.stack([top, np.round(p.max(1) * 255)], 1).astype(np.uint8)
            out.append(base64.b64encode(data.tobytes()).decode())
        return out

    def _network(self, layer: int) -> dict[str, Any]:
        """One hidden layer of the main member: each unit's activation over the plane (bytes
        scaled to -1..1 -> 0..255) and the weights into it."""
        live = self._training
        hidden = live.configs[self.main].hidden
        if not hidden:
            return {"layer": None, "layers": 0}
        layer = min(layer, len(hidden) - 1)
        acts = live.units(self.main, self._grid(UNIT_GRID))[layer]  # (G, width)
        shown = min(acts.shape[1], MAX_UNITS_SHOWN)
        scale = float(np.nanmax(np.abs(acts[:, :shown]))) or 1.0
        pictures = []
        for u in range(shown):
            values = np.nan_to_num(acts[:, u] / scale)
            data = np.round((values + 1) * 127.5).clip(0, 255).astype(np.uint8)
            pictures.append(base64.b64encode(data.tobytes()).decode())
        weight, bias = live.weights(self.main)[layer]  # (fan_in, width), (width,)
        return {
            "layer": layer,
            "layers": len(hidden),
            "width": int(acts.shape[1]),
            "shown": shown,
            "scale": scale,
            "grid": UNIT_GRID,
            "units": pictures,
            "weights": np.round(weight[:, :shown].T, 4).tolist(),  # (shown, fan_in)
            "bias": np.round(bias[:shown], 4).tolist(),
        }


def _points_dataset(message: dict[str, Any]) -> Dataset:
    """An uploaded CSV's points, as the loader parsed them on the server; checked again here
    because the page sends them back."""
    X, y, name = message.get("X"), message.get("y"), message.get("name") or "upload"
    try:
        X = np.asarray(X, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
    except (TypeError, ValueError):
        raise UserError("points: X must be [[x, y], ...] and y [label, ...]") from None
    if X.ndim != 2 or X.shape[1:] != (2,) or y.shape != (len(X),):
        raise UserError("points: X must be [[x, y], ...] and y one label per point")
    if not 4 <= len(X) <= MAX_POINTS:
        raise UserError(f"points: give 4 to {MAX_POINTS} points, got {len(X)}")
    if not np.isfinite(X).all() or np.abs(X).max() > 1e6:
        raise UserError("points: coordinates must be finite numbers within +-1e6")
    if not (np.isfinite(y).all() and (y == np.round(y)).all() and y.min() >= 0):
        raise UserError("points: labels must be whole numbers from 0")
    k = int(y.max()) + 1
    if not 2 <= k <= MAX_CLASSES or len(np.unique(y)) != k:
        raise UserError(f"points: labels must be 0..K-1, each present, 2 <= K <= {MAX_CLASSES}")
    safe = "".join(c for c in str(name)[:60] if c.isalnum() or c in "-_. ") or "upload"
    return Dataset(X.astype(np.float32), y.astype(np.int64), k, safe, f"upload {safe}")


def _extent(points: np.ndarray) -> list[list[float]]:
    """The plane shown: the unit square for data inside it, else the points plus a 10% margin."""
    low, high = points.min(0).astype(float), points.max(0).astype(float)
    if low.min() >= 0 and high.max() <= 1:
        return [[-0.05, 1.05], [-0.05, 1.05]]
    margin = np.maximum((high - low) * 0.1, 1e-3)
    low, high = low - margin, high + margin
    return [[float(low[0]), float(high[0])], [float(low[1]), float(high[1])]]


def _log_every(epochs: int) -> int:
    """About 500 history rows: smooth curves, and a logged row costs a validation pass."""
    return max(1, epochs // 500)


def _floats(values: Any) -> list[float | None]:
    """JSON has no NaN: None stands for a missing number."""
    return [
        None if not math.isfinite(v) else round(float(v), 6) for v in np.asarray(values).ravel()
    ]
