"""The reference every engine result is checked against: plain torch.nn + torch.optim loops."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from pointlab.config import TrainConfig
from pointlab.engine.batches import epoch_order
from pointlab.engine.models import Architecture, init_theta, member_state, to_sequential

OPTIMIZERS = {
    "sgd": lambda p, c: torch.optim.SGD(p, lr=c.lr, weight_decay=c.weight_decay),
    "momentum": lambda p, c: torch.optim.SGD(
        p, lr=c.lr, momentum=c.momentum, weight_decay=c.weight_decay
    ),
    "nesterov": lambda p, c: torch.optim.SGD(
        p, lr=c.lr, momentum=c.momentum, nesterov=True, weight_decay=c.weight_decay
    ),
    "adam": lambda p, c: torch.optim.Adam(
        p, lr=c.lr, betas=(c.beta1, c.beta2), eps=c.eps, weight_decay=c.weight_decay
    ),
    "adamw": lambda p, c: torch.optim.AdamW(
        p, lr=c.lr, betas=(c.beta1, c.beta2), eps=c.eps, weight_decay=c.weight_decay
    ),
    "rmsprop": lambda p, c: torch.optim.RMSprop(
        p, lr=c.lr, alpha=c.alpha, eps=c.eps, weight_decay=c.weight_decay
    ),
}


def scheduler(optimizer, c: TrainConfig):
    sched = torch.optim.lr_scheduler
    main = {
        "constant": lambda: sched.LambdaLR(optimizer, lambda e: 1.0),
        "step": lambda: sched.StepLR(optimizer, c.step_size, c.gamma),
        "cosine": lambda: sched.CosineAnnealingLR(optimizer, max(c.epochs - c.warmup, 1), c.lr_end),
        "cosine_restarts": lambda: sched.CosineAnnealingWarmRestarts(
            optimizer, c.step_size, eta_min=c.lr_end
        ),
    }[c.schedule]
    if c.warmup == 0:
        return main()
    warm = sched.LinearLR(optimizer, 1 / (c.warmup + 1), 1.0, total_iters=c.warmup)
    return sched.SequentialLR(optimizer, [warm, main()], milestones=[c.warmup])


def reference_train(c: TrainConfig, X, y, log_every: int, n_classes: int = 2, mask=None):
    """One lone model, trained as a user of torch.nn would: returns (history, final state).

    mask: None, or a state dict of 0/1 tensors (pruning): the weights start masked, each gradient
    is masked after backward() and the weights are masked again after each optimizer step.
    """
    arch = Architecture(c.hidden, c.activation, n_classes, np.shape(X)[1])
    model = to_sequential(arch)
    model.load_state_dict(member_state(arch, init_theta(arch, [c.seed]), 0))
    masks = [] if mask is None else [(p, mask[k]) for k, p in model.named_parameters() if k in mask]
    with torch.no_grad():
        for p, keep in masks:
            p.mul_(keep)
    optimizer = OPTIMIZERS[c.optimizer](model.parameters(), c)
    lr_scheduler = scheduler(optimizer, c)
    X, y = torch.as_tensor(X), torch.as_tensor(y)

    def loss_fn(logits, targets):
        if n_classes == 2:
            t = targets.float() * (1 - c.label_smoothing) + c.label_smoothing / 2
            return F.binary_cross_entropy_with_logits(logits.squeeze(1), t)
        return F.cross_entropy(logits, targets, label_smoothing=c.label_smoothing)

    history = []
    n = len(X)
    for epoch in range(c.epochs + 1):
        if epoch % log_every == 0 or epoch == c.epochs:
            with torch.no_grad():
                history.append(float(loss_fn(model(X), y)))
        if epoch == c.epochs:
            break
        size = c.batch_size or n
        order = epoch_order(c.seed, epoch, n) if c.batch_size else torch.arange(n)
        for start in range(0, n, size):
            batch = order[start : start + size]
            optimizer.zero_grad()
            loss = loss_fn(model(X[batch]), y[batch])
            if c.l1:  # L1 regularization: the penalty in the loss, as a torch user writes it
                loss = loss + c.l1 * sum(p.abs().sum() for p in model.parameters())
            loss.backward()
            for p, keep in masks:
                p.grad.mul_(keep)
            if c.clip_grad is not None:
                torch.nn.utils.clip_grad_norm_(model.parameters(), c.clip_grad)
            optimizer.step()
            with torch.no_grad():
                for p, keep in masks:
                    p.mul_(keep)
        lr_scheduler.step()
    return np.array(history), model.state_dict()
