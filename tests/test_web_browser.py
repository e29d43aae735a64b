"""`pointlab play` end to end in a real browser: Playwright drives Debian's Chromium against the
command started as a subprocess on a free port. Screenshots go to `screenshots/` (git-ignored);
the README's picture of the playground is `screenshots/play-spiral.png` from this file.

Skipped where /usr/bin/chromium is missing (`.ci/run` installs it with apt-get)."""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path

import pytest

import servers

from conftest import POINTLAB

SHOTS = Path(__file__).resolve().parent.parent / "screenshots"

pytestmark = servers.BROWSER_TEST


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`pointlab play --port P` as a user starts it; its exports go to a temporary folder."""
    runs = tmp_path_factory.mktemp("runs")
    process, url = servers.start_play(POINTLAB, "--runs", str(runs))
    yield {"url": url, "runs": runs, "process": process}
    process.send_signal(signal.SIGINT)  # Ctrl-C
    out, _ = process.communicate(timeout=20)
    assert process.returncode == 0, out
    assert f"pointlab play: {url}" in out and "pointlab play: stopped" in out


def shot(page, name: str) -> Path:
    SHOTS.mkdir(exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def by_testid(page, name: str):
    return page.locator(f"[data-testid={name}]")


def number(page, name: str) -> float:
    text = by_testid(page, name).inner_text()
    return float(text) if text not in ("–", "") else float("nan")


def test_spiral_trains_and_its_regions_hold_its_points(page, server):
    page.goto(server["url"] + "?data=moons&epochs=5000")
    page.wait_for_function("window.pointlab.frame !== null")
    by_testid(page, "dataset").select_option("spiral")
    page.wait_for_function("window.pointlab.data && window.pointlab.data.name === 'spiral'")
    assert "data=spiral" in page.url
    by_testid(page, "play").click()
    page.wait_for_function(
        "Number(document.querySelector('[data-testid=train-acc]').textContent) > 0.9",
        timeout=180_000,
    )
    by_testid(page, "pause").click()
    page.wait_for_function("window.pointlab.frame.status === 'paused'")
    # Full-batch Adam at lr 0.03 wobbles: a few epochs after passing 0.9 it may show 0.88.
    assert number(page, "train-acc") > 0.85
    assert 0 < number(page, "train-loss") < 0.5
    assert int(by_testid(page, "epoch").inner_text()) > 0
    # The regions canvas (points are drawn on a layer above it): under each training point the
    # colour of its own class, red (class 0) or blue (class 1).
    colours = page.evaluate(
        """() => {
        const s = window.pointlab, canvas = document.querySelector('[data-testid=boundary]');
        const ctx = canvas.getContext('2d');
        const [[x0, x1], [y0, y1]] = s.data.extent;
        const out = [];
        for (let i = 0; i < s.data.n_train; i++) {
            const [x, y] = s.data.points[i];
            const px = Math.round((x - x0) / (x1 - x0) * canvas.width);
            const py = Math.round((y1 - y) / (y1 - y0) * canvas.height);
            const [r, g, b] = ctx.getImageData(px, py, 1, 1).data;
            out.push([s.data.labels[i], r, b]);
        }
        return out;
    }"""
    )
    # A point right on the black 0.5 contour shows neither colour; at 90% accuracy some points
    # still lie on the wrong side.
    red = [r > b + 10 for label, r, b in colours if label == 0]
    blue = [b > r + 10 for label, r, b in colours if label == 1]
    assert len(red) > 50 and len(blue) > 50
    assert sum(red) / len(red) > 0.75 and sum(blue) / len(blue) > 0.75
    page.wait_for_function("(window.pointlab.diagramNodes || []).length > 0")
    shot(page, "play-spiral")


def test_squares_of_x_and_y_learn_circle_without_a_hidden_layer(page, server):
    """TF Playground's lesson: with x2 and y2 as inputs a network of no hidden layer draws a
    circle. The inputs come from the link and show in the form and in the network's diagram."""
    query = "?data=circle&features=x2,y2&standardize=on&layers=none&speed=full"
    page.goto(server["url"] + query)
    page.wait_for_function("window.pointlab.frame !== null")
    assert page.locator("[name=features]").input_value() == "x2,y2"
    assert page.locator("[name=standardize]").input_value() == "on"
    by_testid(page, "play").click()
    page.wait_for_function("window.pointlab.frame.status === 'finished'", timeout=120_000)
    assert number(page, "val-acc") >= 0.95
    page.wait_for_function("(window.pointlab.diagramNodes || []).length > 0")
    inputs = page.evaluate(
        "window.pointlab.diagramNodes.filter((node) => node.kind === 'input').length"
    )
    assert inputs == 2
    shot(page, "play-circle-squares")


def test_bad_csv_upload_shows_its_line(page, server, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("0.1,0.2,0\n0.3,0.4,1\n0.5,oops,1\n")
    page.goto(server["url"])
    page.wait_for_function("window.pointlab.frame !== null")
    by_testid(page, "upload").set_input_files(str(bad))
    error = by_testid(page, "error")
    error.filter(has_text="bad.csv:3").wait_for()
    assert "oops" in error.inner_text() and "/tmp" not in error.inner_text()
    shot(page, "play-bad-csv")
    good = tmp_path / "mine.csv"
    good.write_text(
        "".join(f"{x / 9},{y / 9},{int(x + y > 9)}\n" for x in range(10) for y in range(10))
    )
    by_testid(page, "upload").set_input_files(str(good))
    page.wait_for_function("window.pointlab.data.name === 'mine.csv'")
    assert by_testid(page, "error").inner_text() == ""
    assert by_testid(page, "dataset").input_value() == "upload"


def test_bad_csv_upload_is_told_in_japanese(page, server, tmp_path):
    """The loader's refusal of an uploaded file reads in Japanese, with its file, line and value;
    every such message is checked without a browser in test_web_strings.py."""
    page.goto(server["url"] + "?lang=ja")
    page.wait_for_function("window.pointlab.frame !== null")
    error = by_testid(page, "error")
    for body, wanted in (
        ("0.1,0.2,0\n0.3,0.4,1\n0.5,oops,1\n", "word.csv:3: y の 'oops' は数値ではありません"),
        ("0.1,0.2,0\n0.3,0.4,0.5\n", "half.csv:2: ラベル 0.5 はクラスではありません"),
        (
            "0.1,0.2,1\n0.3,0.4,1\n",
            "one.csv: すべての点のラベルが 1 です; クラスが 2 つ以上必要です",
        ),
    ):
        bad = tmp_path / wanted.split(":")[0]  # a new file each time: a new change event
        bad.write_text(body)
        by_testid(page, "upload").set_input_files(str(bad))
        error.filter(has_text=wanted).wait_for()
        assert "not" not in error.inner_text()


def test_a_refused_request_is_told_in_the_page(page, server):
    """Settings each within its limit whose cost together is too large, and a number spelled in
    Arabic-Indic digits: one message each in the page, which opens with what it can train (the
    defaults in their place) and goes on when corrected."""
    page.goto(server["url"] + "?points=5000&layers=256,256,256,256,256,256")
    notice = by_testid(page, "notice")
    notice.filter(has_text="too large for the playground").wait_for()
    assert "fewer points" in notice.inner_text() and "internal error" not in notice.inner_text()
    page.wait_for_function("window.pointlab.frame !== null")
    shot(page, "play-too-large")
    page.goto(server["url"] + "?epochs=%D9%A1%D9%A0")
    notice.filter(has_text="epochs: ").wait_for()
    assert "epochs: '١٠' is not a whole number written with" in notice.inner_text()
    page.wait_for_function("window.pointlab.frame !== null")
    page.locator("[name=epochs]").fill("10")  # corrected in the page: it sets up and trains
    page.locator("[name=epochs]").dispatch_event("change")
    page.wait_for_function("window.location.search.includes('epochs=10')")
    assert by_testid(page, "error").inner_text() == ""


def test_compare_mode_shows_every_member(page, server):
    page.goto(server["url"] + "?data=circle&epochs=400")
    page.wait_for_function("window.pointlab.frame !== null")
    by_testid(page, "compare").fill("lr=0.003 0.03; layers=4 8,8")
    by_testid(page, "compare").press("Enter")
    by_testid(page, "compare").blur()
    page.wait_for_function("document.querySelectorAll('[data-testid=members] canvas').length === 4")
    by_testid(page, "play").click()
    page.wait_for_function("window.pointlab.frame.status === 'finished'", timeout=120_000)
    members = by_testid(page, "members").locator(".member")
    assert members.count() == 4
    labels = members.all_inner_texts()
    assert labels[0].startswith("#1 ") and labels[3].startswith("#4 ")
    losses = [float(text.rsplit("·", 1)[1]) for text in labels]
    assert losses == sorted(losses)  # ordered by validation loss
    members.nth(3).click()
    page.wait_for_function("window.pointlab.frame.main !== 0 || window.pointlab.frame.main === 0")
    worst = int(members.nth(3).get_attribute("data-member"))
    page.wait_for_function(f"window.pointlab.frame.main === {worst}")
    assert page.locator("#main-label").inner_text().startswith("main model: ")
    shot(page, "play-compare")


def test_the_url_restores_the_setup(page, server, browser):
    page.goto(server["url"])
    page.wait_for_function("window.pointlab.frame !== null")
    page.locator("[name=classes]").fill("3")
    page.locator("[name=classes]").dispatch_event("change")
    page.wait_for_function("window.pointlab.data.n_classes === 3")
    page.locator("[name=activation]").select_option("relu")
    page.locator("#add-layer").click()
    # Each change is sent as a setup of its own; the answers to the older ones must not undo the
    # layer added meanwhile (main.js counts the setups on their way).
    page.wait_for_function("window.location.search.includes('layers=16,16,16')")
    page.locator("[name=lr]").fill("0.01")
    page.locator("[name=lr]").dispatch_event("change")
    page.wait_for_function("window.location.search.includes('lr=0.01')")
    url = page.url
    assert "layers=16,16,16" in url and "activation=relu" in url and "classes=3" in url
    other = browser.new_page()
    other.goto(url)
    other.wait_for_function("window.pointlab.frame !== null")
    for name, value in (
        ("classes", "3"),
        ("activation", "relu"),
        ("lr", "0.01"),
        ("layers", "16,16,16"),
    ):
        assert other.locator(f"[name={name}]").input_value() == value
    assert other.locator("#widths input").count() == 3
    assert other.evaluate("window.pointlab.data.n_classes") == 3
    shot(other, "play-restored")
    other.close()


def test_export_is_a_run_that_evaluate_accepts(page, server):
    page.goto(server["url"] + "?data=xor&epochs=300&layers=8,8")
    page.wait_for_function("window.pointlab.frame !== null")
    by_testid(page, "play").click()
    page.wait_for_function("window.pointlab.frame.status === 'finished'", timeout=120_000)
    by_testid(page, "export").click()
    by_testid(page, "exported").filter(has_text="Exported").wait_for()
    run_dir = Path(by_testid(page, "exported").inner_text().split()[1])
    assert run_dir.parent == server["runs"]
    done = subprocess.run(
        [POINTLAB, "evaluate", str(run_dir), str(run_dir / "data.csv"), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["n"] == 200 and report["accuracy"] > 0.9
    with page.expect_download() as download:
        by_testid(page, "png").click()
    assert download.value.suggested_filename.endswith(".png")


# A hash of the big plane's pixels after each frame, kept by the page itself, so that no frame
# is missed between two polls of the test.
WATCH_PLANE = """() => {
    const s = window.pointlab, canvas = document.querySelector('[data-testid=boundary]');
    s.watched = [];
    let seen = s.frames;
    const look = () => {
        if (s.frames !== seen) {
            seen = s.frames;
            const ctx = canvas.getContext('2d');
            const bytes = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
            let h = 0;
            for (let i = 0; i < bytes.length; i += 7) h = (h * 31 + bytes[i]) | 0;
            s.watched.push([s.frame.epoch, s.frame.status, h, performance.now()]);
        }
        requestAnimationFrame(look);
    };
    look();
}"""

PLANE_HASH = """() => {
    const canvas = document.querySelector('[data-testid=boundary]');
    const bytes = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    let h = 0;
    for (let i = 0; i < bytes.length; i += 7) h = (h * 31 + bytes[i]) | 0;
    return h;
}"""


def test_default_speed_lets_a_learner_watch_the_boundary_form(page, server):
    """The default data set at the default speed: the boundary changes over many frames and
    seconds before training ends, and the rate shown at the end is the run's real average."""
    page.goto(server["url"])
    page.wait_for_function("window.pointlab.frame !== null")
    assert page.evaluate("window.pointlab.speed") == 200
    page.evaluate(WATCH_PLANE)
    by_testid(page, "play").click()
    page.wait_for_function("window.pointlab.frame.status === 'finished'", timeout=180_000)
    watched = page.evaluate("window.pointlab.watched")
    playing = [w for w in watched if w[1] == "playing" and w[0] < 2000]
    changes = sum(1 for a, b in zip(playing, playing[1:], strict=False) if a[2] != b[2])
    assert changes >= 10, watched
    seconds = (watched[-1][3] - watched[0][3]) / 1000
    assert seconds > 5, f"2000 epochs in {seconds:.1f} s: too fast to watch"
    rate = by_testid(page, "rate").inner_text()
    assert rate.endswith("epochs/s on average"), rate
    # The average of the run: 2000 epochs over the seconds it took, at most the speed chosen.
    assert 0.5 * 2000 / seconds < float(rate.split()[0]) <= 220


def test_hover_a_hidden_unit_shows_its_map_in_the_plane(page, server):
    page.goto(server["url"] + "?data=circle&layers=4,3&epochs=200&speed=full")
    page.wait_for_function("window.pointlab.frame !== null")
    by_testid(page, "play").click()
    page.wait_for_function("window.pointlab.frame.status === 'finished'", timeout=120_000)
    page.wait_for_function("(window.pointlab.diagramNodes || []).length === 2 + 4 + 3 + 1")
    regions = page.evaluate(PLANE_HASH)
    box = by_testid(page, "diagram").bounding_box()
    nodes = page.evaluate("window.pointlab.diagramNodes")
    unit = next(n for n in nodes if n["kind"] == "hidden" and n["layer"] == 1 and n["unit"] == 2)
    page.mouse.move(box["x"] + unit["x"], box["y"] + unit["y"])
    caption = by_testid(page, "plane-caption")
    caption.filter(has_text="hidden layer 1, unit 3").wait_for()
    assert page.evaluate(PLANE_HASH) != regions
    # Click: the unit's numbers; away: the model's regions again.
    page.mouse.click(box["x"] + unit["x"], box["y"] + unit["y"])
    details = by_testid(page, "net-details").inner_text()
    assert "hidden layer 1, unit 3" in details and "bias" in details and "weights in" in details
    page.mouse.move(box["x"] + 2, box["y"] + 2)
    caption.wait_for(state="hidden")
    assert page.evaluate(PLANE_HASH) == regions
    # A weight: the line from input x to that unit, clicked in its middle.
    x = next(n for n in nodes if n["kind"] == "input" and n["unit"] == 0)
    middle = ((x["x"] + unit["x"]) / 2, (x["y"] + unit["y"]) / 2)
    page.mouse.click(box["x"] + middle[0], box["y"] + middle[1])
    assert "the weight from input x to hidden layer 1, unit 3" in (
        by_testid(page, "net-details").inner_text()
    )


def test_step_and_explain_lays_out_the_report_with_the_gradient_check(page, server):
    page.goto(server["url"] + "?data=xor&layers=4&epochs=50")
    page.wait_for_function("window.pointlab.frame !== null")
    by_testid(page, "explain").click()
    check = by_testid(page, "grad-check")
    check.wait_for(timeout=60_000)
    trace = page.evaluate("window.pointlab.explained")
    assert check.inner_text() == f"{trace['max_rel_error']:.1e}".replace("e-0", "e-")
    text = by_testid(page, "explain-panel").inner_text()
    for stage in (
        "1. Forward pass",
        "2. The loss",
        "3. Backward pass",
        "4. The update",
        "5. The loss after",
        "6. Gradient check",
    ):
        assert stage in text
    assert "chain-rule product" in text and f"{trace['loss_before']:.6g}" in text
    assert '{"' not in text and len(text) < 15_000  # a report, not a dump
    shot(page, "play-explain")


# Names that stay as they are in Japanese text: the product, functions, optimizers, file kinds.
NAMES = {"pointlab", "ReLU", "Leaky", "tanh", "GELU", "Adam", "AdamW", "SGD", "RMSprop", "CSV"}
NAMES |= {"XOR", "Shift", "MB", "x", "y"}
NAMES |= {"xy", "sinx", "siny", "L"}  # the inputs' names, as the link writes them; L1
NAMES |= {"none", "balanced"}  # the class weights' words, typed in their field as in the link
CONTROL_TEXTS = """() => {
    const out = [];
    const roots = document.querySelectorAll('header, .controls, #network-panel, #view-panel');
    for (const root of roots) {
        const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
        while (walker.nextNode()) {
            const node = walker.currentNode;
            if (node.parentElement.closest('#lang, #exported')) continue;
            out.push(node.textContent);
        }
        for (const el of root.querySelectorAll('[title], [placeholder], optgroup')) {
            out.push(el.title || '', el.label || '');
            if (el.name !== 'compare') out.push(el.placeholder || '');
        }
        for (const el of root.querySelectorAll('input[type=text]')) {
            if (el.name !== 'compare') out.push(el.value);
        }
    }
    return out.join(' ');
}"""


def test_japanese_leaves_no_english_word_in_the_controls(page, server, browser):
    import re

    page.goto(server["url"])
    page.wait_for_function("window.pointlab.frame !== null")
    by_testid(page, "lang").select_option("ja")
    page.wait_for_function("document.documentElement.lang === 'ja'")
    page.wait_for_function("window.location.search.includes('lang=ja')")
    # File names and the names of commands and modules are code, the same in every language.
    code = r"\w+\.csv|pointlab[. ](train|evaluate|autodiff|play)"
    text = re.sub(code, "", page.evaluate(CONTROL_TEXTS))
    english = sorted(set(re.findall(r"[A-Za-z]+", text)) - NAMES)
    assert not english, english
    terms = ("損失", "学習率", "活性化関数", "エポック", "検証データ", "訓練データ")
    terms += ("隠れ層", "正解率", "重み")
    assert all(term in text for term in terms)
    # The server's refusals come in Japanese too, and the form goes back to what trains.
    page.locator("[name=epochs]").fill("0")
    page.locator("[name=epochs]").dispatch_event("change")
    by_testid(page, "error").filter(has_text="epochs: 0 は範囲 1..100000 の外です").wait_for()
    assert page.locator("[name=epochs]").input_value() == "2000"
    by_testid(page, "play").click()
    page.wait_for_function("window.pointlab.frame.epoch > 0")
    shot(page, "play-ja")
    # A Japanese browser gets Japanese without lang= in the link.
    context = browser.new_context(locale="ja-JP")
    other = context.new_page()
    other.goto(server["url"])
    other.wait_for_function("window.pointlab.frame !== null")
    assert other.evaluate("document.documentElement.lang") == "ja"
    assert by_testid(other, "play").inner_text() == "▶ 学習開始"
    context.close()


@pytest.mark.parametrize(
    "query, named",
    [
        ("layers=64x64", "layers"),
        ("foo=1", "foo"),
        ("data=upload", "data"),
        ("lr=abc", "lr"),
        ("speed=fast", "speed"),
    ],
)
def test_a_bad_link_opens_a_working_page_with_a_message(page, server, query, named):
    page.goto(server["url"] + "?" + query + "&epochs=30")
    page.wait_for_function("window.pointlab.frame !== null", timeout=60_000)
    settings = page.evaluate("window.pointlab.data.settings")
    if not (named == "layers" and settings["layers"] == "64,64"):  # a grammar that reads 64x64
        notice = by_testid(page, "notice").inner_text()
        assert named in notice and "default" in notice, notice
        assert query not in page.url  # the link now holds what trains
    assert by_testid(page, "error").inner_text() == ""
    assert settings["epochs"] == "30"  # the good settings of the link are kept
    # The plane is drawn, and training goes on.
    coloured = page.evaluate(
        """() => {
        const c = document.querySelector('[data-testid=boundary]');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0;
        for (let i = 0; i < d.length; i += 4) if (d[i] < 250 || d[i + 2] < 250) n++;
        return n;
    }"""
    )
    assert coloured > 1000
    by_testid(page, "step").click()
    page.wait_for_function("window.pointlab.frame.epoch === 1")


def test_copy_link_says_it_copied(browser, server):
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = context.new_page()
    page.goto(server["url"] + "?data=moons&speed=50")
    page.wait_for_function("window.pointlab.frame !== null")
    assert by_testid(page, "speed").input_value() == "5"  # 50 epochs/s, kept by the link
    by_testid(page, "share").click()
    by_testid(page, "notice").filter(has_text="Link copied").wait_for()
    assert by_testid(page, "share").inner_text() == "Copied ✓"
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == page.url and "data=moons" in copied and "speed=50" in copied
    context.close()


@pytest.mark.parametrize("language", ["en", "ja"])
def test_the_page_loads_with_no_failed_request_and_a_one_line_header(browser, server, language):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    failed: list[str] = []
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else 0)
    page.on("requestfailed", lambda request: failed.append(f"failed {request.url}"))
    page.goto(server["url"] + f"?lang={language}")
    page.wait_for_function("window.pointlab.frame !== null")
    page.wait_for_load_state("networkidle")
    idle = page.locator("header").bounding_box()
    button = by_testid(page, "play").bounding_box()
    by_testid(page, "play").click()  # training adds the measured rate to the counters
    page.wait_for_function("document.querySelector('[data-testid=rate]').textContent !== ''")
    playing = page.locator("header").bounding_box()
    shot(page, f"header-{language}")
    by_testid(page, "pause").click()
    context.close()
    assert not failed, failed  # the browser asks for /favicon.ico unless the page names an icon
    assert idle is not None and playing is not None and button is not None
    for header in idle, playing:
        assert header["height"] < 2.2 * button["height"], "the header wraps onto a second line"
