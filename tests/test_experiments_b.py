"""Experiments schedules, batch-lr, double-descent and universal in quick mode: report, figures
and results.json; the schedule functions equal torch's schedulers.

Claims checked: those that pass reliably in quick mode (see each experiment's report for the rest:
double-descent's label-noise and MLP-peak claims and batch-lr's are findings, not guarantees).
"""

from __future__ import annotations

import json

import pytest
import torch

from pointlab.cli import main
from pointlab.experiments.schedules import torch_agreement

RELIABLE = {
    "schedules": {
        "schedules equal torch.optim.lr_scheduler",
        "cosine ends lower than constant",
        "a peak lr that fails without warmup trains with it",
    },
    "batch-lr": {
        "without scaling, the epoch budget fails at k = 8",
        "linear scaling + warmup holds up to some k, then breaks",
    },
    "double-descent": {
        "random features: the test error peaks at N = n",
        "and falls again far beyond",
    },
    "universal": {
        "error falls as one hidden layer widens",
        "training also improves with width at first",
    },
}


@pytest.fixture(autouse=True)
def one_thread():
    # Tiny populations on a shared 2-core machine: two torch threads fight for the cores and run
    # several times slower than one (measured: 7.6 s against 0.08 s for one small run).
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_schedules_equal_torch_schedulers():
    assert torch_agreement() < 1e-9


@pytest.mark.parametrize("name", list(RELIABLE))
def test_experiment_quick(name, tmp_path):
    out = tmp_path / name
    assert main(["experiment", name, "--quick", "--out", str(out)]) == 0
    results = json.loads((out / "results.json").read_text())
    assert results["experiment"] == name and results["quick"]
    claims = {c["name"]: c for c in results["claims"]}
    for claim in RELIABLE[name]:
        assert claims[claim]["passed"], claims[claim]
    text = (out / "report.md").read_text()
    assert "## Verdict" in text
    if (
        name == "double-descent"
    ):  # quick budgets cannot show the MLP curve: no panel, and it says so
        assert "MLP width sweep: a model-wise peak" not in claims
        assert (
            "left out of the quick version" in text and "mlp_test_error" not in results["numbers"]
        )
    figures = sorted(out.glob("*.png"))
    assert figures
    for figure in figures:
        assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"]({figure.name})" in text
