"""The book's training loop against `./src/train.py`, side by side, on the book's curve.csv.

    uv run python benchmarks/book_train.py [--epochs 20000] [--repeats 1] [--data FILE.csv]
    uv run python benchmarks/book_train.py --results    # the book's results, checked (below)

Each variant runs in its own fresh process, one after another (alternating over repeats), and is
timed from outside (the whole command: Python start, imports, data, training) and from inside (the
training loop alone):
  book        the book's loop: torch.nn 2-128-128-1 with Sigmoid, BCELoss, Adam(0.003), full batch,
              epochs 0..N with a print every 1000, PyTorch's default thread count
  book-1t     the same loop with torch.set_num_threads(1), to separate the thread effect
  train.py    `./src/train.py DATA complex` (pointlab's engine), the book's command; it also draws
              and writes its PNG, which the book loop here does not

`--results` checks the book's results with the book's settings (what ./src/train.py runs), each
set of seeds trained as one population: `simple` on curve.csv and linear.csv ends at the logistic
regression optimum (found independently: L-BFGS in float64), `complex` ends near zero on curve.csv
for every seed and memorizes random.csv (100% training accuracy).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def book_loop(data: str, epochs: int, threads: int | None) -> dict:
    """The book's train.py loop, as the book writes it."""
    import numpy as np
    import torch

    if threads:
        torch.set_num_threads(threads)
    table = np.loadtxt(data, delimiter=",")
    X = torch.tensor(table[:, :2], dtype=torch.float32)
    y = torch.tensor(table[:, 2:], dtype=torch.float32)
    model = torch.nn.Sequential(
        torch.nn.Linear(2, 128),
        torch.nn.ReLU(),
        torch.nn.Linear(128, 128),
        torch.nn.ReLU(),
        torch.nn.Linear(128, 1),
        torch.nn.Sigmoid(),
    )
    criterion = torch.nn.BCELoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.003)
    start = time.perf_counter()
    for epoch in range(epochs + 1):
        optimizer.zero_grad()
        loss = criterion(model(X), y)
        loss.backward()
        optimizer.step()
        if epoch % 1000 == 0:
            print(f"Epoch {epoch}, Loss: {loss.item()}", file=sys.stderr)
    return {"loop_s": time.perf_counter() - start, "final_loss": loss.item()}


def train_py(data: str, epochs: int) -> dict:
    """./src/train.py DATA complex, in this process, with the engine call timed."""
    sys.path.insert(0, str(ROOT / "src"))
    import train  # the book's command, src/train.py

    timing = {}
    original = train.engine.train

    def timed(*args, **kwargs):
        start = time.perf_counter()
        results = original(*args, **kwargs)
        timing.update(loop_s=time.perf_counter() - start, final_loss=results[0].last("train_loss"))
        return results

    train.engine.train = timed
    sys.stdout = sys.stderr  # keep the child's stdout for the JSON line
    with tempfile.TemporaryDirectory() as folder:  # its PNG goes next to the data: not in shared/
        copy = shutil.copy(data, Path(folder) / Path(data).name)
        status = train.main([str(copy), "complex"], epochs=epochs, show=False)
    sys.stdout = sys.__stdout__
    return {**timing, "status": status}


def child(variant: str, data: str, epochs: int) -> None:
    if variant == "train.py":
        out = train_py(data, epochs)
    else:
        out = book_loop(data, epochs, 1 if variant == "book-1t" else None)
    print(json.dumps(out))


def measure(variant: str, data: str, epochs: int) -> dict:
    command = [
        sys.executable,
        __file__,
        "--child",
        variant,
        "--data",
        data,
        "--epochs",
        str(epochs),
    ]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    wall = time.perf_counter() - start
    return {"variant": variant, "wall_s": wall, **json.loads(done.stdout.strip().splitlines()[-1])}


def logistic_optimum(X, y) -> float:
    """The minimum mean cross-entropy of a linear model, by L-BFGS in float64 (a convex problem)."""
    import torch

    X = torch.as_tensor(X, dtype=torch.float64)
    t = torch.as_tensor(y, dtype=torch.float64)
    w = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.LBFGS(
        [w], max_iter=1000, tolerance_grad=1e-12, tolerance_change=0, line_search_fn="strong_wolfe"
    )

    def loss():
        optimizer.zero_grad()
        value = torch.nn.functional.binary_cross_entropy_with_logits(X @ w[:2] + w[2], t)
        value.backward()
        return value

    for _ in range(5):
        optimizer.step(loss)
    return float(loss().detach())


def results(book: Path, epochs: int) -> None:
    import torch

    from pointlab import engine
    from pointlab.config import PRESETS, TrainConfig
    from pointlab.data import load_csv

    torch.set_num_threads(1)
    plan = [
        ("simple", "curve", 3),
        ("simple", "linear", 3),
        ("complex", "curve", 5),
        ("complex", "random", 3),
    ]
    print(f"book settings: full batch, Adam 0.003, BCE from logits, epochs 0..{epochs}\n")
    print("| model | data | seeds | final loss per seed | final train accuracy | reference |")
    print("| --- | --- | --- | --- | --- | --- |")
    for model, name, n_seeds in plan:
        data = load_csv(book / f"{name}.csv")
        configs = [
            TrainConfig(hidden=PRESETS[model], epochs=epochs, seed=s) for s in range(n_seeds)
        ]
        start = time.perf_counter()
        found = engine.train(configs, data.X, data.y, log_every=epochs)
        seconds = time.perf_counter() - start
        losses = ", ".join(f"{r.last('train_loss'):.6g}" for r in found)
        accuracy = ", ".join(f"{r.last('train_acc'):.1%}" for r in found)
        reference = ""
        if model == "simple":
            best = logistic_optimum(data.X, data.y)
            gap = max(r.last("train_loss") for r in found) - best
            reference = f"L-BFGS float64 optimum {best:.6g} (largest gap {gap:.1e})"
        print(
            f"| {model} | {name}.csv | 0..{n_seeds - 1} | {losses} | {accuracy} | {reference} "
            f"({seconds:.0f} s) |",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = ROOT.parent / "shared" / "book" / "curve.csv"
    parser.add_argument(
        "--data", default=str(default if default.exists() else ROOT / "data/curve.csv")
    )
    parser.add_argument("--epochs", type=int, default=20000)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--variants", default="book,book-1t,train.py")
    parser.add_argument("--results", action="store_true", help="check the book's results")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.child, args.data, args.epochs)
    if args.results:
        return results(Path(args.data).parent, args.epochs)
    import torch

    print(
        f"data {args.data}, epochs 0..{args.epochs}, torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads by default"
    )
    rows = []
    for repeat in range(args.repeats):
        for variant in args.variants.split(","):
            row = measure(variant, args.data, args.epochs)
            rows.append(row)
            whole, loop, loss = row["wall_s"], row["loop_s"], row["final_loss"]
            print(
                f"  run {repeat + 1}: {variant:9s} whole {whole:7.1f} s, loop {loop:7.1f} s, "
                f"final loss {loss:.3g}",
                flush=True,
            )
    print("\n| variant | whole command (s) | training loop (s) | ms / epoch | final loss |")
    print("| --- | ---: | ---: | ---: | ---: |")
    best = {}
    for variant in args.variants.split(","):
        mine = [r for r in rows if r["variant"] == variant]
        wall = min(r["wall_s"] for r in mine)
        loop = min(r["loop_s"] for r in mine)
        best[variant] = (wall, loop)
        losses = ", ".join(f"{r['final_loss']:.3g}" for r in mine)
        per_epoch = 1000 * loop / (args.epochs + 1)
        print(f"| {variant} | {wall:.1f} | {loop:.1f} | {per_epoch:.2f} | {losses} |")
    if "book" in best and "train.py" in best:
        book, ours = best["book"], best["train.py"]
        print(
            f"\nbook / train.py: whole command {book[0] / ours[0]:.2f}x, "
            f"loop {book[1] / ours[1]:.2f}x (best of the repeats)"
        )


if __name__ == "__main__":
    main()
