"""A run directory: everything one `pointlab train` produced, on disk, and how to read it back.

    RUN_DIR/config.json        the RunSpec (TrainConfig + data file, columns, split, device, ...)
                               and, once training ended, a short `result` (status, epochs, metrics)
    RUN_DIR/metrics.csv        epoch, train_loss, train_acc, val_loss, val_acc (empty without val)
    RUN_DIR/model.safetensors  the weights, with their config (`pointlab.checkpoint`)
    RUN_DIR/boundary.png, loss.png   pictures (drawn by the CLI with `pointlab.plots`)

`config.json` holds all that is needed to repeat the run: the same spec trains the same numbers on
the CPU. Not here: training (`pointlab.engine`) and drawing (`pointlab.plots`).
"""

from __future__ import annotations

import csv
import io
import json
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pointlab import __version__
from pointlab.checkpoint import TrainedModel, load_model, save_model
from pointlab.config import TrainConfig
from pointlab.data import write_atomic
from pointlab.errors import UserError

FORMAT_VERSION = 1
CONFIG, METRICS, MODEL = "config.json", "metrics.csv", "model.safetensors"
METRIC_COLUMNS = ("epoch", "train_loss", "train_acc", "val_loss", "val_acc")


@dataclass(frozen=True)
class RunSpec:
    """What defines a run besides the hyperparameters: which data, how it was split, where."""

    config: TrainConfig
    data: str  # absolute path of the training CSV
    columns: str | None = None  # the loader's X,Y,LABEL option
    val_fraction: float = 0.0
    split_seed: int = 0  # the train/validation split's seed (config.seed seeds the model)
    n_classes: int = 2
    test: str | None = None  # absolute path of the test CSV, if any
    device: str = "cpu"  # the device it ran on (resolved: never "auto")
    log_every: int = 100
    names: str | None = None  # "X,Y,LABEL": the training file's header names of those columns

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


@dataclass
class Run:
    """A run directory read back."""

    path: Path
    spec: RunSpec
    model: TrainedModel
    result: dict[str, Any] = field(default_factory=dict)


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


def claim_run_dir(path: str | Path) -> Path:
    """Use `path` as the run directory: create it, or accept an existing empty one (never write
    over a run, or over files of the user's own: what was there stays)."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise UserError(f"{path}: exists and is not a directory")
    if (path / CONFIG).exists() or (path / MODEL).exists():
        raise UserError(f"{path}: already holds a run; give another --out")
    if path.is_dir():
        theirs = sorted(p.name for p in path.iterdir())
        if theirs:
            shown = ", ".join(theirs[:3]) + (", ..." if len(theirs) > 3 else "")
            raise UserError(
                f"{path}: is not empty ({shown}) and is not a run; give a new or empty --out "
                "directory (nothing was written)"
            )
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UserError(
            f"{path}: cannot create the run directory: {error.strerror or error}"
        ) from None
    return path


def mark_latest(run_dir: Path) -> Path:
    """Point `<runs root>/latest` at `run_dir` (a relative symlink, replaced atomically), so the
    newest run is `runs/latest` and nobody types a time stamp."""
    link = run_dir.parent / "latest"
    tmp = run_dir.parent / f".latest.{run_dir.name}.tmp"
    tmp.unlink(missing_ok=True)
    try:
        tmp.symlink_to(run_dir.name)
        tmp.replace(link)
    except OSError:  # a file system without symlinks: the printed path still says where it is
        tmp.unlink(missing_ok=True)
    return link


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


def write_metrics(run_dir: Path, history: dict[str, list[float]]) -> Path:
    """metrics.csv: one row per logged epoch; repr() keeps every float exactly; no value is ''."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(METRIC_COLUMNS)
    for row in zip(*(history[k] for k in METRIC_COLUMNS), strict=True):
        epoch, *values = row
        writer.writerow([int(epoch), *("" if math.isnan(v) else repr(float(v)) for v in values)])
    return write_atomic(run_dir / METRICS, lambda file: file.write(out.getvalue().encode()))


def write_model(run_dir: Path, spec: RunSpec, state: dict) -> Path:
    return save_model(run_dir / MODEL, spec.config, state, spec.n_classes)


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


def read_spec(run_dir: str | Path) -> tuple[RunSpec, dict[str, Any]]:
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


def load_run(run_dir: str | Path) -> Run:
    """A run directory's spec and model; UserError (exit 2) when missing, incomplete or foreign."""
    spec, result = read_spec(run_dir)
    model_path = Path(run_dir) / MODEL
    if not model_path.exists():
        raise UserError(f"{model_path}: missing; the run did not finish writing its model")
    model = load_model(model_path)
    if model.n_classes != spec.n_classes:
        raise UserError(
            f"{model_path}: {model.n_classes} classes, config.json says {spec.n_classes}"
        )
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
