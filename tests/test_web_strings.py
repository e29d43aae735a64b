"""The playground's words: one file per language (static/i18n/), listed in languages.json, each
with every key the page uses and the same {placeholders} as English, so that a third language is
a file and a line, and no control shows a bare key. Pure file checks; the browser tests
(test_web_browser.py) check the page in Japanese."""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path

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
