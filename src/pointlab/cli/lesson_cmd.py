"""`pointlab lesson`: the lessons from the terminal, for a learner and for a teacher.

    pointlab lesson NAME                 serve the playground and open it at that lesson
    pointlab lesson list                 the lessons, in order
    pointlab lesson show NAME            one lesson: what to do, the questions, the goals
    pointlab lesson check [DIR]          every task's reference solution and documented wrong setup,
                                         trained over seeds: a teacher checks their own lessons

`check` holds each task to the rule the shipped lessons are tested by: the solution meets the
goal in all seeds but at most one, the wrong setup in at most one. A goal that cannot fail, or
that the solution cannot reach, is a defect of the lesson. Bad lesson files are reported one line
each and the others are still checked; the exit status is 2 if a file was bad, else 1 if a task
broke the rule, else 0.

Not here: the lesson format and the checking (`pointlab.lessons`).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

from rich.console import Console
from rich.table import Table

from pointlab.cli import play_cmd, serve
from pointlab.cli.args import positive_int
from pointlab.errors import UserError
from pointlab.lessons.lesson import LANGUAGES, MIN_SEEDS, Lesson, find, load_folder, shipped_folder


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "lesson",
        help="guided lessons: list them, read one, check their goals",
        description=(
            "Lessons that follow the book's chapters: each sets the playground up and walks "
            "through tasks with goals checked over several seeds."
        ),
    )
    actions = parser.add_subparsers(title="actions", metavar="ACTION | NAME", action=_ActionsOrName)
    actions.choices = _AnyName()  # NAME alone is `open NAME` (see _ActionsOrName)

    opened = actions.add_parser(
        "open",
        help="serve the playground and open it at a lesson (the same as `pointlab lesson NAME`)",
        description="Start the playground as `pointlab play` does and open the page at the "
        "lesson. Ctrl-C stops it.",
    )
    opened.add_argument("name", metavar="NAME", help="the lesson (see `pointlab lesson list`)")
    opened.add_argument(
        "--lang", choices=LANGUAGES, default=None, help="language (default: the browser's)"
    )
    opened.add_argument(
        "--no-open", action="store_true", help="print the address only; open no browser"
    )
    serve.add_address(opened, port=8050, reach=play_cmd.REACH)
    play_cmd.add_server_flags(opened)
    opened.set_defaults(func=run_open)

    listing = actions.add_parser("list", help="the lessons, in order")
    _add_common(listing)
    listing.set_defaults(func=run_list)

    show = actions.add_parser("show", help="one lesson: its tasks, questions and goals")
    show.add_argument("name", metavar="NAME", help="the lesson (see `pointlab lesson list`)")
    show.add_argument("--reveal", action="store_true", help="print the hints and explanations too")
    _add_common(show)
    show.set_defaults(func=run_show)

    check = actions.add_parser(
        "check",
        help="train every task's solution and wrong setup over seeds",
        description=(
            "Train each task's reference solution and its documented wrong setup with several "
            "seeds, and check that the solution meets the goal in all seeds but at most one and "
            "the wrong setup in at most one."
        ),
    )
    check.add_argument(
        "folder",
        nargs="?",
        metavar="DIR",
        help="a folder of lesson files (default: the lessons shipped with pointlab)",
    )
    check.add_argument(
        "--seeds",
        type=positive_int,
        default=None,
        metavar="K",
        help=f"seeds per setup (default: each task's own, at least {MIN_SEEDS})",
    )
    check.set_defaults(func=run_check)
    parser.set_defaults(func=lambda args, console: _usage(parser))


class _ActionsOrName(argparse._SubParsersAction):
    """The actions, where a word that names none is a lesson: `lesson memorize` is
    `lesson open memorize`."""

    def __call__(self, parser, namespace, values, option_string=None):
        if values and values[0] not in self._name_parser_map:
            values = ["open", *values]
        super().__call__(parser, namespace, values, option_string)


class _AnyName(dict):
    """argparse's check of the action's word: every word passes (`_ActionsOrName` sorts them)."""

    def __contains__(self, key: object) -> bool:
        return True


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--lessons",
        metavar="DIR",
        help="a folder of your own lesson files, looked in before the shipped ones",
    )
    parser.add_argument("--lang", choices=LANGUAGES, default="en", help="language (default: en)")


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def _folders(args: argparse.Namespace) -> list[Path]:
    own = [Path(args.lessons)] if getattr(args, "lessons", None) else []
    for folder in own:
        if not folder.is_dir():
            raise UserError(f"--lessons {folder}: no such folder")
    return [*own, shipped_folder()]


def run_open(args: argparse.Namespace, console: Console) -> int:
    lesson = find(args.name, _folders(args))  # an unknown name: one line, before serving
    query = {"lesson": lesson.name, **({"lang": args.lang} if args.lang else {})}
    args.open = not args.no_open
    return play_cmd.run(args, console, query="?" + urlencode(query))


def run_list(args: argparse.Namespace, console: Console) -> int:
    table = Table(title="lessons" if args.lang == "en" else "レッスン")
    for column in ("name", "title", "tasks"):
        table.add_column(column)
    errors: list[str] = []
    seen: set[str] = set()
    for folder in _folders(args):
        lessons, bad = load_folder(folder)
        errors += bad
        for lesson in lessons:
            if lesson.name not in seen:  # a teacher's lesson hides a shipped one of that name
                seen.add(lesson.name)
                table.add_row(lesson.name, lesson.title(args.lang), str(len(lesson.tasks)))
    console.print(table)
    for error in errors:
        print(f"pointlab: error: {error}", file=sys.stderr)
    return 2 if errors else 0


def run_show(args: argparse.Namespace, console: Console) -> int:
    lesson = find(args.name, _folders(args))
    lang = args.lang

    def say(text: str = "") -> None:
        console.print(text, markup=False, highlight=False)

    console.print(f"[bold]{lesson.title(lang)}[/bold]")
    say(lesson.intro(lang))
    say()
    say(("Set up: " if lang == "en" else "準備: ") + "pointlab play, /?" + _query(lesson))
    for number, task in enumerate(lesson.tasks, start=1):
        say()
        console.print(f"[bold]{number}. {task.title(lang)}[/bold]")
        say(task.text(lang))
        if task.question is not None:
            say(task.question.text(lang))
            for i, choice in enumerate(task.question.choices, start=1):
                say(f"  {i}) {choice(lang)}")
        say(("Goal: " if lang == "en" else "目標: ") + task.goal.text)
        if args.reveal:
            say(("Hint: " if lang == "en" else "ヒント: ") + task.hint(lang))
            if task.question is not None:
                answer = task.question.answer + 1
                say(("Answer: " if lang == "en" else "答え: ") + str(answer))
            say(task.explanation(lang))
            if task.more:
                say(("Deeper: " if lang == "en" else "さらに: ") + task.more)
    return 0


def run_check(args: argparse.Namespace, console: Console) -> int:
    from pointlab.lessons.check import check  # torch: only now

    folder = Path(args.folder) if args.folder else shipped_folder()
    lessons, errors = load_folder(folder)
    for error in errors:
        print(f"pointlab: error: {error}", file=sys.stderr)
    table = Table(title=f"lessons in {folder}")
    for column in ("lesson", "task", "goal", "solution", "wrong setup", "s", "ok"):
        table.add_column(column)
    broken = 0
    for lesson in lessons:
        for task in lesson.tasks:
            seeds = args.seeds or task.seeds
            start = time.perf_counter()
            good = check(task.settings(lesson.setup, "solution"), task.goal, seeds)
            bad = check(task.settings(lesson.setup, "wrong"), task.goal, seeds)
            ok = good.met >= seeds - 1 and bad.met <= 1
            broken += not ok
            table.add_row(
                lesson.name,
                task.name,
                task.goal.text,
                f"{good.met} of {seeds}",
                f"{bad.met} of {seeds}",
                f"{time.perf_counter() - start:.1f}",
                "[green]yes[/green]" if ok else "[red]no[/red]",
            )
    console.print(table)
    tasks = sum(len(lesson.tasks) for lesson in lessons)
    console.print(
        f"{tasks - broken} of {tasks} tasks hold (the solution meets the goal in all seeds but "
        "one at least, the wrong setup in one at most)",
        markup=False,
        highlight=False,
    )
    return 2 if errors else 1 if broken else 0


def _query(lesson: Lesson) -> str:
    return urlencode(lesson.setup)
