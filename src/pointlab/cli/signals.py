"""Ctrl-C and SIGTERM while a run trains and is written: stop cleanly, write everything, once.

Inside `StopSignals()`, SIGINT and SIGTERM do not raise: they are noted, and training polls
`requested()` (the engine's `stop`) at every epoch and step, stops, measures the model once more
and returns. Any further signal (a second Ctrl-C while the run directory is written, or the same
SIGINT delivered twice, as when a script signals the process group of `uv run` and uv forwards it
as well) is only noted, so the run directory is always written whole. The command then exits with
128 + the first signal's number: 130 for SIGINT, 143 for SIGTERM.

A sweep stops differently: Ctrl-C raises `KeyboardInterrupt` wherever the sweep is, and the sweep
gives its claimed trials back to the study on the way out. Inside `term_as_interrupt()`, SIGTERM
does the same (it raises `Terminated`, a `KeyboardInterrupt`), once; a second SIGTERM while the
trials are given back is ignored. `interrupt_status(error)` is then 143, or 130 for Ctrl-C.

Not here: what is written (`train_cmd`, `pointlab.runs`), training (`pointlab.engine`).
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType, TracebackType
from typing import Any

CAUGHT = (signal.SIGINT, signal.SIGTERM)


class StopSignals:
    def __init__(self) -> None:
        self.received: list[int] = []
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> StopSignals:
        if threading.current_thread() is threading.main_thread():  # handlers live there only
            for number in CAUGHT:
                self._previous[number] = signal.signal(number, self._note)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        for number, handler in self._previous.items():
            signal.signal(number, handler)

    def _note(self, number: int, frame: FrameType | None) -> None:
        self.received.append(number)

    def requested(self) -> bool:
        return bool(self.received)

    def exit_status(self) -> int | None:
        """128 + the first signal's number, or None when none came."""
        return 128 + self.received[0] if self.received else None


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where Ctrl-C raises KeyboardInterrupt (inside `term_as_interrupt`)."""


def interrupt_status(error: KeyboardInterrupt) -> int:
    """The exit status for an interrupt: 128 + the signal's number (143 SIGTERM, 130 SIGINT).

    The engine turns the interrupt it caught into `PopulationInterrupted` (carrying the results
    so far), so the SIGTERM is looked for along the chain of exceptions, not only at its end."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, Terminated):
            return 128 + signal.SIGTERM
        seen = seen.__cause__ or seen.__context__
    return 128 + signal.SIGINT


@contextlib.contextmanager
def term_as_interrupt() -> Iterator[None]:
    """SIGTERM raises `Terminated` in the main thread, the first time only."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    raised: list[int] = []

    def _raise(number: int, frame: FrameType | None) -> None:
        if not raised:  # a second SIGTERM must not cut short the trials' release
            raised.append(number)
            raise Terminated

    previous = signal.signal(signal.SIGTERM, _raise)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
