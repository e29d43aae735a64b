"""The orientation of narrow batched products (`pointlab/engine/products.py`), side by side.

    uv run python benchmarks/products.py [--threads T]

Part 1: `torch.baddbmm` as it is against the same product transposed (C^T = B^T A^T), for result
widths 1 ... 128, in microseconds per call (median of 5 timings of 50 calls).
Part 2: whole populations trained by `engine.train`, the engine's products as they are now
against plain `torch.baddbmm` / `torch.bmm` everywhere, alternating in one process, median of 5.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch

from pointlab.config import TrainConfig
from pointlab.cpu import keep_freed_memory
from pointlab.engine import backprop, models, products, train

ROOT = Path(__file__).resolve().parents[1]


def per_call(fn, calls: int = 50) -> float:
    fn()
    times = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        times.append((time.perf_counter() - start) / calls)
    return float(np.median(times)) * 1e6


def orientations() -> None:
    print("| M | B | K | C | baddbmm (us) | transposed (us) | ratio |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for M, B, K in [(1, 200, 128), (32, 120, 128), (32, 120, 16), (160, 200, 16)]:
        for C in (1, 3, 8, 16, 128):
            a, w, b = torch.randn(M, B, K), torch.randn(M, K, C), torch.randn(M, 1, C)
            plain = per_call(lambda a=a, w=w, b=b: torch.baddbmm(b, a, w))
            turned = per_call(
                lambda a=a, w=w, b=b: torch.baddbmm(
                    b.transpose(1, 2), w.transpose(1, 2), a.transpose(1, 2)
                ).transpose(1, 2)
            )
            print(f"| {M} | {B} | {K} | {C} | {plain:.0f} | {turned:.0f} | {plain / turned:.2f}x |")


def _plain_matmul(a, b, out=None):
    return torch.bmm(a, b, out=out) if out is not None else torch.bmm(a, b)


def _use(affine, matmul) -> None:
    backprop.affine, backprop.matmul, models.affine = affine, matmul, affine


def populations() -> None:
    data = np.loadtxt(ROOT / "data" / "curve.csv", delimiter=",", dtype=np.float32)
    rng = np.random.default_rng(0)
    print("| members | hidden | points | epochs | plain (s) | engine (s) | plain / engine |")
    print("| ---: | --- | ---: | ---: | ---: | ---: | ---: |")
    for M, hidden, n, epochs in [
        (1, (128, 128), 200, 1000),
        (32, (128, 128), 120, 300),
        (32, (16, 16, 16), 150, 1000),
        (160, (16,), 200, 300),
    ]:
        index = rng.integers(0, len(data), n)
        X, y = data[index, :2], data[index, 2].astype(np.int64)
        configs = [TrainConfig(hidden=hidden, epochs=epochs, seed=m) for m in range(M)]
        sides = {
            "plain": (torch.baddbmm, _plain_matmul),
            "engine": (products.affine, products.matmul),
        }
        times: dict[str, list[float]] = {k: [] for k in sides}
        train(configs, X, y, log_every=epochs)  # warm-up
        for r in range(5):
            for name in sides if r % 2 else reversed(list(sides)):
                _use(*sides[name])
                start = time.perf_counter()
                train(configs, X, y, log_every=epochs)
                times[name].append(time.perf_counter() - start)
        _use(products.affine, products.matmul)
        plain, engine = (float(np.median(times[k])) for k in ("plain", "engine"))
        ratio = plain / engine
        print(f"| {M} | {hidden} | {n} | {epochs} | {plain:.3f} | {engine:.3f} | {ratio:.2f}x |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    keep_freed_memory()
    print(f"torch {torch.__version__}, {args.threads} thread(s)\n")
    orientations()
    print()
    populations()


if __name__ == "__main__":
    main()
