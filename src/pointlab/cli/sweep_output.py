"""What `pointlab sweep` prints while and after it runs, classifier or generative
(`cli/sweep_generate.py`): the progress over trials and epochs, and a trial's parameters as text.

Not here: the reports' tables and sentences (each command's `_print_report`), the sweep itself
(`pointlab.search`).
"""

from __future__ import annotations

import time

from rich.console import Console


class SweepProgress:
    """A rich progress bar over trials and over the epochs of the population in training; when
    the console is not a terminal (piped, a log file), a plain line instead whenever a trial
    finishes and at most every LINE_EVERY seconds between (a piped sweep said nothing for 47 s).
    """

    LINE_EVERY = 5.0  # seconds

    def __init__(self, console: Console, disable: bool) -> None:
        self.console, self.lines = console, not disable and not console.is_terminal
        self.start = self.said_at = time.perf_counter()
        self.said_done = -1
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self.bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
            disable=disable,
        )
        self.trials = self.bar.add_task("trials", total=None)
        self.epochs = self.bar.add_task("epochs", total=None)

    def __enter__(self):
        self.bar.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self.bar.__exit__(*exc)

    def __call__(self, done: int, total: int, epoch: int, epochs: int) -> None:
        self.bar.update(self.trials, completed=done, total=total)
        self.bar.update(self.epochs, completed=epoch, total=epochs)
        now = time.perf_counter()
        if self.lines and (done != self.said_done or now - self.said_at >= self.LINE_EVERY):
            self.said_done, self.said_at = done, now
            training = f"; training: epoch {epoch:,} of {epochs:,}" if done < total else ""
            self.console.print(
                f"sweep: {done} of {total} trials done{training} ({now - self.start:.0f} s)",
                markup=False,
                highlight=False,
                soft_wrap=True,
            )


def params_text(params: dict) -> str:
    """A trial's parameters as one line: "lr=0.01, layers=16,16"."""
    return ", ".join(f"{k}={value_text(v)}" for k, v in params.items())


def value_text(value) -> str:
    """One parameter's value as a table cell: 3 significant digits, widths as "16,16"."""
    if value is None:
        return "none"
    if isinstance(value, float):
        return f"{value:.3g}"
    if isinstance(value, tuple | list):
        return ",".join(str(v) for v in value) or "[]"
    return str(value)
