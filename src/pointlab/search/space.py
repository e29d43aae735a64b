"""Search spaces: `NAME=SPEC` strings parsed into hyperparameters Optuna understands.

NAME is any `TrainConfig` field (lr, weight_decay, dropout, batch_size, optimizer, ...), or any
`GenConfig` field when the base config is one (a generative sweep: method, steps, embeddings, ...),
or one of
the architecture names `layers` (hidden widths per choice), `depth` and `width` (every hidden
layer `width` wide, `depth` of them). SPEC is
- a list of choices: `activation=relu,tanh`, `layers=[16],[64,64],[128,128]`,
  `batch_size=16,32,full` (`full`/`none` mean None: the full batch, no early stopping, no clipping),
  `features=[x,y],[x,y,x2,y2]` (each choice a list of inputs; `features=x,y,x2` is one choice),
  `standardize=on,off`, `residual=on,off`, `balanced_batches=on,off` (any on/off field),
  `norm=none,layer,batch`, `class_weight=none,balanced,[1,20]`.
  A `layers` choice is any spelling `--layers` takes (`pointlab.config.parse_hidden`: `[64,64]`,
  `none`, `complex`, ...); commas outside brackets separate choices, so `layers=64,64` (no
  brackets, whole numbers only) is the one choice [64,64], as `--layers 64,64` is;
- or a distribution: `loguniform(a,b)`, `uniform(a,b)` for numbers, `int(a,b)`, `intlog(a,b)` for
  whole numbers.
Every choice and bound is checked by building a TrainConfig with it, so a bad value is refused
with a message naming the SPEC before anything trains.

Not here: which points of the space are tried (`strategies.py`).
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import re
import typing
from dataclasses import dataclass

import numpy as np
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)

from pointlab.config import TrainConfig, WidthsError, parse_hidden
from pointlab.errors import SettingError, UserError
from pointlab.features import FeaturesError, parse_features
from pointlab.generative.config import GenConfig

# What a newcomer can trust: the learning rate matters most (log scale), then capacity (depth and
# width, a few architectures so that trials of one shape train together), then regularization.
DEFAULT_SPACE = (
    "lr=loguniform(1e-4,1e-1)",
    "depth=1,2,3",
    "width=16,64,128",
    "weight_decay=loguniform(1e-6,1e-2)",
)
ARCH_NAMES = ("layers", "depth", "width")
_NONE_WORDS = ("full", "none", "off")
_BOOLS = {"on": True, "true": True, "yes": True, "off": False, "false": False, "no": False}
_DISTRIBUTION = re.compile(r"^(loguniform|uniform|intlog|int)\((.*)\)$")


@dataclass(frozen=True)
class Param:
    """One searched hyperparameter: a list of choices, or a range (log-scaled or not)."""

    name: str
    kind: str  # "choice" | "float" | "int"
    choices: tuple = ()  # Optuna-friendly values: layers as "[64,64]", None for full/none
    low: float = 0.0
    high: float = 0.0
    log: bool = False
    spec: str = ""  # what the user wrote, for messages and the study's record

    def distribution(self) -> BaseDistribution:
        if self.kind == "choice":
            return CategoricalDistribution(self.choices)
        if self.kind == "int":
            return IntDistribution(int(self.low), int(self.high), log=self.log)
        return FloatDistribution(self.low, self.high, log=self.log)

    def grid_values(self, n: int) -> list:
        """All choices, or n points spread over the range (geometrically on a log scale)."""
        if self.kind == "choice":
            return list(self.choices)
        spread = np.geomspace if self.log else np.linspace
        points = spread(self.low, self.high, max(n, 2) if self.high > self.low else 1)
        if self.kind == "int":
            return sorted({int(round(p)) for p in points})
        return [float(f"{p:.6g}") for p in points]  # short numbers read better in tables

    def sample(self, rng: np.random.Generator):
        """One value drawn uniformly from the choices or the (log-)range."""
        if self.kind == "choice":
            return self.choices[int(rng.integers(len(self.choices)))]
        if self.kind == "int":
            if self.log:
                value = math.exp(rng.uniform(math.log(self.low), math.log(self.high + 1)))
                return min(int(value), int(self.high))
            return int(rng.integers(int(self.low), int(self.high) + 1))
        if self.log:
            return float(math.exp(rng.uniform(math.log(self.low), math.log(self.high))))
        return float(rng.uniform(self.low, self.high))

    @property
    def is_numeric(self) -> bool:
        return self.kind != "choice" or all(
            isinstance(c, int | float) and not isinstance(c, bool) for c in self.choices
        )


def parse_space(
    specs: typing.Sequence[str], base: TrainConfig | GenConfig | None = None
) -> list[Param]:
    """Parse `NAME=SPEC` strings (the default space when empty); names must not repeat."""
    base = base or TrainConfig()
    params = [parse_param(spec, base) for spec in (specs or DEFAULT_SPACE)]
    names = [p.name for p in params]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise _fail("{space}", f"{', '.join(repeated)} given more than once")
    if "layers" in names and ({"depth", "width"} & set(names)):
        raise _fail("{space}", "give either layers, or depth and width, not both")
    return params


def parse_param(spec: str, base: TrainConfig | GenConfig | None = None) -> Param:
    base = base or TrainConfig()
    name, sep, text = spec.partition("=")
    name, text = name.strip().replace("-", "_"), text.strip()
    name = "layers" if name == "hidden" else name
    # How messages name it: the library's `space`, which the command line calls --space.
    where = "{space} " + SettingError.literal(repr(spec))
    if not sep or not name or not text:
        raise _fail(where, "write NAME=SPEC, e.g. lr=loguniform(1e-4,1e-1)")
    kind = _field_kind(name, where, type(base))
    match = _DISTRIBUTION.match(text.replace(" ", ""))
    if match:
        param = _parse_range(name, kind, match.group(1), match.group(2), spec, where)
    else:
        tokens = _split_top(text)
        if kind == "layers" and "[" not in text and all(t.strip().isdigit() for t in tokens):
            tokens = [text]  # layers=64,64 is one choice, as --layers 64,64
        if kind == "features" and "[" not in text:
            tokens = [text]  # features=x,y,x2 is one choice, as --features x,y,x2
        choices = tuple(_parse_choice(name, kind, token, where) for token in tokens)
        if len(set(choices)) != len(choices):
            raise _fail(where, "a choice is listed twice")
        param = Param(name, "choice", choices=choices, spec=spec)
    # Bounds and choices must make a valid config; the endpoints of a range stand for it all.
    values = param.choices if param.kind == "choice" else (param.low, param.high)
    for value in values:
        try:
            apply_params(base, {name: int(value) if param.kind == "int" else value})
        except UserError as error:
            raise _fail(where, f"{error}") from None
    return param


Config = typing.TypeVar("Config", bound=TrainConfig | GenConfig)


def apply_params(base: Config, params: dict) -> Config:
    """The config `base` with searched values put in (layers, depth and width set `hidden`)."""
    changes = {k: v for k, v in params.items() if k not in ARCH_NAMES}
    if "layers" in params:
        changes["hidden"] = parse_hidden(params["layers"])
    elif "depth" in params or "width" in params:
        depth = int(params.get("depth", len(base.hidden)))
        width = int(params.get("width", base.hidden[0] if base.hidden else 64))
        changes["hidden"] = (width,) * depth
    return typing.cast(Config, base.replace(**changes))


def layers_text(hidden: typing.Sequence[int]) -> str:
    """The canonical form of a layers choice: "[64,64]", "[]" for no hidden layer."""
    return "[" + ",".join(str(int(h)) for h in hidden) + "]"


def _field_kind(name: str, where: str, config: type = TrainConfig) -> str:
    """ "int", "float", "str", "bool" (on/off), "layers" or "features" for a field of `config`
    (TrainConfig, or GenConfig in a generative sweep); unknown names are refused with the known
    ones."""
    if name in ("layers", "hidden"):
        return "layers"
    if name == "features" and config is TrainConfig:
        return name
    if name in ("depth", "width"):
        return "int"
    hints = typing.get_type_hints(config)
    fields = [f.name for f in dataclasses.fields(config) if f.name != "hidden"]
    if name not in fields:
        known = ", ".join([*ARCH_NAMES, *fields])
        raise _fail(where, f"unknown name {name!r}; searchable: {known}")
    kinds = {t for t in typing.get_args(hints[name]) or (hints[name],) if t is not type(None)}
    return {bool: "bool", int: "int", float: "float", str: "str"}[kinds.pop()]


def _parse_range(name: str, kind: str, function: str, args: str, spec: str, where: str) -> Param:
    parts = args.split(",")
    try:
        low, high = (float(p) for p in parts) if len(parts) == 2 else (math.nan, math.nan)
    except ValueError:
        low = high = math.nan
    if not (math.isfinite(low) and math.isfinite(high)):  # not two numbers, or nan / inf
        raise _fail(where, f"{function}(a,b) needs two numbers a <= b")
    is_int = function.startswith("int")
    log = function in ("loguniform", "intlog")
    if kind in ("str", "layers", "features", "bool"):
        raise _fail(where, f"{name} takes a list of choices, not {function}(...)")
    if kind == "int" and not is_int:
        raise _fail(where, f"{name} is a whole number: use int(a,b) or intlog(a,b)")
    if is_int and kind != "int":
        raise _fail(where, f"{name} is a real number: use uniform or loguniform")
    if is_int and not (low.is_integer() and high.is_integer()):
        raise _fail(where, f"{function}(a,b) needs whole numbers")
    if low > high:
        raise _fail(where, f"the lower bound {low:g} is above the upper {high:g}")
    if log and low <= 0:
        raise _fail(where, f"a log scale needs bounds above 0, got {low:g}")
    return Param(name, "int" if is_int else "float", low=low, high=high, log=log, spec=spec)


def _parse_choice(name: str, kind: str, token: str, where: str):
    token = token.strip()
    if kind == "features":  # a choice is a list of inputs in brackets: [x,y],[x,y,x2,y2]
        try:
            return ",".join(parse_features(token.strip("[]")))
        except FeaturesError as error:
            raise _fail(where, f"{error}") from None
    if kind == "bool":  # standardize, residual, balanced_batches: on / off
        if token.lower() not in _BOOLS:
            raise _fail(where, f"{token!r} is not on or off for {name}")
        return _BOOLS[token.lower()]
    if kind == "layers":
        try:
            return layers_text(parse_hidden(token))
        except WidthsError as error:
            raise _fail(where, f"{error}") from None
    if token.lower() in _NONE_WORDS and kind != "str":
        return None
    try:
        if kind == "int":
            number = float(token)
            if not number.is_integer():
                raise ValueError
            return int(number)
        if kind == "float":
            return float(token)
    except ValueError:
        raise _fail(where, f"{token!r} is not a {kind} value for {name}") from None
    return token


def _split_top(text: str) -> list[str]:
    """Split at commas outside brackets: "[16],[64,64]" -> ["[16]", "[64,64]"]."""
    parts, depth, current = [], 0, ""
    for char in text:
        depth += (char == "[") - (char == "]")
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    return [*parts, current]


def grid(params: typing.Sequence[Param], n_points: int) -> list[dict]:
    """Every combination: choices as listed, ranges at `n_points` points each."""
    axes = [p.grid_values(n_points) for p in params]
    return [
        dict(zip([p.name for p in params], combo, strict=True))
        for combo in itertools.product(*axes)
    ]


def _fail(where: str, text: str) -> SettingError:
    """A fault of the search space: `where` names the setting (`{space}`), `text` is literal."""
    return SettingError(f"{where}: {SettingError.literal(text)}")
