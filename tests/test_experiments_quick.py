"""Every experiment's `--quick` run, in-process: a report, its figures, results.json, and no claim
that fails. A claim that a quick budget cannot settle must say so (verdict "inconclusive"), never
fail or pass by luck (issue 14); a claim whose numbers turned NaN fails (`experiments/base.py`), so
a quick run that diverges fails here.

This file is the only place the quick runs happen, so the suite pays for each once (and for
`depth` once more, with its training turned NaN). Together they took about 3.5 minutes in the
full-suite run of `benchmarks/README.md` (one thread, 2-core machine); the longer ones (`SLOW`,
seconds each) are marked `slow`, so the fast lane (`uv run pytest -m "not slow"`) runs only the
short ones.
"""

from __future__ import annotations

import json

import pytest

from pointlab import experiments
from pointlab.cli import main

from conftest import is_png

pytestmark = pytest.mark.usefixtures("one_thread")

# Quick runs longer than a few seconds (that run, one thread) are `slow`: the full suite
# (`uv run pytest`, CI) runs them, the fast lane (`-m "not slow"`) does not.
SLOW = {
    "memorize": 95,
    "lottery": 44,
    "grid-vs-random": 19,
    "capacity": 13,
    "class-imbalance": 14,
    "batch-noise": 8,
    "lr-importance": 8,
    "landscape": 5,
    "adversarial": 8,
    "data-requirements": 12,
    "skip-connections": 25,
    "normalization": 7,
    "generative-ablations": 10,
}
NAMES = [
    pytest.param(name, marks=pytest.mark.slow) if name in SLOW else name
    for name in experiments.EXPERIMENTS
]


@pytest.mark.parametrize("name", NAMES)
def test_quick_run_reports_and_no_claim_fails(name, tmp_path, capsys):
    out = tmp_path / name
    # --check: status 1 if a claim fails, 0 when every claim holds or is inconclusive
    assert main(["experiment", name, "--quick", "--check", "--out", str(out)]) == 0
    assert "report.md" in capsys.readouterr().out
    results = json.loads((out / "results.json").read_text())
    assert results["experiment"] == name and results["quick"] is True
    claims = results["claims"]
    assert claims
    for claim in claims:
        assert set(claim) == {"name", "criterion", "measured", "passed", "verdict"}
        assert claim["verdict"] in ("holds", "fails", "inconclusive")
        assert (claim["passed"] is None) == (claim["verdict"] == "inconclusive")
    failed = [f"{c['name']}: {c['measured']}" for c in claims if c["verdict"] == "fails"]
    assert not failed, failed
    assert results["passed"] is True
    report = (out / "report.md").read_text()
    assert "## Verdict" in report and f"**Verdict: {results['verdict']}**" in report
    for claim in claims:  # the words follow the verdicts: each unsettled claim is named as such
        if claim["verdict"] == "inconclusive":
            assert f"“{claim['name']}”" in results["verdict"] and "inconclusive" in report
    if name == "double-descent":  # quick budgets cannot show the MLP curve: no panel, and it says
        assert "left out of the quick version" in report
        assert "mlp_test_error" not in results["numbers"]
    figures = sorted(out.glob("*.png"))
    assert figures
    for figure in figures:
        assert is_png(figure)
        assert figure.stat().st_size > 10_000  # a drawn figure, not an empty canvas
        assert f"]({figure.name})" in report


@pytest.mark.slow  # the depth quick run a second time: ~3 s alone, ~8 s at load 6
def test_a_quick_run_whose_training_turns_nan_fails_its_check(tmp_path, monkeypatch, capsys):
    """`depth` with every trained member's history NaN (as if all diverged): its claim on trained
    networks measures "+nan +- nan", which the interval test alone called inconclusive (exit 0)."""
    from pointlab import engine

    train = engine.train

    def diverged(*args, **kwargs):
        results = train(*args, **kwargs)
        for result in results:
            for metric in ("train_loss", "train_acc", "val_loss", "val_acc"):
                result.history[metric][:] = [float("nan")] * len(result.history[metric])
        return results

    monkeypatch.setattr(engine, "train", diverged)
    out = tmp_path / "depth"
    assert main(["experiment", "depth", "--quick", "--check", "--out", str(out)]) == 1
    claims = json.loads((out / "results.json").read_text())["claims"]
    failed = [c for c in claims if c["verdict"] == "fails"]
    assert failed and all("nan" in str(c["measured"]) for c in failed)
    assert " not: " in " ".join(capsys.readouterr().out.split())  # names the claims that fail
