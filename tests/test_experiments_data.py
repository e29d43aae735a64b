"""The parts of the experiment `data-requirements` checked as properties: the power-law fit finds
the law that made the numbers, and the crossover is where the large model stays better. (Its
quick run is in `test_experiments_quick.py`.)"""

from __future__ import annotations

import numpy as np
import pytest

from pointlab.experiments.data_requirements import crossover, power_law_fit, seed_exponents


@pytest.mark.parametrize("a, b, c", [(2.0, 0.5, 0.05), (0.8, 1.0, 0.0), (5.0, 0.3, 0.2)])
def test_the_power_law_fit_recovers_the_law_that_made_the_errors(a, b, c):
    n = 2.0 ** np.arange(5, 13)
    fit = power_law_fit(n, a * n**-b + c)
    assert fit["b"] == pytest.approx(b, rel=0.05)
    assert fit["c"] == pytest.approx(c, abs=0.01 * max(c, 0.1))
    assert fit["r2"] > 0.999
    # Each seed's exponent with the floor given: the same law, whatever its scale.
    errors = np.stack([k * a * n**-b + c for k in (0.5, 1.0, 2.0)])
    assert seed_exponents(n, errors, c) == pytest.approx([b] * 3, rel=0.02)


def test_errors_that_do_not_fall_with_n_explain_little_of_the_log_error():
    rng = np.random.default_rng(0)
    n = 2.0 ** np.arange(5, 13)
    fit = power_law_fit(n, 0.3 + 0.02 * rng.standard_normal(len(n)))
    assert fit["r2"] < 0.9


def test_the_crossover_is_where_the_large_model_stays_better_by_its_interval():
    sizes = (16, 32, 64, 128)
    noise = np.array([[0.01], [-0.01], [0.0], [0.005]])  # four seeds, (seeds, 1)
    diff = np.array([0.0, -0.1, 0.01, -0.1]) + noise  # better at 32, not at 64, then again
    assert crossover(sizes, diff) == 128
    assert crossover(sizes, np.full((4, 4), -0.1) + noise) == 16
    assert crossover(sizes, np.zeros((4, 4)) + noise) is None
