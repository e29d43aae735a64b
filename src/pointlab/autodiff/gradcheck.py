"""The gradient check: does the backward pass give the slope that nudging a weight shows?

For a sampled weight w the numeric slope is the central difference

    (L(w + h) - L(w - h)) / (2 h),

whose error is about h^2 |L'''| / 6 (truncation) plus eps |L| / h (rounding, eps = 2.2e-16
in float64). h = 1e-5 keeps both near 1e-11 for the book's models (measured on `complex`: h = 1e-6
gave errors of 8e-11, h = 1e-5 of 8e-12). It is compared with the backward pass's dL/dw by
the relative error |numeric - backward| / max(|numeric|, |backward|, floor). The floor (1e-4)
is there because that rounding error makes a relative comparison of tiny gradients meaningless:
a gradient of 2e-7 is measured to 4e-5 relative, however right the backward pass is. Below the
floor the comparison is absolute, to 1e-4 times the relative tolerance.

A ReLU network's loss has kinks: where w - h and w + h put some unit on different sides of zero,
the difference quotient straddles a kink and is no derivative. `pattern_fn` (which units are
on) detects this; such weights are reported with `crosses_kink` and left out of the maximum.

Not here: the backward pass itself (`tensor.py`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from pointlab.autodiff.tensor import Tensor

STEP = 1e-5
FLOOR = 1e-4


@dataclass(frozen=True)
class CheckedWeight:
    parameter: str  # the tensor's label, "W2"
    index: tuple[int, ...]  # position in that tensor (our layout: W is (fan_in, fan_out))
    backward: float  # dL/dw from the backward pass
    numeric: float  # the central difference
    rel_error: float
    crosses_kink: bool = False  # w +- h switched some ReLU: the difference quotient is no slope


@dataclass(frozen=True)
class GradCheck:
    weights: tuple[CheckedWeight, ...]
    step: float
    floor: float

    @property
    def max_rel_error(self) -> float:
        """The largest relative error, over the weights whose check crossed no kink."""
        return max((w.rel_error for w in self.weights if not w.crosses_kink), default=0.0)


def relative_error(numeric: float, backward: float, floor: float = FLOOR) -> float:
    return abs(numeric - backward) / max(abs(numeric), abs(backward), floor)


def gradient_check(
    loss_fn: Callable[[], Tensor],
    params: Sequence[Tensor],
    per_tensor: int = 4,
    rng: np.random.Generator | None = None,
    extra: Sequence[tuple[Tensor, tuple[int, ...]]] = (),
    step: float = STEP,
    pattern_fn: Callable[[], np.ndarray] | None = None,
) -> GradCheck:
    """Check `per_tensor` random weights of each tensor in `params` (plus the `extra` ones),
    drawn among those whose gradient is not 0 when there are enough of them.

    loss_fn() must rebuild the loss from the parameters' current data (a new forward pass). The
    parameters are left exactly as they were. pattern_fn() (optional) returns which units are on
    (any array that changes when a point crosses a kink).
    """
    rng = rng if rng is not None else np.random.default_rng(0)
    loss_fn().backward()
    grads = {id(p): p.g.copy() for p in params}
    chosen: list[tuple[Tensor, tuple[int, ...]]] = list(extra)
    for p in params:
        # Among the weights with a gradient where there are enough: a ReLU that is off for
        # every point gives a gradient of exactly 0, and checking 0 against 0 shows little.
        nonzero = np.flatnonzero(grads[id(p)])
        pool = nonzero if len(nonzero) >= per_tensor else np.arange(p.data.size)
        flat = rng.choice(pool, size=min(per_tensor, len(pool)), replace=False)
        chosen += [(p, tuple(int(i) for i in np.unravel_index(f, p.shape))) for f in flat]
    checked = []
    for p, index in chosen:
        original = p.data[index]
        p.data[index] = original + step
        up = float(loss_fn().data)
        pattern_up = pattern_fn() if pattern_fn is not None else None
        p.data[index] = original - step
        down = float(loss_fn().data)
        kink = (
            pattern_fn is not None
            and pattern_up is not None
            and not np.array_equal(pattern_fn(), pattern_up)
        )
        p.data[index] = original
        numeric = (up - down) / (2 * step)
        backward = float(grads[id(p)][index])
        checked.append(
            CheckedWeight(
                p.label, index, backward, numeric, relative_error(numeric, backward), kink
            )
        )
    return GradCheck(tuple(checked), step, FLOOR)
