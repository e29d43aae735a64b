#!/usr/bin/env python3
"""The book's `train.py` (point_classifier_2d), on pointlab's library: same command, same lines.

    uv run ./src/train.py ./data/curve.csv complex

Trains the book's model with the book's settings (full batch, Adam lr 0.003, binary cross-entropy,
epochs 0 to 20000, PyTorch's default initialization, a random seed) and prints the book's lines
`Epoch N, Loss: X` every 1000 epochs: the loss of the forward pass before that epoch's update. The
loss is computed from logits, which does not saturate as the book's sigmoid + BCELoss can. Then it
draws the decision regions over the points into DATA_complex.png next to the data file (or in the
current directory when that one is not writable), prints its path, and opens a window where a
display is available.

It trains through the package's short API (`pointlab.train`), as any script of a reader would.

Not here: training itself (`pointlab.training`, `pointlab.engine`), the `pointlab` command
(`pointlab.cli`).
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pointlab
from pointlab.config import PRESETS, describe
from pointlab.cpu import tune_cpu
from pointlab.errors import UserError

if TYPE_CHECKING:
    import numpy as np

    from pointlab.data import Dataset
    from pointlab.runs import RunResult

EPOCHS, PRINT_EVERY = 20000, 1000


def main(
    argv: list[str] | None = None,
    *,
    epochs: int = EPOCHS,
    print_every: int = PRINT_EVERY,
    show: bool | None = None,
) -> int:
    """Run the book's command; `epochs` and `print_every` are for tests, not on the command line."""
    parser = argparse.ArgumentParser(prog="train.py", description="Train the book's model.")
    parser.add_argument("data", help="CSV of points: x, y, label (e.g. ./data/curve.csv)")
    parser.add_argument("model", choices=list(PRESETS), help="simple or complex")
    args = parser.parse_args(argv)  # a wrong model or a missing argument: usage, exit 2
    try:
        dataset = pointlab.load_data(args.data)
        config = pointlab.TrainConfig(
            hidden=PRESETS[args.model],
            epochs=epochs,
            seed=secrets.randbelow(2**31),
            standardize=False,  # the book feeds the points raw
        )
        tune_cpu("cpu")

        def report(epoch: int, metrics: dict[str, np.ndarray]) -> None:
            # The book: print(f"Epoch {epoch}, Loss: {loss.item()}"), a float32 as a Python float.
            print(f"Epoch {epoch}, Loss: {float(metrics['train_loss'][0])}", flush=True)

        # The book trains on every point: no validation or test share, nothing written.
        result = pointlab.train(
            dataset, config, val_fraction=0.0, device="cpu", log_every=print_every, callback=report
        )
        return _draw(args, dataset, result, show)
    except UserError as error:
        print(f"train.py: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("train.py: interrupted", file=sys.stderr)
        return 130


def _draw(args: argparse.Namespace, dataset: Dataset, result: RunResult, show: bool | None) -> int:
    from pointlab.plots.boundary import compute_boundary, draw_boundary, plot_boundary

    model = result.model
    title = (
        f"{describe(result.spec.config, dataset.n_classes)} on {dataset.name}: "
        f"loss {result.last('train_loss'):.4g} after {result.stopped_epoch} epochs"
    )
    folder = Path(args.data).parent
    name = f"{dataset.name}_{args.model}.png"
    path = folder / name if os.access(folder, os.W_OK) else Path(name)
    print(f"wrote {plot_boundary(model.predict_proba, dataset, None, path, title)}")
    if show if show is not None else _has_display():
        import matplotlib.pyplot as plt

        figure = plt.figure(figsize=(7.5, 7.8), layout="constrained")
        draw_boundary(
            figure.add_subplot(), compute_boundary(model.predict_proba, dataset), title=title
        )
        plt.show()
    return 0


def _has_display() -> bool:
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


if __name__ == "__main__":
    sys.exit(main())
