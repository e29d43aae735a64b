"""The samples flowing from noise to data, as an animated GIF, and any of its frames as a picture.

`save_animation(path, out.gif)` draws about 40 frames of a (T+1, n, 2) path, evenly spaced over
its steps from the first to the last, each with the same axes (the box of the whole path and the
data), and writes them as one looping GIF whose last frame stays a second. A frame is drawn by
`draw_frame`, the one function behind both the GIF and `plot_frame`, which writes one step (0,
the noise; -1, the samples) as a PNG: the animation's first and last frames, bigger.

The GIF is put together by Pillow (which matplotlib itself needs): each frame is rendered by the
Agg canvas and reduced to a palette of 64 colours, which keeps a 40-frame, 320-pixel animation
of a thousand points over two thousand data points near 400 kB.

Not here: the still pictures (`plots.generative`), sampling the path (`pointlab.generative`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import BinaryIO

import numpy as np
from matplotlib.axes import Axes
from numpy.typing import ArrayLike

from pointlab.errors import UserError
from pointlab.io import write_atomic
from pointlab.plots.generative import (
    DATA_COLOUR,
    NOISE_COLOUR,
    SAMPLE_COLOUR,
    Box,
    as_path,
    as_points,
    data_box,
    frame_axes,
    marker_size,
)
from pointlab.plots.save import new_figure, save_figure

FRAMES = 40
PIXELS = 320  # the GIF's side
HOLD_MS = 1000  # how long the last frame stays before the loop starts again


def frame_steps(n_steps: int, frames: int = FRAMES) -> list[int]:
    """Which of the steps 0 .. n_steps - 1 become frames: `frames` of them (or all, if fewer),
    evenly spaced, always the first and the last."""
    if frames < 2:
        raise UserError(f"an animation needs at least 2 frames, got {frames}")
    return sorted({int(round(s)) for s in np.linspace(0, n_steps - 1, min(frames, n_steps))})


def draw_frame(
    ax: Axes,
    path: ArrayLike,
    step: int,
    *,
    box: Box,
    data: ArrayLike | None = None,
    time: float | None = None,
) -> None:
    """The points of `path` at `step` over the faint data, grey at the noise turning orange as
    they reach the samples; titled with the time t (default step / T)."""
    steps = as_path(path)
    T = len(steps) - 1
    step = step % (T + 1)
    if data is not None:
        points = as_points("data", data)
        ax.scatter(
            points[:, 0], points[:, 1], s=marker_size(len(points)), c=DATA_COLOUR, alpha=0.25, lw=0
        )
    moving = steps[step]  # (n, 2)
    ax.scatter(
        moving[:, 0], moving[:, 1], s=marker_size(len(moving)), color=_colour(step / T), lw=0
    )
    frame_axes(ax, box, f"t = {step / T if time is None else time:.2f}")


def _colour(share: float) -> tuple[float, float, float]:
    """The moving points' colour a `share` of the way from the noise's grey to the samples'
    orange (RGB)."""
    from matplotlib.colors import to_rgb

    start, end = to_rgb(NOISE_COLOUR), to_rgb(SAMPLE_COLOUR)
    r, g, b = ((1 - share) * a + share * z for a, z in zip(start, end, strict=True))
    return (r, g, b)


def save_animation(
    path: ArrayLike,
    out: str | os.PathLike[str],
    *,
    data: ArrayLike | None = None,
    frames: int = FRAMES,
    pixels: int = PIXELS,
    seconds: float = 3.0,
) -> Path:
    """Write the path's flow as a looping GIF at `out` (about `frames` frames over `seconds`,
    `pixels` square) and return its path."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image

    steps = as_path(path)
    if Path(out).suffix.lower() != ".gif":
        raise UserError(f"{out}: an animation is written as .gif")
    box = data_box(steps, *([] if data is None else [data]))
    chosen = frame_steps(len(steps), frames)
    # One figure: the first frame is drawn whole and laid out, later frames move its points and
    # change its title (a fresh figure per frame, laid out again each time, was 7 times slower).
    figure = new_figure(pixels / 80, pixels / 80, dpi=80)
    ax = figure.add_subplot()
    draw_frame(ax, steps, chosen[0], box=box, data=data)
    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    figure.set_layout_engine("none")  # keep the first frame's layout for all
    moving = ax.collections[-1]
    T = len(steps) - 1
    images = []
    for step in chosen:
        moving.set_offsets(steps[step])
        moving.set_color(_colour(step / T))
        ax.set_title(f"t = {step / T:.2f}", fontsize=10)
        canvas.draw()
        rgba = np.asarray(canvas.buffer_rgba())  # (pixels, pixels, 4)
        image = Image.fromarray(rgba[..., :3].copy())
        images.append(image.quantize(colors=64, method=Image.Quantize.MEDIANCUT))
    per_frame = max(20, int(1000 * seconds / len(images)))
    durations = [per_frame] * (len(images) - 1) + [HOLD_MS]

    def write(file: BinaryIO) -> None:
        images[0].save(
            file,
            format="GIF",
            save_all=True,
            append_images=images[1:],
            duration=durations,
            loop=0,
            optimize=True,
        )

    return write_atomic(out, write)


def plot_frame(
    path: ArrayLike,
    step: int,
    out: str | os.PathLike[str],
    *,
    data: ArrayLike | None = None,
) -> Path:
    """One frame of the animation (`step` 0: the noise, -1: the samples) as a picture file, in
    the animation's box; return its path."""
    steps = as_path(path)
    box = data_box(steps, *([] if data is None else [data]))
    figure = new_figure(4.4, 4.4)
    draw_frame(figure.add_subplot(), steps, step, box=box, data=data)
    return save_figure(figure, out)
