"""The playground's settings: what the page's URL and controls hold, checked and made typed.

Keys are named as the `pointlab train` flags (`lr`, `layers`, `batch-size`, `val-fraction`, ...),
so `?data=spiral&classes=3&layers=16,16&activation=tanh&lr=0.03` reads like a command line.
Values arrive as text (from the URL) or numbers (from the page); every one is checked here and
every training option through `TrainConfig`, and all faults come back in one `UserError` line
that names the setting. `layers` takes the spellings `--layers` takes
(`pointlab.config.parse_hidden`) and is given back as `16,16` or `none`. The server's limits
(members, points, epochs, widths) are checked here too.

Compare mode: `compare=lr=0.003 0.03 0.3; layers=8 16,16` varies one or two settings over
whitespace-separated values; their product is the population (at most `MAX_MEMBERS`).

Clicked points: `edits=a0.25,0.5,1;r17` replays, in order, the points added (`a` x,y,label, five
significant digits) and removed (`r` an index into the points as they were then) on the data, so a
link holds them; at most `MAX_EDITS` (a link stays a few kilobytes; the page says when a click
goes past it).

Not here: making the points (`pointlab.generators`, `pointlab.data`), training (`live.py`).
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from pointlab.config import (
    ACTIVATIONS,
    LOSSES,
    NORMS,
    OPTIMIZERS,
    SCHEDULES,
    TrainConfig,
    hidden_text,
    parse_class_weight,
    parse_hidden,
)
from pointlab.errors import UserError
from pointlab.features import parse_features

Config = TypeVar("Config")

GENERATORS = (
    *("linear", "curve", "random", "circle", "xor", "gauss", "spiral", "moons"),
    *("8gaussians", "swissroll", "checkerboard", "pinwheel", "twospirals"),  # the flow papers' sets
)
BOOK_FILES = ("linear.csv", "curve.csv", "random.csv")  # shipped in pointlab/web/book/
UPLOAD = "upload"  # the points came from the page (a CSV upload), not from a recipe

# Limits of a server that anyone with the page can drive: a population this size trains at
# interactive speed on a laptop CPU.
MAX_MEMBERS = 64
MAX_POINTS = 5000
MAX_EPOCHS = 100_000
MAX_WIDTH = 256
MAX_LAYERS = 6
MAX_CLASSES = 10
MAX_EDITS = 100  # clicked points a link holds: about 16 characters each
EDIT = re.compile(
    r"a[+-]?[0-9.]{1,12}(?:e[+-]?[0-9]{1,3})?,[+-]?[0-9.]{1,12}(?:e[+-]?[0-9]{1,3})?,[0-9]|r[0-9]{1,4}"
)
# Numbers as a URL and the page's fields write them: the digits 0-9, a point, an exponent. Python's
# int() and float() also take other scripts' digits ('١٠') and underscores ('0_0_1'), which the
# page would get back as typed.
WHOLE_NUMBER = re.compile(r"[+-]?[0-9]{1,30}")
DECIMAL_NUMBER = re.compile(
    r"[+-]?(?:[0-9]{1,30}\.?[0-9]{0,30}|\.[0-9]{1,30})(?:[eE][+-]?[0-9]{1,3})?"
)

# The playground's defaults: a set that needs a hidden layer, and a net that learns it in seconds.
DEFAULTS: dict[str, str] = {
    "data": "spiral",
    "points": "200",
    "classes": "2",
    "noise": "",  # empty: the generator's own default
    "label-noise": "0",
    "data-seed": "0",
    "val-fraction": "0.2",
    "features": "x,y",  # TF Playground's inputs (pointlab.features): x,y,x2,y2,xy,sinx,siny
    # off: the page's points are the unit square's, and TF Playground feeds them raw; on centres
    # them, so x2,y2 draw circles around the data's centre
    "standardize": "off",
    "layers": "16,16",
    "activation": "tanh",
    "dropout": "0",
    "residual": "off",
    "norm": "none",
    "optimizer": "adam",
    "lr": "0.03",
    "momentum": "0.9",
    "weight-decay": "0",
    "l1": "0",
    "schedule": "constant",
    "warmup": "0",
    "batch-size": "full",
    "class-weight": "none",  # none, balanced or W,W,... (pointlab.config.parse_class_weight)
    "balanced-batches": "off",
    "loss": "bce",
    "epochs": "2000",
    "seed": "0",
    "compare": "",
    "edits": "",  # clicked points, replayed on the data (see the module's docstring)
}
# Settings that compare mode may vary, with the TrainConfig field each one sets.
VARIABLE = {
    "lr": "lr",
    "layers": "hidden",
    "features": "features",
    "standardize": "standardize",
    "activation": "activation",
    "dropout": "dropout",
    "residual": "residual",
    "norm": "norm",
    "optimizer": "optimizer",
    "momentum": "momentum",
    "weight-decay": "weight_decay",
    "l1": "l1",
    "schedule": "schedule",
    "warmup": "warmup",
    "batch-size": "batch_size",
    "class-weight": "class_weight",
    "balanced-batches": "balanced_batches",
    "loss": "loss",
    "seed": "seed",
}


@dataclass(frozen=True)
class DataRecipe:
    """Where the points come from: a generator with its parameters, a book file, or the page."""

    kind: str  # a generator, a book file name, or UPLOAD
    n: int
    classes: int
    noise: float | None  # None: the generator's default
    label_noise: float
    seed: int
    edits: tuple[str, ...] = ()  # clicked points, in order: "a0.25,0.5,1" added, "r17" removed


class _Setup(Protocol):
    """What both modes' checked settings hold (`Setup`, `generate_settings.GenSetup`)."""

    @property
    def data(self) -> DataRecipe: ...
    @property
    def settings(self) -> dict[str, str]: ...


AnySetup = TypeVar("AnySetup", bound=_Setup)


@dataclass(frozen=True)
class Setup:
    """Checked settings: the data, its split and one TrainConfig per member."""

    data: DataRecipe
    val_fraction: float
    members: tuple[TrainConfig, ...]
    labels: tuple[str, ...]  # one short label per member ("lr=0.03 layers=16,16"), "" for one
    axes: tuple[tuple[str, tuple[str, ...]], ...]  # compare mode's (key, values), () without
    settings: dict[str, str]  # every key, normalized text: what the page puts in its URL


def parse(raw: dict[str, Any]) -> Setup:
    """Check every setting; one UserError naming each bad one."""
    text, values, axes = read(raw, DEFAULTS, VARIABLE, _value)
    base = {field: values[key] for key, field in VARIABLE.items()}
    base["epochs"] = values["epochs"]
    members, labels = expand(axes, base, VARIABLE, _value, _train_config)
    normalized = normalize(text, values, axes)
    normalized["features"] = ",".join(values["features"])
    normalized["class-weight"] = values["class-weight"] or "none"
    return Setup(
        recipe(values),
        values["val-fraction"],
        tuple(members),
        tuple(labels),
        tuple(axes),
        normalized,
    )


def _train_config(fields: dict[str, Any]) -> TrainConfig:
    try:
        return TrainConfig(**fields)
    except UserError as error:
        raise UserError(str(error).replace("bad training config: ", "")) from None


# The grammar both modes' settings share (this module's and `generate_settings.py`): their own
# DEFAULTS, VARIABLE and one-value checker go in, the same checks and messages come out.
Axes = list[tuple[str, tuple[str, ...]]]


def read(
    raw: dict[str, Any],
    defaults: dict[str, str],
    variable: dict[str, str],
    value: Callable[[str, str], Any],
) -> tuple[dict[str, str], dict[str, Any], Axes]:
    """Every setting's text (a default where `raw` has none), its checked value, and compare
    mode's axes (each option checked by `value`); one UserError naming each bad one."""
    unknown = sorted(set(raw) - set(defaults))
    if unknown:
        raise UserError(f"unknown settings: {', '.join(unknown)}")
    text = {k: str(raw[k]).strip() if raw.get(k) is not None else v for k, v in defaults.items()}
    problems: list[str] = []
    values: dict[str, Any] = {}
    for key, given in text.items():
        if key == "compare":
            continue
        try:
            values[key] = value(key, given)
        except ValueError as error:
            problems.append(f"{key}: {error}")
    axes: Axes = []
    try:
        axes = _axes(text["compare"], variable)
        for key, options in axes:
            for option in options:
                value(key, option)
    except ValueError as error:
        problems.append(f"compare: {error}")
    if problems:
        raise UserError("; ".join(problems))
    return text, values, axes


def recipe(values: dict[str, Any]) -> DataRecipe:
    """The data keys' checked values as a DataRecipe; UserError for a class count the set
    cannot have."""
    kind = values["data"]
    if kind in ("linear", "curve", "random") and values["classes"] != 2:
        raise UserError(f"classes: the {kind} data set has exactly 2 classes")
    return DataRecipe(
        kind,
        values["points"],
        values["classes"],
        values["noise"],
        values["label-noise"],
        values["data-seed"],
        values["edits"],
    )


def expand(
    axes: Axes,
    base: dict[str, Any],
    variable: dict[str, str],
    value: Callable[[str, str], Any],
    build: Callable[[dict[str, Any]], Config],
) -> tuple[list[Config], list[str]]:
    """One config per combination of the axes' options (`build` of the fields, `base` with the
    varied ones set), and its short label ("lr=0.01 layers=8"; "" without axes)."""
    members, labels = [], []
    for combo in itertools.product(*(options for _, options in axes)):
        fields = dict(base)
        for (key, _), option in zip(axes, combo, strict=True):
            fields[variable[key]] = value(key, option)
        members.append(build(fields))
        labels.append(
            " ".join(f"{key}={option}" for (key, _), option in zip(axes, combo, strict=True))
        )
    return members, labels


def normalize(text: dict[str, str], values: dict[str, Any], axes: Axes) -> dict[str, str]:
    """The settings as the page shows and links them: one spelling of layers, compare and
    edits (the rest as given)."""
    normalized = dict(text)
    normalized["layers"] = hidden_text(values["layers"])  # one spelling for the page's editor
    normalized["compare"] = "; ".join(f"{k}={' '.join(v)}" for k, v in axes)
    normalized["edits"] = ";".join(values["edits"])
    return normalized


def _axes(text: str, variable: dict[str, str]) -> Axes:
    """'lr=0.01 0.1; layers=8 16,16' -> [('lr', ('0.01', '0.1')), ('layers', ('8', '16,16'))];
    `variable`: the settings that may vary (each mode has its own)."""
    axes: list[tuple[str, tuple[str, ...]]] = []
    for part in filter(None, (p.strip() for p in text.split(";"))):
        key, equals, options = part.partition("=")
        key = key.strip()
        if not equals or key not in variable:
            raise ValueError(
                f"{part!r}: write SETTING=VALUE VALUE ... with a setting among "
                f"{', '.join(variable)}"
            )
        values = tuple(options.split())
        if not values:
            raise ValueError(f"{key}: give at least one value")
        if any(k == key for k, _ in axes):
            raise ValueError(f"{key} is varied twice")
        axes.append((key, values))
    if len(axes) > 2:
        raise ValueError("vary one or two settings, not more")
    members = math.prod(len(v) for _, v in axes)
    if members > MAX_MEMBERS:
        raise ValueError(f"{members} members; the limit is {MAX_MEMBERS}")
    return axes


def _value(key: str, text: str) -> Any:
    """One setting's value from its text; ValueError with a short reason."""
    if key == "data":
        if text not in (*GENERATORS, *BOOK_FILES, UPLOAD):
            raise ValueError(f"{text!r} is not one of {', '.join(GENERATORS + BOOK_FILES)}")
        return text
    if key in ("activation", "optimizer", "schedule", "loss", "norm"):
        choices = {"activation": ACTIVATIONS, "optimizer": OPTIMIZERS, "norm": NORMS}.get(key) or (
            SCHEDULES if key == "schedule" else LOSSES
        )
        if text not in choices:
            raise ValueError(f"{text!r} is not one of {', '.join(choices)}")
        return text
    if key == "layers":  # the library's one grammar (a WidthsError is a ValueError), then limits
        widths = parse_hidden(text)
        for width in widths:
            if width > MAX_WIDTH:
                raise ValueError(f"{width} is outside 1..{MAX_WIDTH}")
        if len(widths) > MAX_LAYERS:
            raise ValueError(f"{len(widths)} hidden layers; the limit is {MAX_LAYERS}")
        return widths
    if key == "features":  # the library's one grammar (a FeaturesError is a ValueError)
        return parse_features(text)
    if key in ("standardize", "residual", "balanced-batches"):
        if text not in ("on", "off"):
            raise ValueError(f"{shown(text)} is not on or off")
        return text == "on"
    if key == "class-weight":  # the library's one grammar (a ClassWeightError is a ValueError)
        return parse_class_weight(text)
    if key == "batch-size":
        return None if text in ("full", "") else _whole_number(text, 1, MAX_POINTS)
    if key == "noise":
        return None if text == "" else _decimal(text, 0.0, 10.0)
    if key == "edits":
        return edits(text)
    limits: dict[str, tuple[str, float, float]] = {
        "points": ("int", 4, MAX_POINTS),
        "classes": ("int", 2, MAX_CLASSES),
        "label-noise": ("float", 0.0, 1.0),
        "data-seed": ("int", 0, 2**31 - 1),
        "seed": ("int", 0, 2**31 - 1),
        "val-fraction": ("float", 0.0, 0.9),
        "dropout": ("float", 0.0, 0.99),
        "lr": ("float", 0.0, 10.0),
        "momentum": ("float", 0.0, 0.999),
        "weight-decay": ("float", 0.0, 10.0),
        "l1": ("float", 0.0, 10.0),
        "warmup": ("int", 0, MAX_EPOCHS),
        "epochs": ("int", 1, MAX_EPOCHS),
    }
    kind, low, high = limits[key]
    if kind == "int":
        return _whole_number(text, int(low), int(high))
    return _decimal(text, low, high)


def edits(text: str) -> tuple[str, ...]:
    """The clicked points of an `edits` text, checked in form and number (the points themselves
    are checked as they are replayed, `points.replay`)."""
    parts = tuple(p for p in text.split(";") if p)
    for part in parts:
        if not EDIT.fullmatch(part):
            raise ValueError(f"{shown(part)}: write aX,Y,LABEL (a point added) or rINDEX (removed)")
    if len(parts) > MAX_EDITS:
        raise ValueError(f"{len(parts)} clicked points, more than the {MAX_EDITS} a link holds")
    return parts


def _whole_number(text: str, low: int, high: int) -> int:
    if not WHOLE_NUMBER.fullmatch(text):
        raise ValueError(f"{shown(text)} is not a whole number written with the digits 0-9")
    return _integer(text, low, high)


def _decimal(text: str, low: float, high: float) -> float:
    if not DECIMAL_NUMBER.fullmatch(text):
        raise ValueError(f"{shown(text)} is not a number written with the digits 0-9")
    return _number(text, low, high)


def _integer(text: str, low: int, high: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a whole number") from None
    if not low <= value <= high:
        raise ValueError(f"{value} is outside {low}..{high}")
    return value


def _number(text: str, low: float, high: float) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a number") from None
    if not (math.isfinite(value) and low <= value <= high):
        raise ValueError(f"{text} is outside {low:g}..{high:g}")
    return value


def member(message: dict[str, Any], members: int) -> int:
    """The member a select message names (an index below `members`); UserError otherwise."""
    index = whole(message.get("member"))
    if index is None or not 0 <= index < members:
        raise UserError(f"{message.get('type')}: no member {shown(message.get('member'))}")
    return index


def with_edit(setup: AnySetup, edit: str) -> AnySetup | None:
    """`setup` (either mode's) with a click (`edit`, as `points.click` writes it) added to its
    data's edits and to the `edits` setting; None when the link holds MAX_EDITS already (the
    points are trained on, the link does not keep the click)."""
    if len(setup.data.edits) >= MAX_EDITS:
        return None
    edits = (*setup.data.edits, edit)
    return dataclasses.replace(  # type: ignore[type-var]
        setup,
        data=dataclasses.replace(setup.data, edits=edits),
        settings=dict(setup.settings, edits=";".join(edits)),
    )


def whole(value: Any) -> int | None:
    """`value` when it is a JSON whole number (not true or false, which Python counts as 1 and
    0), else None."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def shown(value: Any) -> str:
    """`value` as a message quotes it: its repr, cut short."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
