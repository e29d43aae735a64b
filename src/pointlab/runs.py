"""A run: what defines it (`RunSpec`), the data it trains on (`RunData`), what it produced
(`RunResult`), and its directory on disk.

    RUN_DIR/config.json        the RunSpec (TrainConfig + data file, columns, split, device, ...)
                               and, once training ended, `result`: RunResult.summary(), the same
                               keys for `pointlab train` and a sweep's `best`
    RUN_DIR/metrics.csv        epoch, train_loss, train_acc, val_loss, val_acc (empty without val)
    RUN_DIR/model.safetensors  the weights, with their config (`pointlab.checkpoint`)
    RUN_DIR/boundary.png, loss.png   pictures (`pointlab.plots`)

`RunSpec.for_data` is the one constructor every front end uses; it checks a spec's rules
(`check_settings`: shares in [0, 1), early stopping needs validation data), with errors that name
the library's settings (`val_fraction`), never a command-line flag.
`write_run` is the one writer of a finished run directory. `config.json` holds all that is needed
to repeat the run: the same spec trains the same numbers on the CPU. This module imports neither
torch nor matplotlib at the top, so the commands can check a spec before they load them.

Not here: loading, splitting and training a spec (`pointlab.training`), the engine
(`pointlab.engine`), drawing (`pointlab.plots`).
"""

from __future__ import annotations

import csv
import functools
import io
import json
import math
import re
import time
from dataclasses import asdict, dataclass, field
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pointlab import __version__, metrics
from pointlab.config import TrainConfig, describe
from pointlab.errors import SettingError, UserError
from pointlab.io import write_atomic

if TYPE_CHECKING:
    from pointlab.checkpoint import Score, TrainedModel
    from pointlab.data import Dataset

FORMAT_VERSION = 1
CONFIG, METRICS, MODEL = "config.json", "metrics.csv", "model.safetensors"
BOUNDARY, LOSS = "boundary.png", "loss.png"
PRECISION_RECALL = "precision_recall.png"  # two-class runs only
SHOWN_POINTS = 4_000  # at most this many points drawn in boundary.png
METRIC_COLUMNS = ("epoch", "train_loss", "train_acc", "val_loss", "val_acc")
METRICS_NAMES = METRIC_COLUMNS[1:]


@dataclass(frozen=True)
class RunSpec:
    """What defines a run besides the hyperparameters: which data, how it was split, where.

    The training points are `data` less a stratified validation share and, when no `test` file is
    given, less a test share: `splits.split(data, val_fraction, test_fraction, seed=split_seed)`.
    Built by `for_data`, which refuses (`SettingError`) what `check_settings` finds at fault; a
    record read back (`read_spec`) is taken as written, and `training.prepare` checks it again
    before it trains.
    """

    config: TrainConfig
    data: str  # absolute path of the training CSV
    columns: str | None = None  # the loader's X,Y,LABEL option
    val_fraction: float = 0.0
    split_seed: int = 0  # the train/validation split's seed (config.seed seeds the model)
    n_classes: int = 2
    test: str | None = None  # absolute path of the test CSV, if any
    device: str = "cpu"  # the device it ran on (resolved: never "auto")
    log_every: int = 100
    test_fraction: float = 0.0  # share of `data` held out as test data when no `test` file
    names: str | None = None  # "X,Y,LABEL": the training file's header names of those columns

    @classmethod
    def for_data(
        cls,
        config: TrainConfig,
        data: Dataset,
        *,
        val_fraction: float = 0.0,
        test: Dataset | None = None,
        test_fraction: float = 0.0,
        split_seed: int | None = None,
        columns: str | None = None,
        device: str = "cpu",
        log_every: int | None = None,
    ) -> RunSpec:
        """The spec of training `config` on `data` (and testing on `test`), as loaded: where each
        came from (`source_of`), the classes, the header names of the columns (so the run finds
        them in another file), the device resolved ("auto" -> the one it runs on), `log_every`
        about 200 rows unless given, the split seeded by `config.seed` unless given."""
        from pointlab.engine import resolve_device  # torch: only once a run is being set up

        check_settings(config, val_fraction, test_fraction)
        return cls(
            config=config,
            data=source_of(data),
            columns=columns,
            val_fraction=val_fraction,
            split_seed=config.seed if split_seed is None else split_seed,
            n_classes=data.n_classes,
            test=None if test is None else source_of(test),
            device=str(resolve_device(device)),
            log_every=log_every or auto_log_every(config.epochs),
            test_fraction=test_fraction,
            names=data.columns,
        )

    def known_columns(self) -> str | None:
        """How to find this run's columns in another file: header names, else --columns."""
        return self.names or self.columns

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["config"] = self.config.to_dict()
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunSpec:
        data = dict(data)
        data["config"] = TrainConfig.from_dict(data["config"])
        return cls(**data)


def check_settings(config: TrainConfig, val_fraction: float, test_fraction: float = 0.0) -> None:
    """The rules of a run's settings beyond its config's own, one SettingError for the first
    fault: each share in [0, 1), and early stopping only with validation data to stop on."""
    for name, share in (("val_fraction", val_fraction), ("test_fraction", test_fraction)):
        if not 0.0 <= share < 1.0:
            raise SettingError(f"{{{name}}} must be in [0, 1), got {share:g}")
    if config.early_stopping is not None and val_fraction == 0:
        raise SettingError("{early_stopping} needs validation data: give {val_fraction} > 0")


def source_of(data: Dataset) -> str:
    """Where a data set came from, as a spec records it: a file's absolute path, or how it was
    made (a generator call)."""
    path = Path(data.source)
    return str(path.resolve()) if path.is_file() else data.source


@dataclass(frozen=True)
class RunData:
    """A spec's data, split: `train` trains, `val` scores epochs, `test` is looked at once."""

    data: Dataset  # the whole file (its name titles pictures)
    train: Dataset
    val: Dataset | None
    test: Dataset | None


@dataclass(frozen=True)
class SweepChoice:
    """Where a sweep's `best` run came from: the trial it chose, on validation data only."""

    trial: int
    params: dict[str, Any]
    val_loss: float
    val_acc: float
    retrained_on: int  # training points of the retrain


@dataclass
class RunResult:
    """What training a RunSpec produced: the model, its curve, how and when it stopped.

    `summary()` is what config.json records under `result`.
    """

    spec: RunSpec
    model: TrainedModel
    history: dict[str, list[float]]  # epoch, train_loss, train_acc, val_loss, val_acc
    status: str  # finished | early_stopped | diverged | interrupted | pruned
    stopped_epoch: int
    data: RunData = field(repr=False)  # what it trained on (pictures draw its points)
    best_epoch: int | None = None  # at the lowest validation loss (None without validation)
    wall_time: float = 0.0
    weights: str = "final"  # which weights the model holds, in words ("best, from epoch 40")
    weights_epoch: int = 0  # the epoch of the weights the model holds
    extra_steps: int = 0  # minibatch steps past `weights_epoch` (a stop in the middle of an epoch)
    test: Score | None = None  # measured once, at the end, when the spec has test data
    sweep: SweepChoice | None = None  # set for a sweep's `best`
    made_by: str | None = None  # what made a run not trained from its spec ("pointlab play")
    collapsed_epoch: int | None = None  # its output one constant for every point from here
    path: Path | None = None  # the run directory, once written

    @property
    def n_params(self) -> int:
        return self.model.arch.n_params

    def last(self, metric: str) -> float:
        values = self.history[metric]
        return float(values[-1]) if values else math.nan

    def best(self, metric: str) -> float:
        values = [v for v in self.history[metric] if math.isfinite(v)]
        if not values:
            return math.nan
        return max(values) if metric.endswith("acc") else min(values)

    def describe(self) -> str:
        return describe(self.spec.config, self.spec.n_classes)

    @functools.cached_property
    def scores(self) -> dict[str, Score]:
        """The saved weights measured on the training and validation points: loss, accuracy,
        per-class recall, balanced accuracy (`checkpoint.Score`); measured once, when asked."""
        parts = {"train": self.data.train, "val": self.data.val}
        return {name: self.model.score(part) for name, part in parts.items() if part is not None}

    def __repr__(self) -> str:
        from pointlab.notebook import result_text

        return result_text(self)

    def _repr_html_(self) -> str:  # Jupyter's rich display
        from pointlab.notebook import result_html

        return result_html(self)

    def summary(self) -> dict[str, Any]:
        """config.json's `result`: the same keys for every run, null where a run has nothing."""
        return {
            "status": self.status,
            "stopped_epoch": self.stopped_epoch,
            "weights_epoch": self.weights_epoch,  # the epoch of the saved weights
            "weights_extra_steps": self.extra_steps,  # minibatch steps past it (a stop mid-epoch)
            "best_epoch": self.best_epoch,
            "wall_time": self.wall_time,
            "n_params": self.n_params,
            "final": {k: self.last(k) for k in METRICS_NAMES},
            "best": {k: self.best(k) for k in METRICS_NAMES},
            "test": None if self.test is None else self.test.to_dict(),
            # the saved weights on the training and validation points, per class too
            "scores": {name: score.to_dict() for name, score in self.scores.items()},
            "weights": self.weights,
            "sweep": None if self.sweep is None else asdict(self.sweep),
            "made_by": self.made_by,
            # the inputs' standardization, from the training points (model.safetensors has it too)
            "scaling": None if self.model.scaling is None else self.model.scaling.to_dict(),
        }


@dataclass
class Run:
    """A run directory read back."""

    path: Path
    spec: RunSpec
    model: TrainedModel
    result: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        from pointlab.notebook import run_text

        return run_text(self)

    def _repr_html_(self) -> str:  # Jupyter's rich display
        from pointlab.notebook import run_html

        return run_html(self)


def auto_log_every(epochs: int) -> int:
    """About 200 logged rows: a progress bar moves smoothly and logging (a sync + a validation
    pass) stays a small share of the time. A round number, so rows fall on 100, 200, ..."""
    target = max(1, epochs // 200)
    return max(
        n for n in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000) if n <= target
    )


def new_run_dir(dataset_name: str, root: str | Path = "runs") -> Path:
    """Create and return `root/<YYYYmmdd-HHMMSS>-<name>`, adding -2, -3, ... when two runs start
    in the same second (mkdir is atomic, so even concurrent processes get distinct dirs)."""
    root = Path(root)
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in dataset_name) or "data"
    stem = f"{time.strftime('%Y%m%d-%H%M%S')}-{safe}"
    try:
        root.mkdir(parents=True, exist_ok=True)
        for n in range(1, 10_000):
            path = root / (stem if n == 1 else f"{stem}-{n}")
            try:
                path.mkdir()
                return path
            except FileExistsError:
                continue
    except OSError as error:
        raise UserError(
            f"{root}: cannot create a run directory: {error.strerror or error}"
        ) from None
    raise UserError(f"{root}: too many runs named {stem}")


def claim_run_dir(path: str | PathLike[str]) -> Path:
    """Use `path` as the run directory: create it, or accept an existing empty one (never write
    over a run, or over files of the user's own: what was there stays). Its errors call the
    setting that gave `path` `out`."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise UserError(f"{path}: exists and is not a directory")
    shown_path = SettingError.literal(path)
    if (path / CONFIG).exists() or (path / MODEL).exists():
        raise SettingError(f"{shown_path}: already holds a run; give another {{out}}", out="one")
    if path.is_dir():
        theirs = sorted(p.name for p in path.iterdir())
        if theirs:
            shown = ", ".join(theirs[:3]) + (", ..." if len(theirs) > 3 else "")
            raise SettingError(
                f"{shown_path}: is not empty ({SettingError.literal(shown)}) and is not a run; "
                "give a new or empty {out} directory (nothing was written)",
                out="run",
            )
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UserError(
            f"{path}: cannot create the run directory: {error.strerror or error}"
        ) from None
    return path


def mark_latest(run_dir: Path) -> bool:
    """Point `<runs root>/latest` at `run_dir` (a relative symlink, replaced atomically) unless it
    points at a run started later, so the newest run is `runs/latest` and nobody types a time
    stamp. True when the link points here and will stay so: no run started later is still being
    trained in the root (it takes the link when it finishes). Runs finishing at once take turns
    (a lock on the root folder), so of four started together only the newest says it is latest."""
    import fcntl
    import os

    root, link = run_dir.parent, run_dir.parent / "latest"
    tmp = root / f".latest.{run_dir.name}.tmp"
    try:
        lock = os.open(root, os.O_RDONLY)  # the root folder itself is the lock: no file of ours
        try:
            fcntl.flock(lock, fcntl.LOCK_EX)
            current = os.readlink(link) if link.is_symlink() else None
            if current is None or _started(current) <= _started(run_dir.name):
                tmp.unlink(missing_ok=True)
                tmp.symlink_to(run_dir.name)
                tmp.replace(link)
                current = run_dir.name
        finally:
            os.close(lock)  # releases the lock
    except OSError:  # a file system without symlinks: the printed path still says where it is
        tmp.unlink(missing_ok=True)
        return False
    later = [p for p in root.iterdir() if p.is_dir() and _started(p.name) > _started(current)]
    return current == run_dir.name and not later


def _started(name: str) -> tuple[Any, ...]:
    """Order of run directory names as `new_run_dir` makes them: by time stamp, then -2, -3, ...
    (numbers compared as numbers); names that are not run directories come first."""
    if not re.match(r"\d{8}-\d{6}-", name):
        return ()
    return tuple(int(part) if i % 2 else part for i, part in enumerate(re.split(r"(\d+)", name)))


def discard_unfinished(path: Path, remove_dir: bool) -> None:
    """Remove what a run that failed before writing its model left in `path` (its config.json and
    temporary files), and `path` itself when `remove_dir` and nothing else is there. A run whose
    model was written is kept whole."""
    if (path / MODEL).exists():
        return
    for leftover in [path / CONFIG, *path.glob(".*.tmp")]:
        leftover.unlink(missing_ok=True)
    if remove_dir:
        try:
            path.rmdir()  # only when empty: never a file of the user's
        except OSError:
            pass


def write_config(run_dir: Path, spec: RunSpec, result: dict[str, Any] | None = None) -> Path:
    """config.json: written when training starts (no result yet) and again when it ends."""
    document = {
        "format": "pointlab-run",
        "format_version": FORMAT_VERSION,
        "pointlab_version": __version__,
        **spec.to_dict(),
        "result": result,
    }
    text = json.dumps(_finite(document), indent=2, sort_keys=False) + "\n"
    return write_atomic(run_dir / CONFIG, lambda file: file.write(text.encode()))


def write_metrics(
    run_dir: Path, history: dict[str, list[float]], columns: tuple[str, ...] = METRIC_COLUMNS
) -> Path:
    """metrics.csv: one row per logged epoch; repr() keeps every float exactly; no value is ''.
    `columns`: epoch first, then the metrics (a generative run has epoch, train_loss)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in zip(*(history[k] for k in columns), strict=True):
        epoch, *values = row
        writer.writerow([int(epoch), *("" if math.isnan(v) else repr(float(v)) for v in values)])
    return write_atomic(run_dir / METRICS, lambda file: file.write(out.getvalue().encode()))


def write_model(run_dir: Path, spec: RunSpec, model: TrainedModel) -> Path:
    from pointlab.checkpoint import save_model  # torch: only once there is a model to write

    return save_model(run_dir / MODEL, spec.config, model.state, spec.n_classes, model.scaling)


def write_run(run_dir: str | Path, result: RunResult) -> list[Path]:
    """The one writer of a finished run directory: metrics, model, pictures, then config.json with
    its `result` last (a record with a result is a complete run). Returns the files written."""
    run_dir = Path(run_dir)
    spec = result.spec
    written = [
        write_metrics(run_dir, result.history),
        write_model(run_dir, spec, result.model),
        *write_pictures(run_dir, result),
        write_config(run_dir, spec, result.summary()),
    ]
    result.path = run_dir
    return written


def write_pictures(run_dir: Path, result: RunResult) -> list[Path]:
    """boundary.png (the model's regions over the training and validation points), loss.png
    (the learning curves, when any epoch was logged) and, for two classes, precision_recall.png
    (class 1's precision against its recall over the thresholds, on each set)."""
    from pointlab.plots.boundary import plot_boundary  # matplotlib: only when drawing
    from pointlab.plots.curves import plot_history
    from pointlab.plots.precision_recall import plot_precision_recall

    data = result.data
    title = f"{result.describe()} on {data.data.name}, epoch {result.weights_epoch}"
    predict = result.model.predict_proba
    train, val, note = _sample(data.train, data.val, result.spec.config.seed)
    pictures = [plot_boundary(predict, train, val, run_dir / BOUNDARY, title + note)]
    if result.history["epoch"]:
        pictures.append(plot_history(result.history, run_dir / LOSS, title))
    if result.spec.n_classes == 2:
        curves = {
            name: metrics.precision_recall(part.y, predict(part.X)[:, 1])
            for name, part in (("train", data.train), ("validation", data.val))
            if part is not None and len(part)
        }
        path = run_dir / PRECISION_RECALL
        pictures.append(plot_precision_recall(curves, path, title))
    return pictures


def _sample(train: Dataset, val: Dataset | None, seed: int) -> tuple[Any, Any, str]:
    """At most SHOWN_POINTS points for the picture, a random sample of each set in proportion;
    and a title note saying so when it is a sample (a 2.7 M-point scatter takes minutes)."""
    import numpy as np

    total = len(train) + (len(val) if val is not None else 0)
    if total <= SHOWN_POINTS:
        return train, val, ""
    rng = np.random.default_rng(seed)

    def part(data: Dataset) -> Dataset:
        keep = max(1, round(len(data) * SHOWN_POINTS / total))
        return data.subset(np.sort(rng.choice(len(data), keep, replace=False)))

    shown_val = part(val) if val is not None else None
    shown = len(part_train := part(train)) + (len(shown_val) if shown_val is not None else 0)
    note = f"\npoints: a random {shown:,} of {total:,} (accuracy on those shown)"
    return part_train, shown_val, note


def read_metrics(run_dir: str | Path) -> dict[str, list[float]]:
    """metrics.csv as columns (missing values are NaN)."""
    path = Path(run_dir) / METRICS
    try:
        rows = list(csv.DictReader(path.read_text().splitlines()))
        return {k: [float(r[k]) if r[k] else math.nan for r in rows] for k in METRIC_COLUMNS}
    except FileNotFoundError:
        raise UserError(f"{path}: no such file; is {run_dir} a complete run directory?") from None
    except (KeyError, ValueError, TypeError) as error:
        raise UserError(f"{path}: damaged metrics file ({error})") from None


def read_spec(run_dir: str | PathLike[str]) -> tuple[RunSpec, dict[str, Any]]:
    """(RunSpec, result or {}) from RUN_DIR/config.json, with one clear error for each fault."""
    run_dir = Path(run_dir)
    if not run_dir.exists():
        raise UserError(f"{run_dir}: no such run directory")
    if not run_dir.is_dir():
        raise UserError(f"{run_dir}: not a directory; give a run directory made by pointlab train")
    path = run_dir / CONFIG
    try:
        document = json.loads(path.read_text())
    except FileNotFoundError:
        raise UserError(f"{path}: missing; {run_dir} is not a (complete) run directory") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise UserError(f"{path}: damaged, not readable JSON ({error})") from None
    if not isinstance(document, dict) or document.get("format") != "pointlab-run":
        raise UserError(f"{path}: not a pointlab run configuration")
    version = document.get("format_version")
    if version != FORMAT_VERSION:
        raise UserError(
            f"{path}: run format version {version} (pointlab {document.get('pointlab_version')}); "
            f"this pointlab {__version__} reads version {FORMAT_VERSION}"
        )
    try:
        fields = {k: document[k] for k in RunSpec.__dataclass_fields__ if k in document}
        spec = RunSpec.from_dict(fields)
    except (KeyError, TypeError, ValueError, UserError) as error:
        raise UserError(f"{path}: damaged run configuration ({error})") from None
    return spec, document.get("result") or {}


def load_run(run_dir: str | PathLike[str]) -> Run:
    """A run directory's spec and model; UserError (exit 2) when missing, incomplete or foreign."""
    spec, result = read_spec(run_dir)
    from pointlab.checkpoint import check_record, load_model  # torch: once the record is good

    model_path = Path(run_dir) / MODEL
    if not model_path.exists():
        raise UserError(f"{model_path}: missing; the run did not finish writing its model")
    model = load_model(model_path)
    check_record(model, spec.config, spec.n_classes, str(Path(run_dir) / CONFIG))
    return Run(Path(run_dir), spec, model, result)


def _finite(value: Any) -> Any:
    """JSON has no NaN or infinity: write them as null so any JSON reader takes the file."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value
