"""What every experiment produces: claims with a verdict, figures, numbers, and a report.

An experiment module defines `NAME` and `run(ctx: Context) -> Report`; its one-line description
lives in the registry (`pointlab.experiments.EXPERIMENTS`), so listing imports no experiment. The
shared `write` turns a Report into `report.md` and `results.json` in the output folder. A failed
claim is a finding, not an error, but the report's words follow the verdicts: `write` opens the
report with how many claims hold and names those that do not, and an experiment's own findings
use `follow(claim, holds, fails)` where a sentence depends on a verdict.

Not here: the experiments themselves (the other modules of this package), drawing
(`pointlab.plots`), the exit status of `pointlab experiment --check` (`pointlab.cli`).
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

    def path(self, name: str) -> Path:
        """Where the file `name` (a figure) goes: in `out`, created if need be."""
        self.out.mkdir(parents=True, exist_ok=True)
        return self.out / name

    def seed_count(self, calibrated: int) -> int:
        """Seeds per condition: quick mode keeps the experiment's calibrated count (its tests rely
        on it); the full version takes more when asked (`--seeds`), never fewer."""
        return calibrated if self.quick else max(calibrated, self.seeds)


@dataclass(frozen=True)
class Claim:
    name: str  # short, e.g. "random labels reach 100% training accuracy"
    criterion: str  # what was checked, e.g. "train accuracy >= 0.99"
    measured: Any  # the number (or short text) that was measured
    passed: bool


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
        return all(c.passed for c in self.claims)

    @property
    def failed(self) -> list[Claim]:
        return [c for c in self.claims if not c.passed]

    def verdict(self) -> str:
        """One sentence: how many claims hold, and which do not."""
        n = len(self.claims)
        if not self.failed:
            return f"All {n} claims hold." if n != 1 else "The claim holds."
        names = "; ".join(f"“{c.name}”" for c in self.failed)
        held = n - len(self.failed)
        if n == 1:
            return f"The claim does not hold: {names}."
        these = "this one does" if len(self.failed) == 1 else "these do"
        return f"{held} of {n} claims hold; {these} not: {names}."


def follow(claim: Claim, holds: str, fails: str) -> str:
    """The words that match `claim`'s verdict: a finding never says that a failed claim holds."""
    return holds if claim.passed else fails


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
        "verdict": report.verdict(),
        "claims": [asdict(c) for c in report.claims],
        "numbers": report.numbers,
    }
    (out / "results.json").write_text(json.dumps(results, indent=2, default=_json_default) + "\n")
    lines = [f"# {report.title}", "", f"**Verdict: {report.verdict()}**", ""]
    if quick:
        lines += ["*Quick version (reduced budgets, for tests): numbers are rougher.*", ""]
    lines += ["## The claim", "", report.claim, "", "## What was run", "", report.method, ""]
    lines += [
        "## Verdict",
        "",
        report.verdict()
        + ("" if report.passed else " The findings below say what was measured instead."),
        "",
        "| claim | criterion | measured | holds |",
        "| --- | --- | --- | --- |",
    ]
    for c in report.claims:
        lines.append(
            f"| {c.name} | {c.criterion} | {_fmt(c.measured)} | {'yes' if c.passed else 'NO'} |"
        )
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
