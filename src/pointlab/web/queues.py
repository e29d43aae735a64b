"""The server's waiting lines: one tab's inbox, and the tabs' turns at the processor.

- `Inbox`: the messages a tab sent that its worker has not handled yet, at most `MAX_WAITING`. One
  more is refused at once (the tab is told), so a page that floods the server queues nothing
  beyond that. Closing the tab empties it: what was queued is cancelled, never run. (Ten queued
  "explain" at the largest model once ran to the end after their tab was closed.)
- `Gate`: at most `slots` tabs work at the same time (a setup, a slice of training, an explained
  step, an export), served first come, first served: a tab that has just worked waits behind the
  others, so twenty playing tabs take turns on the cores instead of fighting over them.

Not here: what one piece of work may cost (`budget.py`), the work itself (`session.py`).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

MAX_WAITING = 16  # messages of one tab not yet handled


class Inbox:
    """A tab's messages, first in first out, bounded, emptied for good by `close`."""

    def __init__(self, limit: int = MAX_WAITING) -> None:
        self.limit = limit
        self._messages: deque[dict[str, Any]] = deque()
        self._ready = threading.Condition()
        self.closed = False

    def put(self, message: dict[str, Any]) -> bool:
        """Queue `message`; False (and nothing queued) when `limit` messages already wait."""
        with self._ready:
            if self.closed:
                return True  # nobody will read an answer: drop it quietly
            if len(self._messages) >= self.limit:
                return False
            self._messages.append(message)
            self._ready.notify()
            return True

    def get(self, wait: bool, timeout: float | None = None) -> dict[str, Any] | None:
        """The oldest message; None when there is none and `wait` is False, when none came in
        `timeout` seconds of waiting, or once closed."""
        with self._ready:
            if wait:
                self._ready.wait_for(lambda: self._messages or self.closed, timeout)
            if self.closed or not self._messages:
                return None
            return self._messages.popleft()

    def empty(self) -> bool:
        return not self._messages

    def close(self) -> None:
        """Cancel every queued message and wake the worker: it ends after its current work."""
        with self._ready:
            self.closed = True
            self._messages.clear()
            self._ready.notify_all()


class Gate:
    """At most `slots` holders at once, admitted in the order they asked."""

    POLL = 0.05  # seconds between looks at `give_up` while waiting

    def __init__(self, slots: int) -> None:
        if slots < 1:
            raise ValueError(f"a gate needs at least one slot, not {slots}")
        self.slots = slots
        self._free = slots
        self._line: deque[object] = deque()
        self._changed = threading.Condition()

    def acquire(self, give_up: Callable[[], bool], patience: float | None) -> bool:
        """Wait for a turn; False when `give_up()` turns true or `patience` seconds pass first
        (None: no limit). A True must be paired with `release`."""
        deadline = None if patience is None else time.monotonic() + patience
        ticket = object()
        with self._changed:
            self._line.append(ticket)
            try:
                # The first `_free` tickets in line may go: the ones ahead of them already went.
                while self._line.index(ticket) >= self._free:
                    left = None if deadline is None else deadline - time.monotonic()
                    if give_up() or (left is not None and left <= 0):
                        return False
                    self._changed.wait(self.POLL if left is None else min(self.POLL, left))
                self._free -= 1
                return True
            finally:
                self._line.remove(ticket)
                self._changed.notify_all()

    def release(self) -> None:
        with self._changed:
            self._free += 1
            self._changed.notify_all()

    @property
    def waiting(self) -> int:
        """Tabs in line for a turn now."""
        return len(self._line)
