"""A lesson's setup as the engine needs it: the page's settings made into points and configs.

A lesson is written in the playground's settings (`pointlab.web.settings`: keys named as the
`pointlab train` flags), so what a lesson sets up is exactly what the page shows. Checking a goal
needs the same points and the same model without a page: this module makes them.

The validation split is seeded by the data's seed (`data-seed`), not by a model seed: the seeds
a check trains over then differ only in initialization and minibatch order, all see the same
points, and all train as one population.

Not here: the goals (`goals.py`), the training and the count over seeds (`check.py`).
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib import resources

from pointlab import generators
from pointlab.data import Dataset, load_csv
from pointlab.errors import UserError
from pointlab.splits import split
from pointlab.web.settings import DEFAULTS, UPLOAD, DataRecipe, Setup, parse

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


def points(recipe: DataRecipe) -> Dataset:
    """The points a recipe makes: the book's files shipped with pointlab, or a generator."""
    if recipe.kind.endswith(".csv"):
        book = resources.files("pointlab.web") / "book" / recipe.kind
        with resources.as_file(book) as path:
            dataset = load_csv(path)
        return Dataset(dataset.X, dataset.y, 2, recipe.kind, f"the book's {recipe.kind}")
    options: dict[str, float] = dict(
        n=recipe.n, classes=recipe.classes, label_noise=recipe.label_noise, seed=recipe.seed
    )
    if recipe.noise is not None:
        options["noise"] = recipe.noise
    return generators.make(recipe.kind, **options)


def train_val(setup: Setup) -> tuple[Dataset, Dataset | None]:
    """The setup's points split into training and validation points by the data's seed."""
    dataset = points(setup.data)
    if setup.val_fraction == 0:
        return dataset, None
    train, val, _ = split(dataset, setup.val_fraction, seed=setup.data.seed)
    return train, (val if len(val) else None)
