"""The one exception type that means "the user gave us something wrong".

The CLI turns a `UserError` into one line on stderr and exit status 2, never a traceback.
The library raises it with a message that already names the file, the line and what is wrong.
"""

from __future__ import annotations

from collections.abc import Callable


class UserError(Exception):
    """Bad input from the user (a file, a flag, a run directory). Its message is shown as is."""


class SettingError(UserError):
    """A UserError about settings, worded with the library's names for them: `str(error)` says
    `val_fraction`; a front end says its own names with `named` (`--val-fraction` on the command
    line), so the library's messages never name a flag.

    `text` marks each setting as `{name}` (other braces doubled, as `str.format` wants them: see
    `literal`); `words` gives the library's wording of a setting where its bare name reads badly
    (`out="directory"`).

    Not here: a TrainConfig's faults, which `pointlab.config.ConfigError` reports by field.
    """

    def __init__(self, text: str, **words: str) -> None:
        self.text = text
        super().__init__(self.named(lambda name: words.get(name, name)))

    def named(self, name_of: Callable[[str], str]) -> str:
        """The message with each setting called `name_of(setting)`."""
        return self.text.format_map(_Names(name_of))

    @staticmethod
    def literal(text: object) -> str:
        """`text` (a path, a value) as it must appear in `text`: its braces doubled."""
        return str(text).replace("{", "{{").replace("}", "}}")


class _Names(dict):
    def __init__(self, name_of: Callable[[str], str]) -> None:
        super().__init__()
        self.name_of = name_of

    def __missing__(self, key: str) -> str:
        return self.name_of(key)
