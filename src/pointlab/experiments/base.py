"""What every experiment produces: claims with a verdict, figures, numbers, and a report.

The one statistical rule, for every claim about a noisy number: `at_least(value, limit, se, df)`
(or `at_most`), where `df` is the degrees of freedom of `se`: a mean over seeds is
`mean_at_least(x, limit)`, that is `at_least(x.mean(), limit, standard_error(x), len(x) - 1)`
(`mean_interval(x)` gives its mean and the half-width shown beside it, `all_of` joins the
verdicts of a claim made of several criteria), a difference of independent groups
takes its `se, df` from `combined_se((se_a, df_a), (se_b, df_b))` (of two groups of per-seed
values: `difference_se(a, b)`), a share of n trials
`binomial_se(share, n)` with `df=math.inf`.

An experiment module defines `NAME` and `run(ctx: Context) -> Report`; its one-line description
lives in the registry (`pointlab.experiments.EXPERIMENTS`), so listing imports no experiment. The
shared `write` turns a Report into `report.md` and `results.json` in the output folder, which
`staged` builds beside the old one and swaps in at the end (`check_output` refuses, before
anything trains, a folder that cannot be replaced so). A failed claim is a finding, not an error,
but the report's words follow the verdicts: `write` opens the report with how many claims hold
and names those that do not, and an experiment's own findings use `follow(claim, holds, fails,
inconclusive)` where a sentence depends on a verdict.

Verdicts are three-way: a claim holds, fails, or is inconclusive (`passed=None`) when the run's
budget is too noisy to tell: the two-sided 95% interval of the measured number straddles the
criterion. An inconclusive claim says so in the report instead of failing or passing by luck.
The interval is value +- t se, with t Student's quantile for the degrees of freedom the standard
error was estimated with (`t_quantile`): a standard deviation from 3 seeds is itself a rough
guess, and the fixed 2 standard errors used before held claims on the luck of a small spread
(t is 4.30 for 3 seeds, 2.78 for 5, 2.36 for 8, and reaches the normal's 1.96 for many).
- A mean over n seeds: df = n - 1 (`standard_error`). Paired by seed: the differences' mean.
- Independent groups (a difference, a ratio to first order, any sum of scaled means): the
  Welch-Satterthwaite degrees of freedom of the combined standard error (`combined_se`).
- A fitted slope over n points: df = n - 2.
- A bootstrap standard error over seeds: the df of the plain one (seeds - 1, or both groups'
  seeds - 2 for a difference of two groups).
- A share of n trials (`binomial_se`): df = math.inf, the normal quantile. Its variance follows
  from the share itself rather than from a spread estimated from the same few values, which is
  what Student's t corrects for; instead the share is kept half a trial from 0 and 1, so that 6 of
  6 is not taken for certainty. This Wald interval runs a little narrow for few trials near 0 or
  1; the experiments' shares come from 20 to 20,000 trials.

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

import glob
import json
import math
import os
import re
import shutil
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pointlab.errors import UserError
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


def at_most(value: float, limit: float, se: float, df: float) -> bool | None:
    """Verdict for "value <= limit" where value is a noisy estimate with standard error se,
    estimated with df degrees of freedom (math.inf: the normal's quantile).

    Holds when the whole two-sided 95% interval (`interval`) lies within the limit, fails when
    it lies wholly beyond; when it straddles the limit the budget cannot tell (None:
    inconclusive). A NaN value or standard error fails: something measured turned NaN, which no
    budget excuses.
    """
    if math.isnan(value) or math.isnan(se):
        return False
    low, high = interval(value, se, df)
    if high <= limit:
        return True
    return False if low > limit else None


def at_least(value: float, limit: float, se: float, df: float) -> bool | None:
    """Verdict for "value >= limit", as `at_most`."""
    return at_most(-value, -limit, se, df)


def interval(value: float, se: float, df: float) -> tuple[float, float]:
    """The two-sided 95% interval value +- t se, t from Student's t with df degrees of freedom."""
    half = t_quantile(df) * se if se > 0 else 0.0  # inf * 0 would be NaN
    return value - half, value + half


def mean_at_least(values, limit: float) -> bool | None:
    """Verdict for "the mean of per-seed values >= limit": `at_least` with the mean's standard
    error and df = len(values) - 1 (one value settles nothing; a NaN fails)."""
    values = np.asarray(values, dtype=float).ravel()
    return at_least(float(values.mean()), limit, standard_error(values), len(values) - 1)


def mean_at_most(values, limit: float) -> bool | None:
    """Verdict for "the mean of per-seed values <= limit", as `mean_at_least`."""
    values = np.asarray(values, dtype=float).ravel()
    return at_most(float(values.mean()), limit, standard_error(values), len(values) - 1)


def mean_interval(values) -> tuple[float, float]:
    """(mean, half-width of its 95% interval) of per-seed values: the half-width is t se with t
    for len(values) - 1 degrees of freedom; infinite for a single value, NaN where one is NaN."""
    values = np.asarray(values, dtype=float).ravel()
    return float(values.mean()), t_quantile(len(values) - 1) * standard_error(values)


def mean_text(values, digits: int = 3) -> str:
    """The mean of per-seed values with its 95% t interval's half-width: "+0.123 +- 0.045"."""
    mean, half = mean_interval(values)
    return f"{mean:+.{digits}f} +- {half:.{digits}f}"


def all_of(verdicts: Iterable[bool | None]) -> bool | None:
    """Verdict of a claim made of several criteria: it holds when all hold, fails when any
    fails, and is otherwise (some inconclusive) inconclusive."""
    verdicts = list(verdicts)
    if any(v is False for v in verdicts):
        return False
    return None if any(v is None for v in verdicts) else True


def standard_error(values) -> float:
    """Standard error of the mean of `values` (sample standard deviation / sqrt n); infinite for
    a single value, which settles nothing. Its degrees of freedom: len(values) - 1."""
    values = np.asarray(values, dtype=float).ravel()
    return float(values.std(ddof=1) / np.sqrt(len(values))) if len(values) > 1 else float("inf")


def combined_se(*parts: tuple[float, float]) -> tuple[float, float]:
    """Standard error and degrees of freedom of a sum of independent estimates, each part given as
    (its standard error, its df) with any coefficient already applied to the standard error (for
    a - b pass (se_a, df_a), (se_b, df_b); for c a pass (|c| se_a, df_a)). The degrees of freedom
    are Welch-Satterthwaite's: near the sum of the parts' when they are alike, near the noisiest
    part's when it dominates."""
    se = math.sqrt(sum(s * s for s, _ in parts))
    if not math.isfinite(se) or se == 0:  # NaN fails, infinite settles nothing, 0 is exact
        return se, math.inf
    if any(s > 0 and d <= 0 for s, d in parts):  # a part from a single value
        return se, 0.0
    denominator = sum(s**4 / d for s, d in parts if s > 0 and math.isfinite(d))
    return se, se**4 / denominator if denominator > 0 else math.inf


def difference_se(a, b) -> tuple[float, float]:
    """Standard error and degrees of freedom of mean(a) - mean(b), a and b independent groups of
    per-seed values: `combined_se` of each mean's (standard_error, len - 1)."""
    return combined_se((standard_error(a), len(a) - 1), (standard_error(b), len(b) - 1))


def t_quantile(df: float, level: float = 0.95) -> float:
    """The two-sided `level` quantile of Student's t with df degrees of freedom (df may be
    fractional, as Welch's is): 12.71 for df 1, 4.30 for 2, 2.78 for 4, 1.96 as df grows without
    bound; infinite for df <= 0 (a standard error from one value settles nothing). By bisection on
    the distribution function, to about 1e-9 (scipy is not a dependency)."""
    if math.isnan(df) or df <= 0:
        return math.inf
    p = (1 + level) / 2  # one-sided
    if math.isinf(df) or df > 1e7:
        return _normal_quantile(p)
    low, high = 0.0, 1.0
    while _t_cdf(high, df) < p:
        high *= 2
    for _ in range(100):
        mid = (low + high) / 2
        low, high = (mid, high) if _t_cdf(mid, df) < p else (low, mid)
    return (low + high) / 2


def _normal_quantile(p: float) -> float:
    low, high = 0.0, 10.0
    for _ in range(100):
        mid = (low + high) / 2
        low, high = (mid, high) if 0.5 * math.erfc(-mid / math.sqrt(2)) < p else (low, mid)
    return (low + high) / 2


def _t_cdf(t: float, df: float) -> float:
    """P(T <= t) for t >= 0: 1 - I_x(df/2, 1/2) / 2 with x = df / (df + t^2)."""
    return 1 - 0.5 * _incomplete_beta(df / (df + t * t), df / 2, 0.5)


def _incomplete_beta(x: float, a: float, b: float) -> float:
    """The regularized incomplete beta function I_x(a, b), by its continued fraction (Lentz's
    method, as in Numerical Recipes' betacf)."""
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    front = math.exp(
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    if x > (a + 1) / (a + b + 2):  # the fraction converges fast only below this point
        return 1 - _incomplete_beta(1 - x, b, a)
    tiny = 1e-300
    c, d = 1.0, 1 - (a + b) * x / (a + 1)
    d = 1 / (d if abs(d) > tiny else tiny)
    f = d
    for m in range(1, 300):
        for numerator in (
            m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1)),
        ):
            d = 1 + numerator * d
            d = 1 / (d if abs(d) > tiny else tiny)
            c = 1 + numerator / c
            c = c if abs(c) > tiny else tiny
            f *= c * d
        if abs(c * d - 1) < 1e-15:
            break
    return front * f / a


def binomial_se(share: float, n: int) -> float:
    """Standard error of a share of n trials; a share of 0 or 1 still has the uncertainty of one
    trial more (the rule of three's spirit), so six successes of six is not certainty. Its
    degrees of freedom: math.inf (see the module docstring)."""
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
    folder: Path | None = None  # where `write` put it, beside its figures

    def __repr__(self) -> str:
        from pointlab.notebook import report_text

        return report_text(self)

    def _repr_html_(self) -> str:  # Jupyter's rich display
        from pointlab.notebook import report_html

        return report_html(self)

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


def table_cell(text: str) -> str:
    """`text` as one cell of a Markdown table: a bare `|` (as in `|test acc - 1/2| <= 0.06`)
    would end the cell and push the rest of the row out of the table, so it is escaped (`\\|`);
    a line break would end the row, so it becomes a space."""
    return re.sub(r"(?<!\\)\|", r"\\|", " ".join(str(text).splitlines()))


def write(report: Report, out: Path, name: str, quick: bool) -> None:
    """report.md and results.json into `out` (which already holds the figures), each written
    whole (`io.write_atomic`): a reader never finds half a file."""
    out.mkdir(parents=True, exist_ok=True)
    report.folder = out
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
        cells = (c.name, c.criterion, _fmt(c.measured), _HOLDS[c.verdict])
        lines.append("| " + " | ".join(map(table_cell, cells)) + " |")
    lines.append("")
    if report.findings:
        lines += ["## Findings", "", report.findings, ""]
    if report.figures:
        lines += ["## Figures", ""]
        for file, caption in report.figures:
            lines += [f"![{caption}]({file})", "", f"*{caption}*", ""]
    markdown = "\n".join(lines)
    write_atomic(out / "report.md", lambda file: file.write(markdown.encode()))


def check_output(out: Path) -> None:
    """Refuse, before anything trains, an output folder that `staged` could not replace whole: a
    file, a folder holding the current one, or one holding files that are not an experiment's
    report (they would be lost with the old run)."""
    for folder in (out, *out.parents):
        if folder.exists() and not folder.is_dir():
            raise UserError(f"{out}: {folder} is a file, not a folder")
    if not out.is_dir():
        return
    here = Path.cwd().resolve()
    if out.resolve() == here or out.resolve() in here.parents:
        raise UserError(f"{out}: holds the current folder; give another folder")
    names = sorted(p.name for p in out.iterdir())
    if names and not _is_report(out / "results.json"):
        shown = ", ".join(names[:3]) + (", ..." if len(names) > 3 else "")
        raise UserError(
            f"{out}: is not empty ({shown}) and holds no experiment's report; give a new or "
            "empty folder (nothing was written)"
        )


@contextmanager
def staged(out: Path) -> Iterator[Path]:
    """A new sibling folder of `out` to write a whole run into; when the block ends, it takes the
    place of `out` (the old run is removed after), so `out` holds one whole run, old or new, and
    never a new figure beside an old report. When the block raises (Ctrl-C included) the new
    folder is removed and `out` is as it was. Leftovers of a process killed outright (named
    `.NAME.new-PID`, `.NAME.old-PID`) are removed on the next use once that process is gone."""
    new = out.parent / f".{out.name}.new-{os.getpid()}"
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        _remove_leftovers(out)
        shutil.rmtree(new, ignore_errors=True)
        new.mkdir()
    except OSError as error:
        raise UserError(f"{out}: cannot create the folder: {error.strerror or error}") from None
    try:
        yield new
    except BaseException:
        shutil.rmtree(new, ignore_errors=True)
        raise
    old = out.parent / f".{out.name}.old-{os.getpid()}"
    if out.exists():
        out.rename(old)
    new.rename(out)
    shutil.rmtree(old, ignore_errors=True)


def _is_report(path: Path) -> bool:
    try:
        return "experiment" in json.loads(path.read_text())
    except (OSError, ValueError, TypeError):
        return False


def _remove_leftovers(out: Path) -> None:
    for kind in ("new", "old"):
        for path in out.parent.glob(f".{glob.escape(out.name)}.{kind}-*"):
            pid = path.name.rsplit("-", 1)[1]
            if pid.isdigit() and not _alive(int(pid)):
                shutil.rmtree(path, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # someone else's process
        return True
    return True


def _json_default(value: Any):
    try:  # numpy scalars and arrays
        return value.tolist()
    except AttributeError:
        return str(value)
