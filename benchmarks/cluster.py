"""Benchmark of sweeps on a Ray cluster (issue 12); results go to benchmarks/CLUSTER.md.

    uv run python benchmarks/cluster.py

The same 64-trial sweep (`--space lr=loguniform(1e-3,3e-1) --layers 32,32 --epochs 4000` on the
book's curve.csv, random strategy, seed 0), trained four ways, side by side in one run:
- in process, torch on one thread (the baseline a Ray task with one CPU competes with);
- on a one-node Ray cluster with 1 CPU (one task: the 64 trials as one population);
- the same, with `--batch 8`, so eight claims each ship one population of eight trials: the
  difference from in-process training with the same batches is Ray's overhead per task;
- on a two-node Ray cluster with 1 CPU a node (two tasks of 32 trials, one a node).
The speed-up of two nodes over one is ideally 2x. Each node is a real `ray start` process group on
this machine (127.0.0.2 and 127.0.0.3), stopped by its process group afterwards.
"""

from __future__ import annotations

import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import servers  # noqa: E402
from pointlab.config import TrainConfig  # noqa: E402
from pointlab.data import load_csv  # noqa: E402
from pointlab.search.space import parse_space  # noqa: E402
from pointlab.search.store import Store  # noqa: E402
from pointlab.search.sweep import SweepSetup, run_sweep  # noqa: E402

CURVE = ROOT / "data" / "curve.csv"
OUT = ROOT / "benchmarks" / "CLUSTER.md"
TRIALS, EPOCHS = 64, 4000  # long enough that training, not the store, dominates


def sweep(
    cluster=None, batch=None, trials=TRIALS, epochs=EPOCHS
) -> tuple[float, list[float], float]:
    """Seconds to train every trial (the retrain of the best, which runs on the driver whatever
    the cluster, left out), and the trials' validation losses."""
    base = TrainConfig(hidden=(32, 32), epochs=epochs, seed=0)
    setup = SweepSetup(parse_space(["lr=loguniform(1e-3,3e-1)"], base), "random", trials, base)
    data = load_csv(str(CURVE))
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(f"sqlite:///{tmp}/study.db", "bench")
        start = time.perf_counter()
        result = run_sweep(setup, data, None, store, device="cpu", batch=batch, executor=cluster)
        seconds = time.perf_counter() - start - result.run.wall_time
    # A population's training time, as its task measured it (every trial of it records the same).
    longest = max(r.result["wall_time"] for r in result.rows)
    return seconds, [r.value for r in result.rows], longest


def on_ray(nodes: int, batch: int | None = None) -> tuple[float, list[float], float]:
    import ray

    from pointlab.search.ray_cluster import RayCluster

    os.environ.update(servers.RAY_ENV)
    with servers.ray_cluster(cpus=1, nodes=nodes) as address:
        try:
            cluster = RayCluster(address)
            while len(cluster.nodes()) < nodes:
                time.sleep(0.5)
            sweep(cluster, trials=2 * nodes, epochs=10)  # workers started, code shipped
            return sweep(cluster, batch=batch)
        finally:
            ray.shutdown()


def main() -> None:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    os.environ.update(servers.RAY_ENV)
    torch.set_num_threads(1)
    rows = []
    local, losses, task = sweep()
    rows.append(("in process, 1 thread", local, 1, task))
    local8, _, task = sweep(batch=8)
    rows.append(("in process, 1 thread, --batch 8", local8, 8, task))
    one, _, task = on_ray(1)
    rows.append(("Ray, 1 node x 1 CPU", one, 1, task))
    one8, _, task = on_ray(1, batch=8)
    rows.append(("Ray, 1 node x 1 CPU, --batch 8", one8, 8, task))
    two, losses_two, task = on_ray(2)
    rows.append(("Ray, 2 nodes x 1 CPU", two, 2, task))
    same = max(abs(a - b) / abs(b) for a, b in zip(losses_two, losses, strict=True))
    overhead = (one8 - local8) / 8
    load = os.getloadavg()[0]
    quiet = (
        "a quiet machine"
        if load < 1.5
        else "the machine was shared with other work: ratios are only as good as that allows"
    )
    lines = [
        "# Sweeps on a Ray cluster",
        "",
        f"`uv run python benchmarks/cluster.py` on {platform.machine()}, {os.cpu_count()} cores "
        f"({platform.processor() or 'CPU'}), torch {torch.__version__}; {TRIALS} trials of a "
        f"(32, 32) MLP, {EPOCHS} epochs each, on curve.csv (200 points). Seconds from the start "
        "of the sweep to its last trial (the retrain of the best, which runs on the driver "
        "either way, left out), study in SQLite, after a warm-up sweep on each "
        f"cluster (worker processes started). Load average at the end: {load:.1f} ({quiet}).",
        "",
        "| how | tasks | seconds | longest population's training (s) |",
        "| --- | ---: | ---: | ---: |",
        *(f"| {name} | {n} | {sec:.1f} | {task:.1f} |" for name, sec, n, task in rows),
        "",
        f"- two nodes against one: **{one / two:.2f}x** (ideal 2x)",
        f"- Ray's overhead per task (population shipped, trained, returned), from the --batch 8 "
        f"pair: **{overhead * 1000:.0f} ms**",
        f"- largest relative difference of a trial's validation loss, two nodes against in "
        f"process: {same:.1e}",
    ]
    OUT.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
