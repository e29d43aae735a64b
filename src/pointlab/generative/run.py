"""A generative run: the points split three ways, one model trained, its samples measured beside
the two references, and its run directory written.

    RUN_DIR/config.json        the data (generator call or file), the split, the GenConfig, the
                               device and, once done, `result`: the distance of the samples to the
                               held-out points beside the Gaussian and floor references
    RUN_DIR/metrics.csv        epoch, train_loss
    RUN_DIR/generator.safetensors, generator.json   the model (`GenModel.save`)
    RUN_DIR/samples.png, paths.png, field.png, flow.gif, flow-first.png, flow-last.png

The points are split once, seeded (`splits.split`, stratified by class): `held_out` of them are
set aside, half to measure the model against and half as the floor's second sample; the model
trains on the rest. The model then draws as many points as the first half holds, and those are
measured (`generative.quality`) as the fitted Gaussian and the floor are, against the same half.
A diverged model (samples not finite) is written with its metrics and no quality or pictures.
The points come from `make_points` (a generator) or `read_points` (a CSV), each with the record
that makes them again; `read_record(config.json)` gives back the config and the split points, so
a run is trained again from its own record with the same numbers.

Not here: training and sampling (`generative.training`, `generative.model`), the number
(`generative.quality`), drawing (`plots.generative`), the command (`cli/generate_cmd.py`).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from pointlab import __version__
from pointlab.data import Dataset, load_csv, load_points
from pointlab.errors import UserError
from pointlab.generative.config import GenConfig
from pointlab.generative.quality import Estimate, compare, distance, gaussian_sample, references
from pointlab.generators import make
from pointlab.io import write_atomic
from pointlab.runs import CONFIG, write_metrics
from pointlab.splits import split

if TYPE_CHECKING:
    from pointlab.generative.model import GenModel

FORMAT, FORMAT_VERSION = "pointlab-generate-run", 1
METRICS_COLUMNS = ("epoch", "train_loss")
MIN_HELD_OUT = 10  # points in each held-out half: fewer make the distance's error meaningless
SHOWN_PATHS = 1000  # points whose paths are drawn and animated
FIELD_TIMES = (0.0, 0.5, 0.9)
PICTURES = ("samples.png", "paths.png", "field.png", "flow.gif", "flow-first.png", "flow-last.png")


@dataclass(frozen=True)
class GenData:
    """The points of a run: `train` to learn, `held_out` to measure against, `floor` the second
    held-out sample; `record` says how to make them again (for config.json)."""

    train: Dataset
    held_out: Dataset
    floor: Dataset
    record: dict[str, Any]


@dataclass(frozen=True)
class Quality:
    """The model's distance to the held-out points and the references', n points each, and the
    model's minus the Gaussian's measured as one difference (`quality.compare`)."""

    model: Estimate
    gaussian: Estimate
    floor: Estimate
    versus_gaussian: Estimate
    n: int

    @property
    def margin(self) -> float:
        """How many standard errors (of the difference) the model lies below the Gaussian."""
        gap = self.versus_gaussian
        return -gap.value / gap.se if gap.se > 0 else math.copysign(math.inf, -gap.value)

    def to_dict(self) -> dict[str, Any]:
        def entry(e: Estimate) -> dict[str, float]:
            return {"value": e.value, "se": e.se}

        return {
            "distance": "energy distance to the held-out points (generative.quality)",
            "n": self.n,
            "model": entry(self.model),
            "gaussian": entry(self.gaussian),
            "floor": entry(self.floor),
            "model_minus_gaussian": entry(self.versus_gaussian),
            "margin_below_gaussian_in_se": self.margin,
        }


@dataclass(frozen=True)
class GenRun:
    """What a finished run produced."""

    config: GenConfig
    model: GenModel
    history: dict[str, list[float]]
    quality: Quality | None  # None: the model diverged
    seconds: float
    path: Path
    files: list[Path]


def make_points(
    kind: str, *, n: int, seed: int, noise: float | None = None, classes: int | None = None
) -> tuple[Dataset, dict[str, Any]]:
    """A generated set, and the record that makes it again."""
    options: dict[str, Any] = {"n": n, "seed": seed}
    if noise is not None:
        options["noise"] = noise
    if classes is not None:
        options["classes"] = classes
    dataset = make(kind, **options)
    return dataset, {"kind": kind, **options, "source": dataset.source}


def read_points(
    path: str | Path, *, columns: str | None = None, labelled: bool = False
) -> tuple[Dataset, dict[str, Any]]:
    """A CSV's points, and the record that reads them again: with `labelled`, its labels by the
    loader's rules (a conditional model needs them); without, one class (labels ignored)."""
    record = {"file": str(Path(path).resolve()), "columns": columns}
    if labelled:
        return load_csv(path, columns), record
    X = load_points(path, columns)
    return Dataset(X, np.zeros(len(X), dtype=np.int64), 1, Path(path).stem, str(path)), record


def read_record(path: str | Path) -> tuple[GenConfig, GenData, str]:
    """The GenConfig, the split points and the device a run's config.json records (`path`: the
    file or its run directory), to train the same run again; one-line errors naming the file."""
    path = Path(path)
    path = path / CONFIG if path.is_dir() else path
    try:
        document = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise UserError(f"{path}: not a readable config.json ({error})") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise UserError(f"{path}: not the config.json of a pointlab generate run")
    try:
        config = GenConfig.from_dict(document["config"])
        data = dict(document["data"])
        held_out, seed = float(data.pop("held_out")), int(data.pop("split_seed"))
        if "kind" in data:
            dataset, record = make_points(
                data["kind"],
                n=int(data["n"]),
                seed=int(data["seed"]),
                noise=data.get("noise"),
                classes=data.get("classes"),
            )
        else:
            dataset, record = read_points(
                data["file"], columns=data.get("columns"), labelled=config.conditional
            )
        device = str(document.get("device", "cpu"))
    except (KeyError, TypeError, ValueError) as error:
        raise UserError(f"{path}: damaged record ({error})") from None
    return config, split_points(dataset, held_out, seed, record), device


def split_points(dataset: Dataset, held_out: float, seed: int, record: dict[str, Any]) -> GenData:
    """`dataset` split into train / held-out / floor, `held_out` of the points set aside (half
    each), stratified by class and seeded by `seed`."""
    if not 0.0 < held_out < 1.0:
        raise UserError(f"the held-out share must be in (0, 1), got {held_out:g}")
    train, measured, floor = split(dataset, held_out / 2, held_out / 2, seed=seed)
    smallest = min(len(measured), len(floor))
    if smallest < MIN_HELD_OUT or len(train) < MIN_HELD_OUT:
        raise UserError(
            f"{dataset.source}: {len(dataset)} points are too few to hold out {held_out:g} of "
            f"them ({len(train)} to train, {smallest} in each held-out half); give at least "
            f"{MIN_HELD_OUT} for each"
        )
    record = {**record, "held_out": held_out, "split_seed": seed}
    return GenData(train, measured, floor, record)


def measure(samples: np.ndarray, data: GenData, seed: int = 0) -> Quality:
    """The distance of `samples` to the held-out points, beside the fitted Gaussian's and the
    floor's, each with as many points as the held-out half (and `samples`, cut to it)."""
    n = min(len(data.held_out), len(data.floor), len(samples))
    refs = references(data.train.X, data.held_out.X, data.floor.X, n=n, seed=seed)
    model = distance(samples[:n], data.held_out.X, seed=seed)
    gaussian = gaussian_sample(data.train.X, n, seed=seed)  # the points of refs["gaussian"]
    versus = compare(samples[:n], gaussian, data.held_out.X, seed=seed)
    return Quality(model, refs["gaussian"], refs["floor"], versus, n)


def run_generative(
    config: GenConfig,
    data: GenData,
    run_dir: str | Path,
    *,
    device: str = "cpu",
    on_epoch: Callable[[int, dict[str, np.ndarray]], None] | None = None,
    log_every: int | None = None,
) -> GenRun:
    """Train `config` on `data.train`, sample, measure and write `run_dir` (which must exist);
    config.json is written last, so a directory with a `result` in it is complete."""
    from pointlab.generative.training import train_generators

    run_dir = Path(run_dir)
    labels = data.train.y if config.conditional else None
    start = time.perf_counter()
    (result,) = train_generators(
        data.train.X, [config], labels=labels, device=device, on_epoch=on_epoch, log_every=log_every
    )
    n = len(data.held_out)
    path = result.model.sample(max(n, SHOWN_PATHS), seed=config.seed, path=True)  # (S+1, n, 2)
    samples = path[-1]
    finite = bool(np.isfinite(samples).all())
    quality = measure(samples, data, seed=config.seed) if finite else None
    seconds = time.perf_counter() - start

    result.model.save(run_dir)
    files = [run_dir / "generator.safetensors", run_dir / "generator.json"]
    files.append(write_metrics(run_dir, result.history, METRICS_COLUMNS))
    if finite:
        files += write_pictures(run_dir, result.model, path, data)
    summary = {
        "status": "finished" if finite else "diverged",
        "final_train_loss": _finite_or_none(result.history["train_loss"]),
        "seconds": seconds,
        "quality": None if quality is None else quality.to_dict(),
    }
    files.append(write_record(run_dir, config, data, device, summary))
    return GenRun(config, result.model, result.history, quality, seconds, run_dir, files)


def write_pictures(run_dir: Path, model: GenModel, path: np.ndarray, data: GenData) -> list[Path]:
    """The run's pictures (PICTURES) from its sampled path and its model's velocity field."""
    from pointlab.plots import generative as pictures
    from pointlab.plots import generative_animation as animation

    held_out = data.held_out.X
    shown = path[:, :SHOWN_PATHS]  # (S+1, k, 2)
    n = min(len(held_out), path.shape[1])
    return [
        pictures.plot_samples(path[-1, :n], held_out, run_dir / PICTURES[0]),
        pictures.plot_paths(shown, run_dir / PICTURES[1], data=held_out),
        pictures.plot_field(
            lambda points, t: model.velocity(points, t),
            FIELD_TIMES,
            held_out,
            run_dir / PICTURES[2],
        ),
        animation.save_animation(shown, run_dir / PICTURES[3], data=held_out),
        animation.plot_frame(shown, 0, run_dir / PICTURES[4], data=held_out),
        animation.plot_frame(shown, -1, run_dir / PICTURES[5], data=held_out),
    ]


def write_record(
    run_dir: Path, config: GenConfig, data: GenData, device: str, result: dict[str, Any] | None
) -> Path:
    """config.json: what made the run (data, split, GenConfig, device) and its result."""
    document = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "pointlab_version": __version__,
        "data": data.record,
        "points": {
            "train": len(data.train),
            "held_out": len(data.held_out),
            "floor": len(data.floor),
        },
        "config": config.to_dict(),
        "device": device,
        "result": result,
    }
    text = json.dumps(document, indent=2, allow_nan=False) + "\n"
    return write_atomic(run_dir / CONFIG, lambda file: file.write(text.encode()))


def _finite_or_none(values: list[float]) -> float | None:
    """The last value, or None where there is none or it is NaN or infinite (JSON has neither)."""
    return float(values[-1]) if values and np.isfinite(values[-1]) else None
