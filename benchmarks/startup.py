"""Start-up of `pointlab` commands (issue 15 part 1): the wall time of a fresh process, before and
after, side by side in one run; results go to benchmarks/STARTUP.md.

    uv run python benchmarks/startup.py [--before REV] [--repeats 5]

"Before" is a git revision of this repository (default: the last commit before the lazy imports)
checked out into a temporary worktree with its own virtual environment (`uv sync --frozen`);
"after" is this checkout. Each command runs from the installed `pointlab` script of each
environment (no `uv run` in the timing), before and after alternating, `--repeats` times each;
the table gives the medians. Commands that fail on purpose (a bad file) are timed to their error.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "STARTUP.md"
BEFORE = "5fe070d"  # main before issue 15's lazy imports (2026-11-22)

COMMANDS = [
    ("pointlab --help", ["--help"]),
    ("pointlab train --help", ["train", "--help"]),
    ("pointlab sweep --help", ["sweep", "--help"]),
    ("pointlab experiment list", ["experiment", "list"]),
    ("pointlab data show bad.csv (line 2 is not a number)", ["data", "show", "{bad}"]),
    ("pointlab train bad.csv", ["train", "{bad}"]),
    (
        "pointlab train curve.csv --epochs 1",
        ["train", "{curve}", "--epochs", "1", "--out", "{out}"],
    ),
]


def environment(rev: str, where: Path) -> Path:
    """A worktree of `rev` with its own synced venv; returns its `pointlab` script."""
    subprocess.run(
        ["git", "worktree", "add", "-q", "--detach", str(where), rev], cwd=ROOT, check=True
    )
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    subprocess.run(["uv", "sync", "--frozen", "-q"], cwd=where, check=True, env=env)
    return where / ".venv" / "bin" / "pointlab"


def timed(script: Path, argv: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run([str(script), *argv], cwd=cwd, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default=BEFORE, help=f"git revision (default: {BEFORE})")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    rev = subprocess.run(
        ["git", "rev-parse", "--short", args.before], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    after = ROOT / ".venv" / "bin" / "pointlab"
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        before = environment(args.before, work / "before")
        bad = work / "bad.csv"
        bad.write_text("0.1,0.2,0\n0.3,oops,1\n")
        fill = {"bad": str(bad), "curve": str(ROOT / "data" / "curve.csv")}
        rows = []
        try:
            for name, argv in COMMANDS:
                times: dict[str, list[float]] = {"before": [], "after": []}
                for i in range(args.repeats):
                    for side, script in (("before", before), ("after", after)):
                        out = str(work / f"run-{side}-{i}")
                        cmd = [a.format(**fill, out=out) for a in argv]
                        times[side].append(timed(script, cmd, work))
                b, a = statistics.median(times["before"]), statistics.median(times["after"])
                rows.append(f"| `{name}` | {b:.2f} | {a:.2f} | {b / a:.1f}x |")
                print(rows[-1], flush=True)
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(work / "before")], cwd=ROOT)
    load = os.getloadavg()
    lines = [
        "# Start-up of `pointlab` commands",
        "",
        f"`uv run python benchmarks/startup.py` on {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC. Wall time "
        f"of a fresh process, median of {args.repeats}, before ({rev}, every command imported "
        "torch, matplotlib and Optuna first) and after (this tree), alternating. Load average "
        f"at the end: {load[0]:.2f}, {load[1]:.2f}, {load[2]:.2f}.",
        "",
        "| command | before (s) | after (s) | speed-up |",
        "| --- | ---: | ---: | ---: |",
        *rows,
    ]
    OUT.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
