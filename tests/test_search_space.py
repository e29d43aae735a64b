"""Search spaces and strategies: what `--space NAME=SPEC` means, and which points each strategy
tries. Pure functions: no training here."""

import itertools
import math

import numpy as np
import optuna
import pytest

from pointlab.cli import main
from pointlab.cli.args import in_flags
from pointlab.config import TrainConfig
from pointlab.errors import UserError
from pointlab.search import strategies
from pointlab.search.space import DEFAULT_SPACE, apply_params, parse_param, parse_space


def test_choice_lists_parse_into_values_a_config_takes():
    layers = parse_param("layers=[16],[64,64],[128,128]")
    assert layers.choices == ("[16]", "[64,64]", "[128,128]")
    assert apply_params(TrainConfig(), {"layers": "[64,64]"}).hidden == (64, 64)
    assert parse_param("layers=[], complex").choices == ("[]", "[128,128]")  # the book's presets
    assert parse_param("activation=relu,tanh").choices == ("relu", "tanh")
    batch = parse_param("batch_size=16,32,full")
    assert batch.choices == (16, 32, None)
    assert apply_params(TrainConfig(), {"batch_size": None}).batch_size is None


def test_distributions_parse_with_their_scale():
    lr = parse_param("lr=loguniform(1e-4,1e-1)")
    assert (lr.kind, lr.low, lr.high, lr.log) == ("float", 1e-4, 1e-1, True)
    assert lr.distribution() == optuna.distributions.FloatDistribution(1e-4, 1e-1, log=True)
    dropout = parse_param("dropout=uniform(0,0.5)")
    assert (dropout.kind, dropout.log) == ("float", False)
    width = parse_param("width=intlog(8,256)")
    assert width.distribution() == optuna.distributions.IntDistribution(8, 256, log=True)
    config = apply_params(TrainConfig(hidden=(5,)), {"depth": 3, "width": 32})
    assert config.hidden == (32, 32, 32)


def test_default_space_searches_learning_rate_capacity_and_weight_decay():
    params = {p.name: p for p in parse_space([])}
    assert set(params) == {"lr", "depth", "width", "weight_decay"}
    assert params["lr"].log and params["weight_decay"].log
    assert len(DEFAULT_SPACE) == 4


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        ("lr", "write NAME=SPEC"),
        ("speed=1,2", "unknown name 'speed'"),
        ("lr=loguniform(0,1)", "log scale needs bounds above 0"),
        ("lr=loguniform(1e-1,1e-4)", "lower bound 0.1 is above the upper"),
        ("lr=loguniform(1e-3)", "needs two numbers"),
        ("lr=uniform(a,b)", "needs two numbers"),
        ("lr=1e-3,fast", "'fast' is not a float value for lr"),
        ("epochs=uniform(10,100)", "whole number: use int(a,b)"),
        ("lr=int(1,5)", "real number: use uniform"),
        ("activation=relu,swish", "activation must be one of"),
        ("activation=loguniform(1,2)", "takes a list of choices"),
        ("layers=[16],[a]", "'[a]': give hidden widths like 64,64"),
        ("dropout=uniform(0,1)", "dropout must be in [0, 1)"),
        ("batch_size=16,0", "batch_size must be >= 1"),
        ("activation=relu,relu", "listed twice"),
    ],
)
def test_bad_specs_are_refused_with_a_message_naming_them(spec, says):
    with pytest.raises(UserError) as error:
        parse_param(spec)
    message = str(error.value)
    # The library names its argument, `space`; the command line says --space (cli.args.in_flags).
    assert message.startswith(f"space {spec!r}") and says in message
    assert in_flags(error.value).startswith(f"--space {spec!r}")


def test_the_command_refuses_a_bad_spec_in_one_line_with_status_2(tmp_path, capsys):
    argv = ["sweep", "data/curve.csv", "--space", "lr=loguniform(0,1)", "--out", str(tmp_path)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "lr=loguniform(0,1)" in err and "Traceback" not in err
    assert main(["sweep", "data/curve.csv", "--lr", "0.1", "--space", "lr=0.1,0.2"]) == 2
    assert "both fixed by a flag and searched" in capsys.readouterr().err


def test_a_name_may_be_given_only_once_and_layers_not_with_depth():
    with pytest.raises(UserError, match="more than once"):
        parse_space(["lr=0.1,0.2", "lr=uniform(0.1,0.2)"])
    with pytest.raises(UserError, match="either layers, or depth and width"):
        parse_space(["layers=[8]", "depth=1,2"])


def test_grid_runs_the_whole_product_with_ranges_at_even_log_steps():
    specs = ["activation=relu,tanh", "layers=[8],[16,16],[32]", "lr=loguniform(1e-4,1e-1)"]
    params = parse_space(specs)
    plan = strategies.plan("grid", params, 24, 0, TrainConfig())
    lrs = sorted({p["lr"] for p in plan})
    assert len(plan) == 2 * 3 * 4 == len({tuple(sorted(p.items())) for p in plan})
    combos = {(p["activation"], p["layers"], p["lr"]) for p in plan}
    assert combos == set(itertools.product(("relu", "tanh"), ("[8]", "[16,16]", "[32]"), lrs))
    assert lrs[0] == 1e-4 and lrs[-1] == 0.1
    assert np.allclose(np.diff(np.log(lrs)), np.log(10))  # 1e-4, 1e-3, 1e-2, 1e-1


def test_plans_keep_one_architecture_together():
    plan = strategies.plan("random", parse_space([]), 40, 3, TrainConfig())
    keys = [apply_params(TrainConfig(), p).group_key() for p in plan]
    # Each architecture forms one run of consecutive trials: a population.
    assert len([k for i, k in enumerate(keys) if i == 0 or k != keys[i - 1]]) == len(set(keys))


def test_random_stays_in_bounds_follows_the_log_scale_and_the_seed():
    params = parse_space(["lr=loguniform(1e-4,1e-1)", "depth=int(1,4)", "dropout=uniform(0,0.3)"])
    plan = strategies.plan("random", params, 2000, 7, TrainConfig())
    lr = np.array([p["lr"] for p in plan])
    assert lr.min() >= 1e-4 and lr.max() <= 1e-1
    assert {p["depth"] for p in plan} == {1, 2, 3, 4}
    assert all(0 <= p["dropout"] <= 0.3 for p in plan)
    # Log-uniform: about half of the draws below the geometric middle, 10^-2.5.
    assert 0.45 < np.mean(lr < 10**-2.5) < 0.55
    assert plan == strategies.plan("random", params, 2000, 7, TrainConfig())
    assert plan != strategies.plan("random", params, 2000, 8, TrainConfig())


def _tpe_values(seed: int) -> list[dict]:
    params = parse_space(["lr=loguniform(1e-4,1e-1)", "activation=relu,tanh,gelu"])
    study = optuna.create_study(sampler=strategies.sampler("tpe", seed, 30))
    distributions = {p.name: p.distribution() for p in params}
    out = []
    for _ in range(30):
        trial = study.ask(distributions)
        out.append(dict(trial.params))
        study.tell(trial, (math.log10(trial.params["lr"]) + 2) ** 2)  # best near lr = 1e-2
    return out


def test_tpe_stays_in_bounds_follows_the_seed_and_learns():
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    values = _tpe_values(1)
    assert all(
        1e-4 <= v["lr"] <= 1e-1 and v["activation"] in ("relu", "tanh", "gelu") for v in values
    )
    assert values == _tpe_values(1) and values != _tpe_values(2)
    late = [abs(math.log10(v["lr"]) + 2) for v in values[-10:]]
    early = [abs(math.log10(v["lr"]) + 2) for v in values[:10]]
    assert np.median(late) < np.median(early)


def test_halving_keeps_the_best_third_of_all_trials_seen_at_a_rung():
    assert strategies.rungs(2000, 27, 20) == [80, 220, 660]
    candidates = {0: 0.1, 1: 0.5, 2: 0.3, 3: 0.9, 4: 0.2, 5: float("nan")}
    assert strategies.to_prune([], candidates) == {1, 2, 3, 5}  # keep 6 // 3 = 2 best
    # Earlier batches count: 6 losses seen, 2 go on: 0.04 here and 0.2 from before.
    assert strategies.to_prune([0.2, 0.5, 0.6, 0.7], {0: 0.04, 1: 0.3}) == {1}
    assert strategies.to_prune([0.01, 0.02, 0.03], {0: 0.04}) == {0}
