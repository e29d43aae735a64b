"""Engine speed against the book's own training loop, side by side in one run.

The book's loop (point_classifier_2d): a torch.nn.Module 2->128->128->1 with a sigmoid output,
torch.nn.BCELoss, torch.optim.Adam(lr=0.003), the full batch of the book's curve.csv each step.
Against it: the engine at M = 1, and populations of M members against M book loops run one after
another. Reported: model-epochs per second (one model trained for one epoch = one model-epoch) and
the ratio engine / book. On a GPU the engine runs twice at each M, eagerly and with each epoch
replayed as a CUDA graph (`pointlab/engine/graphs.py`), and both columns are reported.

    uv run python benchmarks/engine.py                 # CPU: M = 1, 8, 32, 64, 128
    uv run python benchmarks/engine.py --device cuda   # GPU: M = 1, 4, 16, ..., 16,384

The GPU command has not been run yet (no GPU was lent to the sessions so far).
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import numpy as np
import torch

from pointlab.config import TrainConfig
from pointlab.cpu import keep_freed_memory
from pointlab.engine import train
from pointlab.engine.models import Architecture

ROOT = Path(__file__).resolve().parents[1]


class BookModel(torch.nn.Module):
    """The book's PointClassifier2DComplex: sigmoid output, trained with BCELoss."""

    def __init__(self) -> None:
        super().__init__()
        self.net = torch.nn.Sequential(
            torch.nn.Linear(2, 128),
            torch.nn.ReLU(),
            torch.nn.Linear(128, 128),
            torch.nn.ReLU(),
            torch.nn.Linear(128, 1),
            torch.nn.Sigmoid(),
        )

    def forward(self, x):
        return self.net(x)


def book_loop(X, y, epochs: int, device) -> None:
    model = BookModel().to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.003)
    loss_fn = torch.nn.BCELoss()
    x, t = torch.as_tensor(X, device=device), torch.as_tensor(y, device=device).float()[:, None]
    for _ in range(epochs):
        optimizer.zero_grad()
        loss = loss_fn(model(x), t)
        loss.backward()
        optimizer.step()
    if device.type == "cuda":
        torch.cuda.synchronize()


def engine_run(X, y, members: int, epochs: int, device, graphs: bool | None = None) -> None:
    configs = [TrainConfig(epochs=epochs, seed=m) for m in range(members)]
    train(configs, X, y, device=str(device), log_every=epochs, cuda_graphs=graphs)
    if device.type == "cuda":
        torch.cuda.synchronize()


def timed(fn, *args) -> float:
    start = time.perf_counter()
    fn(*args)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(ROOT.parent / "shared/book/curve.csv"))
    parser.add_argument("--device", default="cpu")
    parser.add_argument(
        "--members",
        type=int,
        nargs="+",
        default=None,
        help="population sizes (default: 1 8 32 64 128 on a CPU, 1 4 16 ... 16384 on a GPU)",
    )
    parser.add_argument("--epochs", type=int, default=1000)
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch CPU threads for both sides (default: torch's)",
    )
    parser.add_argument(
        "--book-models",
        type=int,
        default=4,
        help="book loops actually timed; M loops cost M times one",
    )
    args = parser.parse_args()
    keep_freed_memory()  # as the pointlab commands run (it leaves the book's loop as it was)
    if args.threads:
        torch.set_num_threads(args.threads)
    if not Path(args.data).exists():
        args.data = str(ROOT / "data/curve.csv")
    data = np.loadtxt(args.data, delimiter=",")
    X, y = data[:, :2].astype(np.float32), data[:, 2].astype(np.int64)
    device = torch.device(args.device)
    cuda = device.type == "cuda"
    if args.members is None:
        args.members = [4**k for k in range(8)] if cuda else [1, 8, 32, 64, 128]
    arch = Architecture((128, 128), "relu")
    print(
        f"# {platform.processor() or platform.machine()}, torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads, device {device}"
        + (f" ({torch.cuda.get_device_name()})" if device.type == "cuda" else "")
    )
    print(
        f"# data {args.data}: {len(X)} points, full batch; model {arch.n_params} parameters; "
        f"{args.epochs} epochs"
    )

    book_loop(X, y, 50, device)  # warm up both paths (allocator, kernels)
    engine_run(X, y, 2, 50, device, False)
    if cuda:
        engine_run(X, y, 2, 50, device, True)
    book_times = [timed(book_loop, X, y, args.epochs, device) for _ in range(args.book_models)]
    book_rate = args.epochs / float(np.median(book_times))  # model-epochs/s, one at a time
    if cuda:
        print(
            "\n| M | book loops, one after another (model-epochs/s) | engine, eager "
            "(model-epochs/s) | engine, CUDA graphs (model-epochs/s) | eager / book | graphs / "
            "book |\n| ---: | ---: | ---: | ---: | ---: | ---: |"
        )
    else:
        print(
            "\n| M | book loops, one after another (model-epochs/s) | engine (model-epochs/s) "
            "| engine / book |\n| ---: | ---: | ---: | ---: |"
        )
    for m in args.members:
        rate = m * args.epochs / timed(engine_run, X, y, m, args.epochs, device, False)
        if cuda:  # the same population with each epoch one graph replay
            graphed = m * args.epochs / timed(engine_run, X, y, m, args.epochs, device, True)
            print(
                f"| {m} | {book_rate:,.0f} | {rate:,.0f} | {graphed:,.0f} | "
                f"{rate / book_rate:.1f}x | {graphed / book_rate:.1f}x |",
                flush=True,
            )
        else:
            print(f"| {m} | {book_rate:,.0f} | {rate:,.0f} | {rate / book_rate:.1f}x |", flush=True)
        # interleave a book loop so both see the same machine load over the run
        book_times.append(timed(book_loop, X, y, args.epochs, device))
        book_rate = args.epochs / float(np.median(book_times))
    print(
        f"\n# book loop: median {np.median(book_times):.3f} s per {args.epochs} epochs "
        f"over {len(book_times)} runs"
    )


if __name__ == "__main__":
    main()
