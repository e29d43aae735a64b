"""`pointlab experiment`: listing imports no experiment, bad arguments fail before training,
`--check` turns a failed claim into exit status 1, and a report's words follow its verdicts."""

from __future__ import annotations

import json
import subprocess
import sys
import types

import pytest

from pointlab import experiments
from pointlab.cli import main
from pointlab.experiments.base import Claim, Context, Report, follow, write

LIST_AND_LOOK = """
import sys
from pointlab.cli import main
from pointlab.experiments import EXPERIMENTS, module_name
assert main(["experiment", "list"]) == 0
print(sorted(m for m in map(module_name, EXPERIMENTS) if m in sys.modules))
"""


def test_list_imports_no_experiment_module():
    done = subprocess.run(
        [sys.executable, "-c", LIST_AND_LOOK], capture_output=True, text=True, check=True
    )
    *table, imported = done.stdout.strip().splitlines()
    assert imported == "[]"
    text = " ".join(" ".join(table).split())
    for name in experiments.EXPERIMENTS:
        assert name in text


def test_every_registered_experiment_has_a_module_with_run():
    for name, summary in experiments.EXPERIMENTS.items():
        module = experiments.load(name)
        assert callable(module.run) and module.NAME == name
        assert 10 < len(summary) <= 80  # one line of `list`


def fake_experiment(monkeypatch, *verdicts: bool | None) -> list[Context]:
    """Register `fake`, whose claims have the given verdicts; return the contexts it ran with."""
    ran: list[Context] = []

    def run(ctx: Context) -> Report:
        ran.append(ctx)
        claims = [Claim(f"claim {i}", "x > 0", i, v) for i, v in enumerate(verdicts)]
        return Report("Fake", "a claim", "nothing", claims, findings="numbers")

    monkeypatch.setitem(experiments.EXPERIMENTS, "fake", "a fake experiment for the tests")
    real_load = experiments.load
    monkeypatch.setattr(
        experiments,
        "load",
        lambda name: (
            types.SimpleNamespace(NAME=name, run=run) if name == "fake" else real_load(name)
        ),
    )
    return ran


def test_a_failed_claim_exits_0_or_1_with_check_and_the_report_says_so(
    monkeypatch, tmp_path, capsys
):
    fake_experiment(monkeypatch, True, False)
    assert main(["experiment", "fake", "--out", str(tmp_path / "a")]) == 0
    assert main(["experiment", "fake", "--check", "--out", str(tmp_path / "b")]) == 1
    out = capsys.readouterr().out
    assert "1 of 2 claims hold; this one does not: “claim 1”" in " ".join(out.split())
    report = (tmp_path / "b" / "report.md").read_text()
    assert report.splitlines()[2] == (
        "**Verdict: 1 of 2 claims hold; this one does not: “claim 1”.**"
    )
    assert "All 2 claims hold" not in report
    results = json.loads((tmp_path / "b" / "results.json").read_text())
    assert results["passed"] is False and results["verdict"].startswith("1 of 2 claims hold")


def test_check_exits_0_when_every_claim_holds(monkeypatch, tmp_path):
    fake_experiment(monkeypatch, True, True)
    assert main(["experiment", "fake", "--check", "--out", str(tmp_path)]) == 0
    assert "**Verdict: All 2 claims hold.**" in (tmp_path / "report.md").read_text()


def test_check_exits_0_when_a_claim_is_inconclusive_and_the_report_says_so(
    monkeypatch, tmp_path, capsys
):
    fake_experiment(monkeypatch, True, None)
    assert main(["experiment", "fake", "--check", "--out", str(tmp_path)]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "1 of 2 claims hold; this one is inconclusive at this budget: “claim 1”" in out
    report = (tmp_path / "report.md").read_text()
    assert "All 2 claims hold" not in report and "| inconclusive at this budget |" in report
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["passed"] is True and results["claims"][1]["verdict"] == "inconclusive"


@pytest.mark.parametrize("below", ["", "sub"])
def test_out_that_is_a_file_is_refused_before_training(monkeypatch, tmp_path, capsys, below):
    ran = fake_experiment(monkeypatch, True)
    file = tmp_path / "notes.txt"
    file.write_text("mine\n")
    out = file / below if below else file
    assert main(["experiment", "fake", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err == f"pointlab: error: --out {out}: {file} is a file, not a folder\n"
    assert ran == [] and file.read_text() == "mine\n"


def test_out_is_refused_before_a_real_experiment_trains(tmp_path, capsys, monkeypatch):
    def no_import(name):
        raise AssertionError(f"imported {name} before checking --out")

    monkeypatch.setattr(experiments, "load", no_import)
    file = tmp_path / "f"
    file.write_text("")
    assert main(["experiment", "capacity", "--quick", "--out", str(file)]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err


def test_report_words_follow_failed_verdicts(tmp_path, monkeypatch):
    """universal's findings once said 'a good approximation exists' and 'existence is not
    trainability' whatever the verdicts: with every claim failed they must not."""
    import torch

    from pointlab.experiments import universal

    def failing(name, criterion, measured, passed):
        return Claim(name, criterion, measured, False)

    monkeypatch.setattr(universal, "Claim", failing)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        report = universal.run(Context(out=tmp_path, quick=True))
    finally:
        torch.set_num_threads(threads)
    write(report, tmp_path, "universal", quick=True)
    text = (tmp_path / "report.md").read_text()
    assert "a good approximation exists" not in text
    assert "Existence is not trainability" not in text
    assert "**Verdict: 0 of 3 claims hold" in text


def test_verdict_sentences():
    def report(*verdicts):
        claims = [Claim(f"c{i}", "", 0, v) for i, v in enumerate(verdicts)]
        return Report("t", "", "", claims)

    assert report(True).verdict() == "The claim holds."
    assert report(False).verdict() == "The claim does not hold: “c0”."
    assert report(True, True, True).verdict() == "All 3 claims hold."
    assert report(False, True, False).verdict() == "1 of 3 claims hold; these do not: “c0”; “c2”."
    assert report(None).verdict() == "The claim is inconclusive at this budget: “c0”."
    assert report(True, False, None).verdict() == (
        "1 of 3 claims hold; this one does not: “c1”; "
        "this one is inconclusive at this budget: “c2”."
    )


def test_follow_has_words_for_each_verdict():
    holds, fails, unsettled = (Claim("c", "", 0, v) for v in (True, False, None))
    assert [follow(c, "h", "f", "i") for c in (holds, fails, unsettled)] == ["h", "f", "i"]
    assert follow(unsettled, "h", "f") not in ("h", "f")  # never says it holds or fails


def test_a_report_whose_write_fails_leaves_the_previous_one_whole(tmp_path, monkeypatch):
    """results.json and report.md are read back by people and programs: each is written whole,
    so a write that fails (a full disk, a kill) leaves the previous file, never half a file."""
    import errno
    import os

    from pointlab.errors import UserError

    old = Report("Old", "a claim", "nothing", [Claim("c", "x > 0", 1, True)])
    write(old, tmp_path, "fake", quick=True)
    before = {name: (tmp_path / name).read_text() for name in ("results.json", "report.md")}

    def full_disk(src, dst):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "replace", full_disk)
    new = Report("New", "another claim", "more", [Claim("c", "x > 0", -1, False)])
    with pytest.raises(UserError, match="results.json: cannot write: No space left on device"):
        write(new, tmp_path, "fake", quick=True)
    assert {name: (tmp_path / name).read_text() for name in before} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.md", "results.json"]
