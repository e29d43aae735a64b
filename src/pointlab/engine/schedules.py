"""Learning-rate schedules: pure functions of the epoch, for one member or all members at once.

A schedule is evaluated once per epoch (as `torch.optim.lr_scheduler` is stepped once per epoch),
so minibatch steps within an epoch share its learning rate. The values match torch's schedulers:

- constant                  lr
- step                      StepLR(step_size, gamma)
- cosine                    CosineAnnealingLR(T_max = epochs - warmup, eta_min = lr_end)
- cosine_restarts           CosineAnnealingWarmRestarts(T_0 = step_size, eta_min = lr_end)
- warmup W (any of them)    LinearLR(start_factor = 1/(W+1), total_iters = W) for the first W
                            epochs, then the schedule counted from W (SequentialLR)

so epoch e < W has lr * (e + 1) / (W + 1): never 0 at the start, exactly lr at epoch W.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from pointlab.config import TrainConfig


def lr_at(config: TrainConfig, epoch: int) -> float:
    """The learning rate of one member during epoch `epoch` (0-based)."""
    return float(lr_table([config], epoch)[0])


def lr_table(configs: Sequence[TrainConfig], epoch: int) -> np.ndarray:
    """(M,) learning rates of all members during `epoch`; vectorized over members."""
    return PopulationSchedule(configs)(epoch)


class PopulationSchedule:
    """Per-member schedule parameters as arrays, so one call evaluates every member."""

    def __init__(self, configs: Sequence[TrainConfig]) -> None:
        def column(name):
            return np.array([getattr(c, name) for c in configs], dtype=np.float64)

        self.lr, self.lr_end = column("lr"), column("lr_end")
        self.warmup, self.gamma = column("warmup"), column("gamma")
        self.step_size, self.epochs = column("step_size"), column("epochs")
        kinds = [c.schedule for c in configs]
        self.is_step = np.array([k == "step" for k in kinds])
        self.is_cosine = np.array([k == "cosine" for k in kinds])
        self.is_restarts = np.array([k == "cosine_restarts" for k in kinds])
        # Constant without warmup never changes: the engine then skips evaluating it.
        self.static = all(k == "constant" for k in kinds) and not self.warmup.any()

    def __call__(self, epoch: int) -> np.ndarray:
        t = epoch - self.warmup  # epochs since warmup ended, (M,)
        lr = self.lr.copy()
        tt = np.maximum(t, 0)
        lr = np.where(self.is_step, self.lr * self.gamma ** np.floor(tt / self.step_size), lr)
        t_max = np.maximum(self.epochs - self.warmup, 1)
        cosine = self.lr_end + (self.lr - self.lr_end) * (1 + np.cos(math.pi * tt / t_max)) / 2
        lr = np.where(self.is_cosine, np.where(tt >= t_max, self.lr_end, cosine), lr)
        t_cur = np.mod(tt, self.step_size)
        restarts = (
            self.lr_end
            + (self.lr - self.lr_end) * (1 + np.cos(math.pi * t_cur / self.step_size)) / 2
        )
        lr = np.where(self.is_restarts, restarts, lr)
        warming = t < 0
        factor = (epoch + 1) / (self.warmup + 1)
        return np.where(warming, self.lr * factor, lr)
