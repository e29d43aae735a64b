#!/usr/bin/env python3
"""The book's `dump_points.py` (point_classifier_2d): draw the points of a data file.

    uv run ./src/dump_points.py ./data/random.csv

As `pointlab data show`: writes DATA.png next to the CSV, prints its path, and opens a window where
a display is available.
"""

from __future__ import annotations

import argparse
import os
import sys

from pointlab.cli import main as pointlab


def main(argv: list[str] | None = None, *, show: bool | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dump_points.py", description="Draw the points of a CSV.")
    parser.add_argument("data", help="CSV of points: x, y, label (e.g. ./data/random.csv)")
    args = parser.parse_args(argv)  # a missing argument: usage, exit 2
    if show is None:
        show = sys.platform in ("darwin", "win32") or bool(
            os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
        )
    return pointlab(["data", "show", args.data, *(["--show"] if show else [])])


if __name__ == "__main__":
    sys.exit(main())
