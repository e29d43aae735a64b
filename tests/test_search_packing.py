"""Which trials share a population (`search/packing.py`): trials of one depth, padded together
only where the saved overhead outweighs the padding's extra work."""

from __future__ import annotations

from pointlab.config import TrainConfig
from pointlab.engine.padding import padding_key
from pointlab.search import packing


def _configs(shapes, per_shape=4):
    return [
        TrainConfig(hidden=h, lr=0.001 * (k + 1), seed=k) for h in shapes for k in range(per_shape)
    ]


def _shapes(configs, groups):
    return [sorted({configs[i].hidden for i in g}) for g in groups]


SPACE = [(w,) * d for d in (1, 2, 3) for w in (16, 64, 128)]  # the default space's shapes


def test_every_trial_lands_in_exactly_one_population_of_one_depth():
    configs = _configs(SPACE) + [TrainConfig(hidden=(8,), activation="tanh")]
    for cost in (packing.CPU, packing.GPU):
        groups = packing.pack(configs, folds=5, points=160, cost=cost)
        assert sorted(i for g in groups for i in g) == list(range(len(configs)))
        for group in groups:
            assert len({padding_key(configs[i]) for i in group}) == 1


def test_a_gpu_pads_every_width_of_a_depth_together():
    configs = _configs(SPACE)
    groups = packing.pack(configs, folds=1, points=150, cost=packing.GPU)
    assert sorted(_shapes(configs, groups)) == [
        [(w,) * d for w in (16, 64, 128)] for d in (1, 2, 3)
    ]


def test_a_cpu_pads_narrow_trials_together_and_keeps_wide_ones_apart():
    # Few points: a step is mostly overhead, so narrow widths share one population; the widest
    # layers of many members cost more padded than the overhead they save.
    configs = _configs([(16, 16), (32, 32), (128, 128)], per_shape=2)
    shapes = _shapes(configs, packing.pack(configs, folds=1, points=150, cost=packing.CPU))
    assert [(16, 16), (32, 32)] in shapes and [(128, 128)] in shapes


def test_the_cost_grows_with_members_points_and_padded_widths():
    cost = packing.CPU
    assert cost(10, 100, (64,)) > cost(5, 100, (64,)) > cost.overhead
    assert cost(5, 200, (64,)) > cost(5, 100, (64,))
    assert cost(5, 100, (128, 128)) > cost(5, 100, (64, 64))
