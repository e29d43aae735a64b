"""Exit statuses of an interrupt: 143 for SIGTERM even when the engine has wrapped it."""

from __future__ import annotations

from pointlab.cli.signals import Terminated, interrupt_status


class Wrapped(KeyboardInterrupt):
    """Stands for `engine.PopulationInterrupted`, which the engine raises `from None`."""


def _wrapped(first: KeyboardInterrupt) -> KeyboardInterrupt:
    try:
        try:
            raise first
        except KeyboardInterrupt:
            raise Wrapped() from None
    except Wrapped as error:
        return error


def test_sigterm_is_143_even_when_the_engine_wrapped_it():
    assert interrupt_status(Terminated()) == 143
    assert interrupt_status(_wrapped(Terminated())) == 143


def test_ctrl_c_is_130():
    assert interrupt_status(KeyboardInterrupt()) == 130
    assert interrupt_status(_wrapped(KeyboardInterrupt())) == 130
