"""The playground widget in a real notebook front end: JupyterLab started here on 127.0.0.1 (a free
port, a token, a temporary root, no browser, nothing fetched from the network), a notebook opened
in Debian's Chromium with Playwright's plain sync API, the widget's cell run, Play clicked, the
epoch counter and the curves seen moving, Pause, and a next cell that asks the kernel for the run
object and checks that its weights trained.

The screenshot of the widget in JupyterLab (docs/widget-jupyterlab.png) is taken by this test,
into screenshots/ (git-ignored).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

import servers

SHOTS = Path(__file__).resolve().parent.parent / "screenshots"
JUPYTER = Path(sys.executable).parent / "jupyter-lab"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,  # JupyterLab, a kernel with torch and Chromium: about a minute on 2 cores
    pytest.mark.skipif(
        not servers.CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"
    ),
    pytest.mark.skipif(not JUPYTER.exists(), reason="needs jupyterlab (the dev group)"),
]

# What the kernel prints in the second cell, for the test to read back.
CHECK = """\
after = pg.result()
changed = any(
    not torch.equal(before.model.state[k], after.model.state[k]) for k in before.model.state
)
print("TRAINED", json.dumps({
    "type": type(after).__name__, "epoch": after.stopped_epoch, "changed": changed,
    "train_acc": after.last("train_acc"), "rows": len(after.history["epoch"]),
    "paused": pg.status,
}))
"""
SHOW = """\
import json
import torch
from pointlab.widget import Playground

pg = Playground(data="circle", layers="4", epochs=20000, points=100)
before = pg.result()  # epoch 0: the initial weights
pg
"""

# JupyterLab asks nothing of the network: no news, no update check, no extension manager.
CONFIG = """\
c.LabApp.news_url = None
c.LabApp.check_for_updates_class = "jupyterlab.NeverCheckForUpdate"
c.LabApp.extension_manager = "readonly"
c.ServerApp.open_browser = False
"""
DISABLED = {"@jupyterlab/apputils-extension:announcements": True}


def notebook(cells: list[str]) -> dict:
    return {
        "cells": [
            {"cell_type": "code", "execution_count": None, "id": f"cell{i}", "metadata": {},
             "outputs": [], "source": source}
            for i, source in enumerate(cells)
        ],
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                    "language": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }  # fmt: skip


@pytest.fixture(scope="module")
def lab(tmp_path_factory) -> Iterator[str]:
    """JupyterLab on 127.0.0.1 and a free port, its root a temporary folder holding widget.ipynb;
    the notebook's URL (token included). Stopped at the end by its own process id."""
    home = tmp_path_factory.mktemp("jupyter")
    root, config = home / "root", home / "config"
    (config / "labconfig").mkdir(parents=True)
    root.mkdir()
    (config / "jupyter_lab_config.py").write_text(CONFIG)
    (config / "labconfig" / "page_config.json").write_text(
        json.dumps({"disabledExtensions": DISABLED})
    )
    (root / "widget.ipynb").write_text(json.dumps(notebook([SHOW, CHECK])))
    port, token = servers.free_port(), secrets.token_hex(16)
    env = dict(
        os.environ,
        JUPYTER_CONFIG_DIR=str(config),
        JUPYTER_DATA_DIR=str(home / "data"),
        JUPYTER_RUNTIME_DIR=str(home / "runtime"),
        IPYTHONDIR=str(home / "ipython"),
        OMP_NUM_THREADS="1",  # the kernel's torch: two shared cores
    )
    log = (home / "lab.log").open("w")
    process = subprocess.Popen(
        [str(JUPYTER), "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
         f"--LabApp.user_settings_dir={home / 'settings'}",
         f"--LabApp.workspaces_dir={home / 'workspaces'}", "--ServerApp.terminals_enabled=False",
         *(["--allow-root"] if os.geteuid() == 0 else [])],  # a CI container runs as root
        stdout=log, stderr=subprocess.STDOUT, env=env, cwd=root,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 120
        while True:
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2).read()
                break
            except OSError:
                if process.poll() is not None or time.time() > deadline:
                    raise RuntimeError(
                        f"JupyterLab did not start: {(home / 'lab.log').read_text()}"
                    ) from None
                time.sleep(0.5)
        yield f"{base}/lab/tree/widget.ipynb?token={token}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def run_cell(page, index: int) -> None:
    """Select cell `index` and run it (Shift+Enter), as a person does; until its prompt shows
    it queued or ran ("[*]", "[1]"), since a kernel that is still connecting drops the request."""
    from playwright.sync_api import expect

    cell = page.locator(".jp-Notebook .jp-Cell").nth(index)
    prompt = cell.locator(".jp-InputPrompt")
    for _ in range(5):
        cell.locator(".jp-InputArea-editor").click()
        page.keyboard.press("Shift+Enter")
        try:
            expect(prompt).not_to_have_text(re.compile(r"\[ \]"), timeout=10_000)
            return
        except AssertionError:
            continue
    raise AssertionError(f"cell {index} never ran: its prompt is {prompt.inner_text()}")


def test_the_widget_plays_in_jupyterlab_and_gives_back_a_trained_run(lab):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(servers.CHROMIUM), args=servers.CHROMIUM_ARGS
        )
        page = browser.new_page(viewport={"width": 1300, "height": 1400})
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on(
            "console",
            lambda m: m.type == "error" and "pointlab" in m.text and errors.append(m.text),
        )
        page.goto(lab, timeout=120_000)
        # The kernel is up when the status bar says so.
        page.locator(".jp-Notebook .jp-Cell").first.wait_for(timeout=120_000)
        expect(page.locator(".jp-StatusBar-Widget", has_text="Idle")).to_have_count(
            1, timeout=120_000
        )
        run_cell(page, 0)
        widget = page.locator(".pointlab-playground")
        epoch = widget.locator("[data-testid=epoch]")
        expect(widget.locator("[data-testid=status]")).to_have_text("paused", timeout=120_000)
        assert widget.locator("[data-testid=setting-layers]").input_value() == "4"

        widget.locator("[data-testid=play]").click()
        expect(widget.locator("[data-testid=status]")).to_have_text("playing", timeout=30_000)
        page.wait_for_function(
            "el => Number(el.textContent) >= 200", arg=epoch.element_handle(), timeout=60_000
        )
        widget.locator("[data-testid=pause]").click()
        expect(widget.locator("[data-testid=status]")).to_have_text("paused", timeout=30_000)
        shown = int(epoch.inner_text())
        assert shown >= 200
        # The curves moved: the loss chart has ink beyond its frame and its title.
        chart = widget.locator("[data-testid=loss-chart]")
        coloured = chart.evaluate(
            """c => { const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
                 let n = 0; for (let i = 0; i < d.length; i += 4)
                   if (d[i + 2] > 150 && d[i] < 100) n++;  // the blue training curve
                 return n; }"""
        )
        assert coloured > 50
        SHOTS.mkdir(exist_ok=True)
        page.locator(".jp-Notebook .jp-Cell").first.screenshot(
            path=str(SHOTS / "widget-jupyterlab.png")
        )  # the cell: its code and the widget under it

        # The pointer on a hidden unit of the diagram: its map in the big plane, as on the page.
        box = widget.locator("[data-testid=diagram]").bounding_box()
        caption = widget.locator("[data-testid=plane-caption]")
        for fy in range(10, 95, 3):  # down the hidden layer's column, the middle of the diagram
            page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] * fy / 100)
            if caption.is_visible():
                break
        expect(caption).to_contain_text("hidden layer 1, unit")
        page.mouse.move(box["x"] + 2, box["y"] + 2)
        expect(caption).to_be_hidden()

        run_cell(page, 1)
        output = page.locator(".jp-Notebook .jp-Cell").nth(1).locator(".jp-OutputArea-output")
        expect(output).to_contain_text("TRAINED", timeout=60_000)
        line = re.search(r"TRAINED (\{.*\})", output.inner_text())
        assert line is not None
        trained = json.loads(line.group(1))

        # Compare mode from the form: two members, each drawn small; a click makes one the main.
        compare = widget.locator("[data-testid=setting-compare]")
        compare.fill("lr=0.01 0.3")
        compare.press("Tab")  # a change, as a person leaves the field
        expect(widget.locator("[data-testid=member]")).to_have_count(2, timeout=60_000)
        widget.locator("[data-testid=member]").nth(1).click()
        expect(widget.locator("[data-testid=member].main")).to_have_count(1, timeout=30_000)
        expect(widget.locator("[data-testid=member]").nth(1)).to_have_class("member main")
        assert widget.locator("[data-testid=error]").inner_text() == ""
        browser.close()
    assert trained["type"] == "RunResult"
    assert trained["epoch"] == shown  # the kernel's run is where the widget paused
    assert trained["changed"] and trained["rows"] > 0 and trained["paused"] == "paused"
    assert trained["train_acc"] > 0.8  # a circle, learned by four tanh units
    assert not errors, f"JavaScript errors in JupyterLab: {errors}"
