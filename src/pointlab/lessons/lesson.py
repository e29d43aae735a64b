"""A lesson file: one TOML file a teacher can read and write (the format: `docs/lessons.md`).

A lesson sets the playground up (its `[setup]`, in the page's settings: keys named as the
`pointlab train` flags), says which controls a learner sees, and walks through tasks. A task asks
a question to predict first, states a goal over what the engine measures (`goals.py`), offers a
hint, and explains what happened. Its `solution` and `wrong` are settings changed from the setup:
the reference answer, which must meet the goal in most seeds, and a documented mistake, which
must not (`pointlab lesson check` holds every lesson to that).

Every text is given in English and Japanese (`en`, `ja`). A bad file is refused with one line that
names the file, the line and what is wrong; `load_folder` keeps going, so one broken lesson does
not hide the others.

Not here: training and checking goals (`check.py`), the page and the command (front ends).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from pointlab.errors import UserError
from pointlab.lessons.goals import Goal, parse_goal

LANGUAGES = ("en", "ja")
MIN_SEEDS = 5  # a goal is judged over at least this many seeds: one run proves little
NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")


@dataclass(frozen=True)
class Text:
    """One text in every language of the page."""

    en: str
    ja: str

    def __call__(self, lang: str) -> str:
        return self.ja if lang == "ja" else self.en


@dataclass(frozen=True)
class Question:
    """Predict before running: the learner picks one of `choices`; `answer` is the right one."""

    text: Text
    choices: tuple[Text, ...]
    answer: int


@dataclass(frozen=True)
class Task:
    name: str
    title: Text
    text: Text  # what to do
    question: Question | None
    goal: Goal
    seeds: int
    solution: dict[str, str]  # settings changed from the lesson's setup: the reference answer
    wrong: dict[str, str]  # the documented wrong setup, which must not meet the goal
    hint: Text
    explanation: Text
    more: str  # where to go deeper: a command (`pointlab experiment memorize`), or ""

    def settings(self, setup: Mapping[str, str], which: str) -> dict[str, str]:
        """The page's settings for the reference ('solution') or the wrong setup ('wrong')."""
        return {**setup, **(self.solution if which == "solution" else self.wrong)}


@dataclass(frozen=True)
class Lesson:
    name: str  # the file's stem: what `pointlab lesson NAME` and links use
    order: int
    title: Text
    intro: Text
    setup: dict[str, str]  # the page's settings when the lesson opens
    shown: tuple[str, ...]  # the controls a learner sees (empty: all)
    locked: tuple[str, ...]  # controls shown but fixed
    tasks: tuple[Task, ...]
    path: Path


def shipped_folder() -> Path:
    """The lessons that come with pointlab (inside the package)."""
    return Path(str(resources.files("pointlab.lessons") / "files"))


def load_folder(folder: Path) -> tuple[list[Lesson], list[str]]:
    """Every `*.toml` lesson in `folder`, by order then name, and one error line per bad file."""
    if not folder.is_dir():
        raise UserError(f"{folder}: no such folder of lessons")
    lessons, errors = [], []
    for path in sorted(folder.glob("*.toml")):
        try:
            lessons.append(load_lesson(path))
        except UserError as error:
            errors.append(str(error))
    return sorted(lessons, key=lambda x: (x.order, x.name)), errors


def find(name: str, folders: list[Path]) -> Lesson:
    """The lesson called `name` in the first folder that has it."""
    for folder in folders:
        path = folder / f"{name}.toml"
        if path.is_file():
            return load_lesson(path)
    known = sorted({p.stem for f in folders if f.is_dir() for p in f.glob("*.toml")})
    raise UserError(f"no lesson {name!r}; the lessons are: {', '.join(known) or 'none'}")


def load_lesson(path: Path) -> Lesson:
    """One lesson file, checked whole; UserError '<file>:<line>: what is wrong'."""
    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise UserError(f"{path}: cannot read: {error}") from None
    try:
        raw = tomllib.loads(source)
    except tomllib.TOMLDecodeError as error:
        # tomllib's message ends "(at line L, column C)": say it the way every pointlab error does.
        match = re.search(r"\(at line (\d+), column \d+\)", str(error))
        # "(at end of document)": the last line.
        line = match.group(1) if match else str(max(1, len(source.splitlines())))
        where = f"{path}:{line}"
        reason = re.sub(r"\s*\(at (line \d+, column \d+|end of document)\)", "", str(error))
        raise UserError(f"{where}: not valid TOML: {reason}") from None
    return _Reader(path, source).lesson(raw)


class _Reader:
    """Builds a Lesson from parsed TOML, naming the line of whatever is wrong."""

    def __init__(self, path: Path, source: str) -> None:
        self.path, self.lines = path, source.splitlines()

    def fail(self, key: str, reason: str, after: int = 0) -> UserError:
        return UserError(f"{self.path}:{self._line(key, after)}: {key}: {reason}")

    def _line(self, key: str, after: int = 0) -> int:
        """The line that sets `key` (its last dotted part), at or after line `after` (1-based)."""
        last = key.rsplit(".", 1)[-1].split("[")[0]
        pattern = re.compile(rf"^\s*(\[+\s*)?([\w.-]+\.)?{re.escape(last)}\s*(=|\]|\.)")
        for number, line in enumerate(self.lines[after:], start=after + 1):
            if pattern.match(line):
                return number
        return max(after, 1)

    def lesson(self, raw: dict[str, Any]) -> Lesson:
        name = self.path.stem
        if not NAME.match(name):
            raise UserError(
                f"{self.path}:1: a lesson's file name is its name: lower-case letters, digits "
                "and '-'"
            )
        known = {"order", "title", "intro", "setup", "show", "lock", "task"}
        self._unknown(raw, known, "")
        order = raw.get("order", 100)
        if not isinstance(order, int) or isinstance(order, bool):
            raise self.fail("order", "must be a whole number")
        setup = self._settings(raw.get("setup", {}), "setup")
        self._check_setup(setup, "setup", 0)
        tasks_raw = raw.get("task")
        if not isinstance(tasks_raw, list) or not tasks_raw:
            raise UserError(f"{self.path}:1: a lesson needs at least one [[task]]")
        starts = [i for i, line in enumerate(self.lines) if line.strip().startswith("[[task]]")]
        tasks = [
            self._task(t, setup, starts[i] if i < len(starts) else 0)
            for i, t in enumerate(tasks_raw)
        ]
        task_names = [t.name for t in tasks]
        if len(set(task_names)) != len(task_names):
            raise self.fail("name", "two tasks share a name", starts[0] if starts else 0)
        return Lesson(
            name=name,
            order=order,
            title=self._text(raw, "title"),
            intro=self._text(raw, "intro"),
            setup=setup,
            shown=self._names(raw, "show"),
            locked=self._names(raw, "lock"),
            tasks=tuple(tasks),
            path=self.path,
        )

    def _task(self, raw: Any, setup: dict[str, str], start: int) -> Task:
        if not isinstance(raw, dict):
            raise UserError(f"{self.path}:{start + 1}: a [[task]] must be a table")
        known = {"name", "title", "text", "question", "goal", "seeds", "solution", "wrong"}
        self._unknown(raw, known | {"hint", "explanation", "more"}, "task.", start)
        name = raw.get("name")
        if not isinstance(name, str) or not NAME.match(name):
            raise self.fail("name", "a task needs a name of lower-case letters, digits, '-'", start)
        goal_text = raw.get("goal")
        if not isinstance(goal_text, str):
            raise self.fail("goal", 'a task needs a goal, e.g. goal = "val_acc >= 0.9"', start)
        try:
            goal = parse_goal(goal_text)
        except ValueError as error:
            raise self.fail("goal", str(error), start) from None
        seeds = raw.get("seeds", MIN_SEEDS)
        if not isinstance(seeds, int) or isinstance(seeds, bool) or not MIN_SEEDS <= seeds <= 16:
            raise self.fail("seeds", f"must be a whole number from {MIN_SEEDS} to 16", start)
        solution = self._settings(raw.get("solution", {}), "solution", start)
        wrong = self._settings(raw.get("wrong"), "wrong", start)
        for which, changes in (("solution", solution), ("wrong", wrong)):
            self._check_setup({**setup, **changes}, which, start)
        more = raw.get("more", "")
        if not isinstance(more, str):
            raise self.fail("more", "must be text", start)
        return Task(
            name=name,
            title=self._text(raw, "title", start),
            text=self._text(raw, "text", start),
            question=self._question(raw.get("question"), start),
            goal=goal,
            seeds=seeds,
            solution=solution,
            wrong=wrong,
            hint=self._text(raw, "hint", start),
            explanation=self._text(raw, "explanation", start),
            more=more,
        )

    def _question(self, raw: Any, start: int) -> Question | None:
        if raw is None:
            return None
        if not isinstance(raw, dict):
            raise self.fail("question", "must be a table with en, ja, choices and answer", start)
        self._unknown(raw, {"en", "ja", "choices", "answer"}, "question.", start)
        choices = raw.get("choices")
        if not isinstance(choices, list) or len(choices) < 2:
            raise self.fail("choices", "give at least two choices", start)
        texts = []
        for choice in choices:
            if not isinstance(choice, dict):
                raise self.fail("choices", 'each choice is { en = "...", ja = "..." }', start)
            texts.append(self._text({"choice": choice}, "choice", start))
        answer = raw.get("answer")
        if not isinstance(answer, int) or isinstance(answer, bool):
            raise self.fail("answer", "the number of the right choice, from 1", start)
        if not 1 <= answer <= len(texts):
            raise self.fail("answer", f"must be from 1 to {len(texts)}", start)
        text = {k: v for k, v in raw.items() if k in LANGUAGES}
        return Question(self._text({"question": text}, "question", start), tuple(texts), answer - 1)

    def _text(self, raw: Mapping[str, Any], key: str, start: int = 0) -> Text:
        value = raw.get(key)
        if not isinstance(value, dict):
            raise self.fail(key, f"give it in every language: {key}.en and {key}.ja", start)
        self._unknown(value, set(LANGUAGES), f"{key}.", start)
        for lang in LANGUAGES:
            text = value.get(lang)
            if not isinstance(text, str) or not text.strip():
                raise self.fail(key, f"the {lang} text is missing or empty", start)
        return Text(en=value["en"].strip(), ja=value["ja"].strip())

    def _settings(self, raw: Any, key: str, start: int = 0) -> dict[str, str]:
        """Page settings as text: TOML numbers and booleans become the text a URL would hold."""
        if not isinstance(raw, dict):
            raise self.fail(key, "must be a table of settings, e.g. { lr = 0.1 }", start)
        out = {}
        for name, value in raw.items():
            if isinstance(value, bool) or not isinstance(value, str | int | float):
                raise self.fail(f"{key}.{name}", "a setting is text or a number", start)
            out[name] = value if isinstance(value, str) else f"{value:g}"
        return out

    def _check_setup(self, settings: dict[str, str], which: str, start: int) -> None:
        """The settings as the page would take them; a fault names the line of its key (in
        `[setup]`) or of the `solution`/`wrong` table that sets it."""
        from pointlab.lessons.setups import parse_settings

        try:
            parse_settings(settings)
        except UserError as error:
            if which != "setup":
                raise self.fail(which, str(error), start) from None
            key = str(error).split(":", 1)[0]
            section = self._line("setup")
            line = self._line(key, section) if key in settings else section
            raise UserError(f"{self.path}:{line}: setup: {error}") from None

    def _names(self, raw: Mapping[str, Any], key: str) -> tuple[str, ...]:
        from pointlab.lessons.setups import SETTING_NAMES

        value = raw.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(key, "must be a list of setting names")
        unknown = [v for v in value if v not in SETTING_NAMES]
        if unknown:
            raise self.fail(key, f"unknown settings {', '.join(unknown)}")
        return tuple(value)

    def _unknown(self, raw: Mapping[str, Any], known: set[str], prefix: str, start: int = 0):
        unknown = sorted(set(raw) - known)
        if unknown:
            raise self.fail(
                prefix + unknown[0], f"unknown key; known: {', '.join(sorted(known))}", start
            )
