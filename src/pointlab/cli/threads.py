"""How many CPU threads the commands give PyTorch: the cores that are idle right now.

Why: these models are small, and PyTorch's worker threads spin while they wait for each other. On a
quiet 2-core machine two threads train a population 1.7 times faster than one; with one other busy
process on the machine the same two threads made a step several times (up to 20 times) slower than
one thread (benchmarks/README.md). So the commands take the cores the load average leaves free.
A user who sets OMP_NUM_THREADS decides instead.
"""

from __future__ import annotations

import os

import torch


def idle_cores() -> int:
    cores = os.cpu_count() or 1
    try:
        busy = os.getloadavg()[0]
    except (AttributeError, OSError):  # no load average on this platform
        return cores
    return max(1, min(cores, cores - int(busy)))  # a load of 0.9 is a core mostly idle


def choose_cpu_threads(device: torch.device | str) -> int:
    """Set torch's CPU threads for a training command; returns the number used."""
    if "OMP_NUM_THREADS" in os.environ or torch.device(device).type != "cpu":
        return torch.get_num_threads()
    threads = idle_cores()
    torch.set_num_threads(threads)
    return threads
