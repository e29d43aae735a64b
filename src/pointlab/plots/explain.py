"""Pictures of one explained training step (`pointlab explain`): numbers in, PNGs out.

- `draw_activations`: each layer's units over the plane (what each one "sees"), points on top;
- `draw_graph`: the computation graph the autodiff built, forward arrows, gradient norms in red;
- `draw_gradients`: gradient sizes per layer, their spread, and how much the step moved each layer.

Everything drawn is computed in `pointlab.explain` (a `StepTrace` and `plane_values`).
Not here: computing any of it, and the text report (`pointlab.explain.report`).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from pointlab.data import write_atomic
from pointlab.explain.plane import PlaneLayer
from pointlab.explain.trace import HISTOGRAM_EDGES, StepTrace
from pointlab.plots.points import class_colours

GRADIENT = "#c0392b"  # one colour for everything backward: gradients, their arrows


def save(figure: Figure, path: str | os.PathLike[str]) -> Path:
    return write_atomic(Path(path), lambda file: figure.savefig(file, format="png"))


# -- activations over the plane ----------------------------------------------------------------


def draw_activations(
    figure: Figure,
    planes: list[PlaneLayer],
    X: np.ndarray,
    y: np.ndarray,
    extent: tuple[float, float, float, float],
    activation: str,
    traced: dict[int, int],
) -> None:
    """One row per layer, one panel per unit: the unit's value at every point of the plane."""
    columns = max(max(len(p.units) for p in planes), len(planes[-1].units) + 1)
    grid = figure.subplots(len(planes), columns, squeeze=False)
    colours = np.array(class_colours(int(y.max()) + 1))[y]
    for row, plane in zip(grid, planes, strict=True):
        output = plane.name.startswith("z")
        panels = list(plane.values)
        titles = [f"{plane.name}, unit {u}" for u in plane.units]
        if output and len(plane.units) == 1:
            # one logit: show it and the probability it means
            panels.append(1 / (1 + np.exp(-plane.values[0])))
            p = panels[1]
            z = plane.values[0]
            if z.min() < 0 < z.max():
                where = "black line: z = 0, the boundary"
            else:
                where = f"{'> 0' if z.min() >= 0 else '< 0'} everywhere: one class for all"
            titles = [
                f"z{plane.layer}: the logit\n{where}",
                f"p = sigmoid(z{plane.layer}): probability of\n"
                f"label 1, {p.min():.2f} to {p.max():.2f}",
            ]
        for column, axes in enumerate(row):
            if column >= len(panels):
                axes.set_visible(False)
                continue
            values = panels[column]
            if output:
                is_p = column == 1 and len(plane.units) == 1
                bound = 1.0 if is_p else max(float(np.abs(values).max()), 1e-9)
                low = 0.0 if is_p else -bound
                cmap = "RdBu"  # red = class 0, blue = class 1, as the boundary picture
                contour = 0.5 if is_p else 0.0
            else:
                low, bound = float(values.min()), float(values.max())
                cmap = "viridis"
                contour = None
            image = axes.imshow(
                values,
                origin="lower",
                extent=extent,
                cmap=cmap,
                vmin=low,
                vmax=bound if bound > low else low + 1e-9,
                aspect="equal",
                interpolation="bilinear",
            )
            if contour is not None and values.min() < contour < values.max():
                gx = np.linspace(extent[0], extent[1], values.shape[1])
                gy = np.linspace(extent[2], extent[3], values.shape[0])
                axes.contour(gx, gy, values, levels=[contour], colors="black", linewidths=1)
            axes.scatter(X[:, 0], X[:, 1], s=7, c=colours, edgecolors="white", linewidths=0.3)
            title = titles[column]
            if not output:
                unit = plane.units[column]
                share = plane.active_share[column]
                if traced.get(plane.layer) == unit:
                    title += " (traced)"
                if activation == "relu":
                    title += f"\non for {share:.0%} of points"
            axes.set_title(title, fontsize=8, color=GRADIENT if "traced" in title else "black")
            axes.set_xticks([])
            axes.set_yticks([])
            colourbar = figure.colorbar(image, ax=axes, fraction=0.046, pad=0.02)
            colourbar.ax.tick_params(labelsize=6)
        row[0].set_ylabel(f"layer {plane.layer}" + (" (output)" if output else ""), fontsize=9)


# -- the computation graph -----------------------------------------------------------------------

_OP_WORDS = {
    "@": "matrix product @",
    "+": "add +",
    "relu": "relu",
    "tanh": "tanh",
    "sigmoid": "sigmoid",
    "lrelu": "leaky relu",
    "bce": "BCE loss",
    "cross_entropy": "cross-entropy",
    "mse": "MSE loss",
}
_FACE = {
    "input": "#e8f0fe",
    "labels": "#e8f0fe",
    "parameter": "#fff4d6",
    "operation": "#eeeeee",
    "loss": "#fde2e1",
}


def graph_positions(trace: StepTrace) -> dict[int, tuple[float, float]]:
    """Operations on one row, left to right in forward order; each parameter just before the
    operation that uses it, weights above the row and biases and labels below."""
    children: dict[int, list[int]] = {}
    for source, target in trace.graph_edges:
        children.setdefault(source, []).append(target)
    positions: dict[int, tuple[float, float]] = {}
    column = 0.0
    for node in trace.graph_nodes:  # topological order: every node after its inputs
        if node.kind in ("operation", "loss") or node.name == "x":
            positions[node.id] = (column, 0.0)
            column += 1.0
    for node in trace.graph_nodes:
        if node.id in positions:
            continue
        user = positions[children[node.id][0]]  # the operation this parameter feeds
        row = 1.0 if node.name.startswith("W") else -1.0
        positions[node.id] = (user[0] - 0.5, row)
    return positions


def draw_graph(figure: Figure, trace: StepTrace) -> None:
    axes = figure.add_subplot()
    positions = graph_positions(trace)
    width, height = 0.84, 0.62
    for source, target in trace.graph_edges:
        (x0, y0), (x1, y1) = positions[source], positions[target]
        arrow = FancyArrowPatch(
            (
                x0 + (width / 2 if y0 == y1 else 0),
                y0 - np.sign(y0 - y1) * (height / 2 if y0 != y1 else 0),
            ),
            (x1 - width / 2, y1),
            arrowstyle="-|>",
            mutation_scale=12,
            color="#555555",
            linewidth=1.1,
            shrinkA=0,
            shrinkB=1,
        )
        axes.add_patch(arrow)
    for node in trace.graph_nodes:
        x, y = positions[node.id]
        axes.add_patch(
            FancyBboxPatch(
                (x - width / 2, y - height / 2),
                width,
                height,
                boxstyle="round,pad=0.02,rounding_size=0.08",
                facecolor=_FACE[node.kind],
                edgecolor="#333333",
                linewidth=0.9,
            )
        )
        if node.kind == "loss":
            lines = [_OP_WORDS.get(node.op, node.op), f"L = {trace.loss_before:.4g}"]
        elif node.kind == "operation":
            lines = [_OP_WORDS.get(node.op, node.op), node.name]
        else:
            role = {"input": "input points", "labels": "labels", "parameter": "parameter"}
            lines = [node.name, role[node.kind]]
        shape = "scalar" if not node.shape else "(" + ", ".join(map(str, node.shape)) + ")"
        lines.append(shape)
        axes.text(x, y + 0.07, "\n".join(lines), ha="center", va="center", fontsize=7.5)
        if node.grad_norm is not None and node.kind != "loss":
            axes.text(
                x,
                y - height / 2 + 0.08,
                f"‖∂L/∂{node.name.replace(' ', '')}‖ {node.grad_norm:.2g}",
                ha="center",
                va="center",
                fontsize=7,
                color=GRADIENT,
            )
    xs = [p[0] for p in positions.values()]
    axes.set_xlim(min(xs) - 0.6, max(xs) + 0.6)
    axes.set_ylim(-1.95, 1.55)
    axes.set_aspect("equal")
    axes.axis("off")
    right = max(xs)
    axes.annotate(
        "",
        xy=(0.0, -1.55),
        xytext=(right, -1.55),
        arrowprops={"arrowstyle": "-|>", "color": GRADIENT, "linewidth": 1.5},
    )
    axes.text(
        right / 2,
        -1.68,
        "backward pass: from the loss back through every box, right to left\n"
        "red: the size of the loss's gradient at each value",
        ha="center",
        va="top",
        fontsize=8,
        color=GRADIENT,
    )
    axes.set_title(
        f"The computation graph of {trace.model} on {trace.n_points} points:\n"
        "the forward pass runs left to right",
        fontsize=10,
    )


# -- gradient magnitudes per layer -----------------------------------------------------------------


def draw_gradients(figure: Figure, trace: StepTrace) -> None:
    norms_axes, spread_axes, step_axes = figure.subplots(1, 3)
    layers = sorted(trace.backward, key=lambda b: b.layer)
    names = [f"layer {b.layer}" for b in layers]
    index = np.arange(len(layers))
    # Points joined across depth rather than bars: on a log axis a bar's length means nothing.
    norms_axes.plot(index, [b.dW.norm for b in layers], "o-", color=GRADIENT, label="‖∂L/∂W‖")
    norms_axes.plot(index, [b.db.norm for b in layers], "s--", color="#e59866", label="‖∂L/∂b‖")
    norms_axes.plot(index, [b.dz.norm for b in layers], "^:", color="#555555", label="‖∂L/∂z‖")
    norms_axes.set_yscale("log")
    norms_axes.set_xticks(index, names)
    norms_axes.set_title("size of each layer's gradient", fontsize=10)
    norms_axes.legend(fontsize=8)

    centres = np.sqrt(np.array(HISTOGRAM_EDGES[:-1]) * np.array(HISTOGRAM_EDGES[1:]))
    palette = ["#1f77b4", "#2ca02c", "#9467bd", "#8c564b", "#17becf"]
    for k, b in enumerate(layers):
        colour = palette[k % len(palette)]
        counts = np.array(b.dW_histogram, dtype=float)
        total = counts.sum() + b.dW_zeros
        label = f"W{b.layer} ({total:.0f} weights"
        label += f", {b.dW_zeros} exactly 0)" if b.dW_zeros else ")"
        spread_axes.plot(
            centres, counts / max(total, 1), marker="o", ms=3, color=colour, label=label
        )
    spread_axes.set_xscale("log")
    spread_axes.set_xlabel("|∂L/∂w| of one weight")
    spread_axes.set_ylabel("share of the layer's weights")
    spread_axes.set_title("how the gradient spreads over the weights", fontsize=10)
    spread_axes.legend(fontsize=7)

    updates = sorted(trace.updates, key=lambda u: u.layer)
    step_axes.plot(index, [u.ratio for u in updates], "o-", color="#555555")
    step_axes.set_yscale("log")
    step_axes.set_xticks(index, names)
    step_axes.set_title(f"how far the {trace.optimizer} step moved each layer", fontsize=10)
    step_axes.set_ylabel("‖change of W‖ / ‖W‖")
    for axes in (norms_axes, step_axes):
        low, high = axes.get_ylim()
        axes.set_ylim(low / 3, high * 3)  # room around the points: a decade or so either way
        axes.set_xlim(-0.5, len(layers) - 0.5)
    for axes in (norms_axes, spread_axes, step_axes):
        axes.grid(True, which="major", alpha=0.3)
    figure.suptitle(
        f"Gradients of {trace.model} at step {trace.step} (loss {trace.loss_before:.4g})",
        fontsize=11,
    )
