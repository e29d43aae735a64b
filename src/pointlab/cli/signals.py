"""Ctrl-C and SIGTERM while a run trains and is written: stop cleanly, write everything, once.

Inside `StopSignals()`, SIGINT and SIGTERM do not raise: they are noted, and training polls
`requested()` (the engine's `stop`) at every epoch and step, stops, measures the model once more
and returns. Any further signal (a second Ctrl-C while the run directory is written, or the same
SIGINT delivered twice, as when a script signals the process group of `uv run` and uv forwards it
as well) is only noted, so the run directory is always written whole. The command then exits with
128 + the first signal's number: 130 for SIGINT, 143 for SIGTERM. With `interrupt=True` the first
signal raises KeyboardInterrupt instead (SIGTERM then stops an experiment as Ctrl-C does).

Not here: what is written (`train_cmd`, `pointlab.runs`), training (`pointlab.engine`).
"""

from __future__ import annotations

import signal
import threading
from types import FrameType, TracebackType
from typing import Any

CAUGHT = (signal.SIGINT, signal.SIGTERM)


class StopSignals:
    def __init__(self, interrupt: bool = False) -> None:
        self.received: list[int] = []
        self._previous: dict[int, Any] = {}
        # For work that does not poll `requested()` (an experiment): the first signal raises
        # KeyboardInterrupt where the program is, as Ctrl-C does by default; set False again
        # around what must not be cut (moving a finished folder into place).
        self.interrupt = interrupt

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
        if self.interrupt and len(self.received) == 1:
            raise KeyboardInterrupt

    def requested(self) -> bool:
        return bool(self.received)

    def exit_status(self) -> int | None:
        """128 + the first signal's number, or None when none came."""
        return 128 + self.received[0] if self.received else None
