"""A lesson's setup as the engine needs it: the page's settings made into points and configs.

A lesson is written in the playground's settings (`pointlab.web.settings`: keys named as the
`pointlab train` flags) and its points come from the playground's recipes (`pointlab.web.points`),
so what a lesson sets up is exactly what the page shows. Checking a goal needs the same points and
the same model without a page: this module makes them with those two modules, which import nothing
of the web server.

The validation split is seeded by the data's seed (`data-seed`), not by a model seed: the seeds
a check trains over then differ only in initialization and minibatch order, all see the same
points, and all train as one population.

Not here: the goals (`goals.py`), the training and the count over seeds (`check.py`).
"""

from __future__ import annotations

from collections.abc import Mapping

from pointlab.data import Dataset
from pointlab.errors import UserError
from pointlab.splits import split
from pointlab.web.points import make
from pointlab.web.settings import DEFAULTS, UPLOAD, Setup, parse

SETTING_NAMES = tuple(DEFAULTS)


def parse_settings(settings: Mapping[str, str]) -> Setup:
    """The page's settings checked (one UserError naming each bad one); a lesson trains one
    setting over seeds, so compare mode and uploaded points are refused."""
    setup = parse(dict(settings))
    if len(setup.members) != 1:
        raise UserError("compare: a lesson trains one setting over several seeds; leave it empty")
    if setup.data.kind == UPLOAD:
        raise UserError("data: a lesson's points come from a generator or a book file")
    return setup


def train_val(setup: Setup) -> tuple[Dataset, Dataset | None]:
    """The setup's points split into training and validation points by the data's seed."""
    dataset = make(setup.data, None)
    if setup.val_fraction == 0:
        return dataset, None
    train, val, _ = split(dataset, setup.val_fraction, seed=setup.data.seed)
    return train, (val if len(val) else None)
