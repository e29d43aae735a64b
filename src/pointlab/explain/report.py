"""The explained step as a Markdown report a learner reads top to bottom: `report_markdown(trace)`.

A pure function from a `StepTrace` to text; the caller writes it (next to the pictures named in
`PICTURES`) and owns every file. Not here: the numbers (`step.py`), the pictures
(`pointlab.plots.explain`).
"""

from __future__ import annotations

from pointlab.explain.trace import Numbers, StepTrace

PICTURES = {
    "activations": "activations.png",
    "graph": "graph.png",
    "gradients": "gradients.png",
}


def _g(value: float) -> str:
    return f"{value:.6g}"


def _sample(numbers: Numbers) -> str:
    """The first rows (and columns) of an array, '…' where there are more."""
    sample = numbers.sample
    rows = sample if sample and isinstance(sample[0], list) else [sample]
    more = " …" if numbers.shape and numbers.shape[-1] > len(rows[0]) else ""
    text = "<br>".join("[" + ", ".join(f"{v:.3g}" for v in row) + more + "]" for row in rows)
    return text + ("<br>…" if len(numbers.shape) == 2 and numbers.shape[0] > len(rows) else "")


def _shape(shape) -> str:
    return "(" + ", ".join(str(s) for s in shape) + ")" if shape else "scalar"


def report_markdown(trace: StepTrace, data_name: str, pictures: bool = True) -> str:
    t = trace.trace
    hyper = ", ".join(f"{k} {v:g}" for k, v in trace.hyperparameters.items())
    lines = [
        f"# One training step of `{trace.model}` on {data_name}, taken apart",
        "",
        f"The model (widths {' → '.join(map(str, trace.widths))}) takes **step {trace.step}** "
        f"of training on all {trace.n_points} points at once (full batch) with "
        f"**{trace.optimizer}** ({hyper}). "
        "Every number below was computed by `pointlab.autodiff`, a small automatic "
        "differentiation written to be read (float64), whose gradients and optimizer steps the "
        "tests hold equal to PyTorch's to 1e-10.",
        "",
        "Learning is four stages: the **forward pass** computes every layer's values and keeps "
        "them; the **loss** measures how wrong the outputs are; the **backward pass** applies "
        "the chain rule layer by layer, from the loss back to every weight; the **update** "
        "moves each weight a little against its gradient.",
        "",
    ]
    if trace.notes:
        lines += ["Good to know:", ""] + [f"- {note}" for note in trace.notes] + [""]

    lines += [
        "## 1. Forward pass",
        "",
        "Each layer multiplies its input by a weight matrix, adds a bias to every row, and "
        f"(except the last) applies {trace.activation}. Rows are points, columns are units; "
        "values shown are the first three points and first four units.",
        "",
        "| layer | computes | W | z = input @ W + b | first values of z | z from … to | "
        + ("units off (z ≤ 0) |" if trace.activation == "relu" else "|"),
        "| --- | --- | --- | --- | --- | --- |" + (" --- |" if trace.activation == "relu" else ""),
    ]
    for f in trace.forward:
        off = ""
        if trace.activation == "relu":
            off = f" {f.inactive:.0%} |" if f.inactive is not None else " (output) |"
        lines.append(
            f"| {f.layer} | {'<br>'.join(f'`{e}`' for e in f.equations)} | "
            f"{_shape(f.weight.shape)} | {_shape(f.z.shape)} | {_sample(f.z)} | "
            f"{f.z.min:.3g} … {f.z.max:.3g} |{off}"
        )
    lines += [""]
    if pictures:
        lines += [
            f"![activations]({PICTURES['activations']})",
            "",
            "*Each small map is one unit: its value at every place of the plane, with the "
            "training points on top (red: label 0, blue: label 1). The first layer can only "
            "draw straight ramps "
            + ("cut off at a line (ReLU)" if trace.activation == "relu" else "of the inputs")
            + "; the next layer combines those ramps into bends; the output turns them into the "
            "logit, whose zero line is the decision boundary. Titles in red: the units on the "
            "path of the weight followed in section 3.*",
            "",
        ]

    lines += [
        "## 2. The loss",
        "",
        f"`{trace.loss_formula}`",
        "",
        f"Loss before the step: **{_g(trace.loss_before)}** "
        f"(accuracy {trace.accuracy_before:.1%}). "
        + (
            "A model that knows nothing predicts p = 0.5 for every point: loss ln 2 = 0.693."
            if trace.n_classes == 2 and trace.loss_kind == "bce"
            else ""
        ),
        "",
        "## 3. Backward pass",
        "",
        "The chain rule, from the loss down: each layer receives dL/dz, the gradient at its "
        "output before the activation, and turns it into the gradients of its weights and "
        "bias and into dL/dh for the layer below. Shapes say which matrix products they are.",
        "",
        "| layer | chain-rule product | result | size ‖·‖ |",
        "| --- | --- | --- | --- |",
    ]
    for b in trace.backward:
        lines.append(
            f"| {b.layer} | `{b.dz_equation}` | dL/dz{b.layer} {_shape(b.dz.shape)} | "
            f"{b.dz.norm:.3g} |"
        )
        lines.append(
            f"| | `{b.dW_equation}` | dL/dW{b.layer} {_shape(b.dW.shape)} | {b.dW.norm:.3g} |"
        )
        lines.append(
            f"| | `{b.db_equation}` | dL/db{b.layer} {_shape(b.db.shape)} | {b.db.norm:.3g} |"
        )
        if b.dh_equation and b.dh is not None:
            lines.append(
                f"| | `{b.dh_equation}` | dL/dh{b.layer - 1} {_shape(b.dh.shape)} | "
                f"{b.dh.norm:.3g} |"
            )
    lines += [""]
    if pictures:
        lines += [
            f"![computation graph]({PICTURES['graph']})",
            "",
            "*The graph the forward pass built: each box is a value, arrows say what was "
            "computed from what. `loss.backward()` visits the boxes in the reverse order and "
            "gives every box its gradient (red).*",
            "",
            f"![gradients]({PICTURES['gradients']})",
            "",
            "*Left: how large each layer's gradients are (∂L/∂z: what reaches the layer from "
            "the loss above it). Middle: how it is spread over the "
            "layer's weights (a ReLU that is off for every point passes no gradient: those "
            "weights' gradients are exactly 0). Right: how much the step changed each layer, "
            "relative to its size.*",
            "",
        ]

    lines += [
        f"### One weight followed from the loss back to itself: {t.parameter}[{t.row}, {t.col}]",
        "",
        f"{t.parameter}[{t.row}, {t.col}] connects "
        + (f"input {'xy'[t.row]}" if t.layer == 1 else f"unit {t.row} of layer {t.layer - 1}")
        + f" to unit {t.col} of layer {t.layer}; its value is {_g(t.value_before)}. "
        f"Its gradient is a sum over the {trace.n_points} points, and for each point a sum over "
        f"{t.n_paths} path{'s' if t.n_paths != 1 else ''} through the layers above. "
        f"Here is point n = {t.point} at ({t.point_xy[0]:.3f}, {t.point_xy[1]:.3f}), label "
        f"{t.point_label}, the point that moves this weight most, along the path that carries "
        f"most of its gradient: {' → '.join(reversed(t.path))}.",
        "",
        "| factor | what it is | value |",
        "| --- | --- | --- |",
    ]
    lines += [f"| `{f.symbol}` | {f.meaning} | {_g(f.value)} |" for f in t.factors]
    lines += [
        f"| **product** | this path's share of dL/dw for point n | **{_g(t.path_product)}** |",
        "",
        f"All {t.n_paths} path{'s' if t.n_paths != 1 else ''} of point n together give "
        f"{_g(t.point_share)} (= dL/dz{t.layer}[n, {t.col}] × the input). "
        f"Added over all {trace.n_points} points: **{_g(t.sum_of_shares)}**; the backward pass "
        f"gave **{_g(t.gradient)}** for dL/d{t.parameter}[{t.row}, {t.col}]: the same number, "
        "computed for all weights at once by the matrix products above. The points that move "
        "it most: " + ", ".join(f"n = {n} ({_g(s)})" for n, s in t.largest_shares) + ".",
        "",
        "## 4. The update",
        "",
        f"The {trace.optimizer} step for {t.parameter}[{t.row}, {t.col}]:",
        "",
        "| | computed as | value |",
        "| --- | --- | --- |",
    ]
    lines += [f"| {u.name} | {u.formula} | {_g(u.value)} |" for u in t.update]
    if trace.optimizer in ("adam", "adamw") and trace.step == 1:
        lines += [
            "",
            "At step 1, m̂ = g and v̂ = g², so Adam moves *every* weight by the learning rate "
            "against the sign of its gradient, however small the gradient is (compare plain "
            "SGD above). So the largest change of one weight below is the learning rate in "
            "every layer.",
        ]
    lines += [
        "",
        "Every layer:",
        "",
        "| layer | ‖W‖ before | ‖change of W‖ | ‖change‖ / ‖W‖ | largest change of one weight | "
        "‖change of b‖ |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    lines += [
        f"| {u.layer} | {u.weight_norm:.4g} | {u.step_norm:.3g} | {u.ratio:.2e} | "
        f"{u.max_step:.3g} | {u.bias_step_norm:.3g} |"
        for u in trace.updates
    ]
    change = trace.loss_after - trace.loss_before
    lines += [
        "",
        f"Loss after the step: **{_g(trace.loss_after)}** (accuracy {trace.accuracy_after:.1%}), "
        f"a change of {change:+.4g}. The gradient predicted {trace.predicted_change:+.4g} "
        "(the sum over all weights of dL/dw × its change: the first-order Taylor estimate); "
        + (
            "they agree closely: over a step this short the loss is nearly a plane."
            if abs(change - trace.predicted_change) <= 0.1 * abs(trace.predicted_change)
            else "the loss went *up* although its slope promised a fall: the loss curves over "
            "the length of this step, and the step overshot. Single steps can do that while "
            "training as a whole still goes down."
            if change > 0
            else "the difference is how much the loss curves over the length of this step."
        ),
        "",
        "## 5. Gradient check",
        "",
        "Is the backward pass right? Nudge one weight by ±h, run the forward pass twice, and "
        "compare the slope (L(w+h) − L(w−h)) / 2h with what the backward pass said, for "
        f"{len(trace.check)} weights (a random sample of every tensor, drawn among the weights "
        f"whose gradient is not 0 where there are such, and the traced one), "
        f"h = {trace.check_step:g}.",
        "",
        "| weight | backward | finite difference | relative error |",
        "| --- | --- | --- | --- |",
    ]
    for row in trace.check:
        index = ", ".join(map(str, row.index))
        kink = " (crosses a ReLU kink: not a slope)" if row.crosses_kink else ""
        lines.append(
            f"| {row.parameter}[{index}] | {row.backward:.10g} | {row.numeric:.10g} | "
            f"{row.rel_error:.1e}{kink} |"
        )
    lines += [
        "",
        f"Largest relative error: **{trace.max_rel_error:.1e}** (errors below 1e-6 mean the two "
        "agree; the finite difference itself is only good to about 1e-11 absolute, so gradients "
        "under 1e-4 are compared to 1e-4).",
        "",
    ]
    return "\n".join(lines)
