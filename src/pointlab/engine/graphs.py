"""CUDA graphs of a full-batch epoch: a population's epoch recorded once, then replayed.

On a GPU an epoch of a small population is some 30 to 50 kernels of a few microseconds of work
each, and the CPU launching them one by one, not the GPU, sets the pace. A CUDA graph records the
launches once (stream capture) and replays them all with one call. As PyTorch's CUDA-graph notes
prescribe: every tensor a graph reads or writes stays at one address (the parameters, gradient
and optimizer state, the learning rates (M, 1) written before a replay, the full batch, the
epoch number on the device, advanced by the graph itself); the first `WARMUP` epochs run eagerly
on the side stream the graphs are then captured on (cuBLAS handles, allocator); nothing in a
captured step synchronizes with the host.

Three graphs, captured once after the warm-up:
- `measure`: forward pass, loss and its gradient with respect to the logits, divergence check;
  replayed at a logged epoch, whose loss and logits the bookkeeping then reads;
- `update`: backward pass and optimizer step, replayed after that bookkeeping (which may freeze
  members, so it must come between the two);
- `epoch`: both in one graph, for every other epoch: one replay per epoch.
Replays run the same kernels in the same order as the eager step, so the numbers are the eager
ones (`tests/test_engine_graphs.py`, which runs only where CUDA is). `GraphEpochs` is the
training's `Epochs` strategy (`training.py`): eager until the capture, replays after it.

When (`blocker`): a CUDA device, full-batch epochs (minibatch orders are built per epoch), no
dropout (its masks are drawn per step from the host's epoch number), no normalization (its
backward is autograd's, `norms.py`), and an update
without per-step host arithmetic (`PopulationOptimizer.capturable`: every rule except Adam with
per-member betas or eps). Otherwise, with `cuda_graphs=False`, or with the environment variable
POINTLAB_CUDA_GRAPHS=0, the eager strategy runs, as it always does on a CPU; so does it after a
capture that failed, unless the graphs were required (`cuda_graphs=True`).

Status: written without a GPU at hand; it has not yet run on one (`benchmarks/README.md`).

Not here: the epoch that decides which epochs log (`training.py`), the step itself
(`population.py`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import torch

from pointlab.engine.population import Population

WARMUP = 3  # eager epochs before the capture, on the capture's stream


def blocker(pop: Population) -> str | None:
    """Why this population cannot train on CUDA graphs, or None when it can."""
    if not pop.full_batch:
        return "it trains in minibatches (only full-batch epochs are captured)"
    if pop.dropout is not None:
        return "it uses dropout"
    if pop.norms is not None:
        return "it normalizes (its backward is autograd's)"
    if not pop.optimizer.capturable():
        return f"its {pop.optimizer.kind} members differ in betas or eps (no fused update)"
    if pop.device.type != "cuda":
        return f"the device is {pop.device.type}, not CUDA"
    return None


def wanted(pop: Population, cuda_graphs: bool | None) -> bool:
    """cuda_graphs True: required (a `ValueError` says why not); None: where possible, unless
    POINTLAB_CUDA_GRAPHS=0; False: never."""
    if cuda_graphs is False:
        return False
    why = blocker(pop)
    if cuda_graphs and why is not None:
        raise ValueError(f"CUDA graphs were asked for, but {why}")
    return why is None and os.environ.get("POINTLAB_CUDA_GRAPHS", "1") != "0"


class GraphEpochs:
    """A full-batch epoch as CUDA graphs: the three graphs of one population, and the side
    stream they, the warm-up and the bookkeeping run on."""

    def __init__(self, pop: Population, required: bool = False) -> None:
        from pointlab.engine.training import EagerEpochs

        self.pop, self.required = pop, required
        self.eager = EagerEpochs(pop)  # the warm-up, and everything after a failed capture
        self.stream = torch.cuda.Stream(pop.device)
        self.inputs = pop.full_batch_inputs(pop.train)  # (x, targets, weights): static
        self.ready = False
        self.failed: str | None = None  # why a capture failed (then the epochs stay eager)
        self._depth = 0  # `running` contexts entered: only the outermost switches streams

    @contextmanager
    def running(self) -> Iterator[None]:
        """Training runs on the graphs' stream (warm-up, replays, bookkeeping)."""
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        self.stream.wait_stream(torch.cuda.current_stream(self.pop.device))
        self._depth = 1
        try:
            with torch.cuda.stream(self.stream):
                yield
        finally:
            self._depth = 0
            torch.cuda.current_stream(self.pop.device).wait_stream(self.stream)

    def _replaying(self, epoch: int) -> bool:
        """Capture at the start of epoch `epoch` once the warm-up is over; True once captured."""
        if not self.ready and self.failed is None and epoch >= WARMUP:
            self.capture(epoch)
        return self.ready

    def whole(self, epoch: int) -> None:
        """One whole epoch: forward, loss, backward, update (one replay)."""
        if not self._replaying(epoch):
            self.eager.whole(epoch)
            return
        self.epoch_graph.replay()
        self.pop.optimizer.steps += 1

    def measure(self, epoch: int, grad: bool) -> tuple[torch.Tensor, torch.Tensor]:
        """Forward and loss of this epoch: (logits (M, N, n_outputs), loss (M,)), valid until
        the next replay (a replay computes the loss gradient whether or not it is needed)."""
        if not self._replaying(epoch):
            return self.eager.measure(epoch, grad)
        self.measure_graph.replay()
        return self.logits, self.loss

    def update(self) -> None:
        """The backward pass and step that follow `measure`."""
        if not self.ready:
            self.eager.update()
            return
        self.update_graph.replay()
        self.pop.optimizer.steps += 1

    def _measure(self) -> tuple[torch.Tensor, torch.Tensor]:
        pop = self.pop
        x, targets, weights = self.inputs
        logits = pop.logits(x, train=True)  # (M, N, n_outputs)
        loss = pop.loss(logits, targets, weights, grad=True)  # (M,)
        pop.note_finite(loss, None)
        pop.next_epoch_on_device()
        return logits, loss

    def capture(self, epoch: int) -> None:
        """Record the three graphs (nothing runs: the state stays at the start of `epoch`).
        A capture that fails leaves the epochs eager, unless the graphs were required."""
        pop = self.pop
        pop.set_epoch(epoch)  # runs now; the graphs advance the number from here
        steps = pop.optimizer.steps  # a host counter the captures would advance twice
        try:
            self._capture()
        except Exception as error:  # CUDA's capture errors are RuntimeErrors, others too
            if self.required:
                raise
            self.failed = f"{type(error).__name__}: {error}"
            pop._saved = pop._dlogits = None
            return
        finally:
            pop.optimizer.steps = steps
        self.ready = True

    def _capture(self) -> None:
        pop = self.pop
        self.measure_graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(self.measure_graph, stream=self.stream):
            self.logits, self.loss = self._measure()
        # `update` reads what `measure` left (activations, loss gradient) at their addresses.
        self.kept = (pop._saved, pop._dlogits)
        self.update_graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(self.update_graph, stream=self.stream):
            pop.step(None)
        self.epoch_graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(self.epoch_graph, stream=self.stream):
            self._measure()
            pop.step(None)
