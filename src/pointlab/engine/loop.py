"""Training to the end: `train` and `train_population`, the engine's entry points.

`train_population` trains members that share a depth, activation, loss and optimizer kind
(`padding.padding_key`); members of different widths are padded to the widest (`padding.py`). It
steps a `training.Training` to its end. `train` accepts any configs, groups them by
`TrainConfig.group_key()` (no padding: a padded member costs what the widest costs) and trains
each group as one population, one after another. Everything else (learning rate and its
schedule, momentum, betas, weight decay, batch size, epochs, clipping, dropout, label smoothing,
early stopping, seed, even the training set) may differ per member.

Semantics, the same for every member and the same as a lone `torch.nn` loop
(`tests/test_engine_reference.py`), whatever its neighbours:
- one epoch is one pass over the member's training set, in full batch (the book's way) or in
  minibatches drawn without replacement in the member's own order (`batches.py`);
- dropout masks are drawn from the member's own seed, step by step (`batches.py`);
- the loss is each member's mean loss; the objective is their sum, so one backward pass gives each
  member exactly its own gradient;
- history row `epoch = e` holds the metrics of the model after e epochs; rows are logged every
  `log_every` epochs and at the end. In full batch without dropout the training loss of row e is the
  loss of the forward pass that precedes update e + 1, which is what the book prints;
- `param_mask` (M, P) in theta's layout (`models.layer_views`; 1 keep, 0 pruned, e.g. from
  `models.param_mask_from_states`) prunes parameters per member: they are zero at initialization,
  their gradient is zeroed before clipping and the update, and they are set to zero again after
  every update, so they stay exactly zero under every optimizer, weight decay and clipping. This is
  a lone `torch.nn` loop with `p.grad.mul_(mask)` after `backward()` and `p.data.mul_(mask)` after
  `optimizer.step()` (`tests/reference.py`);
- members stop (and are frozen: learning rate 0) when they diverge, collapse, early-stop or are
  pruned, as `tracker.py` describes; the others go on.
- generative members (`Training(generative=...)`, `generative.py`) follow the same semantics with
  a regression objective: each minibatch's points become noisy points with times, embedded, and
  targets (velocity or noise) drawn from the member's seed, (epoch, point) like dropout masks;
  the loss is the mean squared error of the 2 outputs; history rows hold the loss on one fixed
  draw, and accuracy is NaN.

The library never prints: progress goes to `callback(epoch, metrics)` at each logged epoch, where
metrics maps train_loss, train_acc, val_loss, val_acc and active to (M,) arrays; the callback may
return member indices to stop there (status "pruned").

Stopping from outside: Ctrl-C (KeyboardInterrupt) or `stop()` returning True (polled at every
epoch and every minibatch step, so a signal handler can ask for a clean stop) ends training with
status "interrupted". The model is then measured once more, so the last history row and
`weights_epoch` describe exactly the weights returned; `PopulationInterrupted` carries them.

Not here: the epoch (`training.py`), the bookkeeping (`tracker.py`), the step
(`population.py`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch

from pointlab.config import TrainConfig
from pointlab.engine.models import Architecture
from pointlab.engine.population import BatchOrder
from pointlab.engine.tracker import METRICS, Callback, MemberResult
from pointlab.engine.training import PopulationInterrupted, Training, resolve_device

__all__ = [
    "METRICS",
    "Callback",
    "MemberResult",
    "PopulationInterrupted",
    "resolve_device",
    "train",
    "train_population",
]


def train(
    configs: Sequence[TrainConfig],
    X_train: np.ndarray,
    y_train: np.ndarray,
    X_val: np.ndarray | None = None,
    y_val: np.ndarray | None = None,
    *,
    n_classes: int = 2,
    device: str = "cpu",
    log_every: int = 100,
    callback: Callback | None = None,
    param_mask: Sequence | None = None,
    stop: Callable[[], bool] | None = None,
    cuda_graphs: bool | None = None,
) -> list[MemberResult]:
    """Train any configs on one train/validation split; results in the order of `configs`.

    Configs are grouped by `group_key()` and each group trains as one population (cuda_graphs as
    for `train_population`). param_mask:
    None, or one entry per config: None (nothing pruned) or that member's (P,) mask in its own
    theta layout (an (M, P) array when all configs share one architecture).
    """
    X = X_train if X_val is None else np.concatenate([X_train, X_val])
    y = y_train if y_val is None else np.concatenate([y_train, y_val])
    train_index = np.arange(len(X_train))
    val_index = None if X_val is None else np.arange(len(X_train), len(X))
    groups: dict[tuple, list[int]] = {}
    for i, config in enumerate(configs):
        groups.setdefault(config.group_key(), []).append(i)
    results: list[MemberResult | None] = [None] * len(configs)
    for indices in groups.values():
        group = [configs[i] for i in indices]
        mask = None
        if param_mask is not None and any(param_mask[i] is not None for i in indices):
            n_params = Architecture(group[0].hidden, group[0].activation, n_classes).n_params
            mask = np.stack(
                [
                    np.ones(n_params, np.float32)
                    if param_mask[i] is None
                    else np.asarray(param_mask[i], np.float32)
                    for i in indices
                ]
            )
        out = train_population(
            group,
            X,
            y,
            train_index=[train_index] * len(group),
            val_index=None if val_index is None else [val_index] * len(group),
            n_classes=n_classes,
            device=device,
            log_every=log_every,
            callback=callback,
            param_mask=mask,
            stop=stop,
            cuda_graphs=cuda_graphs,
        )
        for i, result in zip(indices, out, strict=True):
            results[i] = result
    return results  # type: ignore[return-value]


def train_population(
    configs: Sequence[TrainConfig],
    X: np.ndarray,
    y: np.ndarray,
    *,
    train_index: Sequence[np.ndarray],
    val_index: Sequence[np.ndarray] | None = None,
    n_classes: int = 2,
    device: str = "cpu",
    log_every: int = 100,
    callback: Callback | None = None,
    param_mask: np.ndarray | torch.Tensor | None = None,
    stop: Callable[[], bool] | None = None,
    cuda_graphs: bool | None = None,
    batch_order: BatchOrder | None = None,
    sample_weight: np.ndarray | None = None,
) -> list[MemberResult]:
    """Train one population; member m trains on X[train_index[m]] and validates on X[val_index[m]].

    All configs must share `padding_key()`; widths may differ (padded to the widest). param_mask:
    (M, P) 1 keep / 0 pruned, in the population's (padded) theta layout (see the module
    docstring), or None. Ctrl-C (KeyboardInterrupt) or `stop()` stops training
    cleanly: `PopulationInterrupted` carries the results so far, status "interrupted" for those
    training, measured once more at the weights they stopped with. cuda_graphs: on a CUDA
    device, replay each full-batch epoch as a CUDA graph (`graphs.py`): None where possible,
    True required, False never. batch_order: a hook on each epoch's minibatch order
    (`training.Training`). sample_weight: (N,) non-negative weight of each point of X in every
    loss (a weighted mean per batch, as scikit-learn's) and accuracy; None: all equal.
    """
    training = Training(
        configs,
        X,
        y,
        train_index,
        val_index,
        n_classes=n_classes,
        device=device,
        log_every=log_every,
        callback=callback,
        param_mask=param_mask,
        stop=stop,
        cuda_graphs=cuda_graphs,
        batch_order=batch_order,
        sample_weight=sample_weight,
    )
    return training.run()
