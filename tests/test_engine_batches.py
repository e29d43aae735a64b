"""A member's minibatch order (`pointlab.engine.batches`), checked as properties: each epoch it is
a permutation of the member's own training indices, it is the order the member would have alone
(whatever its neighbours and the population's padding), and it changes with the seed and the epoch.

Not here: training on those batches (`test_engine_reference.py` feeds the same orders to a torch
loop and compares losses and weights).
"""

from __future__ import annotations

import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from pointlab.engine.batches import epoch_order, population_order

SEEDS = st.integers(0, 2**31 - 1)
# The stream of (seed, epoch) is seed * 1_000_003 + epoch, so epochs stay below that factor.
EPOCHS = st.integers(0, 1_000_000)


@st.composite
def populations(draw):
    """Members with their own seeds and training indices (distinct positions in a data set of
    n_data points), padded to the longest as the engine stores them: (seeds, index, counts)."""
    n_data = draw(st.integers(1, 60))
    members = draw(st.integers(1, 6))
    seeds = draw(st.lists(SEEDS, min_size=members, max_size=members))
    subsets = [
        draw(st.lists(st.integers(0, n_data - 1), min_size=1, max_size=n_data, unique=True))
        for _ in range(members)
    ]
    n_max = max(map(len, subsets))
    index = torch.tensor([s + [0] * (n_max - len(s)) for s in subsets])  # (M, n_max), 0-padded
    counts = torch.tensor([len(s) for s in subsets])
    return torch.tensor(seeds), index, counts


@settings(max_examples=60, deadline=None)
@given(populations(), EPOCHS)
def test_each_epoch_a_member_visits_each_of_its_training_points_once(population, epoch):
    seeds, index, counts = population
    order = population_order(seeds, counts, epoch, index.shape[1])  # (M, n_max)
    for m, count in enumerate(counts.tolist()):
        visited = index[m].gather(0, order[m, :count])  # as `Population.batches` maps positions
        assert sorted(visited.tolist()) == sorted(index[m, :count].tolist())
        assert sorted(order[m, count:].tolist()) == list(
            range(count, index.shape[1])
        )  # padding last


@settings(max_examples=60, deadline=None)
@given(populations(), EPOCHS)
def test_a_member_has_the_order_it_would_have_alone(population, epoch):
    seeds, index, counts = population
    order = population_order(seeds, counts, epoch, index.shape[1])
    for m, count in enumerate(counts.tolist()):
        alone = epoch_order(int(seeds[m]), epoch, count)
        assert torch.equal(order[m, :count], alone)


@settings(max_examples=60, deadline=None)
@given(SEEDS, SEEDS, EPOCHS, EPOCHS, st.integers(12, 200))
def test_the_order_changes_with_the_seed_and_with_the_epoch(seed, other_seed, epoch, other, n):
    # n >= 12: two orders drawn independently agree with chance 1/n! (< 3e-9).
    order = epoch_order(seed, epoch, n)
    assert sorted(order.tolist()) == list(range(n))
    assert torch.equal(order, epoch_order(seed, epoch, n))  # a pure function of (seed, epoch)
    if other_seed != seed:
        assert not torch.equal(order, epoch_order(other_seed, epoch, n))
    if other != epoch:
        assert not torch.equal(order, epoch_order(seed, other, n))
