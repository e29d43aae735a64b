"""One grammar for hidden widths: the same spellings accepted, and the same ones refused with the
same reason, by the library, `pointlab train`, `sweep` and `explain`, the playground's settings and
a search space."""

from __future__ import annotations

import pytest

from pointlab.cli import build_parser, main
from pointlab.config import WIDTHS_HELP, TrainConfig, parse_hidden
from pointlab.errors import UserError
from pointlab.search.space import layers_text, parse_param
from pointlab.web.settings import parse as page_settings

from conftest import CURVE, quiet

GOOD = [
    ("16,16", (16, 16)),
    ("8", (8,)),
    ("[16,16]", (16, 16)),
    (" 8 , 4 ", (8, 4)),
    ("[ 8, 4 ]", (8, 4)),
    ("none", ()),
    ("None", ()),
    ("[]", ()),
    ("complex", (128, 128)),
    ("simple", ()),
]
ZERO = "widths must be at least 1 (none for no hidden layer)"
BAD = [
    ("0", ZERO),
    ("16,0", ZERO),
    ("16x16", WIDTHS_HELP),
    ("16 16", WIDTHS_HELP),
    ("16;16", WIDTHS_HELP),
    ("16-16", WIDTHS_HELP),
    ("-8", WIDTHS_HELP),
    ("+8", WIDTHS_HELP),
    ("1.5", WIDTHS_HELP),
    ("1_6", WIDTHS_HELP),
    ("[16", WIDTHS_HELP),
    ("16,", WIDTHS_HELP),
    ("[[16]]", WIDTHS_HELP),
    ("huge", WIDTHS_HELP),
    ("", WIDTHS_HELP),
]


def library(text: str) -> tuple[int, ...]:
    return parse_hidden(text)


def config(text: str) -> tuple[int, ...]:
    return TrainConfig(hidden=text).hidden  # type: ignore[arg-type]


def command(name: str):
    def parse(text: str) -> tuple[int, ...]:
        args = build_parser().parse_args([name, str(CURVE), "--layers", text])
        return args.config_hidden

    parse.__name__ = name
    return parse


def page(text: str) -> tuple[int, ...]:
    return page_settings({"layers": text}).members[0].hidden


def space(text: str) -> tuple[int, ...]:
    (choice,) = parse_param(f"layers={text}").choices
    return parse_hidden(choice)


ENTRIES = [library, config, command("train"), command("sweep"), command("explain"), page, space]


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.__name__)
def test_every_front_end_reads_the_same_spellings_as_the_same_widths(entry):
    assert [entry(text) for text, _ in GOOD] == [widths for _, widths in GOOD]


@pytest.mark.parametrize("entry", [library, config, page, space], ids=lambda e: e.__name__)
def test_every_front_end_refuses_the_same_spellings_for_the_same_reason(entry):
    for text, reason in BAD:
        if entry is space and text == "":
            continue  # `layers=` has no SPEC at all: the space's own message says so
        with pytest.raises(UserError) as error:
            entry(text)
        assert reason in str(error.value), (text, str(error.value))


@pytest.mark.parametrize("name", ["train", "sweep", "explain"])
def test_every_command_refuses_them_in_one_line_with_status_2(name, tmp_path, capsys):
    for text, reason in BAD:
        out = tmp_path / "out"
        try:
            status = main([name, str(CURVE), "--layers", text, "--out", str(out)], quiet())
        except SystemExit as exit:
            status = exit.code
        lines = capsys.readouterr().err.strip().splitlines()
        assert status == 2 and len(lines) == 1, (text, lines)
        assert f"argument --layers: {text!r}: {reason}" in lines[0]
        assert not out.exists()


def test_the_page_gets_back_one_spelling_and_names_the_setting():
    assert page_settings({"layers": "[8, 4]"}).settings["layers"] == "8,4"
    assert page_settings({"layers": "[]"}).settings["layers"] == "none"
    with pytest.raises(UserError) as error:
        page_settings({"layers": "16x16"})
    assert str(error.value) == f"layers: '16x16': {WIDTHS_HELP}"
    with pytest.raises(UserError, match="layers: 1000 is outside 1..256"):  # the server's limit
        page_settings({"layers": "16,1000"})


def test_a_space_separates_bracketed_choices_and_reads_plain_numbers_as_one_choice():
    assert parse_param("layers=64,64").choices == ("[64,64]",)  # as --layers 64,64
    assert parse_param("layers=[16],[64,64]").choices == ("[16]", "[64,64]")
    assert parse_param("layers=none,[8],complex").choices == ("[]", "[8]", "[128,128]")
    assert layers_text(()) == "[]" and parse_hidden(layers_text((8, 4))) == (8, 4)
    with pytest.raises(UserError) as error:
        parse_param("layers=[16],16x16")
    assert str(error.value) == f"space 'layers=[16],16x16': '16x16': {WIDTHS_HELP}"
