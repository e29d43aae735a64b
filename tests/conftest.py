"""What the test files share: where the data files are, a quiet console for the commands called
in-process, the installed `pointlab` command, and one torch thread for tests of tiny models.

The constants and helpers are imported by name (`from conftest import CURVE, quiet`); the fixtures
are pytest's (`one_thread`, `console`; the playground's in-process `client`; the browser tests'
`browser`, one Chromium a test file, and `page`, a fresh tab that fails its test on a JavaScript
error).

Not here: the PyTorch reference loop (`reference.py`), database and Ray servers (`servers.py`).
"""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import Console

ROOT = Path(__file__).resolve().parents[1]  # the repository
DATA = ROOT / "data"  # the committed data files (made by `pointlab data make`)
CURVE = DATA / "curve.csv"
SHARED = ROOT.parent / "shared"  # beside the checkout: the book's own files, Ripley's data
BOOK = SHARED / "book"
POINTLAB = str(Path(sys.executable).parent / "pointlab")  # the console script, for subprocesses
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def book_file(name: str) -> Path:
    """The book's own `name` (e.g. curve.csv) where it is beside the checkout, else ours."""
    theirs = BOOK / name
    return theirs if theirs.exists() else DATA / name


def quiet() -> Console:
    """A console for `main(argv, console)` whose tables and progress go nowhere."""
    return Console(file=io.StringIO(), width=120)


def is_png(path: Path) -> bool:
    return path.read_bytes()[:8] == PNG_SIGNATURE


@pytest.fixture
def console() -> Console:
    return quiet()


@pytest.fixture
def one_thread() -> Iterator[None]:
    """One torch thread, as `pointlab play` and the commands choose on a busy machine
    (pointlab/cpu.py): the tests share two cores, where two threads fight over them and tiny
    populations run several times slower than with one (measured: 7.6 s against 0.08 s for one
    small run)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def client(tmp_path):
    """The playground in-process (Starlette's TestClient around `create_app`), its exports in
    a temporary folder; `webclient` opens tabs on it."""
    from starlette.testclient import TestClient

    from pointlab.web.app import create_app
    from webclient import ORIGIN

    app = create_app("127.0.0.1", tmp_path / "runs")
    with TestClient(app, base_url=ORIGIN) as client:
        yield client


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium driven by Playwright, one a test file."""
    from playwright.sync_api import sync_playwright

    from servers import CHROMIUM, CHROMIUM_ARGS

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    """A new tab, 1280 x 1000; the test fails on any JavaScript error in the page."""
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert not errors, f"JavaScript errors in the page: {errors}"
