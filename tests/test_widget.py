"""The notebook playground without a front end: its ES module is the page's modules, and its kernel
side (the page's session) answers the buttons, the form and Python, and gives the model back as a
run object. The widget in a real JupyterLab is tests/test_widget_jupyterlab.py."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from importlib import resources

import pytest
import torch

pytest.importorskip("anywidget")

import pointlab  # noqa: E402
from pointlab import runs  # noqa: E402
from pointlab.runs import RunResult  # noqa: E402
from pointlab.widget import Playground, bundle  # noqa: E402


def test_the_widget_module_carries_the_pages_modules_unchanged_dependencies_first():
    sources = bundle.module_sources()
    page = resources.files("pointlab.web").joinpath("static/js")
    for name in ("plane.js", "charts.js", "curves.js", "network.js", "i18n.js", "settings.js"):
        assert sources[name] == page.joinpath(name).read_text(encoding="utf-8")
    order = bundle.load_order(sources)
    assert order[-1] == "playground.js"
    for name in order:
        for dep in bundle.IMPORT.findall(sources[name]):
            assert order.index(dep) < order.index(name), (dep, name)
    esm = bundle.esm()
    assert "export default widget.default;" in esm
    carried = json.loads(esm.split("const SOURCES = ", 1)[1].split(";\nconst ORDER", 1)[0])
    assert carried == sources


def test_importing_pointlab_imports_neither_the_widget_nor_anywidget():
    code = "import sys, pointlab; print(sorted(m for m in sys.modules if 'widget' in m))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    assert pointlab.Playground is Playground  # asked for: imported then


def test_without_the_extra_the_import_names_the_install():
    code = (
        "import sys; sys.modules['anywidget'] = None\n"  # as if not installed
        "try:\n    import pointlab.widget\nexcept ImportError as e:\n    print(e)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == (
        "the notebook playground needs anywidget, not installed: pip install 'pointlab[jupyter]'"
    )


class Recorded(Playground):
    """A Playground whose messages to the front end are kept (no front end is open)."""

    def send(self, content, buffers=None):  # called from the session's worker thread
        with self.lock:
            self.sent.append(content)

    def __init__(self, **options):
        self.lock, self.sent = threading.Lock(), []
        super().__init__(**options)

    def kinds(self) -> list[str]:
        with self.lock:
            return [m["type"] for m in self.sent]


@pytest.fixture
def playground(one_thread):
    pg = Recorded(data="circle", layers="4", points=60, epochs=5000)
    yield pg
    pg.close()


def test_buttons_train_the_page_session_and_the_run_comes_back_trained(playground, tmp_path):
    pg = playground
    before = pg.result()  # waits for the setup: epoch 0, the initial weights
    _until(lambda: pg.status == "paused")  # the setup's frame
    assert repr(pg) == "<Playground circle, layers 4: epoch 0, paused>"
    assert before.stopped_epoch == 0 and pg.settings["layers"] == "4"
    pg._from_page(pg, {"type": "step"}, [])  # the Step button
    assert pg.wait(1) == 1
    pg._from_page(pg, {"type": "play"}, [])
    assert pg.wait(60) >= 60
    pg._from_page(pg, {"type": "pause"}, [])
    after = _paused(pg)
    assert isinstance(after, RunResult) and after.path is None
    assert after.stopped_epoch == pg.epoch >= 60 and after.status == "interrupted"
    assert after.spec.config.hidden == (4,) and after.spec.config.epochs == after.stopped_epoch
    assert any(
        not torch.equal(before.model.state[k], after.model.state[k]) for k in after.model.state
    )
    losses = after.history["train_loss"]  # logged as it trained, epoch 0 first
    assert len(losses) > 2 and losses[-1] < losses[0]
    assert after.made_by == "pointlab.widget.Playground"
    assert "pointlab run (not written)" in after._repr_html_()
    written = runs.new_run_dir("circle", tmp_path)
    runs.write_run(written, after)  # as docs/export.md says
    again = pointlab.load_run(written)
    assert all(torch.equal(again.model.state[k], after.model.state[k]) for k in after.model.state)
    kinds = pg.kinds()
    assert kinds[0] == "ready" and kinds.count("frame") >= 3


def _paused(pg: Playground) -> RunResult:
    """The run once the status the frames bring says paused."""
    import time

    deadline = time.monotonic() + 30
    while pg.status != "paused":
        assert time.monotonic() < deadline, pg.status
        time.sleep(0.05)
    return pg.result()


def test_the_form_sets_the_playground_up_again_and_a_refused_setting_is_said(playground):
    pg = playground
    pg.result()
    pg.settings = {**pg.settings, "layers": "8,8"}  # as the form sends a change
    _until(lambda: pg.result().spec.config.hidden == (8, 8))
    assert pg.settings["layers"] == "8,8" and pg.error == ""
    pg.settings = {**pg.settings, "layers": "eight"}
    _until(lambda: pg.error != "")
    assert "layers" in pg.error
    _until(lambda: pg.settings["layers"] == "8,8")  # the form shows what trains
    assert pg.result().spec.config.hidden == (8, 8)


def test_a_new_view_is_sent_what_it_needs_to_draw(playground):
    pg = playground
    _until(lambda: any("diagram" in m for m in list(pg.sent)))  # the setup's answers are in
    count = len(pg.kinds())
    for asked in ("export", "explain", "lessons", "setup"):  # not the widget's: nothing happens
        pg._from_page(pg, {"type": asked, "settings": {}}, [])
    pg._from_page(pg, {"type": "hello"}, [])
    _until(lambda: pg.kinds()[count:] == ["ready", "frame"])
    frame = pg.sent[-1]
    assert frame["epoch"] == 0 and frame["diagram"]["layers"] and frame["regions"]


def _until(condition, timeout: float = 30.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "never happened"
        time.sleep(0.05)


def test_a_bad_setting_from_python_is_one_line_at_once(one_thread):
    from pointlab.errors import UserError

    with pytest.raises(UserError, match="^lr: ") as caught:
        Recorded(data="circle", lr="fast")
    assert "\n" not in str(caught.value)
    with pytest.raises(UserError, match="unknown settings: speed"):
        Recorded(speed=3)
    pg = Recorded(data="circle", points=40, standardize=True)
    try:
        assert pg.result().spec.config.standardize and pg.settings["standardize"] == "on"
    finally:
        pg.close()


def test_compare_mode_draws_every_member_and_gives_back_the_one_selected(one_thread):
    pg = Recorded(data="xor", points=60, compare="lr=0.01 0.1", epochs=50)
    try:
        assert pg.result().spec.config.lr == 0.01  # member 0 is the main model at first
        pg._from_page(pg, {"type": "select", "member": 1}, [])  # a small picture clicked
        _until(lambda: pg.sent and pg.sent[-1].get("main") == 1)
        frame = pg.sent[-1]
        assert len(frame["thumbs"]) == 2 and frame["thumb_grid"] > 0
        assert pg.result().spec.config.lr == 0.1
        pg._from_page(pg, {"type": "select", "member": 7}, [])
        _until(lambda: pg.error == "select: no member 7")
    finally:
        pg.close()
