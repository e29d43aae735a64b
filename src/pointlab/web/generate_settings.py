"""The Generate mode's settings: the data recipe the classifier's page uses, and one GenConfig per
member, checked and made typed.

Keys are named as `pointlab generate`'s flags would be (`method`, `layers`, `steps`,
`time-embedding`, ...), and the data keys are the classifier's (`data`, `points`, `noise`,
`data-seed`, `edits`): the page's data panel serves both modes. Each value is checked by the same
rules as the classifier's (`settings.py`: the digits 0-9 only, the server's limits), every
generative option through `GenConfig`, and all faults come back in one `UserError` line that names
the setting. Labels are ignored: the models learn the points' density.

Compare mode: `compare=lr=0.001 0.01; steps=10 50` varies one or two of `VARIABLE` over
whitespace-separated values; their product is the population (at most `settings.MAX_MEMBERS`).

Not here: the classifier's settings (`settings.py`), training (`generate_live.py`), the page's
messages (`generate.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pointlab.config import ACTIVATIONS, SCHEDULES, ConfigError, hidden_text
from pointlab.errors import UserError
from pointlab.generative.config import EMBEDDINGS, METHODS, GenConfig
from pointlab.web import settings as classifier
from pointlab.web.settings import DataRecipe, shown

MAX_STEPS = 1000  # sampling steps: a frame's paths cost a forward pass a step
MAX_EMBEDDING = 128

DATA_KEYS = ("data", "points", "classes", "noise", "label-noise", "data-seed", "edits")
_LIBRARY = GenConfig()  # the models' defaults are the library's, but for the epochs
DEFAULTS: dict[str, str] = {
    "data": "moons",
    "points": "500",
    "classes": "2",
    "noise": "",
    "label-noise": "0",
    "data-seed": "0",
    "edits": "",
    "method": _LIBRARY.method,
    "layers": hidden_text(_LIBRARY.hidden),
    "activation": _LIBRARY.activation,
    "lr": f"{_LIBRARY.lr:g}",
    "schedule": _LIBRARY.schedule,
    # 4,000 steps of 128 on the default 500 points: moons well learned, watched for about five
    # seconds at the page's default speed (200 epochs a second) where the machine keeps up
    "epochs": "1000",
    "batch-size": "full" if _LIBRARY.batch_size is None else str(_LIBRARY.batch_size),
    "seed": "0",
    "steps": str(_LIBRARY.steps),
    "time-embedding": _LIBRARY.time_embedding,
    "input-embedding": _LIBRARY.input_embedding,
    "embedding-size": str(_LIBRARY.embedding_size),
    "compare": "",
}
# Settings that compare mode may vary, with the GenConfig field each one sets.
VARIABLE = {
    "method": "method",
    "layers": "hidden",
    "activation": "activation",
    "lr": "lr",
    "schedule": "schedule",
    "epochs": "epochs",
    "batch-size": "batch_size",
    "seed": "seed",
    "steps": "steps",
    "time-embedding": "time_embedding",
    "input-embedding": "input_embedding",
    "embedding-size": "embedding_size",
}


@dataclass(frozen=True)
class GenSetup:
    """Checked settings: the data and one GenConfig per member."""

    data: DataRecipe
    members: tuple[GenConfig, ...]
    labels: tuple[str, ...]  # one short label per member ("lr=0.01 steps=10"), "" for one
    axes: tuple[tuple[str, tuple[str, ...]], ...]  # compare mode's (key, values), () without
    settings: dict[str, str]  # every key, normalized text: what the page shows and links


def parse(raw: dict[str, Any]) -> GenSetup:
    """Check every setting; one UserError naming each bad one."""
    text, values, axes = classifier.read(raw, DEFAULTS, VARIABLE, _value)
    base = {field: values[key] for key, field in VARIABLE.items()}
    members, labels = classifier.expand(axes, base, VARIABLE, _value, _gen_config)
    normalized = classifier.normalize(text, values, axes)
    return GenSetup(
        classifier.recipe(values), tuple(members), tuple(labels), tuple(axes), normalized
    )


def _gen_config(fields: dict[str, Any]) -> GenConfig:
    try:
        return GenConfig(**fields)
    except ConfigError as error:  # its faults by field, named as the page's keys
        raise UserError(error.named(_key_of)) from None


def _key_of(field: str) -> str:
    """A GenConfig field as the page names it, with a colon: "steps:"."""
    return next((key for key, f in VARIABLE.items() if f == field), field) + ":"


def _value(key: str, text: str) -> Any:
    """One setting's value from its text; ValueError with a short reason."""
    if key == "method":
        return _choice(text, METHODS)
    if key in ("time-embedding", "input-embedding"):
        return _choice(text, EMBEDDINGS)
    if key == "activation":
        return _choice(text, ACTIVATIONS)
    if key == "schedule":
        return _choice(text, SCHEDULES)
    if key == "steps":
        return classifier._whole_number(text, 1, MAX_STEPS)
    if key == "embedding-size":
        size = classifier._whole_number(text, 4, MAX_EMBEDDING)
        if size % 2:
            raise ValueError(f"{size} is odd; give an even number")
        return size
    if key == "batch-size" and text in ("full", ""):
        return None
    return classifier._value(key, text)  # the data keys, layers, lr, epochs, seed, batch-size


def _choice(text: str, choices: tuple[str, ...]) -> str:
    if text not in choices:
        raise ValueError(f"{shown(text)} is not one of {', '.join(choices)}")
    return text
