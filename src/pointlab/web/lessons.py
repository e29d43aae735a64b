"""The lessons as the page needs them: the index, one lesson whole, and a Check's answer.

The lesson files are read by `pointlab.lessons` (the format: `docs/lessons.md`); this module turns
them into JSON for the page, in every language at once (the page follows its own language
setting), and runs a Check: the page's current settings, with the lesson's locked settings put
back, trained over the task's seeds as one population (`lessons.check.check`), priced first like
every other piece of a tab's work (`budget.check_cost`).

Folders: a teacher's own (`pointlab play --lessons DIR`) are looked in first, then the shipped
lessons; a lesson of a teacher's hides a shipped one of the same name. A bad file is listed in the
index as its one-line error; the others still load.

Not here: the message dispatch (`session.py`), the lesson format and goals (`pointlab.lessons`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pointlab.errors import UserError
from pointlab.lessons.lesson import LANGUAGES, Lesson, Task, Text, find, load_folder, shipped_folder
from pointlab.web import budget
from pointlab.web.pictures import floats


def folders(own: Sequence[Path] = ()) -> list[Path]:
    """Where lessons are looked for, in order: the teacher's folders, then the shipped one."""
    return [*own, shipped_folder()]


def index(where: Sequence[Path]) -> dict[str, Any]:
    """Every lesson's name, title and number of tasks, in order, and one line per bad file."""
    seen: set[str] = set()
    listed: list[Lesson] = []
    errors: list[str] = []
    for folder in where:
        lessons, bad = load_folder(folder)
        errors += bad
        for lesson in lessons:
            if lesson.name not in seen:  # a teacher's lesson hides a shipped one of that name
                seen.add(lesson.name)
                listed.append(lesson)
    listed.sort(key=lambda x: (x.order, x.name))
    return {
        "type": "lessons",
        "lessons": [
            {"name": x.name, "title": _text(x.title), "tasks": len(x.tasks)} for x in listed
        ],
        "errors": errors,
    }


def lesson(name: Any, where: Sequence[Path]) -> dict[str, Any]:
    """Everything the page shows of one lesson, in every language."""
    found = _find(name, where)
    return {
        "type": "lesson",
        "name": found.name,
        "title": _text(found.title),
        "intro": _text(found.intro),
        "setup": found.setup,
        "show": list(found.shown),
        "lock": list(found.locked),
        "tasks": [_task(task) for task in found.tasks],
    }


def check(message: Mapping[str, Any], where: Sequence[Path]) -> dict[str, Any]:
    """A Check of one task on the page's settings: how many seeds meet its goal, and for each
    seed the clauses it missed with what was measured."""
    from pointlab.lessons.check import check as check_goal
    from pointlab.lessons.check import population

    found = _find(message.get("lesson"), where)
    task = _task_named(found, message.get("task"))
    raw = message.get("settings")
    if not isinstance(raw, dict):
        raise UserError("check: settings must be an object")
    # The locked controls are the lesson's: a link or a hand-edited form cannot change them.
    settings = {**raw, **{k: v for k, v in found.setup.items() if k in found.locked}}
    configs, train, val = population(settings, task.seeds)
    n_val = 0 if val is None else len(val)
    budget.check_cost(configs, train.n_classes, len(train), n_val).check("this Check")
    budget.check_free_memory(configs, train.n_classes, len(train), n_val)
    verdict = check_goal(settings, task.goal, task.seeds)
    return {
        "type": "checked",
        "lesson": found.name,
        "task": task.name,
        "goal": task.goal.text,
        "met": verdict.met,
        "total": verdict.total,
        "seconds": round(verdict.seconds, 2),
        "seeds": [
            {
                "seed": run.seed,
                "met": run.met,
                "status": run.status,
                # What the goal names, as this seed measured it (met or not).
                "values": {c.name: floats([run.measured[c.name]])[0] for c in task.goal.clauses},
                "failed": [
                    {
                        "clause": str(c),
                        "name": c.name,
                        "measured": floats([run.measured[c.name]])[0],
                    }
                    for c in run.failed
                ],
            }
            for run in verdict.runs
        ],
    }


def _find(name: Any, where: Sequence[Path]) -> Lesson:
    if not isinstance(name, str) or not name:
        raise UserError("lesson: give the lesson's name")
    return find(name, list(where))


def _task_named(found: Lesson, name: Any) -> Task:
    for task in found.tasks:
        if task.name == name:
            return task
    names = ", ".join(t.name for t in found.tasks)
    raise UserError(f"check: lesson {found.name} has no task {name!r}; its tasks are: {names}")


def _task(task: Task) -> dict[str, Any]:
    question = task.question
    return {
        "name": task.name,
        "title": _text(task.title),
        "text": _text(task.text),
        "question": None
        if question is None
        else {
            "text": _text(question.text),
            "choices": [_text(c) for c in question.choices],
            "answer": question.answer,
        },
        "goal": task.goal.text,
        "seeds": task.seeds,
        "hint": _text(task.hint),
        "explanation": _text(task.explanation),
        "more": task.more,
    }


def _text(text: Text) -> dict[str, str]:
    return {lang: text(lang) for lang in LANGUAGES}
