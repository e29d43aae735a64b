"""The reference every engine result is checked against: plain torch.nn + torch.optim loops."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from pointlab.config import TrainConfig
from pointlab.engine.batches import balanced_epoch_order, dropout_keep, epoch_order
from pointlab.engine.losses import class_weights
from pointlab.engine.models import architecture, init_theta, member_state, to_module

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


class SeededDropout(torch.nn.Module):
    """`torch.nn.Dropout` with the engine's masks: those of this member's seed for hidden layer
    `layer` in epoch `at[0]` at its training points `at[1]` (`engine.batches.dropout_keep`)."""

    def __init__(self, p: float, seed: int, layer: int) -> None:
        super().__init__()
        self.p, self.seed, self.layer = p, seed, layer
        self.at: tuple[int, torch.Tensor] = (0, torch.arange(0))

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        if not self.training:
            return h
        epoch, points = self.at
        keep = dropout_keep(self.seed, epoch, self.layer, points, h.shape[1], self.p)
        return h * keep / (1 - torch.tensor(self.p, dtype=torch.float32))


def reference_train(
    c: TrainConfig, X, y, log_every: int, n_classes: int = 2, mask=None, sample_weight=None
):
    """One lone model, trained as a user of torch.nn would: returns (history, final state).

    mask: None, or a state dict of 0/1 tensors (pruning): the weights start masked, each gradient
    is masked after backward() and the weights are masked again after each optimizer step.
    Dropout drops what the engine drops for this seed (`SeededDropout`); losses are measured in
    evaluation mode.
    sample_weight: None, or (N,) weights: each loss is the weighted mean over its points.
    class_weight: torch's own weighted cross-entropy (`weight=` the class weights) for K classes;
    for two classes binary cross-entropy with each point weighted by its class, over the
    weights' sum (the same reduction); times sample_weight where both are given.
    balanced_batches: the engine's class-balanced draws (`balanced_epoch_order`).
    """
    arch = architecture(c, n_classes, np.shape(X)[1])
    model = to_module(arch, c.dropout)  # a Sequential, or models.MLP with skips or norms
    dropouts = []
    for name, module in list(model.named_children()):
        if isinstance(module, torch.nn.Dropout):
            dropouts.append(SeededDropout(c.dropout, c.seed, len(dropouts)))
            setattr(model, name, dropouts[-1])
    model.load_state_dict(member_state(arch, init_theta(arch, [c.seed]), 0, c.dropout > 0))
    masks = [] if mask is None else [(p, mask[k]) for k, p in model.named_parameters() if k in mask]
    with torch.no_grad():
        for p, keep in masks:
            p.mul_(keep)
    optimizer = OPTIMIZERS[c.optimizer](model.parameters(), c)
    lr_scheduler = scheduler(optimizer, c)
    X, y = torch.as_tensor(X), torch.as_tensor(y)
    w = None if sample_weight is None else torch.as_tensor(sample_weight, dtype=torch.float32)
    cw = None
    if c.class_weight is not None:
        cw = torch.as_tensor(class_weights(c.class_weight, y.numpy(), n_classes))

    def loss_fn(logits, targets, weights=None):
        if cw is not None and (n_classes == 2 or weights is not None):
            weights = cw[targets] if weights is None else weights * cw[targets]
        if n_classes == 2:
            t = targets.float() * (1 - c.label_smoothing) + c.label_smoothing / 2
            if weights is not None:
                each = F.binary_cross_entropy_with_logits(logits.squeeze(1), t, reduction="none")
                return (each * weights).sum() / weights.sum()
            return F.binary_cross_entropy_with_logits(logits.squeeze(1), t)
        if weights is not None:
            each = F.cross_entropy(
                logits, targets, label_smoothing=c.label_smoothing, reduction="none"
            )
            return (each * weights).sum() / weights.sum()
        return F.cross_entropy(logits, targets, weight=cw, label_smoothing=c.label_smoothing)

    history = []
    n = len(X)
    for epoch in range(c.epochs + 1):
        if epoch % log_every == 0 or epoch == c.epochs:
            model.eval()
            with torch.no_grad():
                history.append(float(loss_fn(model(X), y, w)))
            model.train()
        if epoch == c.epochs:
            break
        size = c.batch_size or n
        order = epoch_order(c.seed, epoch, n) if c.batch_size else torch.arange(n)
        if c.balanced_batches:
            order = balanced_epoch_order(c.seed, epoch, y, n_classes)
        for start in range(0, n, size):
            batch = order[start : start + size]
            for module in dropouts:
                module.at = (epoch, batch)
            optimizer.zero_grad()
            loss = loss_fn(model(X[batch]), y[batch], None if w is None else w[batch])
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
