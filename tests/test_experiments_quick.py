"""Every experiment's `--quick` run, in-process: a report, its figures, results.json, and no claim
that fails. A claim that a quick budget cannot settle must say so (verdict "inconclusive"), never
fail or pass by luck (issue 14).

This file is the only place the quick runs happen, so the suite pays for each once. Together they
take about 3.5 minutes (one thread, idle 2-core machine); the longer ones (`SLOW`, seconds each)
are marked `slow`, so the fast lane (`uv run pytest -m "not slow"`) runs only the short ones.
A claim whose numbers turned NaN fails (`experiments/base.py`), so a run that diverges fails here.
"""

from __future__ import annotations

import json

import pytest

from pointlab import experiments
from pointlab.cli import main

from conftest import is_png

pytestmark = pytest.mark.usefixtures("one_thread")

# Quick runs longer than a few seconds (measured on the idle 2-core machine, one thread) are `slow`:
# the full suite (`uv run pytest`, CI) runs them, the fast lane (`-m "not slow"`) does not.
SLOW = {
    "memorize": 95,
    "lottery": 44,
    "grid-vs-random": 19,
    "capacity": 13,
    "batch-noise": 8,
    "lr-importance": 8,
    "landscape": 5,
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
