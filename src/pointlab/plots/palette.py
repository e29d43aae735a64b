"""The one palette: a colour for each of K classes, and colours for lines that are not classes.

Class 0 is red and class 1 blue, as the book's `dump_points.py` draws them; classes 2 to 9 take
the other tab10 colours (tab10's own red and blue left out, they would pass for classes 0 and 1);
past ten classes they go round a colour wheel. Every picture of classes uses `class_colours`, so
class 2 is the same orange in a data set's picture, a decision boundary and an experiment.
Not here: drawing (the other modules of `pointlab.plots`).
"""

from __future__ import annotations

# matplotlib is imported inside `class_colours`: the CLI's help texts read the colour names here
# before anything is drawn.
BOOK_COLOURS = ("red", "blue")
MORE_COLOURS = (
    "tab:orange",
    "tab:green",
    "tab:purple",
    "tab:brown",
    "tab:pink",
    "tab:gray",
    "tab:olive",
    "tab:cyan",
)
# Lines that stand for conditions, not classes (schedules, seeds, variants): tab10 in its order.
LINE_COLOURS = (
    "tab:blue",
    "tab:orange",
    "tab:green",
    "tab:red",
    "tab:purple",
    "tab:brown",
    "tab:pink",
    "tab:gray",
    "tab:olive",
    "tab:cyan",
)


def class_colours(n_classes: int) -> list[str]:
    """One colour per class, as hex strings: red, blue, then tab10, then a colour wheel."""
    from matplotlib.colors import to_hex

    named = BOOK_COLOURS + MORE_COLOURS
    if n_classes <= len(named):
        return [to_hex(colour) for colour in named[:n_classes]]
    from matplotlib import colormaps

    wheel = colormaps["hsv"]
    return [to_hex(wheel(i / n_classes)) for i in range(n_classes)]


def colour_words(n_classes: int) -> str:
    """The colours in words, for help texts: 'red for class 0, blue for class 1, orange for
    class 2, ...' (at most the ten named ones)."""
    words = [c.removeprefix("tab:") for c in BOOK_COLOURS + MORE_COLOURS]
    return ", ".join(f"{words[k]} for class {k}" for k in range(min(n_classes, len(words))))
