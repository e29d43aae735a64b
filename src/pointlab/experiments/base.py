"""What every experiment produces: claims with a verdict, figures, numbers, and a report.

An experiment module defines `NAME`, `SUMMARY` (one line for `pointlab experiment list`) and
`run(ctx: Context) -> Report`. The shared `write` turns a Report into `report.md` and
`results.json` in the output folder. A failed claim is a finding, not an error.

Verdicts are three-way: a claim holds, fails, or is inconclusive (`passed=None`) when the run's
budget is too noisy to tell, e.g. a mean over few seeds whose interval of +- 2 standard errors
straddles the criterion. An inconclusive claim says so in the report instead of failing or
passing by luck; `at_most` and `at_least` decide that for a measured mean and its standard error.

Not here: the drawing (`pointlab.plots`, `experiments/figures*.py`), the CLI table
(`pointlab.cli.experiment_cmd`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Context:
    """How to run: where to write, how big, how many seeds, on which device."""

    out: Path
    quick: bool = False
    seeds: int = 1
    device: str = "cpu"
    progress: Callable[[str], None] | None = None  # short status lines for the CLI to show

    def say(self, message: str) -> None:
        if self.progress is not None:
            self.progress(message)


@dataclass(frozen=True)
class Claim:
    name: str  # short, e.g. "random labels reach 100% training accuracy"
    criterion: str  # what was checked, e.g. "train accuracy >= 0.99"
    measured: Any  # the number (or short text) that was measured
    passed: bool | None  # None: inconclusive, the budget's noise cannot settle the criterion

    @property
    def verdict(self) -> str:
        """holds | fails | inconclusive"""
        if self.passed is None:
            return "inconclusive"
        return "holds" if self.passed else "fails"


def at_most(value: float, limit: float, se: float, z: float = 2.0) -> bool | None:
    """Verdict for "value <= limit" where value is a noisy estimate with standard error se.

    Holds when the whole interval value +- z se lies within the limit, fails when it lies wholly
    beyond; when the interval straddles the limit the budget cannot tell (None: inconclusive).
    """
    if value + z * se <= limit:
        return True
    return False if value - z * se > limit else None


def at_least(value: float, limit: float, se: float, z: float = 2.0) -> bool | None:
    """Verdict for "value >= limit", as `at_most`."""
    return at_most(-value, -limit, se, z)


@dataclass
class Report:
    title: str
    claim: str  # what was claimed, by whom (with the citation)
    method: str  # markdown: what was run (data, models, budgets, seeds)
    claims: list[Claim]
    figures: list[tuple[str, str]] = field(default_factory=list)  # (file name in out, caption)
    findings: str = ""  # markdown: the numbers and what they mean, incl. claims that do not hold
    numbers: dict[str, Any] = field(default_factory=dict)  # everything measured, for results.json

    @property
    def passed(self) -> bool:
        """No claim fails (inconclusive ones do not count against the report)."""
        return all(c.passed is not False for c in self.claims)

    def count(self, verdict: str) -> int:
        return sum(c.verdict == verdict for c in self.claims)


_HOLDS = {"holds": "yes", "fails": "NO", "inconclusive": "inconclusive at this budget"}


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def write(report: Report, out: Path, name: str, quick: bool) -> None:
    """report.md and results.json into `out` (which already holds the figures)."""
    out.mkdir(parents=True, exist_ok=True)
    results = {
        "experiment": name,
        "quick": quick,
        "title": report.title,
        "passed": report.passed,
        "claims": [{**asdict(c), "verdict": c.verdict} for c in report.claims],
        "numbers": report.numbers,
    }
    (out / "results.json").write_text(json.dumps(results, indent=2, default=_json_default) + "\n")
    lines = [f"# {report.title}", ""]
    if quick:
        lines += ["*Quick version (reduced budgets, for tests): numbers are rougher.*", ""]
    lines += ["## The claim", "", report.claim, "", "## What was run", "", report.method, ""]
    lines += [
        "## Verdict",
        "",
        "| claim | criterion | measured | holds |",
        "| --- | --- | --- | --- |",
    ]
    for c in report.claims:
        lines.append(f"| {c.name} | {c.criterion} | {_fmt(c.measured)} | {_HOLDS[c.verdict]} |")
    lines.append("")
    if report.findings:
        lines += ["## Findings", "", report.findings, ""]
    if report.figures:
        lines += ["## Figures", ""]
        for file, caption in report.figures:
            lines += [f"![{caption}]({file})", "", f"*{caption}*", ""]
    (out / "report.md").write_text("\n".join(lines))


def _json_default(value: Any):
    try:  # numpy scalars and arrays
        return value.tolist()
    except AttributeError:
        return str(value)
