"""Arguments the commands share: the training flags made from `TrainConfig`'s fields, the parsers
of whole numbers, shares, seeds and layer widths, and the flags that mean the same everywhere
(`--columns`, `--device`, `--seed`, `--val-fraction`) with one default each.

A flag's help comes from the field's metadata (`config.option`), so `--help` lists every field
with its default and a new field needs one line in `config.py`. Faults of a config are reported by
flag (`--epochs must be >= 0`), through `FLAGS`.

Not here: what each command does with its arguments (`*_cmd.py`).
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import re
import typing
from collections.abc import Callable
from typing import Any, NoReturn

from pointlab.api import DEFAULT_VAL_FRACTION
from pointlab.config import (
    MAX_SEED,
    PRESETS,
    ConfigError,
    TrainConfig,
    WidthsError,
    hidden_text,
    parse_hidden,
)
from pointlab.errors import SettingError, UserError
from pointlab.features import FeaturesError, parse_features

DEFAULT_DEVICE = "auto"  # cuda when there is one, else cpu: every command
DEFAULT_SEED = 0  # every command; only the book's src/train.py draws a random seed
DEVICES = ("auto", "cpu", "cuda")
PREFIX = "config_"  # argparse dest of a training flag: config_lr, config_batch_size, ...

# TrainConfig field -> its command-line flag.
FLAGS = {
    f.name: "--layers" if f.name == "hidden" else f"--{f.name.replace('_', '-')}"
    for f in dataclasses.fields(TrainConfig)
}
# A library setting whose flag reads with its argument in an error ("give --test FILE").
SETTING_FLAGS = {"test": "--test FILE", "cv": "--cv K"}


def flag(name: str) -> str:
    """The flag that gives a library setting: `early_stopping` -> `--early-stopping`."""
    return SETTING_FLAGS.get(name) or FLAGS.get(name) or f"--{name.replace('_', '-')}"


def in_flags(error: UserError) -> str:
    """A library error as the command line says it: each setting named by its flag."""
    return error.named(flag) if isinstance(error, SettingError) else str(error)


class Parser(argparse.ArgumentParser):
    """argparse, with a usage error as one line (the flags of `train` fill a screen of usage)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


# --- value parsers (argparse `type=`): a clear message, never a traceback ----------------------
def whole(text: str) -> int:
    """A whole number; '2e4' is 20000 (bounds are the config's to check, by flag)."""
    try:
        return int(text)
    except ValueError:
        pass
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value.is_integer()):
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number")
    return int(value)


def positive_int(text: str) -> int:
    value = whole(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None


def check_fraction(value: float, flag: str) -> float:
    """A share of the points must be in [0, 1): checked when the command runs (one line, exit 2)."""
    if not 0.0 <= value < 1.0:
        raise UserError(f"{flag} must be in [0, 1), got {value:g}")
    return value


def seed(text: str) -> int:
    """A seed: a whole number from 0 to MAX_SEED."""
    value = whole(text)
    if not 0 <= value <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"must be a whole number from 0 to {MAX_SEED}, got {text}")
    return value


def layers(text: str) -> tuple[int, ...]:
    """Hidden widths in the library's one grammar (`config.parse_hidden`): 64,64 or [64,64],
    none or [], simple or complex."""
    try:
        return parse_hidden(text)
    except WidthsError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def features(text: str) -> tuple[str, ...]:
    """Feature inputs in the library's one grammar (`features.parse_features`): x,y,x2,y2."""
    try:
        return parse_features(text)
    except FeaturesError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


# --- flags with one meaning and one default in every command ------------------------------------
def add_columns(
    parser: argparse._ActionsContainer,
    default: str = "the columns named x, y and label; without a header, the last three",
) -> None:
    parser.add_argument(
        "--columns",
        metavar="X,Y,LABEL",
        default=None,
        help=f"columns to use, by header name or 0-based index (default: {default})",
    )


def device(text: str) -> str:
    """auto, cpu, cuda or cuda:N."""
    if text in DEVICES or re.fullmatch(r"cuda:\d+", text):
        return text
    raise argparse.ArgumentTypeError(f"{text!r}: choose auto, cpu, cuda or cuda:N")


def add_device(parser: argparse._ActionsContainer) -> None:
    parser.add_argument(
        "--device",
        type=device,
        default=DEFAULT_DEVICE,
        metavar="DEVICE",
        help=f"auto, cpu, cuda or cuda:N; auto = cuda when available (default: {DEFAULT_DEVICE})",
    )


def add_val_fraction(
    parser: argparse._ActionsContainer, help: str, default: float = DEFAULT_VAL_FRACTION
) -> None:
    parser.add_argument(
        "--val-fraction",
        type=number,
        default=default,
        metavar="F",
        help=f"{help} (default: {default})",
    )


def add_test(parser: argparse._ActionsContainer, help: str) -> None:
    parser.add_argument("--test", metavar="FILE.csv", default=None, help=help)


def add_log_every(parser: argparse._ActionsContainer, help: str) -> None:
    parser.add_argument(
        "--log-every",
        type=positive_int,
        default=None,
        metavar="K",
        help=f"record metrics every K epochs{help}",
    )


def add_out(parser: argparse._ActionsContainer, metavar: str, help: str) -> None:
    parser.add_argument("--out", metavar=metavar, default=None, help=help)


def add_model(parser: argparse._ActionsContainer) -> None:
    """--model (the book's presets); --layers comes with the training flags."""
    parser.add_argument(
        "--model",
        choices=list(PRESETS),
        default=None,
        help="the book's models: simple = no hidden layer (logistic regression), "
        "complex = two hidden layers of 128 (default: complex)",
    )


# --- the training flags, one per TrainConfig field ----------------------------------------------
def add_training_flags(
    parser: argparse._ActionsContainer,
    *,
    defaults: dict[str, Any] | None = None,
    helps: dict[str, str] | None = None,
) -> None:
    """A flag for every TrainConfig field (hidden as --layers). Flags left out stay None in the
    namespace, so `given(args)` tells which the user set; `--help` shows the default each takes
    (`defaults` overrides TrainConfig's for this command, `helps` a field's help)."""
    defaults, helps = defaults or {}, helps or {}
    for f in dataclasses.fields(TrainConfig):
        add_training_flag(parser, f.name, default=defaults.get(f.name), help=helps.get(f.name))


def add_training_flag(
    parser: argparse._ActionsContainer,
    name: str,
    *,
    default: Any = None,
    help: str | None = None,
    choices: tuple[str, ...] | None = None,
    config: type = TrainConfig,
) -> None:
    """The flag of one TrainConfig field, as every command takes it: the same parser (one
    grammar per option), dest `config_<field>` for `given`, the default shown in the help
    (`default`: this command's, else TrainConfig's), `choices` a subset of the field's.
    `config`: another dataclass whose fields are made with `config.option` (GenConfig); its
    fields take the same flags and grammar."""
    f = next(f for f in dataclasses.fields(config) if f.name == name)
    meta = f.metadata
    shown = _text(getattr(config(), name) if default is None else default, meta["none"])
    if name == "hidden" and default is None and config is TrainConfig:
        shown = "the --model's, 128,128"
    if f.type in (bool, "bool"):  # --standardize / --no-standardize
        parser.add_argument(
            flag(name),
            dest=PREFIX + name,
            action=argparse.BooleanOptionalAction,
            default=None,
            help=f"{help or meta['help']} (default: {shown})",
        )
        return
    parser.add_argument(
        flag(name),
        dest=PREFIX + name,
        type=layers
        if name == "hidden"
        else features
        if name == "features"
        else _parser(typing.get_type_hints(config)[name], meta["none"], meta["at_least"]),
        choices=choices or meta["choices"] or None,
        metavar=meta["metavar"],
        default=None,
        help=f"{help or meta['help']} (default: {shown})",
    )


def given(args: argparse.Namespace) -> dict[str, Any]:
    """The TrainConfig fields the user set by flag, with their values."""
    return {
        k.removeprefix(PREFIX): v
        for k, v in vars(args).items()
        if k.startswith(PREFIX) and v is not None
    }


def build_config(values: dict[str, Any]) -> TrainConfig:
    """TrainConfig(**values), its faults named by flag: '--epochs must be >= 0, got -5'."""
    try:
        return TrainConfig(**values)
    except ConfigError as error:
        raise UserError(error.named(lambda name: FLAGS.get(name, name))) from None


def hidden(args: argparse.Namespace) -> tuple[int, ...] | None:
    """Hidden widths from --layers, else --model, else None."""
    layers_given = getattr(args, PREFIX + "hidden", None)
    if layers_given is not None:
        return layers_given
    return PRESETS[args.model] if args.model else None


def _parser(hint: Any, none: str, at_least: int | None) -> Callable[[str], Any]:
    """The argparse type of a field: int, float or str, the word for None if it has one, and the
    lower bound checked at parse time if it has one."""
    kinds = [t for t in typing.get_args(hint) or (hint,) if t is not type(None)]
    parsers: dict[type, Callable[[str], Any]] = {int: whole, float: number, str: str}
    inner = parsers[kinds[0]]
    if not none and at_least is None:
        return inner

    def parse(text: str) -> Any:
        if none and text.strip().lower() == none:
            return None
        value = inner(text)
        if at_least is not None and value < at_least:
            alternative = f" (or {none})" if none else ""
            raise argparse.ArgumentTypeError(
                f"must be at least {at_least}{alternative}, got {text}"
            )
        return value

    parse.__name__ = inner.__name__  # argparse names the type in its messages
    return parse


def _text(value: Any, none: str) -> str:
    if value is None:
        return none or "none"
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, tuple) and all(isinstance(v, str) for v in value):
        return ",".join(value)
    if isinstance(value, tuple):
        return hidden_text(value)
    return f"{value:g}" if isinstance(value, float) else str(value)
