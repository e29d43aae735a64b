"""How a front end sets up the CPU for training: threads, and the C allocator.

The commands (and the book's `src/train.py`) call `tune_cpu` once before training; library
functions never do, since a process embedding pointlab owns its threads. A library front end that
must still keep torch's threads in check (the scikit-learn estimator) uses `cpu_threads`, which
applies the same rule for one call and restores the caller's setting afterwards.

Threads: the cores that are idle right now.

Why: these models are small, and PyTorch's worker threads spin while they wait for each other. On a
quiet 2-core machine two threads train a population 1.7 times faster than one; with one other busy
process on the machine the same two threads made a step several times (up to 20 times) slower than
one thread (benchmarks/README.md). So the commands take the cores the load average leaves free.
A user who sets OMP_NUM_THREADS decides instead.

Allocator: a population's activations are megabytes, allocated and freed every step. glibc hands
blocks over 128 KiB straight back to the kernel, so every step paid page faults on fresh memory;
keeping them in the heap (as MALLOC_MMAP_THRESHOLD_ would) made a 32-member step 20-25% faster.

Not here: the training itself (`pointlab.engine`).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

_M_TRIM_THRESHOLD, _M_TOP_PAD, _M_MMAP_THRESHOLD = -1, -2, -3  # from glibc's malloc.h


def idle_cores() -> int:
    cores = os.cpu_count() or 1
    try:
        busy = os.getloadavg()[0]
    except (AttributeError, OSError):  # no load average on this platform
        return cores
    return max(1, min(cores, cores - int(busy)))  # a load of 0.9 is a core mostly idle


def choose_cpu_threads(device: torch.device | str) -> int:
    """Set torch's CPU threads for a training command; returns the number used."""
    import torch  # here, so that importing this module stays light

    if "OMP_NUM_THREADS" in os.environ or torch.device(device).type != "cpu":
        return torch.get_num_threads()
    threads = idle_cores()
    torch.set_num_threads(threads)
    return threads


@contextmanager
def cpu_threads(device: torch.device | str = "cpu") -> Iterator[None]:
    """The rule of `choose_cpu_threads` for the length of a `with` block, never more threads than
    the caller had, and the caller's number restored afterwards (a library call must not change
    its caller's process for good). "auto" counts as the CPU: it may resolve to it.

    Why in a library call too: on this project's busy 2-core machine two threads made a fit of
    scikit-learn's iris example 40 to 75 times slower than one."""
    import torch

    if "OMP_NUM_THREADS" in os.environ or not str(device).startswith(("cpu", "auto")):
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(min(before, idle_cores()))
    try:
        yield
    finally:
        torch.set_num_threads(before)


def keep_freed_memory() -> bool:
    """Ask glibc to reuse freed large blocks instead of returning them to the kernel."""
    if not sys.platform.startswith("linux") or "MALLOC_MMAP_THRESHOLD_" in os.environ:
        return False
    try:
        libc = _libc()
        ok = libc.mallopt(_M_MMAP_THRESHOLD, 32 * 2**20)  # the largest glibc accepts
        ok &= libc.mallopt(_M_TRIM_THRESHOLD, 2**30)
        ok &= libc.mallopt(_M_TOP_PAD, 64 * 2**20)
        return bool(ok)
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to do
        return False


def release_freed_memory() -> bool:
    """Hand the memory freed so far back to the kernel (glibc's `malloc_trim`): what a server
    does when a client that held much of it is gone, since `keep_freed_memory` keeps it."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        return bool(_libc().malloc_trim(0))
    except (OSError, AttributeError):  # not glibc: nothing to do
        return False


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")


def tune_cpu(device: torch.device | str) -> int:
    """Threads and allocator for a training command; returns the number of threads."""
    import torch

    if torch.device(device).type == "cpu":
        keep_freed_memory()
    return choose_cpu_threads(device)
