"""Which trials share a population: trials of one depth may train padded to the widest of them
(`engine.padding`); this decides where that pays.

A training step of a population costs a fixed overhead (a few dozen kernel launches and the
Python around them: about the same for 2 members as for 200) plus work that grows with the
members, the points and the padded layer sizes. Padding a narrow member into a wide population
makes it cost what the widest costs; merging two populations saves one overhead per step. So

    cost(population) = overhead + members x points x work(padded architecture) / speed

per step, with work the multiply-adds of a forward and backward pass plus the element-wise
passes over the activations. `pack` sorts the architectures of one `padding_key` by width and
splits them into consecutive runs of least total cost (a dynamic program over the sorted list).
On a CPU the overhead is some 0.3 ms and the work some 1.5e10 operations a second, so only
narrow trials join each other and wide ones stay apart; on a GPU
(overhead ~100 us, work almost free at these sizes) every trial of one depth shares one
population.

Not here: padding itself (`engine.padding`), memory limits (`engine.memory.members_that_fit`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pointlab.config import TrainConfig
from pointlab.engine.padding import padded_hidden, padding_key


@dataclass(frozen=True)
class StepCost:
    """Seconds per training step: overhead + members x points x work / speed."""

    overhead: float  # seconds per step, whatever the size
    speed: float  # multiply-adds (and element-wise operations) per second

    def __call__(self, members: int, points: int, hidden: tuple[int, ...]) -> float:
        return self.overhead + members * points * work(hidden) / self.speed


# CPU: measured on the 2-core AMD EPYC the benchmarks name, one thread, the default Ripley sweep's
# populations (2 members of (16,): 0.3 ms a step; 5 of (128, 128, 128) on 150 points: 5.7 ms).
# GPU: a rough guess, not measured (kernel launches dominate; CUDA graphs lower them further).
CPU = StepCost(overhead=3e-4, speed=1.5e10)
GPU = StepCost(overhead=1e-4, speed=3e13)


def work(hidden: tuple[int, ...], n_inputs: int = 2, n_outputs: int = 1) -> int:
    """Operations per member and point of one training step: three products per layer (forward,
    weight gradient, input gradient) and some ten element-wise passes per hidden unit."""
    widths = [n_inputs, *hidden, n_outputs]
    products = sum(a * b for a, b in zip(widths[:-1], widths[1:], strict=False))
    return 3 * products + 10 * sum(hidden)


def pack(
    configs: Sequence[TrainConfig], folds: int, points: int, cost: StepCost
) -> list[list[int]]:
    """Indices into `configs` grouped into populations: one `padding_key` each, of least
    estimated cost. Each config trains `folds` members on about `points` points."""
    by_key: dict[tuple, list[int]] = {}
    for i, config in enumerate(configs):
        by_key.setdefault(padding_key(config), []).append(i)
    groups = []
    for members in by_key.values():
        by_hidden: dict[tuple[int, ...], list[int]] = {}
        for i in members:
            by_hidden.setdefault(configs[i].hidden, []).append(i)
        # Sorted by total width: neighbours in this order pad each other least (exactly so when
        # all layers of a trial are equally wide, as `depth` and `width` make them).
        shapes = sorted(by_hidden, key=lambda h: (sum(h), h))
        for start, stop in _cheapest_runs(
            shapes, [len(by_hidden[h]) for h in shapes], folds, points, cost
        ):
            groups.append([i for h in shapes[start:stop] for i in by_hidden[h]])
    return groups


def _cheapest_runs(
    shapes: list[tuple[int, ...]], counts: list[int], folds: int, points: int, cost: StepCost
) -> list[tuple[int, int]]:
    """Split the sorted shapes into consecutive runs [start, stop) of least summed cost."""
    n = len(shapes)
    best = [0.0] + [float("inf")] * n  # best[j]: least cost of shapes[:j]
    cut = [0] * (n + 1)
    for stop in range(1, n + 1):
        for start in range(stop):
            members = folds * sum(counts[start:stop])
            run = cost(members, points, padded_hidden(shapes[start:stop]))
            if best[start] + run < best[stop]:
                best[stop], cut[stop] = best[start] + run, start
    runs, stop = [], n
    while stop > 0:
        runs.append((cut[stop], stop))
        stop = cut[stop]
    return runs[::-1]
