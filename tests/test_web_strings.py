"""The playground's words: one file per language (static/i18n/), listed in languages.json, each
with every key the page uses and the same {placeholders} as English, so that a third language is
a file and a line, and no control shows a bare key; and the server's messages (the CSV loader's
own, for an upload) through the Japanese patterns as i18n.js applies them. No browser: the browser
tests (test_web_browser.py) check the page in Japanese."""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path

import pytest

STATIC = Path(str(resources.files("pointlab.web") / "static"))


def _strings(lang: str) -> dict:
    return json.loads((STATIC / "i18n" / f"{lang}.json").read_text(encoding="utf-8"))


def test_every_language_listed_has_every_english_key_with_its_placeholders():
    languages = json.loads((STATIC / "i18n" / "languages.json").read_text(encoding="utf-8"))
    assert languages["en"] == "English" and languages["ja"] == "日本語"
    english = _strings("en")
    for lang in languages:
        words = _strings(lang)
        texts = {k: v for k, v in words.items() if isinstance(v, str)}
        assert set(texts) == set(english), lang
        for key, text in texts.items():
            wanted = set(re.findall(r"\{(\w+)\}", english[key]))
            assert set(re.findall(r"\{(\w+)\}", text)) == wanted, (lang, key, text)


def test_every_key_the_page_names_is_in_english():
    english = _strings("en")
    html = (STATIC / "index.html").read_text(encoding="utf-8")
    keys = set(re.findall(r'data-i18n(?:-\w+)?="([^"]+)"', html))
    for script in (STATIC / "js").glob("*.js"):
        keys |= set(re.findall(r'\bt\("([\w.-]+)"', script.read_text(encoding="utf-8")))
    assert len(keys) > 100
    assert not sorted(keys - set(english))
    # Keys built at run time: the frame's status words.
    assert {f"status.{s}" for s in ("playing", "paused", "finished", "diverged")} <= set(english)


def test_the_server_patterns_of_a_language_are_regular_expressions_that_match():
    for path in (STATIC / "i18n").glob("*.json"):
        patterns = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(patterns, dict):
            continue
        for pattern, _ in patterns.get("server", []):
            re.compile(pattern)
    ja = _strings("ja")["server"]
    message = "lr: 'abc' is not a number"
    assert any(re.match(p, message) for p, _ in ja)


def test_the_servers_refusals_read_in_japanese():
    # The messages a learner meets most, as the server words them (web/points.py, app.py,
    # session.py); each has a Japanese pattern, so the Japanese page shows no English sentence.
    from pointlab.web.app import BAD_MESSAGE
    from pointlab.web.points import _out_of_range

    messages = [
        _out_of_range("add_point"),
        BAD_MESSAGE,
        "edits: r999: no point 999",
        "remove_point: no point 12",
        "play: the server is busy with other pages' work (3 waiting for a turn); it was not "
        "done, try again in a moment",
        "explain: this page has 16 messages waiting for the server; it was not done, try again "
        "when they are answered",
        "points: give 4 to 5000 points, got 2",
        "layers: 9 hidden layers; the limit is 8",
        "compare: 20 members; the limit is 16",
        "gen-batch: 7 is odd; give an even number",
    ]
    ja = _strings("ja")["server"]
    for message in messages:
        # The page tries the patterns on each "; "-separated part (i18n.js serverText), so a
        # pattern holding "; " never matches: each part needs its own.
        for part in message.split("; "):
            assert any(re.match(p, part) for p, _ in ja), (message, part)


def _server_text(text: str, patterns: list[list[str]]) -> str:
    """i18n.js serverText in Python: each "; "-separated part through the first pattern that
    matches it, "$1" in a replacement being the first group."""
    parts = []
    for part in text.split("; "):
        for pattern, replacement in patterns:
            if re.search(pattern, part):
                python = re.sub(r"\$(\d)", r"\\g<\1>", replacement.replace("\\", "\\\\"))
                part = re.sub(pattern, python, part, count=1)
                break
        parts.append(part)
    return "; ".join(parts)


# Each CSV the loader refuses, and what its Japanese message must keep: the file, line, values.
BAD_CSVS = {
    b"": ["bad.csv: ファイルが空です"],
    b"# only a comment\n\n": ["bad.csv: データ行がありません"],
    b"x,y,label\n": ["bad.csv: 見出し行はありますが"],
    b"1,2,0\x00\n": ["bad.csv: ", "バイナリファイル"],
    b"1,2,0\n\xff,1,0\n": ["bad.csv:2: UTF-8 のテキストではありません"],
    b"1,2,0\r1,2,1\n": ["bad.csv:1: ", "CR"],
    b"1,2,0\n1,2\n": ["bad.csv:2: コンマ区切りの列が 3 列のはずですが、2 列あります"],
    b"1,2,0\n1,,1\n": ["bad.csv:2: y の値が空です"],
    b"1,2,0\n1,nan,1\n": ["bad.csv:2: y が 'nan' です", "NaN と無限大は使えません"],
    b"x,y,label\n1,2,0\n1,abc,1\n": ["bad.csv:3: y の 'abc' は数値ではありません"],
    b"1,2,0\n1;2;1,2,1\n": ["bad.csv:2: x の '1;2;1' は数値ではありません", "コンマで区切って"],
    b"1,2,0\n1,1e300,1\n": ["bad.csv:2: y の 1e300 は大きすぎます"],
    b"1,2\n3,4\n": ["bad.csv:1: 列が 2 列しかありません", "3 列"],
    b"id,x,foo\n1,2,0\n": ["bad.csv: どの列が", "(見出し: id, x, foo)", "X,Y,LABEL"],
    b"1,2,0\n1,2,0.5\n": ["bad.csv:2: ラベル 0.5 はクラスではありません"],
    b"1,2,1\n3,4,1\n": ["bad.csv: すべての点のラベルが 1 です", "2 つ以上"],
    b"1,2,0\n1,2,1\n1,2,7\n": ["bad.csv:3: ラベル 7 が点の数 (3) より大きいです", "抜けなく"],
    b"1,2,0\n1,2,2\n1,2,0\n": ["bad.csv: クラス 1 の点がありません (あったラベル: 0, 2)"],
    b"".join(b"%d,1,%d\n" % (i, i % 2) for i in range(5001)): [
        "bad.csv: 点が 5001 個あります",
        "5000 個まで",
    ],
    b"".join(b"%d,1,%d\n" % (i, i % 11) for i in range(11)): [
        "bad.csv: クラスが 11 個あります",
        "10 個まで",
    ],
}
# Words that stay in Latin letters in Japanese: the file, the columns' names, code, units.
KEPT = {"bad", "csv", "CSV", "UTF", "NUL", "CR", "Mac", "NaN", "nan", "abc", "float", "e"}
KEPT |= {"x", "y", "label", "id", "foo", "columns", "X", "Y", "LABEL", "MB"}


def test_every_csv_the_upload_refuses_is_told_in_japanese():
    # The messages come from the loader itself (through the upload's own parser), so a change
    # of wording there shows here as English left in the Japanese page.
    from pointlab.errors import UserError
    from pointlab.web.app import _parse_csv

    ja = _strings("ja")["server"]
    for body, wanted in BAD_CSVS.items():
        with pytest.raises(UserError) as refused:
            _parse_csv(body, "bad.csv")
        text = _server_text(str(refused.value), ja)
        assert all(part in text for part in wanted), (str(refused.value), text)
        assert not set(re.findall(r"[A-Za-z]+", text)) - KEPT, (str(refused.value), text)
    big = _server_text("the upload is larger than the limit of 5 MB", ja)
    assert big == "アップロードが上限の 5 MB を超えています"
