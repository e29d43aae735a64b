"""The command line's arguments: training flags made from TrainConfig, one default per shared
flag, and bad values refused in one line, exit 2, before anything is created or trained."""

import dataclasses
import json
import re

import pytest

from pointlab import runs
from pointlab.cli import main
from pointlab.cli.args import FLAGS
from pointlab.config import TrainConfig
from pointlab.engine.schedules import lr_at
from pointlab.search.sweep import SweepSetup

from conftest import CURVE, quiet


def help_text(capsys, *command: str) -> str:
    with pytest.raises(SystemExit) as exit:
        main([*command, "--help"])
    assert exit.value.code == 0
    return " ".join(capsys.readouterr().out.split())  # argparse wraps lines anywhere


@pytest.mark.parametrize("command", ["train", "sweep"])
def test_every_trainconfig_field_is_a_flag_with_its_default(command, capsys):
    text = help_text(capsys, command)
    defaults = TrainConfig()
    options = text[text.index("training options") :]  # the flags in field order, after usage
    flags = [FLAGS[field.name] for field in dataclasses.fields(TrainConfig)]
    # " --lr X", or " --standardize, --no-standardize" for an on/off field
    starts = [re.search(f" {flag}[ ,]", options).start() for flag in flags]
    assert starts == sorted(starts)
    for flag, start, end in zip(flags, starts, [*starts[1:], len(options)], strict=True):
        assert "(default: " in options[start:end], flag
    assert f"(default: {defaults.step_size})" in text and "(default: 0.1)" in text  # gamma
    if command == "sweep":
        assert "epochs per trial (default: 2000)" in text


def test_a_step_schedule_from_flags_is_the_schedule_trained(tmp_path):
    """--step-size 500 --gamma 0.5: the same curve as without decay up to epoch 500, another one
    after; and the recorded config gives the halved rates."""

    def train(name: str, *flags: str) -> dict:
        out = tmp_path / name
        argv = ["train", str(CURVE), "--layers", "8", "--optimizer", "sgd", "--lr", "0.5"]
        argv += ["--epochs", "700", "--log-every", "100", "--val-fraction", "0"]
        assert main([*argv, "--out", str(out), *flags], quiet()) == 0
        return runs.read_metrics(out)

    step = train("step", "--schedule", "step", "--step-size", "500", "--gamma", "0.5")
    flat = train("flat", "--schedule", "step", "--step-size", "500", "--gamma", "1")
    assert step["epoch"] == flat["epoch"] == [0, 100, 200, 300, 400, 500, 600, 700]
    assert step["train_loss"][:6] == flat["train_loss"][:6]  # epochs 1 .. 500 at lr 0.5
    assert step["train_loss"][6:] != flat["train_loss"][6:]  # then 0.25
    config = runs.read_spec(tmp_path / "step")[0].config
    assert (config.schedule, config.step_size, config.gamma) == ("step", 500, 0.5)
    assert [float(lr_at(config, e)) for e in (499, 500, 999, 1000)] == [0.5, 0.25, 0.25, 0.125]


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--seed", "-1"], "--seed must be a whole number from 0 to 4294967295, got -1"),
        (["--seed", "1e20"], "--seed must be a whole number from 0 to 4294967295"),
        (["--val-fraction", "0.999"], "--val-fraction 0.999 leaves no training points"),
        (["--epochs", "1e30"], "--epochs must be at most 1,000,000,000"),
        (["--epochs", "-5"], "--epochs must be >= 0, got -5"),
        (["--warmup", "-1", "--gamma", "2"], "--warmup must be >= 0, got -1; --gamma must be in"),
        (["--layers", "0"], "argument --layers: '0': widths must be at least 1"),
        (["--batch-size", "0"], "argument --batch-size: must be at least 1 (or full), got 0"),
        (["--early-stopping", "0"], "--early-stopping patience must be >= 1, got 0"),
    ],
)
@pytest.mark.parametrize("command", ["train", "sweep"])
def test_bad_values_are_one_line_exit_2_and_create_nothing(
    command, flags, message, tmp_path, capsys
):
    out = tmp_path / "out"
    try:
        status = main([command, str(CURVE), *flags, "--out", str(out)], quiet())
    except SystemExit as exit:  # argparse: a value no flag can take
        status = exit.code
    lines = capsys.readouterr().err.strip().splitlines()
    assert status == 2 and len(lines) == 1 and message in lines[0], lines
    assert not out.exists()


def test_one_default_each_for_device_seed_and_validation_share(tmp_path, capsys):
    for command in (["train"], ["sweep"], ["experiment"]):
        assert "(default: auto)" in help_text(capsys, *command)
    # A sweep holds out more than a single run (its choice among trials needs it); the command
    # and the library (SweepSetup) agree.
    for command, share in ((["train"], 0.2), (["sweep"], SweepSetup.val_fraction)):
        options = help_text(capsys, *command).split("--val-fraction F ")[1]  # not the usage
        assert options.split(" --")[0].endswith(f"(default: {share})")
    assert SweepSetup.val_fraction == 0.25
    out = tmp_path / "run"
    assert main(["train", str(CURVE), "--epochs", "1", "--out", str(out)], quiet()) == 0
    record = json.loads((out / "config.json").read_text())
    assert record["config"]["seed"] == 0 and record["split_seed"] == 0
    assert record["val_fraction"] == 0.2
    text = help_text(capsys, "data", "make")
    assert "random seed (default: 0)" in text


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (
            ["train", str(CURVE), "--optimiser", "sgd"],
            "pointlab train: error: unrecognized arguments: --optimiser sgd; did you mean "
            "--optimizer? (see pointlab train --help)",
        ),
        (
            ["data", "show", str(CURVE), "--colums", "0,1,2"],
            "pointlab data show: error: unrecognized arguments: --colums 0,1,2; did you mean "
            "--columns? (see pointlab data show --help)",
        ),
        (
            ["evaluate", "runs/x", str(CURVE), "--jsn=1"],
            "pointlab evaluate: error: unrecognized arguments: --jsn=1; did you mean --json? "
            "(see pointlab evaluate --help)",
        ),
        (
            ["train", str(CURVE), "more.csv"],
            "pointlab train: error: unrecognized arguments: more.csv (see pointlab train --help)",
        ),
    ],
)
def test_a_mistyped_flag_gets_the_closest_flag_and_the_subcommands_help(argv, said, capsys):
    with pytest.raises(SystemExit) as exit:
        main(argv, quiet())
    assert exit.value.code == 2
    assert capsys.readouterr().err == said + "\n"


@pytest.mark.parametrize(
    ("flags", "field", "value"),
    [
        (["--lr", "3e-2"], "lr", 0.03),
        (["--seed", "2e3"], "seed", 2000),
        (["--layers", "[8,4]"], "hidden", (8, 4)),
        (["--activation", "tanh"], "activation", "tanh"),
    ],
)
def test_explain_reads_the_model_flags_as_train_does(flags, field, value):
    from pointlab.cli import build_parser
    from pointlab.cli.args import given

    for command in ("train", "explain"):
        args = build_parser().parse_args([command, str(CURVE), *flags])
        assert given(args)[field] == value, command


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--seed", "1.5"], "argument --seed: '1.5' is not a whole number"),
        (["--seed", "-1"], "--seed must be a whole number from 0 to 4294967295, got -1"),
        (["--lr", "fast"], "argument --lr: 'fast' is not a number"),
        (["--lr", "-1"], "--lr must be a finite number >= 0, got -1"),
        (["--columns", "x,y"], "--columns 'x,y': give three columns"),
    ],
)
@pytest.mark.parametrize("command", ["train", "explain"])
def test_explain_and_train_refuse_the_same_values_in_the_same_words(
    command, flags, message, tmp_path, capsys
):
    out = tmp_path / "out"
    try:
        status = main([command, str(CURVE), *flags, "--out", str(out)], quiet())
    except SystemExit as exit:
        status = exit.code
    lines = capsys.readouterr().err.strip().splitlines()
    assert status == 2 and len(lines) == 1 and message in lines[0], lines
    assert not out.exists()


@pytest.mark.parametrize("flags", [["--layers", "none"], ["--model", "simple"]])
def test_no_hidden_layer_is_trained_as_asked(flags, tmp_path):
    """`--layers none` and `--model simple` are the book's logistic regression, not `complex`."""
    out = tmp_path / "run"
    assert main(["train", str(CURVE), *flags, "--epochs", "1", "--out", str(out)], quiet()) == 0
    assert json.loads((out / "config.json").read_text())["config"]["hidden"] == []


def test_explain_reads_whole_numbers_as_every_command_does(capsys):
    from pointlab.cli import build_parser

    assert build_parser().parse_args(["explain", str(CURVE), "--epoch", "1e3"]).epoch == 1000
    with pytest.raises(SystemExit) as exit:  # argparse: a value no flag can take
        main(["explain", str(CURVE), "--epoch", "x"], quiet())
    assert exit.value.code == 2
    assert "argument --epoch: 'x' is not a whole number" in capsys.readouterr().err
