"""The playground's Generate mode: a tab's generative models of its points, trained step by step,
and what the page draws of them.

The tab's worker (`session.py`) hands this every message whose type starts with `gen_`, and
trains it while it plays through the same paced loop as the classifier (`Session._train_for`):

    gen_setup {settings}    build the points and the members (generate_settings.py)
    gen_play, gen_pause, gen_step, gen_reset
    gen_add_point {x, y}, gen_remove_point {index}   edit the points; training goes on, and
                            the setup's `edits` records the click (as the classifier's do)
    gen_select {member}     make a member of the population the main model
    gen_view {t, field}     the time the vector field is drawn at (0 noise .. 1 data), and
                            whether to send it
Answers: gen_ready {...} once set up; frames {type: "frame", mode: "generate", ...}.

A frame carries every member's loss and new history rows. Sampling costs a forward pass per
sampling step, so the main member's samples and their paths from noise (`path`, float32 bytes,
`PATH_SAMPLES` points at every step), compare mode's small multiples and the vector field come
at most every `SAMPLE_INTERVAL` seconds, and rarer when drawing them takes more than a tenth of
the time; a pause, a step or the end always sends them. The page scrubs time along the paths it
holds, so moving the time slider asks the server only for the field at the new time.

Each sampling also measures how close the samples are to the data: the energy distance of
`pointlab.generative.quality`, the number `pointlab generate` reports, here against all the
page's points (there is no held-out set in the page) and in the standardized units the models
learn in; the same for samples of one Gaussian fitted to the data is the `reference` line a model
must get below.

Not here: the settings (`generate_settings.py`), training (`generate_live.py`), the estimate
itself and its standard error (`pointlab.generative.quality`).
"""

from __future__ import annotations

import base64
import math
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from pointlab.data import Dataset
from pointlab.errors import UserError
from pointlab.web import budget, points
from pointlab.web.pictures import floats
from pointlab.web.settings import MAX_EDITS, UPLOAD, member, shown, with_edit

if TYPE_CHECKING:
    from pointlab.generative import GenConfig
    from pointlab.web.generate_live import LiveGeneration
    from pointlab.web.generate_settings import GenSetup

PATH_SAMPLES = 400  # points whose paths from noise the main picture shows
THUMB_SAMPLES = 200  # points of each member's small picture
FIELD_GRID = 17  # arrows per side of the vector field
SAMPLE_INTERVAL = 0.25  # seconds between samplings while playing, at least
SEED = 0  # of the starting noise: the same noise every frame, so the picture moves smoothly
MAX_DISTANCES = 400  # measured distances a frame carries: past it, every other one is dropped


class Generate:
    def __init__(
        self,
        send: Callable[[dict[str, Any]], None],
        frames_backed_up: Callable[[], bool],
        uploaded: Callable[[], Dataset | None],
    ) -> None:
        """`send`: to the page (frames counted by the caller); `frames_backed_up()`: True while
        a frame that is not forced should be skipped; `uploaded()`: the tab's uploaded points."""
        self.send, self.backed_up, self.uploaded = send, frames_backed_up, uploaded
        self.setup: GenSetup | None = None
        self.dataset: Dataset | None = None
        self.live: LiveGeneration | None = None
        self.playing = False
        self.main = 0
        self.t = 1.0  # the time the field is drawn at
        self.field = False
        self._sample_due = 0.0

    @property
    def training_now(self) -> bool:
        return self.playing and self.live is not None and not self.live.finished

    def handle(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind == "gen_setup":
            raw = message.get("settings")
            if not isinstance(raw, dict):
                raise UserError("gen_setup: settings must be an object")
            from pointlab.web.generate_settings import parse

            self._setup(parse(raw))
        elif kind == "gen_view":
            if "t" in message:
                t = message["t"]
                if isinstance(t, bool) or not isinstance(t, int | float) or not 0 <= t <= 1:
                    raise UserError(f"gen_view: t must be a number from 0 to 1, not {shown(t)}")
                self.t = float(t)
            if "field" in message:
                self.field = bool(message["field"])
            if self.live is not None:  # the samples stand; only the field is drawn anew
                self.frame(force=True, field_only=self.field)
        elif self.live is None or self.setup is None or self.dataset is None:
            raise UserError(f"{kind}: set the Generate mode up first")
        elif kind == "gen_play":
            self.playing = not self.live.finished
            self.frame(force=True)
        elif kind == "gen_pause":
            self.playing = False
            self.frame(force=True)
        elif kind == "gen_step":
            self.playing = False
            self.live.step()
            self.frame(force=True)
        elif kind == "gen_reset":
            self._setup(self.setup, playing=False)
        elif kind in ("gen_add_point", "gen_remove_point"):
            self._edit(*points.click(self.dataset, message, label=0))
        elif kind == "gen_select":
            self.main = member(message, self.live.M)
            self.frame(force=True)
        else:
            raise UserError(f"unknown message type {shown(kind)}")

    # --- data and members ---------------------------------------------------------------------
    def _setup(self, setup: GenSetup, playing: bool | None = None) -> None:
        from pointlab.web.generate_live import LiveGeneration

        dataset = points.replay(points.make(setup.data, self.uploaded()), setup.data.edits)
        cost(setup.members, len(dataset)).check("this setup")
        self.live = None  # the old population goes before the new one is built
        epochs = max(c.epochs for c in setup.members)
        live = LiveGeneration(list(setup.members), dataset.X, log_every=max(1, epochs // 500))
        self.setup, self.dataset, self.live = setup, dataset, live
        self.main = min(self.main, live.M - 1)
        if playing is not None:
            self.playing = playing
        self._sent_rows = [0] * live.M
        self._distances: list[list[float | None]] = [[], []]  # [epochs, main member's distance]
        self._sample_due = 0.0
        self.reference = _reference(live, dataset.X)
        self.edits_left_out = 0
        self.send(self._ready())
        self.frame(force=True)

    def _edit(self, dataset: Dataset, edit: str) -> None:
        """Train on the edited points from here on (the weights stay), and keep the click in
        the setup's `edits` unless the link holds MAX_EDITS already."""
        assert self.setup is not None and self.live is not None
        setup = self.setup
        cost(setup.members, len(dataset)).check("this many points")
        self.dataset = dataset
        edited = with_edit(setup, edit)
        if edited is None:
            self.edits_left_out += 1
        else:
            self.setup = edited
        self.live.set_points(dataset.X)
        self.reference = _reference(self.live, dataset.X)
        self.send(self._ready())
        self.frame(force=True)

    def _ready(self) -> dict[str, Any]:
        assert self.setup is not None and self.dataset is not None and self.live is not None
        settings = dict(self.setup.settings)
        return {
            "type": "gen_ready",
            "settings": settings,
            "name": self.dataset.name,
            "extent": view_extent(self.dataset.X, self.live),
            "points": np.round(self.dataset.X.astype(np.float64), 5).tolist(),
            "members": list(self.setup.labels),
            "axes": [[k, list(v)] for k, v in self.setup.axes],
            "epochs": self.live.max_epochs,
            "steps": [c.steps for c in self.setup.members],
            "reference": round(self.reference, 6),
            "upload": settings["data"] == UPLOAD,
            "edits_limit": MAX_EDITS,
            "edits_left_out": self.edits_left_out,
        }

    # --- frames -------------------------------------------------------------------------------
    def frame(self, force: bool = False, field_only: bool = False) -> None:
        """Send a frame (unless two are on their way and it is not forced); `field_only`: with
        the field at the time chosen and no new samples (a forward pass, not a sampling)."""
        live = self.live
        if live is None or self.dataset is None or (self.backed_up() and not force):
            return
        if live.finished:
            self.playing = False
        status = "playing" if self.playing else ("finished" if live.finished else "paused")
        losses = live.losses()
        frame: dict[str, Any] = {
            "type": "frame",
            "mode": "generate",
            "epoch": live.epoch,
            "status": status,
            "main": self.main,
            "loss": floats(losses),
            "rows": self._new_rows(),
        }
        now = time.perf_counter()
        if field_only:
            frame["field"] = self._field(live.models([self.main])[0], self._extent)
        elif force or now >= self._sample_due:
            frame.update(self._samples(live, self.dataset.X))
            took = time.perf_counter() - now
            self._sample_due = now + max(SAMPLE_INTERVAL, 10 * took)
        self.send(frame)

    def _samples(self, live: LiveGeneration, data: np.ndarray) -> dict[str, Any]:
        """The main member's paths, every member's samples (compare mode) and how close they lie
        to the data, and the field when shown."""
        from pointlab.generative import sample_population

        models = live.models()
        main = models[self.main]
        path = main.sample(PATH_SAMPLES, seed=SEED, path=True)  # (S + 1, n, 2)
        out: dict[str, Any] = {
            "path": _bytes(path),
            "path_steps": int(path.shape[0] - 1),
            "path_samples": PATH_SAMPLES,
        }
        distance = closeness(live.scaling.apply(path[-1]), live.scaling.apply(data))
        out["distance"] = _number(distance)
        self._distances[0].append(live.epoch)
        self._distances[1].append(_number(distance))
        if len(self._distances[0]) > MAX_DISTANCES:  # a long run: the curve's shape, not its size
            self._distances = [row[::2] for row in self._distances]
        out["distances"] = [self._distances[0], self._distances[1]]
        if live.M > 1:
            samples = sample_population(models, THUMB_SAMPLES, seed=SEED)
            z = live.scaling.apply(data)
            out["thumbs"] = [_bytes(s) for s in samples]
            out["thumb_distances"] = [_number(closeness(live.scaling.apply(s), z)) for s in samples]
        if self.field:
            out["field"] = self._field(main, self._extent)
        return out

    @property
    def _extent(self) -> list[list[float]]:
        assert self.live is not None and self.dataset is not None
        return view_extent(self.dataset.X, self.live)

    def _field(self, model: Any, extent: list[list[float]]) -> dict[str, Any]:
        """The learned velocity at time t over a FIELD_GRID x FIELD_GRID grid: [x, y, vx, vy]."""
        (x0, x1), (y0, y1) = extent
        xs = x0 + (np.arange(FIELD_GRID) + 0.5) * (x1 - x0) / FIELD_GRID
        ys = y0 + (np.arange(FIELD_GRID) + 0.5) * (y1 - y0) / FIELD_GRID
        grid = np.stack(np.meshgrid(xs, ys), -1).reshape(-1, 2)  # (G, 2)
        velocity = model.velocity(grid, min(self.t, 1 - 1e-6))  # (G, 2)
        return {"t": self.t, "arrows": _bytes(np.concatenate([grid, velocity], 1))}

    def _new_rows(self) -> list[dict[str, list[float | None]]]:
        live, out = self.live, []
        assert live is not None
        history = live.history
        for m in range(live.M):
            start = self._sent_rows[m]
            out.append({k: floats(v[m][start:]) for k, v in history.items()})
            self._sent_rows[m] = len(history["epoch"][m])
        return out


def cost(configs: tuple[GenConfig, ...] | list[GenConfig], n_points: int) -> budget.Cost:
    """One unit of work: an epoch of every member (forward and backward, three matrix products
    a layer, over every point, plus the optimizer's steps) and a sampling (a forward pass a
    sampling step: the main member's paths, and each member's small picture in compare mode)."""
    from pointlab.engine.memory import estimate_memory
    from pointlab.engine.models import Architecture

    flops, memory, largest = 0.0, 0, 0.0
    for config in configs:
        spec = config.engine_spec()
        arch = Architecture(config.hidden, config.activation, 2, spec.n_inputs, outputs=2)
        macs = sum(fan_in * fan_out for fan_in, fan_out in arch.layer_shapes)
        flops += 2 * macs * 3 * n_points
        batch = min(config.batch_size or n_points, n_points)
        flops += math.ceil(n_points / batch) * budget.STEP_FLOPS
        if len(configs) > 1:
            flops += 2 * macs * THUMB_SAMPLES * config.steps
        largest = max(largest, 2.0 * macs * PATH_SAMPLES * config.steps)
        memory += estimate_memory([config.train_config()], 2, n_points, 0, spec.n_inputs).total
    advice = "use fewer points, fewer compared members, fewer sampling steps or narrower layers"
    return budget.Cost(flops + largest, memory, "one epoch and its samples", advice)


def closeness(samples: np.ndarray, data: np.ndarray) -> float:
    """The energy distance between samples (n, 2) and the data (N, 2) (`generative.quality`):
    about 0 when the samples are distributed as the data, larger the further apart; infinite
    for samples that are not finite (a diverged model)."""
    from pointlab.generative import quality

    if not np.isfinite(samples).all():
        return math.inf
    return quality.distance(samples, data, seed=SEED).value


def _reference(live: LiveGeneration, data: np.ndarray) -> float:
    """`closeness` of PATH_SAMPLES draws of one Gaussian fitted to the data (in the standardized
    space, where it has the data's correlation), the line a model must get below."""
    from pointlab.generative import quality

    z = live.scaling.apply(data)
    return closeness(quality.gaussian_sample(z, PATH_SAMPLES, seed=SEED), z)


def view_extent(data: np.ndarray, live: LiveGeneration) -> list[list[float]]:
    """The plane shown: the data and where the noise starts (the fitted scaling's mean +-2.5
    deviations), with a margin."""
    box = points.extent(data)
    mean, std = np.asarray(live.scaling.mean), np.asarray(live.scaling.std)
    low, high = mean - 2.5 * std, mean + 2.5 * std
    (x0, x1), (y0, y1) = box
    return [
        [min(x0, float(low[0])), max(x1, float(high[0]))],
        [min(y0, float(low[1])), max(y1, float(high[1]))],
    ]


def _bytes(values: np.ndarray) -> str:
    """Numbers as base64 float32 bytes, C order (the page reads a Float32Array)."""
    array = np.nan_to_num(np.asarray(values, dtype=np.float32), nan=0.0, posinf=1e6, neginf=-1e6)
    return base64.b64encode(np.ascontiguousarray(array).tobytes()).decode()


def _number(value: float) -> float | None:
    return round(value, 6) if math.isfinite(value) else None
