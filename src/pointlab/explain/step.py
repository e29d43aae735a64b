"""One training step of a real model, taken apart: `explain_step(model, config, X, y)`.

It runs the four stages with `pointlab.autodiff` on all the points (full batch) and records what a
learner needs to follow them, in a `StepTrace` (JSON-able with `to_dict()`):

1. forward: each layer's z = h @ W + b and h = act(z), shapes and a few numbers;
2. the loss, and the accuracy;
3. backward: each layer's dL/dz, dL/dW, dL/db, dL/dh with the chain-rule product behind it, and
   one weight followed from the loss all the way back to itself, for the point it learns most from;
4. the update the optimizer made (the traced weight's arithmetic in full) and the loss after it;

plus a gradient check (finite differences against the backward pass on a sample of weights) and
the computation graph (nodes and edges). `trace_step(config, state, X, y, n_classes)` is the web
playground's "Step and explain": `explain_step(...).to_dict()` for a model given as its
TrainConfig and `torch.nn.Sequential` state dict, with the optimizer started afresh.
Not here: the record's types (`trace.py`), the traced weight's update term by term
(`update.py`), the activations over the plane (`plane.py`), the report's text (`report.py`),
pictures (`pointlab.plots.explain`), output (the CLI).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from pointlab.autodiff.gradcheck import gradient_check
from pointlab.autodiff.mlp import MLP, activation_slope
from pointlab.autodiff.optim import SUPPORTED, Adam, Optimizer, make_optimizer
from pointlab.autodiff.tensor import Tensor, one_blas_thread, sigmoid, topological_order
from pointlab.errors import UserError
from pointlab.explain.trace import (
    BackwardLayer,
    ChainFactor,
    CheckRow,
    ForwardLayer,
    GraphNode,
    LayerUpdate,
    Numbers,
    StepTrace,
    WeightTrace,
    log_histogram,
)
from pointlab.explain.update import state_of, update_terms

LOSS_OPS = ("bce", "cross_entropy", "mse")


def explain_step(
    model: MLP | Mapping[str, Any],
    config,
    X: np.ndarray,
    y: np.ndarray,
    n_classes: int = 2,
    *,
    optimizer: Optimizer | None = None,
    weight: tuple[int, int, int] | None = None,
    check_per_tensor: int = 4,
    seed: int = 0,
    notes: tuple[str, ...] = (),
) -> StepTrace:
    """Take one full-batch training step and record it.

    model: an `MLP`, or a `torch.nn.Sequential` state dict (torch tensors or numpy arrays) of the
    `config`'s architecture (a `pointlab.config.TrainConfig`: hidden, activation, loss, optimizer
    and its hyperparameters). optimizer: one already stepping this MLP (its state is used and
    advanced); None starts a fresh one, as at the first step of training. weight: (layer, a, j)
    to follow, W_layer[a, j]; None picks the first layer's weight with the largest gradient.
    The model is updated in place when it is an MLP.
    """
    _check_supported(config)
    if not isinstance(model, MLP):
        model = MLP.from_state(model, config.activation, n_classes)
    if optimizer is None:
        optimizer = make_optimizer(model.parameters(), config)
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.int64)
    with one_blas_thread():
        return _explain(
            model, config, X, y, n_classes, optimizer, weight, check_per_tensor, seed, notes
        )


def trace_step(
    config, state: Mapping[str, Any], X: np.ndarray, y: np.ndarray, n_classes: int = 2
) -> dict[str, Any]:
    """The web playground's "Step and explain": `explain_step(...).to_dict()` for a model given
    as its TrainConfig and `torch.nn.Sequential` state dict, stepping on the points X, y."""
    note = (
        f"the playground keeps {config.optimizer}'s running state inside its engine; this "
        "explained step starts it afresh, as at step 1 of training"
    )
    trace = explain_step(state, config, X, y, n_classes, notes=(note,))
    return trace.to_dict()


def _check_supported(config) -> None:
    from pointlab.autodiff.mlp import ACTIVATIONS

    if config.activation not in ACTIVATIONS:
        raise UserError(
            f"explain follows the activations {', '.join(ACTIVATIONS)}; "
            f"this model uses {config.activation}"
        )
    if config.optimizer not in SUPPORTED:
        raise UserError(
            f"explain follows the optimizers {', '.join(SUPPORTED)}; "
            f"this model uses {config.optimizer}"
        )


def _explain(model, config, X, y, n_classes, optimizer, weight, check_per_tensor, seed, notes):
    n = len(X)
    x = Tensor(X, label="x")  # (N, 2)
    values = model.forward(x)
    logits = values[-1].h
    loss = model.loss(logits, y, config.loss)
    loss.backward()
    L = len(values)
    names = ["x"] + [f"h{i}" for i in range(1, L)]  # the input of layer i is names[i - 1]

    forward = tuple(_forward_layer(model, values, i, names) for i in range(1, L + 1))
    backward = tuple(
        _backward_layer(model, values, i, names, config.loss, n_classes) for i in range(L, 0, -1)
    )
    graph_nodes, graph_edges = _graph(loss)

    layer, a, j = weight if weight is not None else _largest_first_layer_weight(model)
    if not (1 <= layer <= L and 0 <= a < model.widths[layer - 1] and 0 <= j < model.widths[layer]):
        raise UserError(f"no weight W{layer}[{a}, {j}]: the layers' widths are {model.widths}")
    chain = _chain(model, values, x, y, layer, a, j, config.loss, n_classes)

    rng = np.random.default_rng(seed)
    check = gradient_check(
        lambda: model.loss(model(x), y, config.loss),
        model.parameters(),
        per_tensor=check_per_tensor,
        rng=rng,
        extra=[(model.weights[layer - 1], (a, j))],
        pattern_fn=lambda: model.pattern(x),
    )

    # The update. Keep what it changes, to show the arithmetic of the traced weight.
    params = model.parameters()
    before = [p.data.copy() for p in params]
    grads = [p.g.copy() for p in params]
    state_before = state_of(optimizer, 2 * (layer - 1), (a, j))
    optimizer.step()
    after = [p.data.copy() for p in params]
    terms = update_terms(
        optimizer, state_before, grads[2 * (layer - 1)][a, j], before[2 * (layer - 1)][a, j]
    )

    logits_after = model(x)
    loss_after = float(model.loss(logits_after, y, config.loss).data)
    updates = tuple(
        LayerUpdate(
            layer=i,
            weight_norm=float(np.linalg.norm(before[2 * i - 2])),
            step_norm=float(np.linalg.norm(after[2 * i - 2] - before[2 * i - 2])),
            max_step=float(np.abs(after[2 * i - 2] - before[2 * i - 2]).max()),
            bias_step_norm=float(np.linalg.norm(after[2 * i - 1] - before[2 * i - 1])),
        )
        for i in range(1, L + 1)
    )
    predicted = sum(
        float((g * (w1 - w0)).sum()) for g, w0, w1 in zip(grads, before, after, strict=False)
    )

    trace = WeightTrace(
        **chain,
        update=terms,
        value_after=float(after[2 * (layer - 1)][a, j]),
    )
    hyper = {"lr": float(config.lr), "weight_decay": float(config.weight_decay)}
    if isinstance(optimizer, Adam):
        hyper.update(beta1=optimizer.beta1, beta2=optimizer.beta2, eps=optimizer.eps)
    elif optimizer.momentum:
        hyper["momentum"] = optimizer.momentum
    return StepTrace(
        model=describe(model),
        widths=tuple(model.widths),
        activation=model.activation,
        n_classes=n_classes,
        loss_kind=config.loss,
        loss_formula=_loss_formula(config.loss, n_classes),
        optimizer=config.optimizer,
        hyperparameters=hyper,
        step=optimizer.t,
        n_points=n,
        notes=tuple(notes),
        forward=forward,
        loss_before=float(loss.data),
        accuracy_before=_accuracy(logits.data, y),
        backward=backward,
        trace=trace,
        updates=updates,
        predicted_change=predicted,
        loss_after=loss_after,
        accuracy_after=_accuracy(logits_after.data, y),
        check=tuple(
            CheckRow(w.parameter, w.index, w.backward, w.numeric, w.rel_error, w.crosses_kink)
            for w in check.weights
        ),
        check_step=check.step,
        graph_nodes=graph_nodes,
        graph_edges=graph_edges,
    )


def describe(model: MLP) -> str:
    widths = "-".join(str(w) for w in model.widths)
    return widths if len(model.widths) == 2 else f"{widths} {model.activation}"


# -- forward and backward, layer by layer ------------------------------------------------------


def _forward_layer(model: MLP, values, i: int, names: list[str]) -> ForwardLayer:
    last = i == len(values)
    z = values[i - 1].z.data
    equations = [f"z{i} = {names[i - 1]} @ W{i} + b{i}"]
    if not last:
        equations.append(f"h{i} = {model.activation}(z{i})")
    return ForwardLayer(
        layer=i,
        equations=tuple(equations),
        weight=Numbers.of(model.weights[i - 1].data),
        bias=Numbers.of(model.biases[i - 1].data),
        z=Numbers.of(z),
        h=None if last else Numbers.of(values[i - 1].h.data),
        inactive=float((z <= 0).mean()) if model.activation == "relu" and not last else None,
    )


def _backward_layer(model: MLP, values, i: int, names, loss_kind, n_classes) -> BackwardLayer:
    L = len(values)
    w_in, w_out = model.widths[i - 1], model.widths[i]
    h_in = names[i - 1]
    if i == L:
        dz_equation = f"dL/dz{i} = " + _output_gradient_formula(loss_kind, n_classes, i)
    else:
        dz_equation = (
            f"dL/dz{i} = dL/dh{i} * {model.activation}'(z{i})   element by element, (N, {w_out})"
        )
    dh = None
    dh_equation = None
    if i > 1:
        dh = Numbers.of(values[i - 2].h.g)
        dh_equation = f"dL/dh{i - 1} = dL/dz{i} @ W{i}ᵀ   (N, {w_out}) @ ({w_out}, {w_in})"
    histogram, zeros = log_histogram(model.weights[i - 1].g)
    return BackwardLayer(
        layer=i,
        dz_equation=dz_equation,
        dz=Numbers.of(values[i - 1].z.g),
        dW_equation=f"dL/dW{i} = {h_in}ᵀ @ dL/dz{i}   ({w_in}, N) @ (N, {w_out})",
        dW=Numbers.of(model.weights[i - 1].g),
        db_equation=f"dL/db{i} = dL/dz{i} summed over the N points",
        db=Numbers.of(model.biases[i - 1].g),
        dh_equation=dh_equation,
        dh=dh,
        dW_histogram=histogram,
        dW_zeros=zeros,
    )


def _loss_formula(kind: str, n_classes: int) -> str:
    if kind == "mse":
        p = "sigmoid(z)" if n_classes == 2 else "softmax(z)"
        return f"L = mean over points (and classes) of ({p} - onehot(y))^2"
    if n_classes == 2:
        return "L = mean over points of -[y log p + (1 - y) log(1 - p)], p = sigmoid(z)"
    return "L = mean over points of -log softmax(z)[y]"


def _output_gradient_formula(kind: str, n_classes: int, i: int) -> str:
    if kind == "mse":
        if n_classes == 2:
            return f"2 (p - y) p (1 - p) / N, p = sigmoid(z{i})"
        return f"softmax'(z{i})ᵀ 2 (p - onehot(y)) / (N K), p = softmax(z{i})"
    if n_classes == 2:
        return f"(sigmoid(z{i}) - y) / N   prediction minus label"
    return f"(softmax(z{i}) - onehot(y)) / N   predicted minus true distribution"


# -- one weight, from the loss back to itself --------------------------------------------------


def _largest_first_layer_weight(model: MLP) -> tuple[int, int, int]:
    g = np.abs(model.weights[0].g)
    a, j = np.unravel_index(int(np.argmax(g)), g.shape)
    return 1, int(a), int(j)


def _chain(model: MLP, values, x: Tensor, y, layer: int, a: int, j: int, kind, n_classes):
    """The chain rule for W_layer[a, j]: per point n its share h_in[n, a] * dL/dz[n, j] (which
    sum to the gradient), and for the point with the largest share the path through the units
    that carry most of it, factor by factor."""
    L = len(values)
    h_in = x.data if layer == 1 else values[layer - 2].h.data  # (N, fan_in)
    dz = values[layer - 1].z.g  # (N, fan_out)
    shares = h_in[:, a] * dz[:, j]  # (N,)
    n = int(np.argmax(np.abs(shares)))
    top = np.argsort(-np.abs(shares))[:5]

    # Follow, from unit j of `layer` up to the output, the unit whose term W[u, k] dL/dz[n, k]
    # is the largest in the sum that makes dL/dh[n, u].
    units = [j]
    for i in range(layer + 1, L + 1):
        terms = model.weights[i - 1].data[units[-1]] * values[i - 1].z.g[n]  # (fan_out,)
        units.append(int(np.argmax(np.abs(terms))))
    factors = [_output_factor(values, y, n, units[-1], kind, n_classes, L)]
    for i in range(L, layer, -1):
        u_below, u = units[i - layer - 1], units[i - layer]
        factors.append(
            ChainFactor(
                f"W{i}[{u_below}, {u}]",
                f"dz{i}[n, {u}] / dh{i - 1}[n, {u_below}]: the weight that carries it",
                float(model.weights[i - 1].data[u_below, u]),
            )
        )
        z = values[i - 2].z.data[n, u_below]
        factors.append(
            ChainFactor(
                f"{model.activation}'(z{i - 1}[n, {u_below}])",
                f"dh{i - 1} / dz{i - 1}: the activation's slope at z = {z:.4g}",
                float(activation_slope(np.array(z), model.activation)),
            )
        )
    input_name = "x" if layer == 1 else f"h{layer - 1}"
    factors.append(
        ChainFactor(
            f"{input_name}[n, {a}]",
            f"dz{layer}[n, {j}] / dW{layer}[{a}, {j}]: the input the weight multiplies",
            float(h_in[n, a]),
        )
    )
    path = (
        [f"W{layer}[{a}, {j}]"]
        + [
            f"unit {u} of layer {i}" if i < L else f"output {u}"
            for i, u in zip(range(layer, L + 1), units, strict=True)
        ]
        + ["loss"]
    )
    n_paths = int(np.prod(model.widths[layer + 1 :])) if layer < L else 1
    return {
        "parameter": f"W{layer}",
        "layer": layer,
        "row": a,
        "col": j,
        "value_before": float(model.weights[layer - 1].data[a, j]),
        "point": n,
        "point_xy": (float(x.data[n, 0]), float(x.data[n, 1])),
        "point_label": int(y[n]),
        "path": tuple(path),
        "path_units": tuple(units),
        "factors": tuple(factors),
        "path_product": float(np.prod([f.value for f in factors])),
        "n_paths": n_paths,
        "point_share": float(shares[n]),
        "largest_shares": tuple((int(m), float(shares[m])) for m in top),
        "gradient": float(model.weights[layer - 1].g[a, j]),
        "sum_of_shares": float(shares.sum()),
    }


def _output_factor(values, y, n: int, k: int, kind: str, n_classes: int, L: int) -> ChainFactor:
    z = values[-1].z.data[n]
    value = float(values[-1].z.g[n, k])
    N = len(y)
    if kind == "bce" and n_classes == 2:
        p = float(sigmoid(z[0]))
        meaning = f"(p - y) / N = ({p:.4g} - {int(y[n])}) / {N}: the loss's slope at this logit"
    elif kind == "bce":
        meaning = f"(softmax(z)[{k}] - [y = {k}]) / N, label y = {int(y[n])}"
    else:
        meaning = "the squared error's slope at this logit"
    return ChainFactor(f"dL/dz{L}[n, {k}]", meaning, value)


def _accuracy(logits: np.ndarray, y: np.ndarray) -> float:
    predicted = (logits[:, 0] > 0).astype(np.int64) if logits.shape[1] == 1 else logits.argmax(1)
    return float((predicted == y).mean())


# -- the computation graph ----------------------------------------------------------------------


def _graph(loss: Tensor) -> tuple[tuple[GraphNode, ...], tuple[tuple[int, int], ...]]:
    order = topological_order(loss)  # inputs first
    ids = {id(t): k for k, t in enumerate(order)}
    nodes = []
    for k, t in enumerate(order):
        if t.op in LOSS_OPS:
            kind = "loss"
        elif t.op:
            kind = "operation"
        elif t.label.startswith(("W", "b")):
            kind = "parameter"
        else:
            kind = "input"
        name = "loss" if kind == "loss" else (t.label or t.op)
        norm = float(np.linalg.norm(t.grad)) if t.grad is not None else None
        shape = tuple(int(s) for s in t.shape)
        nodes.append(GraphNode(id=k, name=name, op=t.op, kind=kind, shape=shape, grad_norm=norm))
    edges = [(ids[id(p)], ids[id(t)]) for t in order for p in t.parents]
    labels = len(nodes)  # the labels enter the loss as a plain array, not a tensor: show them
    n = int(loss.parents[0].shape[0])
    nodes.append(GraphNode(id=labels, name="y", op="", kind="labels", shape=(n,), grad_norm=None))
    edges.append((labels, ids[id(loss)]))
    return tuple(nodes), tuple(edges)
