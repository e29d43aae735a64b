"""Lessons: the file format and its errors, the goal grammar, the verdict over seeds, the command.

The slow test holds every shipped lesson to its promise: each task's reference solution meets the
goal in at least 4 of 5 seeds and its documented wrong setup in at most 1, so no goal is one that
cannot fail and none is out of reach.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from pointlab.cli import main
from pointlab.errors import UserError
from pointlab.lessons.goals import parse_goal
from pointlab.lessons.lesson import load_folder, load_lesson, shipped_folder

from conftest import quiet

SHIPPED = sorted(shipped_folder().glob("*.toml"))

SMALL = """
order = 1
[title]
en = "Small"
ja = "小さい"
[intro]
en = "A line."
ja = "直線。"
[setup]
data = "linear.csv"
layers = "none"
lr = 0.1
epochs = 100
[[task]]
name = "line"
goal = "train_acc >= 0.85"
solution = {}
wrong = { epochs = 1, lr = 0 }
[task.title]
en = "Fit"
ja = "合わせる"
[task.text]
en = "Train."
ja = "学習させる。"
[task.hint]
en = "More epochs."
ja = "エポックを増やす。"
[task.explanation]
en = "A line fits."
ja = "直線で合う。"
"""


def test_goal_grammar_reads_clauses_and_refuses_what_it_cannot_check():
    goal = parse_goal("train_acc >= 0.99 and val_acc <= 0.65")
    assert [str(c) for c in goal.clauses] == ["train_acc >= 0.99", "val_acc <= 0.65"]
    assert goal.holds({"train_acc": 1.0, "val_acc": 0.5})
    assert goal.failed({"train_acc": 1.0, "val_acc": 0.8})[0].name == "val_acc"
    assert parse_goal("lr < 0.1 and units <= 8").holds({"lr": 0.03, "units": 8})
    for bad in ("", "val_acc", "val_acc => 0.9", "__import__('os') > 1", "accuracy > 0.5"):
        with pytest.raises(ValueError):
            parse_goal(bad)


def test_a_diverged_member_meets_no_goal():
    goal = parse_goal("val_loss <= 10")
    assert not goal.holds({"val_loss": math.nan})
    assert not parse_goal("val_loss >= 0").holds({"val_loss": math.nan})


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_every_shipped_lesson_loads_in_both_languages(path):
    lesson = load_lesson(path)
    assert lesson.tasks and lesson.title.en and lesson.title.ja
    for task in lesson.tasks:
        assert task.seeds >= 5
        assert task.hint.ja and task.explanation.ja
        if task.question is not None:
            assert 0 <= task.question.answer < len(task.question.choices)


def test_at_least_ten_lessons_in_order():
    lessons, errors = load_folder(shipped_folder())
    assert errors == []
    assert len(lessons) >= 10
    assert [x.order for x in lessons] == sorted(x.order for x in lessons)


@pytest.mark.parametrize(
    "change, line, words",
    [
        (('goal = "train_acc >= 0.85"', 'goal = "accuracy >= 0.85"'), 16, "not a measurement"),
        (('ja = "小さい"', "jp = 1"), 5, "title.jp: unknown key"),
        (("epochs = 100", "epochs = 0"), 13, "epochs: 0 is outside"),
        (
            ("wrong = { epochs = 1, lr = 0 }", 'wrong = { lr = "fast" }'),
            18,
            "'fast' is not a number",
        ),
        (("[task.hint]", "colour = 1\n[task.hint]"), 25, "unknown key"),
        (('name = "line"', 'name = "line'), 15, "not valid TOML"),
    ],
)
def test_a_bad_lesson_is_refused_in_one_line_naming_file_and_line(tmp_path, change, line, words):
    path = tmp_path / "small.toml"
    path.write_text(SMALL.replace(*change), encoding="utf-8")
    with pytest.raises(UserError) as caught:
        load_lesson(path)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{path}:{line}:"), message
    assert words in message


def test_one_bad_file_does_not_hide_the_others(tmp_path):
    (tmp_path / "good.toml").write_text(SMALL, encoding="utf-8")
    (tmp_path / "bad.toml").write_text(SMALL.replace("[[task]]", "[task]"), encoding="utf-8")
    lessons, errors = load_folder(tmp_path)
    assert [x.name for x in lessons] == ["good"]
    assert len(errors) == 1 and errors[0].startswith(str(tmp_path / "bad.toml"))


def test_lesson_list_and_show_in_japanese(capsys):
    console = quiet()
    assert main(["lesson", "list", "--lang", "ja"], console) == 0
    listing = console.file.getvalue()
    assert "ニューロン1つは直線を引く" in listing and "memorize" in listing
    console = quiet()
    assert main(["lesson", "show", "memorize", "--lang", "ja", "--reveal"], console) == 0
    shown = console.file.getvalue()
    assert "目標: train_acc >= 0.9 and val_acc <= 0.7" in shown
    assert "答え: 2" in shown and "pointlab experiment memorize" in shown


def test_lesson_show_names_the_lessons_when_one_is_unknown(capsys):
    assert main(["lesson", "show", "no-such"], quiet()) == 2
    assert "the lessons are: " in capsys.readouterr().err


def test_a_teachers_lesson_is_checked_over_seeds(tmp_path, one_thread):
    (tmp_path / "line.toml").write_text(SMALL, encoding="utf-8")
    console = quiet()
    assert main(["lesson", "check", str(tmp_path)], console) == 0
    assert "5 of 5" in console.file.getvalue() and "1 of 1 tasks hold" in console.file.getvalue()


def test_a_goal_that_cannot_fail_is_reported(tmp_path, one_thread, capsys):
    lax = SMALL.replace('goal = "train_acc >= 0.85"', 'goal = "train_acc >= 0"')
    (tmp_path / "lax.toml").write_text(lax, encoding="utf-8")
    (tmp_path / "broken.toml").write_text("order = ", encoding="utf-8")
    console = quiet()
    assert main(["lesson", "check", str(tmp_path)], console) == 2  # a bad file: 2, not 1
    assert "0 of 1 tasks hold" in console.file.getvalue()
    assert "broken.toml:1: not valid TOML" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_shipped_solutions_meet_their_goals_and_wrong_setups_do_not(path: Path, one_thread):
    from pointlab.lessons.check import check

    lesson = load_lesson(path)
    for task in lesson.tasks:
        good = check(task.settings(lesson.setup, "solution"), task.goal, task.seeds)
        bad = check(task.settings(lesson.setup, "wrong"), task.goal, task.seeds)
        assert good.met >= task.seeds - 1, f"{task.name}: solution {good.summary()}"
        assert bad.met <= 1, f"{task.name}: wrong setup {bad.summary()}"
