"""What every experiment produces: claims with a verdict, figures, numbers, and a report.

An experiment module defines `NAME` and `run(ctx: Context) -> Report`; its one-line description
lives in the registry (`pointlab.experiments.EXPERIMENTS`), so listing imports no experiment. The
shared `write` turns a Report into `report.md` and `results.json` in the output folder. A failed
claim is a finding, not an error, but the report's words follow the verdicts: `write` opens the
report with how many claims hold and names those that do not, and an experiment's own findings
use `follow(claim, holds, fails, inconclusive)` where a sentence depends on a verdict.

Verdicts are three-way: a claim holds, fails, or is inconclusive (`passed=None`) when the run's
budget is too noisy to tell, e.g. a mean over few seeds whose interval of +- 2 standard errors
straddles the criterion. An inconclusive claim says so in the report instead of failing or
passing by luck; `at_most` and `at_least` decide that for a measured mean and its standard error
(`standard_error` of seeds, `binomial_se` of a share).

A number that turned NaN (a diverged member, an empty mean) settles a claim against it: the claim
fails. NaN compares as False both ways, so without this rule `at_most` would call it
inconclusive, and a criterion written as `not (x > limit)` would call it held; instead `at_most`
and `at_least` return False for a NaN value or standard error, and a `Claim` whose `measured`
holds a NaN (a float, an array, or the text "nan" a format string makes of one) fails whatever
verdict it was given.

Not here: the experiments themselves (the other modules of this package), drawing
(`pointlab.plots`), the exit status of `pointlab experiment --check` (`pointlab.cli`).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pointlab.io import write_atomic


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
    passed: bool | None  # None: inconclusive, the budget's noise cannot settle the criterion

    def __post_init__(self) -> None:
        if has_nan(self.measured):  # a NaN measurement fails the claim (see the module docstring)
            object.__setattr__(self, "passed", False)

    @property
    def verdict(self) -> str:
        """holds | fails | inconclusive"""
        if self.passed is None:
            return "inconclusive"
        return "holds" if self.passed else "fails"


# How Python and numpy print a NaN ("nan", "+nan", "[0.5 nan]"); not the word "NaN" in prose (a
# count of diverged members) nor "nano".
_NAN_TEXT = re.compile(r"(?<![A-Za-z])nan(?![A-Za-z])")


def has_nan(measured: Any) -> bool:
    """Whether a claim's measurement holds a NaN: a float or numpy number, any element of an
    array, list, tuple or dict's values, or "nan" as a word in text (f"{x:.3f}" of a NaN)."""
    if isinstance(measured, str):
        return _NAN_TEXT.search(measured) is not None
    if isinstance(measured, dict):
        return any(has_nan(v) for v in measured.values())
    if isinstance(measured, list | tuple):
        return any(has_nan(v) for v in measured)
    if isinstance(measured, np.ndarray | np.generic):
        return measured.dtype.kind in "fc" and bool(np.isnan(measured).any())
    return isinstance(measured, float) and math.isnan(measured)


def at_most(value: float, limit: float, se: float, z: float = 2.0) -> bool | None:
    """Verdict for "value <= limit" where value is a noisy estimate with standard error se.

    Holds when the whole interval value +- z se lies within the limit, fails when it lies wholly
    beyond; when the interval straddles the limit the budget cannot tell (None: inconclusive).
    A NaN value or standard error fails: something measured turned NaN, which no budget excuses.
    """
    if math.isnan(value) or math.isnan(se):
        return False
    if value + z * se <= limit:
        return True
    return False if value - z * se > limit else None


def at_least(value: float, limit: float, se: float, z: float = 2.0) -> bool | None:
    """Verdict for "value >= limit", as `at_most`."""
    return at_most(-value, -limit, se, z)


def standard_error(values) -> float:
    """Standard error of the mean of `values` (sample standard deviation / sqrt n); infinite for
    a single value, which settles nothing."""
    values = np.asarray(values, dtype=float).ravel()
    return float(values.std(ddof=1) / np.sqrt(len(values))) if len(values) > 1 else float("inf")


# Two-sided 95% quantiles of Student's t by degrees of freedom; past 30 the normal's ~2 is close.
_T95 = {1: 12.71, 2: 4.30, 3: 3.18, 4: 2.78, 5: 2.57, 6: 2.45, 7: 2.36, 8: 2.31, 9: 2.26, 10: 2.23}
_T95_MORE = ((15, 2.13), (20, 2.09), (30, 2.04))


def t_factor(df: int) -> float:
    """How many standard errors wide a 95% interval is when the standard error itself comes from
    few values (df = values - groups): with two seeds a side, 4.3, not 2; 2.0 from 30 on."""
    if df < 1:
        return float("inf")
    if df in _T95:
        return _T95[df]
    for limit, factor in _T95_MORE:
        if df <= limit:
            return factor
    return 2.0


def binomial_se(share: float, n: int) -> float:
    """Standard error of a share of n trials; a share of 0 or 1 still has the uncertainty of one
    trial more (the rule of three's spirit), so six successes of six is not certainty."""
    share = min(max(share, 0.5 / n), 1 - 0.5 / n)
    return float(np.sqrt(share * (1 - share) / n))


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

    @property
    def failed(self) -> list[Claim]:
        return [c for c in self.claims if c.passed is False]

    @property
    def inconclusive(self) -> list[Claim]:
        return [c for c in self.claims if c.passed is None]

    def verdict(self) -> str:
        """One sentence: how many claims hold, which fail, which the budget cannot settle."""
        n, failed, unsettled = len(self.claims), self.failed, self.inconclusive
        if not failed and not unsettled:
            return f"All {n} claims hold." if n != 1 else "The claim holds."
        if n == 1:
            if failed:
                return f"The claim does not hold: {_names(failed)}."
            return f"The claim is inconclusive at this budget: {_names(unsettled)}."
        sentence = f"{self.count('holds')} of {n} claims hold"
        if failed:
            these = "this one does" if len(failed) == 1 else "these do"
            sentence += f"; {these} not: {_names(failed)}"
        if unsettled:
            these = "this one is" if len(unsettled) == 1 else "these are"
            sentence += f"; {these} inconclusive at this budget: {_names(unsettled)}"
        return sentence + "."


def _names(claims: list[Claim]) -> str:
    return "; ".join(f"“{c.name}”" for c in claims)


_HOLDS = {"holds": "yes", "fails": "NO", "inconclusive": "inconclusive at this budget"}


def follow(claim: Claim, holds: str, fails: str, inconclusive: str | None = None) -> str:
    """The words that match `claim`'s verdict: a finding never says that a failed claim holds, nor
    that an inconclusive one holds or fails (without words of its own it says the budget cannot
    tell)."""
    if claim.passed is None:
        if inconclusive is not None:
            return inconclusive
        return f"At this budget the measurement cannot settle “{claim.name}” either way."
    return holds if claim.passed else fails


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def write(report: Report, out: Path, name: str, quick: bool) -> None:
    """report.md and results.json into `out` (which already holds the figures), each written
    whole (`io.write_atomic`): a reader never finds half a file."""
    out.mkdir(parents=True, exist_ok=True)
    results = {
        "experiment": name,
        "quick": quick,
        "title": report.title,
        "passed": report.passed,
        "verdict": report.verdict(),
        "claims": [{**asdict(c), "verdict": c.verdict} for c in report.claims],
        "numbers": report.numbers,
    }
    text = json.dumps(results, indent=2, default=_json_default) + "\n"
    write_atomic(out / "results.json", lambda file: file.write(text.encode()))
    lines = [f"# {report.title}", "", f"**Verdict: {report.verdict()}**", ""]
    if quick:
        lines += ["*Quick version (reduced budgets, for tests): numbers are rougher.*", ""]
    lines += ["## The claim", "", report.claim, "", "## What was run", "", report.method, ""]
    lines += [
        "## Verdict",
        "",
        report.verdict()
        + ("" if report.passed else " The findings below say what was measured instead.")
        + (
            " A bigger budget (without --quick, more --seeds) may settle what is inconclusive."
            if report.inconclusive
            else ""
        ),
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
    markdown = "\n".join(lines)
    write_atomic(out / "report.md", lambda file: file.write(markdown.encode()))


def _json_default(value: Any):
    try:  # numpy scalars and arrays
        return value.tolist()
    except AttributeError:
        return str(value)
