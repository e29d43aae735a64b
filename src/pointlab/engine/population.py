"""The device-side state of one population in training: parameters, optimizer, data, batches.

Everything here is batched over the M members; nothing loops over members inside a step. Members
may differ in width (not depth): the parameters are then laid out as the widest member's, each
member's padding held at zero like a pruned parameter (`padding.py`), and in skips (each member's
own, `models.skip_coefficients`). A population that normalizes (`norms.py`: one kind for all its
members) takes autograd's backward of the same forward instead of `backprop.py`'s, and keeps batch
norm's running statistics beside theta. A member's randomness (its
minibatch order, its dropout masks) is drawn from its own seed alone (`batches.py`), so it trains
the same whatever its neighbours.

Not here: the epoch (`training.py`) and its bookkeeping (history, early stopping, statuses:
`tracker.py`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import numpy as np
import torch

from pointlab.config import TrainConfig
from pointlab.engine.backprop import Saved, backward, forward_train
from pointlab.engine.batches import dropout_uniform, population_order
from pointlab.engine.losses import member_correct, member_loss_and_grad, member_losses
from pointlab.engine.models import (
    architecture,
    forward,
    layer_views,
    member_state,
    norm_views,
    skip_coefficients,
)
from pointlab.engine.norms import Norms
from pointlab.engine.optim import PopulationOptimizer, clip_grad_norm
from pointlab.engine.padding import init_padded, own_mask, padded_architecture, padding_key, unpad
from pointlab.engine.schedules import PopulationSchedule

# A batch: inputs (B, D) shared or (M, B, D), labels (B,) or (M, B), weights (M, B) or None,
# which members step on it ((M, 1) bool, None = all), and which of each member's training points
# its rows are ((M, B) positions in the member's own set, for its dropout masks).
Batch = tuple[torch.Tensor, torch.Tensor, torch.Tensor | None, torch.Tensor | None, torch.Tensor]
# A measurement of every member on its points: loss (M,), accuracy (M,), and whether its output
# is one constant for all of them (M,) bool.
Measured = tuple[torch.Tensor, torch.Tensor, torch.Tensor]
# A hook on the minibatch order: (epoch, the engine's order (M, n_max)) -> the order to use, the
# same shape (positions into each member's training points).
BatchOrder = Callable[[int, torch.Tensor], torch.Tensor]


class PointSets:
    """Each member's subset of the points: indices (M, n_max) padded, counts (M,)."""

    def __init__(
        self,
        index_lists: Sequence[np.ndarray],
        device: torch.device,
        point_weights: torch.Tensor | None = None,
    ) -> None:
        self.counts_host = [len(t) for t in index_lists]
        n_max = max(self.counts_host)
        padded = np.zeros((len(index_lists), n_max), dtype=np.int64)
        for m, t in enumerate(index_lists):
            padded[m, : len(t)] = t
        self.index = torch.as_tensor(padded, device=device)
        self.counts = torch.tensor(self.counts_host, device=device)
        # The usual case: every member has the same points, so inputs are shared, not gathered.
        self.shared = all(np.array_equal(index_lists[0], t) for t in index_lists)
        # Weights mask the padding of members with fewer points; none when all have n_max (the
        # folds of a K-fold split usually do), so the losses take their unweighted closed form.
        arange = torch.arange(n_max, device=device)
        even = len(set(self.counts_host)) == 1
        self.weights = None if even else (arange < self.counts.unsqueeze(1)).float()
        self.valid = self.weights  # (M, n_max) 1 / 0: which rows are the member's points
        if point_weights is not None:  # each point's own weight (scikit-learn's sample_weight)
            mask = 1.0 if self.weights is None else self.weights
            self.weights = point_weights[self.index] * mask  # (M, n_max)
        # What accuracy divides by: the points, or their total weight. (M,)
        self.mass = self.counts if self.weights is None else self.weights.sum(1)
        # (inputs, labels, weights) of the full set, once gathered
        self.inputs: tuple[torch.Tensor, torch.Tensor, torch.Tensor | None] | None = None


class Population:
    def __init__(
        self,
        configs: Sequence[TrainConfig],
        X,
        y,
        train_index,
        val_index,
        n_classes: int,
        device: torch.device,
        param_mask=None,
        batch_order: BatchOrder | None = None,
        sample_weight=None,
    ) -> None:
        self.configs = list(configs)
        self.M = len(configs)
        first = configs[0]
        if any(padding_key(c) != padding_key(first) for c in configs):
            raise ValueError(
                "a population needs members of one depth, activation, normalization, loss and "
                "optimizer kind (engine.padding.padding_key); use engine.train"
            )
        self.X = torch.as_tensor(np.asarray(X, dtype=np.float32), device=device)  # (N, D)
        # D input features: 2 for points in the plane, any number for scikit-learn's users.
        self.member_archs = [architecture(c, n_classes, self.X.shape[1]) for c in configs]
        self.arch = padded_architecture(self.member_archs)  # the widest member's, layer by layer
        # Each layer's skip coefficient (residual members' own skips); None: no member has any.
        skips = skip_coefficients(self.member_archs, device)
        self.skips = skips if any(s is not None for s in skips) else None
        self.loss_kind, self.n_classes, self.device = first.loss, n_classes, device
        self.y = torch.as_tensor(np.asarray(y, dtype=np.int64), device=device)  # (N,)

        seeds = [c.seed for c in configs]
        self.theta = init_padded(self.arch, self.member_archs, seeds).to(device)  # (M, P)
        # Parameters held at zero: pruned (param_mask == 0, in the padded layout) or a narrower
        # member's padding. bool (M, P), or None when there are none.
        self.pruned = None
        own = own_mask(self.arch, self.member_archs)
        if own is not None:
            self.pruned = ~own.to(device)
        if param_mask is not None:
            mask = torch.as_tensor(np.asarray(param_mask), dtype=torch.float32, device=device)
            if mask.shape != self.theta.shape:
                raise ValueError(
                    f"param_mask has shape {tuple(mask.shape)}; this population's theta has "
                    f"{tuple(self.theta.shape)} (members, parameters)"
                )
            self.pruned = mask == 0 if self.pruned is None else self.pruned | (mask == 0)
        if self.pruned is not None:
            self.theta.masked_fill_(self.pruned, 0.0)
        self.layers = layer_views(self.arch, self.theta)
        # The gradient (M, P) in theta's layout; the backward pass writes each layer's part
        # into these views, so no per-layer gradients are concatenated.
        self.grad = torch.zeros_like(self.theta)
        self.grad_layers = layer_views(self.arch, self.grad)
        self._saved: Saved | None = None  # the last training forward pass, for its backward
        # Normalization (`norms.py`), None without: its state, and the last training forward's
        # autograd graph (theta's leaf, logits) that `step` differentiates.
        self.norms = (
            None if self.arch.norm == "none" else Norms(self.arch, self.member_archs, device)
        )
        self._graph: tuple[torch.Tensor, torch.Tensor] | None = None
        self._valid: torch.Tensor | None = None  # the current minibatch's rows that are points
        self._dlogits: torch.Tensor | None = None  # its loss gradient (M, B, n_outputs)
        self.optimizer = PopulationOptimizer(first.optimizer, configs, self.theta)
        self.schedule = PopulationSchedule(configs)

        def column(name, default=0.0):  # (M, 1) per-member value, or None when all are default
            values = [getattr(c, name) for c in configs]
            if all(v is None or v == default for v in values):
                return None
            values = [default if v is None else v for v in values]
            return torch.tensor(values, dtype=torch.float32, device=device).unsqueeze(1)

        self.smoothing = column("label_smoothing")
        self.dropout = column("dropout")
        self.dropout = None if self.dropout is None else self.dropout.unsqueeze(2)  # (M, 1, 1)
        self.clip = column("clip_grad", float("inf"))
        self.seeds = torch.tensor([c.seed for c in configs], device=device)
        self.batch_order = batch_order
        self.epochs = torch.tensor([c.epochs for c in configs], device=device)
        self.max_epochs = max(c.epochs for c in configs)
        # First epoch whose training loss was NaN or infinite, per member (max_epochs + 1: none).
        self.bad_epoch = torch.full((self.M,), self.max_epochs + 1, device=device)
        self._never = torch.tensor(self.max_epochs + 1, device=device)
        self._epoch, self._epoch_host = torch.tensor(0, device=device), 0

        # sample_weight (N,): each point's weight in every loss and accuracy (None: all 1).
        self.point_weights = None
        if sample_weight is not None:
            weights = np.asarray(sample_weight, dtype=np.float32)
            self.point_weights = torch.as_tensor(weights, device=device)
        self.train = PointSets(train_index, device, self.point_weights)
        self.val = None if val_index is None else PointSets(val_index, device, self.point_weights)
        sizes = [c.batch_size or n for c, n in zip(configs, self.train.counts_host, strict=True)]
        self.full_batch = all(s >= n for s, n in zip(sizes, self.train.counts_host, strict=True))
        self.batch = torch.tensor(sizes, device=device)
        self.batch_max = max(sizes)
        steps = [-(-n // b) for n, b in zip(self.train.counts_host, sizes, strict=True)]  # ceil
        self.steps_per_epoch, self.min_steps = max(steps), min(steps)
        self.uniform_batches = len(set(sizes)) == 1 and len(set(self.train.counts_host)) == 1
        self.stepping_at = [
            torch.tensor([s < k for k in steps], device=device).unsqueeze(1)
            for s in range(self.steps_per_epoch)
        ]

    @property
    def stats(self) -> torch.Tensor | None:
        """Batch norm's running statistics (M, Q) (`norms.Norms`), None without batch norm."""
        return None if self.norms is None else self.norms.stats

    def member_state(
        self, theta: torch.Tensor, member: int, stats: torch.Tensor | None = None
    ) -> dict[str, torch.Tensor]:
        """Member's weights from theta (M, P) (this population's or a snapshot of it), and its
        running statistics from stats (M, Q) (default: the population's), as a
        `torch.nn.Sequential` (or `models.MLP`) state dict of its own architecture."""
        arch = self.member_archs[member]
        own = unpad(self.arch, arch, theta.detach(), member)  # (1, P_arch)
        stats = self.stats if stats is None else stats
        running = None
        if self.norms is not None and stats is not None:
            running = self.norms.member_stats(stats, member)
        return member_state(arch, own, 0, self.configs[member].dropout > 0, running)

    def set_live(self, live: np.ndarray) -> None:
        """Which members still train (M,) 1 / 0 (`tracker.Tracker.frozen_mask`)."""
        if self.norms is not None:
            self.norms.set_live(live)

    # --- measuring ---------------------------------------------------------------------------
    def logits(
        self,
        x: torch.Tensor,
        train: bool,
        at: tuple[int, torch.Tensor | None] | None = None,
        hidden: list[torch.Tensor] | None = None,
    ) -> torch.Tensor:
        """Logits (M, B, n_outputs); in training with dropout, and kept for `step`'s backward.
        at: (epoch, rows) of a training pass, which set its dropout masks: rows (M, B) the
        members' training points (`Batch`), None for all of them in order (full batch).
        hidden: in evaluation, a list that gets each hidden layer's output (M, B, width)."""
        no_skips = [None] * len(self.layers)
        skips = self.skips or no_skips
        if not train:
            normalize = None
            if self.norms is not None:
                normalize = self.norms.bind(norm_views(self.arch, self.theta), train=False)
            return forward(
                self.arch, self.layers, x, skips=skips, normalize=normalize, hidden=hidden
            )
        masks = None
        if self.dropout is not None:
            assert at is not None, "a training pass with dropout says where it is (at)"
            masks = self._dropout_masks(*at)
        if self.norms is not None:
            # The rows that are points: the whole set's (full batch) or this minibatch's.
            valid = self.train.valid if at is None or at[1] is None else self._valid
            with torch.enable_grad():
                leaf = self.theta.detach().requires_grad_(True)
                normalize = self.norms.bind(norm_views(self.arch, leaf), True, valid)
                layers = layer_views(self.arch, leaf)
                logits = forward(
                    self.arch, layers, x, skips=skips, normalize=normalize, scales=masks
                )
            self._graph = (leaf, logits)
            return logits.detach()
        logits, self._saved = forward_train(self.arch, self.layers, x, masks, self.skips)
        return logits

    def _dropout_masks(
        self, epoch: int, rows: torch.Tensor | None
    ) -> Callable[[int, torch.Size], torch.Tensor]:
        """Layer i's dropout scale (M, B, width): each member's own mask / keep (`batches.py`)."""
        assert self.dropout is not None
        keep = 1.0 - self.dropout  # (M, 1, 1)

        def scale(layer: int, shape: torch.Size) -> torch.Tensor:
            points = rows if rows is not None else torch.arange(shape[1], device=self.device)
            uniform = dropout_uniform(self.seeds, epoch, layer, points.view(-1, shape[1]), shape[2])
            return (uniform < keep) / keep

        return scale

    def loss(self, logits, targets, weights, grad: bool = False) -> torch.Tensor:
        """(M,) member losses; with grad, also the gradient that the next `step` follows."""
        if not grad:
            return member_losses(
                logits, targets, weights, self.loss_kind, self.n_classes, self.smoothing
            )
        loss, self._dlogits = member_loss_and_grad(
            logits, targets, weights, self.loss_kind, self.n_classes, self.smoothing
        )
        return loss

    def full_batch_inputs(self, sets: PointSets):
        """(inputs, labels, weights) of a whole point set, gathered once and kept."""
        if sets.inputs is None:
            y = self.y.float() if self.n_classes == 2 else self.y  # BCE wants float targets
            if sets.shared:
                index = sets.index[0]
                sets.inputs = (self.X[index], y[index], sets.weights)  # weights: None unweighted
            else:
                sets.inputs = (self.X[sets.index], y[sets.index], sets.weights)
        return sets.inputs

    @torch.no_grad()
    def evaluate(self, sets: PointSets) -> Measured:
        """Every member on its own points, in evaluation mode."""
        x, targets, weights = self.full_batch_inputs(sets)
        logits = self.logits(x, train=False)
        return self.measured(logits, self.loss(logits, targets, weights), sets)

    @torch.no_grad()
    def measured(self, logits: torch.Tensor, loss: torch.Tensor, sets: PointSets) -> Measured:
        """Loss, accuracy and constant output from a forward pass over all of `sets`."""
        _, targets, weights = self.full_batch_inputs(sets)
        accuracy = member_correct(logits, targets, weights) / sets.mass
        if weights is not None:  # padding rows count as the member's first point: no new extreme
            logits = torch.where(weights.unsqueeze(2) > 0, logits, logits[:, :1])
        # Constant: the spread over points within float32 rounding of the logits' size (a tanh
        # saturated to 1 still rounds some points to 0.99999994).
        spread = (logits.amax(1) - logits.amin(1)).amax(1)  # (M,)
        constant = spread <= 1e-6 * (1 + logits.abs().amax((1, 2)))
        return loss, accuracy, constant

    def set_epoch(self, epoch: int) -> None:
        """The epoch number `note_finite` records, kept in a device scalar."""
        if self._epoch_host != epoch:  # once per epoch, so a step creates no scalar tensors
            self._epoch.fill_(epoch)
            self._epoch_host = epoch

    def next_epoch_on_device(self) -> None:
        """Advance the device's epoch number by one without the host (inside a CUDA graph,
        which replays this; the host no longer knows the number, so `set_epoch` fills it)."""
        self._epoch.add_(1)
        self._epoch_host = -1

    def note_finite(self, loss: torch.Tensor, epoch: int | None) -> None:
        """Remember the first epoch at which a member's loss was not finite (no host sync).
        epoch None: the device's epoch number as it stands (`next_epoch_on_device`)."""
        if epoch is not None:
            self.set_epoch(epoch)
        # loss * 0 == 0 is false exactly for NaN and infinity: two kernels, where torch.isfinite
        # dispatches about ten on the CPU.
        here = torch.where(loss * 0 == 0, self._never, self._epoch)
        torch.minimum(self.bad_epoch, here, out=self.bad_epoch)

    # --- training ----------------------------------------------------------------------------
    def batches(self, epoch: int) -> Iterator[Batch]:
        """The minibatches of one epoch: each member's own order, its own batch size."""
        index, counts = self.train.index, self.train.counts
        order = population_order(self.seeds, counts, epoch, index.shape[1])  # (M, n_max)
        if self.batch_order is not None:
            order = self.batch_order(epoch, order)
        if self.uniform_batches:  # one batch size, one set size: plain slices, no masks
            size, n = self.batch_max, self.train.counts_host[0]
            for s in range(self.steps_per_epoch):
                rows = order[:, s * size : min((s + 1) * size, n)]  # (M, B) positions
                points = index.gather(1, rows)  # (M, B) indices into X
                weights = None if self.point_weights is None else self.point_weights[points]
                self._valid = None
                yield self.X[points], self.y[points], weights, None, rows
            return
        arange = torch.arange(self.batch_max, device=self.device)
        for s in range(self.steps_per_epoch):
            positions = s * self.batch.unsqueeze(1) + arange  # (M, B_max)
            valid = (arange < self.batch.unsqueeze(1)) & (positions < counts.unsqueeze(1))
            positions = positions.clamp(max=index.shape[1] - 1)
            rows = order.gather(1, positions)  # (M, B_max) positions in each member's set
            points = index.gather(1, rows)  # (M, B_max) indices into X
            # Members whose epoch has fewer steps sit this one out, optimizer state untouched.
            stepping = None if s < self.min_steps else self.stepping_at[s]
            weights = valid.float()
            self._valid = weights  # batch norm's statistics: points only, whatever they weigh
            if self.point_weights is not None:
                weights = weights * self.point_weights[points]
            yield self.X[points], self.y[points], weights, stepping, rows

    @torch.no_grad()
    def step(self, stepping: torch.Tensor | None) -> None:
        """Backward pass of the last training `loss` and one optimizer step of every member."""
        assert self._dlogits is not None, "step follows loss(grad=True)"
        if self._graph is not None:  # normalization: autograd's backward of the same forward
            leaf, logits = self._graph
            (gradient,) = torch.autograd.grad(logits, leaf, grad_outputs=self._dlogits)
            self.grad.copy_(gradient)
            self._graph = None
        else:
            assert self._saved is not None, "step follows a training forward pass"
            backward(
                self.arch, self.layers, self.grad_layers, self._saved, self._dlogits, self.skips
            )
        self._saved = self._dlogits = None  # free the activations before the update
        grad = self.grad  # (M, P), theta's layout
        self.optimizer.add_l1(self.theta, grad)  # the L1 penalty's gradient, before clipping
        if self.pruned is not None:
            # Pruned weights do not exist: no gradient (so none in the clipping norm, none in the
            # optimizer's state), and re-zeroed after the update. masked_fill, not a product, so
            # an infinite gradient of a diverging member leaves no NaN behind.
            grad.masked_fill_(self.pruned, 0.0)
        if self.clip is not None:
            grad = clip_grad_norm(grad, self.clip)
        self.optimizer.step(self.theta, grad, stepping)
        if self.pruned is not None:
            self.theta.masked_fill_(self.pruned, 0.0)
