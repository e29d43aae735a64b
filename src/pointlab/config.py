"""TrainConfig: everything that defines one training run, typed, frozen and validated when built.

A config plus the data is all that is needed to repeat a run: it is written as `config.json` into
every run directory. A population trains many configs at once; those that share `group_key()`
(architecture and normalization, loss and optimizer kind; skips may differ) train in one batched
program.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pointlab.errors import UserError
from pointlab.features import FeaturesError, parse_features

ACTIVATIONS = ("relu", "tanh", "sigmoid", "gelu", "leaky_relu", "identity")
OPTIMIZERS = ("sgd", "momentum", "nesterov", "adam", "adamw", "rmsprop")
SCHEDULES = ("constant", "cosine", "step", "cosine_restarts")
LOSSES = ("bce", "mse")
NORMS = ("none", "layer", "batch")

# The book's two models (point_classifier_2d): hidden widths of each.
PRESETS: dict[str, tuple[int, ...]] = {"simple": (), "complex": (128, 128)}

# The spellings of hidden widths every front end takes (`parse_hidden`).
WIDTHS_HELP = "give hidden widths like 64,64 or [64,64] (none for no hidden layer)"
_WIDTHS = re.compile(r"\s*(\[)?\s*(\d+(?:\s*,\s*\d+)*)\s*(\])?\s*", re.ASCII)
_NO_HIDDEN = re.compile(r"\s*(none|\[\s*\])\s*", re.IGNORECASE)


MAX_EPOCHS = 10**9  # beyond any run that could finish; larger numbers only overflow counters
MAX_SEED = 2**32 - 1  # numpy's and torch's seeds both take this range


def option(
    default: Any,
    help: str,
    *,
    metavar: str | None = None,
    choices: tuple[str, ...] = (),
    none: str = "",
    at_least: int | None = None,
) -> Any:
    """A TrainConfig field with its one line of help. The command-line flags of `pointlab train`
    and `pointlab sweep` (and `explain`'s model flags) are made from these (`pointlab.cli.args`),
    so a new field is one line.
    `none` is the word a flag takes for None ("full", "off"); `at_least` a bound the flag's
    parser checks already (a usage error)."""
    metadata = {
        "help": help,
        "metavar": metavar,
        "choices": choices,
        "none": none,
        "at_least": at_least,
    }
    return field(default=default, metadata=metadata)


@dataclass(frozen=True)
class TrainConfig:
    """One member's hyperparameters. Defaults are the book's: `complex`, Adam 0.003, full batch."""

    # inputs (pointlab.features): computed from the points before the engine
    features: tuple[str, ...] = option(
        ("x", "y"),
        "inputs of the network, from x, y, x2, y2, xy, sinx, siny (TensorFlow Playground's)",
        metavar="F,F,...",
    )
    standardize: bool = option(
        True,
        "scale x and y to mean 0 and deviation 1 over the training points, before the features "
        "(recorded in the run); off feeds them raw",
    )
    # model
    hidden: tuple[int, ...] = option(
        (128, 128), "hidden layer widths, e.g. 64,64; none = no hidden layer", metavar="W,W,..."
    )
    activation: str = option("relu", "activation of the hidden layers", choices=ACTIVATIONS)
    dropout: float = option(0.0, "dropout after each hidden layer, in [0, 1)", metavar="P")
    residual: bool = option(
        False,
        "skip connections: each hidden layer whose input and output widths are equal adds its "
        "input to its output (not the first, fed by the inputs)",
    )
    norm: str = option(
        "none",
        "normalization of each hidden layer's pre-activation (before the activation): layer "
        "or batch (running statistics when predicting)",
        choices=NORMS,
    )
    # optimizer
    optimizer: str = option("adam", "the update rule", choices=OPTIMIZERS)
    lr: float = option(0.003, "learning rate (the schedule's peak)", metavar="X")
    momentum: float = option(0.9, "momentum of the momentum and nesterov optimizers", metavar="X")
    weight_decay: float = option(
        0.0, "L2 penalty added to the gradient; decoupled for adamw", metavar="X"
    )
    l1: float = option(
        0.0, "L1 penalty: X * sign(w) added to the gradient of every weight and bias", metavar="X"
    )
    beta1: float = option(0.9, "Adam's first-moment decay", metavar="X")
    beta2: float = option(0.999, "Adam's second-moment decay", metavar="X")
    eps: float = option(1e-8, "Adam's and RMSprop's denominator epsilon", metavar="X")
    alpha: float = option(0.99, "RMSprop's smoothing constant", metavar="X")
    clip_grad: float | None = option(
        None,
        "clip each member's gradient norm to X; off = no clipping",
        metavar="X|off",
        none="off",
    )
    # learning-rate schedule, a pure function of the epoch (see engine/schedules.py)
    schedule: str = option("constant", "learning-rate schedule over the epochs", choices=SCHEDULES)
    warmup: int = option(0, "epochs of linear warmup in front of the schedule", metavar="EPOCHS")
    lr_end: float = option(0.0, "cosine: the learning rate it anneals to", metavar="X")
    step_size: int = option(
        1000, "step: epochs between decays; cosine_restarts: epochs per cycle", metavar="EPOCHS"
    )
    gamma: float = option(0.1, "step: factor of each decay, in (0, 1]", metavar="X")
    # loss
    loss: str = option(
        "bce", "bce: cross-entropy from logits; mse: squared error on probabilities", choices=LOSSES
    )
    label_smoothing: float = option(0.0, "label smoothing, in [0, 1)", metavar="X")
    class_weight: str | None = option(
        None,
        "each class's weight in the loss: balanced = n / (classes * points of the class), over "
        "the member's training points; or W,W,... one per class; none = every point counts once",
        metavar="balanced|W,W,...|none",
        none="none",
    )
    # loop
    epochs: int = option(20000, "passes over the training points", metavar="N")
    batch_size: int | None = option(
        None,
        "points per step; full = all training points, the book's way",
        metavar="N|full",
        none="full",
        at_least=1,
    )
    early_stopping: int | None = option(
        None,
        "stop when validation loss has not improved for this many epochs and keep the best "
        "weights; off = train all epochs",
        metavar="PATIENCE|off",
        none="off",
    )
    balanced_batches: bool = option(
        False,
        "draw each minibatch's points with replacement, each class equally often in expectation "
        "(needs a batch size)",
    )
    seed: int = option(
        0, "seed of the initialization, the minibatch order and dropout", metavar="S"
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "hidden", hidden_widths(self.hidden))
        try:
            object.__setattr__(self, "features", parse_features(self.features))
        except FeaturesError as error:
            raise ConfigError([("features", str(error))]) from None
        try:
            object.__setattr__(self, "class_weight", parse_class_weight(self.class_weight))
        except ClassWeightError as error:
            raise ConfigError([("class_weight", str(error))]) from None
        problems = self.problems()
        if problems:
            raise ConfigError(problems)

    def problems(self) -> list[tuple[str, str]]:
        """Every fault of this config as (field, what is wrong), e.g. ("epochs", "must be >= 0")."""
        faults = Faults(self)
        problems, check = faults.found, faults.check
        check(all(h >= 1 for h in self.hidden), "hidden", "widths must be at least 1")
        for name, known in (
            ("activation", ACTIVATIONS),
            ("optimizer", OPTIMIZERS),
            ("schedule", SCHEDULES),
            ("loss", LOSSES),
            ("norm", NORMS),
        ):
            faults.one_of(name, known)
        for name in ("dropout", "momentum", "beta1", "beta2", "alpha", "label_smoothing"):
            check(0.0 <= getattr(self, name) < 1.0, name, "must be in [0, 1)")
        check(math.isfinite(self.lr) and self.lr >= 0, "lr", "must be a finite number >= 0")
        check(math.isfinite(self.lr_end) and self.lr_end >= 0, "lr_end", "must be >= 0")
        check(
            math.isfinite(self.weight_decay) and self.weight_decay >= 0,
            "weight_decay",
            "must be >= 0",
        )
        check(math.isfinite(self.l1) and self.l1 >= 0, "l1", "must be >= 0")
        check(isinstance(self.standardize, bool), "standardize", "must be true or false")
        check(isinstance(self.residual, bool), "residual", "must be true or false")
        check(math.isfinite(self.eps) and self.eps > 0, "eps", "must be > 0")
        check(self.clip_grad is None or self.clip_grad > 0, "clip_grad", "must be > 0")
        for name, low in (("epochs", 0), ("warmup", 0), ("step_size", 1)):
            check(getattr(self, name) >= low, name, f"must be >= {low}")
            check(getattr(self, name) <= MAX_EPOCHS, name, f"must be at most {MAX_EPOCHS:,}")
        check(0 < self.gamma <= 1, "gamma", "must be in (0, 1]")
        check(self.batch_size is None or self.batch_size >= 1, "batch_size", "must be >= 1")
        check(
            self.early_stopping is None or self.early_stopping >= 1,
            "early_stopping",
            "patience must be >= 1",
        )
        check(0 <= self.seed <= MAX_SEED, "seed", f"must be a whole number from 0 to {MAX_SEED}")
        check(isinstance(self.balanced_batches, bool), "balanced_batches", "must be true or false")
        if self.balanced_batches is True and self.batch_size is None:
            # A full batch holds every point once: there is nothing to rebalance by sampling.
            problems.append(
                (
                    "balanced_batches",
                    "needs minibatches (a batch size); in full batch use class_weight",
                )
            )
        return problems

    def group_key(self) -> tuple:
        """Members with equal keys train together: same shapes, same normalization, same loss,
        same update rule (`residual` may differ within a population)."""
        return (self.hidden, self.activation, self.norm, self.loss, self.optimizer)

    def replace(self, **changes: Any) -> TrainConfig:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["hidden"] = list(self.hidden)
        out["features"] = list(self.features)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        if not isinstance(data, dict):  # a hand-edited record: "config": "hello" or null
            shown = json.dumps(data, default=str)
            raise UserError(f"training options must be a JSON object, not {shown}")
        # `extra` was a free-form field until 0.1.0's runs API; records written before hold it.
        data = {k: v for k, v in data.items() if k != "extra"}
        # Records written before inputs were standardized trained on raw points: they repeat so.
        data.setdefault("standardize", False)
        refuse_unknown(cls, data, "training")
        return cls(**data)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)


class ConfigError(UserError):
    """A TrainConfig that cannot be: every fault, by field. The message names fields; a front end
    renames them (`--epochs` on the command line) with `named`."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__("bad training config: " + self.named(lambda name: name))

    def named(self, name_of: Callable[[str], str]) -> str:
        """The faults as one line, each field called `name_of(field)`."""
        return "; ".join(f"{name_of(name)} {text}" for name, text in self.problems)


class Faults:
    """Collects a config's faults as (field, what is wrong): `check(ok, name, text)` adds one,
    naming the value the field got, when `ok` is false; `one_of(name, known)` checks a choice.
    The one way TrainConfig and GenConfig write their `problems()`. Not here: raising them
    (`ConfigError`)."""

    def __init__(self, config: Any) -> None:
        self.config = config
        self.found: list[tuple[str, str]] = []

    def check(self, ok: bool, name: str, text: str) -> None:
        if not ok:
            self.found.append((name, f"{text}, got {_show(getattr(self.config, name))}"))

    def one_of(self, name: str, known: Sequence[str]) -> None:
        self.check(getattr(self.config, name) in known, name, f"must be one of {', '.join(known)}")


def refuse_unknown(cls: type, data: dict[str, Any], what: str) -> None:
    """Raise a UserError naming the keys of a config record (`data`) that are no field of the
    config dataclass `cls`: "unknown training options: depth, widht"."""
    unknown = sorted(set(data) - {f.name for f in dataclasses.fields(cls)})
    if unknown:
        raise UserError(f"unknown {what} options: {', '.join(unknown)}")


def hidden_widths(hidden: str | Sequence[int]) -> tuple[int, ...]:
    """A config's `hidden` as a tuple of ints: text ("64,64") read as every front end reads it
    (`parse_hidden`), a sequence (a list from JSON) as it is; unreadable text raises a
    `ConfigError` naming `hidden`. Widths below 1 are left to the config's `problems()`."""
    if isinstance(hidden, str):
        try:
            hidden = parse_hidden(hidden)
        except WidthsError as error:
            raise ConfigError([("hidden", str(error))]) from None
    return tuple(int(h) for h in hidden)


class WidthsError(UserError, ValueError):
    """Text that is not a spelling of hidden widths: `'16x16': give hidden widths like ...`. A
    ValueError too, so parsers that collect ValueErrors (the playground's settings) take it."""


def parse_hidden(text: str) -> tuple[int, ...]:
    """Hidden layer widths from text: the one grammar of the CLI's `--layers`, `pointlab explain`,
    the playground's `layers` setting and a search space's `layers=` choices.

    - `64,64` or `[64,64]`: whole numbers separated by commas (spaces around them allowed);
    - `none` or `[]`: no hidden layer;
    - `simple`, `complex`: the book's models (`PRESETS`).
    Anything else is refused with a `WidthsError` naming the text: widths below 1 (`0`, `16,0`),
    other separators (`16x16`, `16 16`, `16;16`), signs, decimals, empty text.
    Not here: limits of a front end (the playground's widest layer), which it checks after this.
    """
    if _NO_HIDDEN.fullmatch(text):
        return ()
    if text.strip().lower() in PRESETS:
        return PRESETS[text.strip().lower()]
    match = _WIDTHS.fullmatch(text)
    if match is None or (match.group(1) is None) != (match.group(3) is None):
        raise WidthsError(f"{text!r}: {WIDTHS_HELP}")
    widths = tuple(int(w) for w in match.group(2).split(","))
    if any(w < 1 for w in widths):
        raise WidthsError(f"{text!r}: widths must be at least 1 (none for no hidden layer)")
    return widths


class ClassWeightError(UserError, ValueError):
    """Text that is not a spelling of class weights. A ValueError too, so parsers that collect
    ValueErrors (the playground's settings) take it."""


CLASS_WEIGHT_HELP = "give balanced, none, or one weight per class like 1,20"


def parse_class_weight(value: str | Sequence[float] | None) -> str | None:
    """Class weights in their canonical spelling: the one grammar of `--class-weight`, the
    playground's setting and the estimator's `class_weight` (which turns its dict into W,W,...).

    - None, `none` or empty: every point counts once (None);
    - `balanced`: scikit-learn's rule, computed per member (`engine.losses.class_weights`);
    - `1,20` or `[1, 20]`, or a sequence of numbers: one finite weight >= 0 per class, not all 0,
      written back as "1,20" (the shortest spelling that reads back as the same floats).
    Refused with a ClassWeightError naming the text. Whether there is one weight per class is
    known only with the data (`engine.losses.class_weights`).
    """
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        if text.lower() in ("", "none"):
            return None
        if text.lower() == "balanced":
            return "balanced"
        inner = text[1:-1] if text.startswith("[") and text.endswith("]") else text
        try:
            weights = [float(part) for part in inner.split(",")]
        except ValueError:
            raise ClassWeightError(f"{value!r}: {CLASS_WEIGHT_HELP}") from None
    else:
        try:
            weights = [float(w) for w in value]
        except (TypeError, ValueError):
            raise ClassWeightError(f"{value!r}: {CLASS_WEIGHT_HELP}") from None
    if len(weights) < 2 or not all(math.isfinite(w) and w >= 0 for w in weights):
        raise ClassWeightError(f"{value!r}: one finite weight >= 0 per class (at least two)")
    if not any(weights):
        raise ClassWeightError(f"{value!r}: at least one weight must be above 0")
    return ",".join(repr(w).removesuffix(".0") for w in weights)


def class_weight_values(text: str) -> tuple[float, ...]:
    """The weights of a canonical W,W,... spelling (`parse_class_weight`)."""
    return tuple(float(w) for w in text.split(","))


def hidden_text(hidden: tuple[int, ...]) -> str:
    """The canonical spelling of hidden widths, as `parse_hidden` reads it: "64,64" or "none"."""
    return ",".join(str(int(h)) for h in hidden) or "none"


def _show(value: Any) -> str:
    if isinstance(value, tuple) and all(isinstance(v, str) for v in value):
        return ",".join(value)
    if isinstance(value, tuple):
        return hidden_text(value)
    return f"{value:g}" if isinstance(value, float) else str(value)


def describe(config: TrainConfig, n_classes: int) -> str:
    """Short model description for titles: 'complex (2-128-128-1 relu), adam lr 0.003', and the
    schedule when it is not constant: ', cosine schedule, warmup 100'; class weights and
    balanced batches when set: ', class weights balanced, balanced batches'."""
    n_outputs = 1 if n_classes == 2 else n_classes  # two classes: one logit
    names = [name for name, hidden in PRESETS.items() if hidden == config.hidden]
    widths = "-".join(str(w) for w in (len(config.features), *config.hidden, n_outputs))
    shape = f"{widths} {config.activation}" if config.hidden else widths
    if config.hidden and config.residual:
        shape += " residual"
    if config.hidden and config.norm != "none":
        shape += f" {config.norm} norm"
    label = f"{names[0]} ({shape})" if names else f"MLP {shape}"
    schedule = "" if config.schedule == "constant" else f", {config.schedule} schedule"
    if config.schedule == "step":
        schedule += f" (x{config.gamma:g} every {config.step_size})"
    elif config.schedule == "cosine_restarts":
        schedule += f" (every {config.step_size})"
    warmup = f", warmup {config.warmup}" if config.warmup else ""
    imbalance = f", class weights {config.class_weight}" if config.class_weight else ""
    imbalance += ", balanced batches" if config.balanced_batches else ""
    return f"{label}, {config.optimizer} lr {config.lr:g}{schedule}{warmup}{imbalance}"


def preset(name: str) -> tuple[int, ...]:
    """Hidden widths of a named model (`simple`, `complex`)."""
    if name not in PRESETS:
        raise UserError(f"unknown model {name!r}: choose {' or '.join(PRESETS)}")
    return PRESETS[name]
