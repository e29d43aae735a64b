"""The optimizer's update of one weight, as arithmetic a learner can follow: `update_terms`.

`state_of` reads the optimizer's running state for the weight before the step (Adam's m and v,
momentum's buffer); `update_terms` then redoes the step for that one weight, term by term, with
the formula behind each number (weight decay, the moments, the bias correction, the step, and
what plain SGD would have done), ending at the weight's new value. The numbers match what
`pointlab.autodiff.optim` computed for the whole model (tests/test_explain.py).
Not here: the step itself (`pointlab.autodiff.optim`), the rest of the explanation (`step.py`).
"""

from __future__ import annotations

import numpy as np

from pointlab.autodiff.optim import Adam, Optimizer
from pointlab.explain.trace import UpdateTerm


def state_of(optimizer: Optimizer, i: int, index) -> dict[str, float]:
    if isinstance(optimizer, Adam):
        return {"m": float(optimizer.m[i][index]), "v": float(optimizer.v[i][index])}
    buf = optimizer.buf[i]
    return {"buf": float(buf[index]) if buf is not None else float("nan")}


def update_terms(optimizer: Optimizer, state: dict, grad: float, w: float) -> tuple:
    t, lr = optimizer.t, optimizer.lr
    grad, w = float(grad), float(w)
    terms = [_term("g", "dL/dw, from the backward pass", grad)]
    if isinstance(optimizer, Adam):
        b1, b2, eps = optimizer.beta1, optimizer.beta2, optimizer.eps
        wd = optimizer.weight_decay
        if wd and optimizer.decoupled:
            terms.append(_term("w", f"w (1 - lr * {wd:g}): AdamW's decay", w * (1 - lr * wd)))
            w = w * (1 - lr * wd)
        elif wd:
            grad = grad + wd * w
            terms.append(_term("g", f"g + {wd:g} w: weight decay", grad))
        m = b1 * state["m"] + (1 - b1) * grad
        v = b2 * state["v"] + (1 - b2) * grad * grad
        m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
        step = -lr * m_hat / (np.sqrt(v_hat) + eps)
        terms += [
            _term("m before", "running mean of g before this step", state["m"]),
            _term("m", f"{b1:g} m + {1 - b1:.3g} g", m),
            _term("v before", "running mean of g² before this step", state["v"]),
            _term("v", f"{b2:g} v + {1 - b2:.3g} g²", v),
            _term("m̂", f"m / (1 - {b1:g}^{t}): undo the start at zero", m_hat),
            _term("v̂", f"v / (1 - {b2:g}^{t})", v_hat),
            _term("step", f"-lr m̂ / (√v̂ + {eps:g}), lr = {lr:g}", float(step)),
            _term(
                "plain SGD", f"-lr g, for comparison: what SGD with lr {lr:g} would do", -lr * grad
            ),
        ]
    else:
        wd = optimizer.weight_decay
        if wd:
            grad = grad + wd * w
            terms.append(_term("g", f"g + {wd:g} w: weight decay", grad))
        direction = grad
        if optimizer.momentum:
            mu = optimizer.momentum
            buf = grad if t == 1 else mu * state["buf"] + grad
            terms.append(_term("buf", f"{mu:g} buf + g (g itself at step 1)", buf))
            direction = grad + mu * buf if optimizer.nesterov else buf
        step = -lr * direction
        terms.append(
            _term("step", f"-lr * {'buf' if optimizer.momentum else 'g'}, lr = {lr:g}", step)
        )
    terms.append(_term("w after", "w + step", float(w + step)))
    return tuple(terms)


def _term(name: str, formula: str, value: float) -> UpdateTerm:
    return UpdateTerm(name, formula, float(value))
