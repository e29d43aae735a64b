"""The gradient check: does the backward pass give the slope that nudging a weight shows?

For a sampled weight w the numeric slope is the central difference

    (L(w + h) - L(w - h)) / (2 h),

whose error is about h^2 |L'''| / 6 (truncation) plus eps |L| / h (rounding, eps = 2.2e-16 in
float64); h = 1e-6 keeps both near 1e-10. It is compared with the backward pass's dL/dw by the
relative error |numeric - backward| / max(|numeric|, |backward|, floor). The floor (1e-7) is
where the difference quotient's own rounding error would dominate: a gradient below it is
compared absolutely. A relative error below 1e-6 says the two agree; a larger one on a ReLU
network can mean that w +- h moved some point across a kink of the ReLU (rare, and reported).

Not here: the backward pass itself (`tensor.py`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from pointlab.autodiff.tensor import Tensor

STEP = 1e-6
FLOOR = 1e-7


@dataclass(frozen=True)
class CheckedWeight:
    parameter: str  # the tensor's label, "W2"
    index: tuple[int, ...]  # position in that tensor (our layout: W is (fan_in, fan_out))
    backward: float  # dL/dw from the backward pass
    numeric: float  # the central difference
    rel_error: float


@dataclass(frozen=True)
class GradCheck:
    weights: tuple[CheckedWeight, ...]
    step: float
    floor: float

    @property
    def max_rel_error(self) -> float:
        return max((w.rel_error for w in self.weights), default=0.0)


def relative_error(numeric: float, backward: float, floor: float = FLOOR) -> float:
    return abs(numeric - backward) / max(abs(numeric), abs(backward), floor)


def gradient_check(
    loss_fn: Callable[[], Tensor],
    params: Sequence[Tensor],
    per_tensor: int = 4,
    rng: np.random.Generator | None = None,
    extra: Sequence[tuple[Tensor, tuple[int, ...]]] = (),
    step: float = STEP,
) -> GradCheck:
    """Check `per_tensor` random weights of each tensor in `params` (plus the `extra` ones).

    loss_fn() must rebuild the loss from the parameters' current data (a new forward pass). The
    parameters are left exactly as they were.
    """
    rng = rng if rng is not None else np.random.default_rng(0)
    loss_fn().backward()
    grads = {id(p): p.grad.copy() for p in params}  # type: ignore[union-attr]
    chosen: list[tuple[Tensor, tuple[int, ...]]] = list(extra)
    for p in params:
        flat = rng.choice(p.data.size, size=min(per_tensor, p.data.size), replace=False)
        chosen += [(p, tuple(int(i) for i in np.unravel_index(f, p.shape))) for f in flat]
    checked = []
    for p, index in chosen:
        original = p.data[index]
        p.data[index] = original + step
        up = float(loss_fn().data)
        p.data[index] = original - step
        down = float(loss_fn().data)
        p.data[index] = original
        numeric = (up - down) / (2 * step)
        backward = float(grads[id(p)][index])
        checked.append(
            CheckedWeight(p.label, index, backward, numeric, relative_error(numeric, backward))
        )
    return GradCheck(tuple(checked), step, FLOOR)
