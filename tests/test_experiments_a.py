"""`pointlab experiment` and experiments 1-4 (capacity, memorize, grid-vs-random, lr-importance),
each run in-process with --quick; results.json is checked against the claims that are reliable in
quick mode (grid-vs-random's real-tuning claim is not: its edge is small, see its report)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from pointlab.cli import main
from pointlab.experiments.memorize import theorem1_error, theorem1_network

# Claims every quick run must pass, by experiment (names as in results.json).
KEY_CLAIMS = {
    "capacity": None,  # all of them
    "memorize": [  # one seed per corruption level in quick mode: the curve over p is too rough
        "true labels reach 100% training accuracy",
        "random labels reach 100% training accuracy",
        "random labels: test accuracy at chance",
        "weight decay does not stop memorization",
        "Theorem 1: 2n + d weights fit any n labels",
    ],
    "grid-vs-random": [
        "one of two matters: random finds the better best most of the time",
        "the advantage comes from the unimportant axis",
    ],
    "lr-importance": ["the learning rate is the most important hyperparameter"],
}


@pytest.fixture
def one_thread():
    # Tiny models on a shared 2-core machine run far faster on one thread than on contended two.
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_list_names_every_written_experiment(capsys):
    assert main(["experiment", "list"]) == 0
    out = capsys.readouterr().out
    for name in KEY_CLAIMS:
        assert name in out


def test_unknown_experiment_is_a_user_error(capsys):
    assert main(["experiment", "nope"]) == 2
    assert "unknown experiment" in capsys.readouterr().err


@pytest.mark.parametrize("name", list(KEY_CLAIMS))
def test_quick_run_writes_report_and_passes_key_claims(name, tmp_path, one_thread, capsys):
    assert main(["experiment", name, "--quick", "--out", str(tmp_path)]) == 0
    assert "report.md" in capsys.readouterr().out
    report = (tmp_path / "report.md").read_text()
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["experiment"] == name and results["quick"] is True
    pngs = list(tmp_path.glob("*.png"))
    assert pngs and all(p.stat().st_size > 10_000 for p in pngs)
    assert all(p.name in report for p in pngs)
    claims = {c["name"]: c for c in results["claims"]}
    for claim in claims.values():
        assert set(claim) == {"name", "criterion", "measured", "passed"}
    required = KEY_CLAIMS[name] or list(claims)
    failed = [f"{c}: {claims[c]['measured']}" for c in required if not claims[c]["passed"]]
    assert not failed, failed


@pytest.mark.parametrize("n", [1, 7, 50, 100])
def test_theorem1_network_fits_random_labels(n):
    error, weights = theorem1_error(n, seed=n)
    assert error < 1e-8
    assert weights == 2 * n + 2


def test_theorem1_network_fits_the_book_random_labels_with_a_relu_mlp():
    rng = np.random.default_rng(0)
    X, y = rng.random((60, 2)), rng.integers(0, 2, 60).astype(float)
    net = theorem1_network(X, y)
    assert isinstance(net[1], torch.nn.ReLU)
    with torch.no_grad():
        fitted = net(torch.tensor(X))[:, 0].numpy()
    assert np.abs(fitted - y).max() < 1e-8
