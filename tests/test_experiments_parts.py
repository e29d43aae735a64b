"""The parts the experiments `depth`, `lottery` and `landscape` are built from, checked as
properties: the sawtooth's pieces, region counts of networks whose regions are known, pruning that
removes what it says, and the verdict statistics, under which numbers that turned NaN fail. (Every
experiment's quick run is in `test_experiments_quick.py`.)"""

from __future__ import annotations

import json
import math
import types

import numpy as np
import pytest
import torch

from pointlab import experiments
from pointlab.cli import main
from pointlab.engine.models import Architecture, init_theta, layer_views
from pointlab.experiments import regions, sawtooth
from pointlab.experiments.base import (
    Claim,
    Report,
    all_of,
    at_least,
    at_most,
    binomial_se,
    combined_se,
    difference_se,
    interval,
    mean_at_least,
    mean_at_most,
    mean_interval,
    mean_text,
    standard_error,
    t_quantile,
)
from pointlab.experiments.lottery import prune, random_mask, weight_share
from pointlab.experiments.members import error_rate, logits


@pytest.mark.parametrize("depth", [1, 3, 6])
def test_the_constructed_sawtooth_has_2_to_the_L_pieces_and_its_twin_equals_it(depth):
    xs = (np.arange(3 * 2**10) + 0.5) / (3 * 2**10)
    line = np.column_stack([xs, np.full_like(xs, 0.7)])  # y is ignored: any line across x
    deep = sawtooth.sawtooth_theta(depth)
    shallow = sawtooth.shallow_sawtooth_theta(depth)
    for arch, theta in (deep, shallow):
        assert regions.count_pieces(regions.patterns(arch, theta, line))[0] == 2**depth
        assert np.abs(logits(arch, theta, line)[0] - sawtooth.sawtooth(xs, depth)).max() < 1e-9
    assert sum(deep[0].hidden) == 2 * depth and sum(shallow[0].hidden) == 2**depth


def test_regions_of_one_unit_and_of_two_crossing_units():
    # One ReLU on x - 0.3: two regions, the line y = mid crosses its kink once (two pieces).
    arch = Architecture((1,), "relu")
    theta = torch.zeros(1, arch.n_params)
    (w1, b1), _ = layer_views(arch, theta)
    w1[0, 0, 0], b1[0, 0, 0] = 1.0, -0.3
    assert [int(c[0]) for c in regions.counts(arch, theta, (0, 1, 0, 1), 64, 1000)] == [2, 2]
    # Two ReLUs, kinks x = 0.3 and y = 0.6, crossing: four regions; y = 0.5 meets one kink.
    arch = Architecture((2,), "relu")
    theta = torch.zeros(1, arch.n_params)
    (w1, b1), _ = layer_views(arch, theta)
    w1[0] = torch.eye(2)
    b1[0, 0] = torch.tensor([-0.3, -0.6])
    assert [int(c[0]) for c in regions.counts(arch, theta, (0, 1, 0, 1), 64, 1000)] == [4, 2]


def test_error_rate_counts_the_points_a_member_gets_wrong():
    arch = Architecture((1,), "relu")
    theta = torch.zeros(2, arch.n_params)
    (w1, _), (w2, b2) = layer_views(arch, theta)
    w1[:, 0, 0], w2[:, 0, 0] = 1.0, 1.0  # logit relu(x) + b
    b2[0, 0, 0], b2[1, 0, 0] = -0.5, 1.0  # member 0: class 1 where x > 0.5; member 1: always
    points = np.array([[0.1, 0], [0.4, 0], [0.6, 0], [0.9, 0]])
    y = np.array([0, 0, 1, 1])
    assert error_rate(arch, theta, points, y).tolist() == [0.0, 0.5]


def test_pruning_removes_a_fifth_of_the_hidden_weights_by_magnitude_and_never_biases():
    arch = Architecture((16, 16), "relu")
    theta = init_theta(arch, [0, 1])
    mask = torch.ones_like(theta)
    once = prune(arch, theta, mask)
    pairs = zip(layer_views(arch, theta), layer_views(arch, once), strict=True)
    for (w, _), (keep, keep_b) in pairs:
        assert bool((keep_b == 1).all())
        for m in range(2):
            cut = keep[m] == 0
            assert 0 < int(cut.sum()) <= round(0.2 * keep[m].numel())
            assert w[m][cut].abs().max() <= w[m][~cut].abs().min()  # the smallest went
    twice = prune(arch, theta, once)
    assert bool((twice <= once).all())  # what is pruned stays pruned
    assert np.all(weight_share(arch, twice) < weight_share(arch, once))
    shuffled = random_mask(arch, twice[0], seed=3)
    pairs = zip(layer_views(arch, shuffled[None]), layer_views(arch, twice[:1]), strict=True)
    for (kept, _), (ref, _) in pairs:
        assert int(kept.sum()) == int(ref.sum()) and not torch.equal(kept, ref)


def test_verdict_statistics():
    assert standard_error([1.0, 3.0]) == pytest.approx(1.0)
    assert standard_error([0.5]) == float("inf")  # one seed settles nothing
    assert at_least(0.5, 0.4, standard_error([0.5]), 0) is None
    assert binomial_se(1.0, 6) > 0.1  # six of six is not certainty
    assert binomial_se(0.5, 100) == pytest.approx(0.05)
    # Two seeds a side (df 2): a log ratio of 0.65 against 1.5 with se 0.23 is not a failure.
    assert at_least(np.log(0.65), np.log(1.5), 0.23, 2) is None
    assert at_least(np.log(0.65), np.log(1.5), 0.23, math.inf) is False  # the normal's 1.96


@pytest.mark.parametrize(
    "df, quantile",  # two-sided 95% quantiles of Student's t, from printed tables
    [
        (1, 12.706),
        (2, 4.303),
        (3, 3.182),
        (4, 2.776),
        (7, 2.365),
        (10, 2.228),
        (30, 2.042),
        (120, 1.980),
        (math.inf, 1.960),
    ],  # fmt: skip
)
def test_t_quantile_matches_the_tables(df, quantile):
    assert t_quantile(df) == pytest.approx(quantile, abs=5e-4)


def test_t_quantile_of_a_fractional_df_lies_between_its_neighbours_and_none_settles_nothing():
    assert t_quantile(3) > t_quantile(3.5) > t_quantile(4)
    assert t_quantile(0) == math.inf and t_quantile(float("nan")) == math.inf
    assert t_quantile(4, level=0.9) == pytest.approx(2.132, abs=5e-4)
    assert interval(1.0, 0.5, 4) == pytest.approx((1 - 1.388, 1 + 1.388), abs=1e-3)


def test_a_claim_that_held_at_2_standard_errors_from_3_seeds_is_inconclusive_under_t():
    seeds = np.array([0.05, 0.11, 0.08])  # a gap over 3 seeds, the claim: gap >= 0.02
    mean, se = float(seeds.mean()), standard_error(seeds)
    assert mean - 2 * se > 0.02  # what a fixed 2 standard errors said: holds
    assert at_least(mean, 0.02, se, len(seeds) - 1) is None  # t = 4.30: cannot tell
    more = np.tile(seeds, 5)  # the same spread from 15 seeds settles it
    assert at_least(float(more.mean()), 0.02, standard_error(more), len(more) - 1) is True
    assert at_most(mean, 0.02, se, len(seeds) - 1) is None  # and it does not fail either


def test_a_mean_over_seeds_is_judged_by_students_t_with_one_df_fewer_than_seeds():
    values = [0.10, 0.12, 0.14]
    mean, half = mean_interval(values)
    assert mean == pytest.approx(0.12) and half == pytest.approx(4.303 * 0.02 / 3**0.5, rel=1e-3)
    assert mean_text(values) == "+0.120 +- 0.050" and mean_text(values, 2) == "+0.12 +- 0.05"
    # 0.12 - 2 se = 0.097 would clear 0.09; 0.12 - 4.3 se = 0.070 does not: inconclusive
    assert mean_at_least(values, 0.09) is None
    assert mean_at_least(values, 0.06) is True
    assert mean_at_most(values, 0.06) is False
    assert mean_at_least([-1.0, -1.1, -0.9], 0.0) is False
    assert mean_at_least([1.0], 0.0) is None and mean_interval([1.0])[1] == math.inf
    assert mean_at_least([math.nan, 1.0], 0.0) is False
    a, b = [0.1, 0.2, 0.4], [0.3, 0.3, 0.5, 0.2, 0.1]  # independent groups: Welch's df
    assert difference_se(a, b) == combined_se((standard_error(a), 2), (standard_error(b), 4))


def test_a_claim_of_several_criteria_fails_if_one_fails_and_holds_only_if_all_hold():
    assert all_of([True, True]) is True
    assert all_of([True, None]) is None
    assert all_of(v for v in (None, False, True)) is False


def test_combined_standard_errors_take_welchs_degrees_of_freedom():
    # Two groups of 5 with equal spread: df = 8, as the pooled two-sample t test.
    se, df = combined_se((0.1, 4), (0.1, 4))
    assert se == pytest.approx(0.1 * math.sqrt(2)) and df == pytest.approx(8)
    # One noisy group dominates: df falls to near its own.
    assert combined_se((1.0, 2), (0.01, 30))[1] == pytest.approx(2, abs=0.01)
    assert combined_se((0.0, 3), (0.0, 3)) == (0.0, math.inf)  # no noise: exact
    se, df = combined_se((float("inf"), 0), (0.1, 4))  # one group of one seed: settles nothing
    assert at_least(1.0, 0.0, se, df) is None
    assert at_least(1.0, 0.0, *combined_se((float("nan"), 3), (0.1, 4))) is False


def test_numbers_that_turned_nan_fail_the_claim_instead_of_leaving_it_inconclusive():
    nan = float("nan")
    assert at_most(nan, 0.07, se=0.01, df=9) is False and at_least(nan, 0.9, 0.01, 9) is False
    assert at_least(0.95, 0.9, se=nan, df=9) is False  # a NaN among the seeds makes the se NaN
    assert at_least(0.5, 0.4, se=float("inf"), df=0) is None  # one seed: only inconclusive
    given = [None, True, None, True]  # what a comparison or an interval said of the number
    measured = [nan, f"{nan:+.3f} +- {nan:.3f}", np.array([0.5, nan]), (0.9, np.float32(nan))]
    claims = [Claim("c", "x >= 0.9", m, p) for m, p in zip(measured, given, strict=True)]
    assert [c.verdict for c in claims] == ["fails"] * 4
    for words in ("3 nanoseconds, 0.5", "0.93 (2 NaN members left out)"):  # words, not a NaN
        assert Claim("c", "x >= 0.9", words, True).verdict == "holds"
    assert not Report("t", "c", "m", claims).passed


def test_a_quick_experiment_whose_numbers_turn_nan_fails_its_check(monkeypatch, tmp_path, capsys):
    """As an experiment builds a claim: a mean over seeds, one of them diverged (NaN)."""

    def run(ctx):
        gaps = np.array([0.2, np.nan, 0.3])
        gap, se = float(gaps.mean()), standard_error(gaps)
        claim = Claim("the gap is positive", "gap >= 0.1", f"{gap:+.3f} +- {se:.3f}", None)
        return Report("NaN", "a claim", "nothing", [claim] + [Claim("ok", "", 1, True)])

    monkeypatch.setitem(experiments.EXPERIMENTS, "nan", "an experiment whose numbers are NaN")
    real_load = experiments.load
    fake = types.SimpleNamespace(NAME="nan", run=run)
    monkeypatch.setattr(experiments, "load", lambda n: fake if n == "nan" else real_load(n))
    out = tmp_path / "nan"
    assert main(["experiment", "nan", "--quick", "--check", "--out", str(out)]) == 1
    assert "this one does not: “the gap is positive”" in " ".join(capsys.readouterr().out.split())
    results = json.loads((out / "results.json").read_text())
    assert results["passed"] is False and results["claims"][0]["verdict"] == "fails"
    assert (
        "| the gap is positive | gap >= 0.1 | +nan +- nan | NO |" in (out / "report.md").read_text()
    )
