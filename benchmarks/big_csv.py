"""Loading a 200 MB CSV (2.7 M rows in the book's format): the loader before and after issue 16.

    uv run python benchmarks/big_csv.py [--rows 2700000] [--file /tmp/pointlab-big.csv]
        [--before REV]

Writes the file once (random points, two classes, `numpy.savetxt(fmt="%.18e")` like the book; it
stays in /tmp and is never committed), then loads it in a fresh process with each loader, one after
the other: the loader as it was at git revision REV (`src/pointlab/data.py` of that commit,
imported from a temporary copy) and the one in this tree. Each child reports its wall time and its
peak resident memory (`ru_maxrss`, which includes the Python interpreter and numpy, about 30 MB).
Results are in `benchmarks/README.md`.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

CHILD = """
import importlib.util, json, resource, sys, time
sys.path.insert(0, {src!r})
spec = importlib.util.spec_from_file_location("loader_under_test", {module!r})
module = importlib.util.module_from_spec(spec)
sys.modules["loader_under_test"] = module
spec.loader.exec_module(module)
start = time.perf_counter()
data = module.load_csv({path!r})
wall = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({{"wall": wall, "peak": peak, "n": len(data), "classes": data.n_classes}}))
"""


def make_file(path: Path, rows: int) -> None:
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(rows, 2))
    y = (X[:, 0] * X[:, 1] > 0).astype(np.float64)
    with path.open("wb") as file:
        for start in range(0, rows, 500_000):  # chunks: savetxt of 2.7 M rows at once is slow too
            chunk = np.column_stack([X[start : start + 500_000], y[start : start + 500_000]])
            np.savetxt(file, chunk, fmt="%.18e", delimiter=",")


def measure(module: Path, path: Path) -> dict:
    code = CHILD.format(src=str(ROOT / "src"), module=str(module), path=str(path))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(done.stderr)
    return json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_700_000)
    parser.add_argument(
        "--file", type=Path, default=Path(tempfile.gettempdir()) / "pointlab-big.csv"
    )
    parser.add_argument("--before", default="bd036a0", help="git revision of the old loader")
    args = parser.parse_args()
    if not args.file.exists():
        start = time.perf_counter()
        make_file(args.file, args.rows)
        print(f"wrote {args.file} in {time.perf_counter() - start:.0f} s")
    size = args.file.stat().st_size
    print(
        f"{args.file}: {size / 1e6:.0f} MB; as float32 X + int64 y: {args.rows * 16 / 1e6:.0f} MB"
    )

    old = subprocess.run(
        ["git", "show", f"{args.before}:src/pointlab/data.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    with tempfile.TemporaryDirectory() as tmp:
        old_module = Path(tmp) / "old_data.py"
        old_module.write_text(old)
        for name, module in (
            (f"before ({args.before})", old_module),
            ("after", ROOT / "src/pointlab/data.py"),
        ):
            result = measure(module, args.file)
            print(
                f"{name:>20}: {result['wall']:6.1f} s, peak {result['peak'] / 1e9:.2f} GB "
                f"({result['peak'] / size:.1f}x the file), {result['n']:,} rows"
            )


if __name__ == "__main__":
    main()
