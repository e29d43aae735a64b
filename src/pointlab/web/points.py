"""The playground's points: made from the settings' data recipe, uploaded, split, and edited.

A recipe (`settings.DataRecipe`) names a generator with its parameters, one of the book's files
shipped in `book/`, or `upload`: points a CSV upload gave the page (parsed on the server by the
loader, `app.py`) that the page sends back in a `points` message. Those, and every point added
with a click, are checked here with one rule and one message: finite coordinates within
`COORDINATE_LIMIT` (float32 keeps every such point finite; x = 1e300 once became infinity and
made the model diverge). Editing makes a new `Dataset`. The train/validation split is a property
of the data: seeded by the data seed (`data-seed`), never by a member's model seed, so every
member of a comparison holds out the same points and a member set up alone repeats its numbers;
an export records that seed as the run's `split_seed` (`pointlab train --split-seed`).

Not here: the settings themselves (`settings.py`), the CSV loader (`pointlab.data`), training on
the points (`live.py`).
"""

from __future__ import annotations

from importlib import resources
from typing import Any

import numpy as np

from pointlab import generators
from pointlab.data import Dataset, load_csv
from pointlab.errors import UserError
from pointlab.web.settings import MAX_CLASSES, MAX_POINTS, UPLOAD, DataRecipe, shown, whole

COORDINATE_LIMIT = 1e6  # |x| and |y| of any point, uploaded or added
EDIT_DIGITS = 5  # significant digits of a clicked point's coordinates (in the link too)
MIN_POINTS = 4


def make(recipe: DataRecipe, uploaded: Dataset | None) -> Dataset:
    """The points a recipe names; `uploaded` for `upload`."""
    if recipe.kind == UPLOAD:
        if uploaded is None:
            raise UserError("data=upload: upload a CSV first (the URL cannot hold its points)")
        return uploaded
    if recipe.kind.endswith(".csv"):
        book = resources.files("pointlab.web") / "book" / recipe.kind
        with resources.as_file(book) as path:
            dataset = load_csv(path)
        return Dataset(dataset.X, dataset.y, 2, recipe.kind, f"the book's {recipe.kind}")
    options: dict[str, Any] = dict(
        n=recipe.n, classes=recipe.classes, label_noise=recipe.label_noise, seed=recipe.seed
    )
    if recipe.noise is not None:
        options["noise"] = recipe.noise
    return generators.make(recipe.kind, **options)


def noise_default(kind: str) -> float | None:
    """The noise a generator uses when none is given; None for a book file or an upload."""
    import inspect

    maker = generators.GENERATORS.get(kind)
    return None if maker is None else inspect.signature(maker).parameters["noise"].default


def uploaded(message: dict[str, Any]) -> Dataset:
    """An uploaded CSV's points, as the loader parsed them on the server; checked again here
    because the page sends them back."""
    X, y, name = message.get("X"), message.get("y"), message.get("name") or "upload"
    try:
        X = np.asarray(X, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
    except OverflowError:  # a whole number beyond float64, such as 10**400
        raise UserError(_out_of_range("points")) from None
    except (TypeError, ValueError):
        raise UserError("points: X must be [[x, y], ...] and y [label, ...]") from None
    if X.ndim != 2 or X.shape[1:] != (2,) or y.shape != (len(X),):
        raise UserError("points: X must be [[x, y], ...] and y one label per point")
    if not MIN_POINTS <= len(X) <= MAX_POINTS:
        raise UserError(f"points: give {MIN_POINTS} to {MAX_POINTS} points, got {len(X)}")
    if not (np.abs(X) <= COORDINATE_LIMIT).all():  # NaN and infinity compare false
        raise UserError(_out_of_range("points"))
    if not (np.isfinite(y).all() and (y == np.round(y)).all() and y.min() >= 0):
        raise UserError("points: labels must be whole numbers from 0")
    k = int(y.max()) + 1
    if not 2 <= k <= MAX_CLASSES or len(np.unique(y)) != k:
        raise UserError(f"points: labels must be 0..K-1, each present, 2 <= K <= {MAX_CLASSES}")
    safe = "".join(c for c in str(name)[:60] if c.isalnum() or c in "-_. ") or "upload"
    return Dataset(X.astype(np.float32), y.astype(np.int64), k, safe, f"upload {safe}")


def add(dataset: Dataset, message: dict[str, Any]) -> Dataset:
    """`dataset` with the point of an `add_point {x, y, label}` message appended, its coordinates
    rounded to EDIT_DIGITS significant digits, as a link holds them (`edit_text`)."""
    x, y, label = _number(message.get("x")), _number(message.get("y")), whole(message.get("label"))
    if x is None or y is None:
        raise UserError("add_point: x and y must be numbers")
    # Compared as Python numbers: NaN and infinity compare false, and a 400-digit integer
    # compares exactly (float() of it would raise OverflowError).
    if not (abs(x) <= COORDINATE_LIMIT and abs(y) <= COORDINATE_LIMIT):
        raise UserError(_out_of_range("add_point"))
    if label is None or not 0 <= label < dataset.n_classes:
        raise UserError(f"add_point: label must be 0..{dataset.n_classes - 1}")
    if len(dataset) >= MAX_POINTS:
        raise UserError(f"add_point: the limit is {MAX_POINTS} points")
    x, y = float(f"{x:.{EDIT_DIGITS}g}"), float(f"{y:.{EDIT_DIGITS}g}")
    X = np.concatenate([dataset.X, np.array([[x, y]], dtype=np.float32)])
    labels = np.concatenate([dataset.y, np.array([label], dtype=np.int64)])
    return _edited(dataset, X, labels)


def remove(dataset: Dataset, message: dict[str, Any]) -> Dataset:
    """`dataset` without the point of a `remove_point {index}` message (an index into it)."""
    index = whole(message.get("index"))
    if index is None or not 0 <= index < len(dataset):
        raise UserError(f"remove_point: no point {shown(message.get('index'))}")
    if len(dataset) <= MIN_POINTS:
        raise UserError(f"remove_point: keep at least {MIN_POINTS} points")
    return _edited(dataset, np.delete(dataset.X, index, axis=0), np.delete(dataset.y, index))


def added_text(dataset: Dataset) -> str:
    """The link's text of `dataset`'s last point, the one `add` appended: "a0.25,0.5,1"."""
    (x, y), label = dataset.X[-1].tolist(), int(dataset.y[-1])
    return f"a{x:.{EDIT_DIGITS}g},{y:.{EDIT_DIGITS}g},{label}"


def click(
    dataset: Dataset, message: dict[str, Any], label: int | None = None
) -> tuple[Dataset, str]:
    """`dataset` after an add_point or remove_point message (the Generate mode's gen_ ones
    too), and the click as the link's `edits` write it ("a0.25,0.5,1", "r17"). `label`: the
    added point's label instead of the message's (the Generate mode's points are unlabelled)."""
    if str(message.get("type")).endswith("add_point"):
        if label is not None:
            message = {"x": message.get("x"), "y": message.get("y"), "label": label}
        added = add(dataset, message)
        return added, added_text(added)
    return remove(dataset, message), f"r{message['index']}"


def replay(dataset: Dataset, edits: tuple[str, ...]) -> Dataset:
    """`dataset` with a link's clicked points (`settings.edits`) added and removed in order, as
    `add` and `remove` did when they were clicked; faults name the `edits` setting."""
    for edit in edits:
        try:
            if edit.startswith("a"):
                x, y, label = edit[1:].split(",")
                dataset = add(dataset, {"x": float(x), "y": float(y), "label": int(label)})
            else:
                dataset = remove(dataset, {"index": int(edit[1:])})
        except ValueError:  # "1.2.3": the form's check lets such digits and points through
            raise UserError(f"edits: {edit}: not a number") from None
        except UserError as error:
            raise UserError(f"edits: {edit}: {str(error).split(': ', 1)[1]}") from None
    return dataset


def split_points(
    dataset: Dataset, val_fraction: float, seed: int
) -> tuple[Dataset, Dataset | None]:
    """(train, validation or None), split by `pointlab.splits.split` with `seed` (the data seed),
    as `pointlab train --split-seed seed` splits it, so an export repeats it."""
    from pointlab.splits import split

    if val_fraction == 0:
        return dataset, None
    train, val, _ = split(dataset, val_fraction, seed=seed)
    if len(train) == 0:
        raise UserError("val-fraction leaves no training points")
    return train, (val if len(val) else None)


def extent(points: np.ndarray) -> list[list[float]]:
    """The plane shown: the unit square for data inside it, else the points plus a 10% margin."""
    low, high = points.min(0).astype(float), points.max(0).astype(float)
    if low.min() >= 0 and high.max() <= 1:
        return [[-0.05, 1.05], [-0.05, 1.05]]
    margin = np.maximum((high - low) * 0.1, 1e-3)
    low, high = low - margin, high + margin
    return [[float(low[0]), float(high[0])], [float(low[1]), float(high[1])]]


def point_index(dataset: Dataset, parts: list[Dataset]) -> list[int]:
    """For each point as the page lists them (the parts in order: train, then validation), its
    index in `dataset`, so that remove_point can name a point of the unsplit data set."""
    order: dict[tuple[float, float, int], list[int]] = {}
    for i, (p, label) in enumerate(zip(dataset.X.tolist(), dataset.y.tolist(), strict=True)):
        order.setdefault((p[0], p[1], label), []).append(i)
    out = []
    for part in parts:
        for p, label in zip(part.X.tolist(), part.y.tolist(), strict=True):
            out.append(order[(p[0], p[1], label)].pop(0))
    return out


def _edited(dataset: Dataset, X: np.ndarray, y: np.ndarray) -> Dataset:
    name = dataset.name if dataset.name.endswith("(edited)") else f"{dataset.name} (edited)"
    source = dataset.source + " (edited in pointlab play)"
    return Dataset(X, y, dataset.n_classes, name, source)


def _number(value: Any) -> int | float | None:
    """`value` when it is a JSON number (not true or false), else None."""
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None


def _out_of_range(what: str) -> str:
    return f"{what}: coordinates must be finite numbers within +-1e6"  # COORDINATE_LIMIT
