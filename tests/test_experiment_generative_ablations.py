"""Experiment `generative-ablations` without training: its settings move one knob each and share
one population per set, and its verdicts follow the numbers (the quick run itself is in
`test_experiments_quick.py`)."""

import math

import numpy as np

from pointlab.experiments import generative_ablations as ga
from pointlab.generative.config import GenConfig


def test_each_setting_moves_one_knob_and_all_share_one_population():
    b = ga.Budget(points=300, epochs=5, seeds=2)
    configs = ga.configs(b)
    assert len(configs) == len(ga.SETTINGS) * b.seeds
    base = ga.BASE.replace(epochs=5)
    fields = GenConfig.__dataclass_fields__
    for i, (label, changes) in enumerate(ga.SETTINGS):
        for s in range(b.seeds):
            config = configs[i * b.seeds + s]  # setting-major, then seed
            moved = {f for f in fields if getattr(config, f) != getattr(base, f)} - {"seed"}
            assert moved == set(changes), label
            assert config.seed == s
    # the engine groups generative members by depth and activation: one group per set
    assert len({(len(c.hidden), c.activation) for c in configs}) == 1


def fake(mmd_by_setting: dict[str, list[float]]) -> dict:
    """Measurements where every setting not named has the base's distances."""
    base = mmd_by_setting["base"]
    rows = [mmd_by_setting.get(label, base) for label in ga.LABELS]
    got = {"mmd": np.array(rows), "references": {"gaussian": (0.02, 0.001)}}
    return {kind: got for kind in ga.SETS}


def test_claims_follow_the_distances_and_a_diverged_model_counts_as_worse():
    got = fake(
        {
            "base": [1e-3, 1.1e-3, 0.9e-3],
            "identity input": [4e-3, 4.2e-3, 3.9e-3],
            "lr 0.1": [math.inf, math.inf, math.inf],  # diverged: samples not finite
            "width 16": [1e-3, 1.1e-3, 0.9e-3],  # no difference at all
        }
    )
    claims = {c.name.split(" (")[0]: c for c in ga.judge(got)}
    assert claims["the base setting beats the fitted Gaussian on both sets"].verdict == "holds"
    assert claims["sinusoidal input embeddings lower the distance on checkerboard"].passed
    assert claims["too high a learning rate raises it"].verdict == "holds"
    assert claims["wider nets lower it"].verdict == "fails"
    assert all(not math.isnan(v) for v in ga.gap(got, "moons", "lr 0.1", "base"))


def test_the_figure_draws_a_diverged_setting_as_such(tmp_path):
    from pointlab.experiments.base import Context
    from pointlab.experiments.generative_ablations_figures import figure

    from conftest import is_png

    b = ga.Budget(points=300, epochs=1, seeds=2)
    rng = np.random.default_rng(0)
    held = rng.normal(size=(100, 2))
    samples = [rng.normal(size=(100, 2)) for _ in range(len(ga.LABELS) * b.seeds)]
    high = ga.LABELS.index("lr 0.1")
    samples[high * b.seeds] = np.full((100, 2), np.nan)  # seed 0 of lr 0.1 diverged
    mmd = np.full((len(ga.LABELS), b.seeds), 1e-3)
    mmd[high, 0] = np.inf
    one = {
        "held_out": held,
        "samples": samples,
        "mmd": mmd,
        "references": {"gaussian": (1e-2, 1e-3), "floor": (1e-4, 1e-4)},
    }
    name, caption = figure(Context(out=tmp_path), b, {kind: one for kind in ga.SETS})
    assert is_png(tmp_path / name) and "checkerboard" in caption
