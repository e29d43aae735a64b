"""`pointlab export RUN --format web`: one HTML file that needs nothing but itself, opened from
disk in Chromium (Playwright with Debian's /usr/bin/chromium, as `test_web_browser.py`), whose
forward pass gives what `pointlab predict` gives on the book's three files, a three-class spiral
and runs with skip connections and layer or batch normalization, and which classifies a point
tapped on a phone-sized screen.

The phone screenshot lands in `screenshots/export-phone.png` (git-ignored). `docs/export-phone.png`
is the same view of a longer-trained spiral (`pointlab data make spiral --n 300 --classes 3`,
`pointlab train spiral.csv --layers 32,32 --epochs 1500`, `pointlab export RUN --format web`).
Browser tests skip where /usr/bin/chromium is missing."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

import exports
import servers
from pointlab.cli import main
from pointlab.runs import load_run

from conftest import quiet

SHOTS = Path(__file__).resolve().parent.parent / "screenshots"
CHROMIUM = servers.CHROMIUM
needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"
)


@pytest.fixture(scope="module")
def pages(tmp_path_factory) -> dict[str, tuple[exports.Trained, Path]]:
    """Each run with its exported page."""
    root = tmp_path_factory.mktemp("web")
    out = {}
    for name in exports.NAMES:
        trained = exports.train_and_predict(root, name)
        page = root / f"{name}.html"
        argv = ["export", str(trained.run), "--format", "web", "-o", str(page)]
        assert main(argv, quiet()) == 0
        out[name] = (trained, page)
    return out


def open_page(browser, path: Path, **context):
    """The page from disk, with every request other than the file itself failed and counted."""
    ctx = browser.new_context(**context)
    page = ctx.new_page()
    errors: list[str] = []
    requests: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("request", lambda request: requests.append(request.url))
    page.goto(path.as_uri())
    page.wait_for_function("window.pointlab !== undefined")
    return ctx, page, errors, requests


def test_the_page_holds_everything_it_needs():
    from pointlab.export.page import page_html
    from pointlab.generators import make

    model, _ = exports.untrained("tanh", (6,), 3)
    text = page_html(model, make("spiral", n=90, classes=3, seed=0), "spiral")
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text)  # no CDN, no network
    assert "import " not in text and "<link" not in text  # no modules or stylesheets to load
    assert '"classes":3' in text and '"layers":[' in text  # the weights are inside
    # The inlined drawing code and the page's own share one scope: a name declared twice would
    # silently replace the first (plane.js's grid `probabilities` once hid the forward pass's).
    names = re.findall(r"^\s*(?:export\s+)?function\s+(\w+)", text, re.M)
    assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)
    assert text.count("function predictProba") == 1 and "the points of spiral (90 of 90)" in text


@pytest.mark.browser
@pytest.mark.slow
@needs_chromium
@pytest.mark.parametrize("name", exports.NAMES)
def test_the_page_predicts_what_predict_predicts(pages, browser, name):
    trained, path = pages[name]
    ctx, page, errors, requests = open_page(browser, path)
    got = np.array(
        page.evaluate(
            "points => points.map(([x, y]) => window.pointlab.probabilities(x, y))",
            trained.points.tolist(),
        )
    )  # (N, K)
    labels = np.array(
        page.evaluate(
            "points => points.map(([x, y]) => window.pointlab.classify(x, y))",
            trained.points.tolist(),
        )
    )
    ctx.close()
    worst = float(np.abs(got - trained.proba).max())
    print(f"{name}: {len(got)} points, largest |page - predict| = {worst:.2g}")
    assert got.shape == trained.proba.shape and worst <= 1e-5
    assert np.array_equal(labels, trained.predicted)
    assert requests == [path.as_uri()] and not errors


# Runs with skips and normalization: (data, more `pointlab train` flags).
VARIANTS = {
    "residual": ("curve", ("--residual", "--layers", "8,8,8")),
    "batch-norm": ("curve", ("--norm", "batch", "--batch-size", "32")),
    "layer-norm-residual": ("spiral", ("--norm", "layer", "--residual")),
}


@pytest.fixture(scope="module")
def variant_pages(tmp_path_factory) -> dict[str, tuple[exports.Trained, Path]]:
    """Each run of VARIANTS with its exported page."""
    out = {}
    for variant, (name, options) in VARIANTS.items():
        root = tmp_path_factory.mktemp(variant)
        trained = exports.train_and_predict(root, name, options)
        page = root / f"{variant}.html"
        argv = ["export", str(trained.run), "--format", "web", "-o", str(page)]
        assert main(argv, quiet()) == 0
        out[variant] = (trained, page)
    return out


@pytest.mark.browser
@pytest.mark.slow
@needs_chromium
@pytest.mark.parametrize("variant", VARIANTS)
def test_skips_and_normalization_run_in_the_page_as_predict(variant_pages, browser, variant):
    trained, path = variant_pages[variant]
    arch = load_run(trained.run).model.arch
    assert not arch.plain  # the run has what the page must take along
    ctx, page, errors, requests = open_page(browser, path)
    got = np.array(
        page.evaluate(
            "points => points.map(([x, y]) => window.pointlab.probabilities(x, y))",
            trained.points.tolist(),
        )
    )  # (N, K)
    labels = page.evaluate(
        "points => points.map(([x, y]) => window.pointlab.classify(x, y))",
        trained.points.tolist(),
    )
    ctx.close()
    worst = float(np.abs(got - trained.proba).max())
    print(f"{variant}: {len(got)} points, largest |page - predict| = {worst:.2g}")
    assert got.shape == trained.proba.shape and worst <= 1e-5
    assert np.array_equal(labels, trained.predicted)
    assert requests == [path.as_uri()] and not errors


def test_the_weights_carry_each_layers_skip_and_normalization():
    import torch

    from pointlab.checkpoint import TrainedModel
    from pointlab.config import TrainConfig
    from pointlab.engine.models import architecture, init_theta, member_state
    from pointlab.export.page import layers

    config = TrainConfig(hidden=(6, 6, 4), residual=True, norm="batch")
    arch = architecture(config, 3)
    stats = [
        {
            "running_mean": torch.full((w,), 0.5),
            "running_var": torch.full((w,), 2.0),
            "num_batches_tracked": torch.tensor(7),
        }
        for w in arch.hidden
    ]
    state = member_state(arch, init_theta(arch, [0]), 0, stats=stats)
    got = layers(TrainedModel(config, 3, state))
    dense = [layer for layer in got if "w" in layer]
    assert [layer["skip"] for layer in dense] == list(arch.skips) == [False, True, False, False]
    norms = [layer for layer in got if "norm" in layer]
    assert [layer["norm"] for layer in norms] == ["batch"] * 3
    assert norms[1]["running_mean"] == [0.5] * 6 and norms[1]["running_var"] == [2.0] * 6
    assert norms[2]["weight"] == [1.0] * 4 and norms[2]["eps"] == 1e-5
    kinds = [next(k for k in ("w", "norm", "act") if k in layer) for layer in got]
    assert kinds == ["w", "norm", "act"] * 3 + ["w"]  # Linear -> norm -> activation


@pytest.mark.browser
@pytest.mark.slow
@needs_chromium
def test_a_tap_on_a_phone_classifies_that_point(pages, browser):
    trained, path = pages["spiral"]
    phone = {
        "viewport": {"width": 390, "height": 844},
        "device_scale_factor": 2,
        "is_mobile": True,
        "has_touch": True,
    }
    ctx, page, errors, _ = open_page(browser, path, **phone)
    plane = page.locator("[data-testid=plane]")
    box = plane.bounding_box()
    assert box["width"] <= 390 and box["x"] >= 0  # the plane fits the phone's width
    for fx, fy in ((0.3, 0.3), (0.7, 0.55), (0.45, 0.8)):
        plane.tap(position={"x": fx * box["width"], "y": fy * box["height"]})
    taps = page.evaluate("window.pointlab.taps")  # [[x, y, label], ...]
    model = load_run(trained.run).model
    points = np.array([t[:2] for t in taps], np.float32)
    assert len(taps) == 3
    assert [t[2] for t in taps] == model.predict(points).tolist()
    answer = page.locator("[data-testid=answer]").inner_text()
    assert f"class {taps[-1][2]}" in answer
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "export-phone.png"), full_page=False)
    ctx.close()
    assert not errors


def test_a_layer_the_page_cannot_run_is_refused_not_left_out(monkeypatch):
    import torch

    from pointlab.checkpoint import Probabilities, TrainedModel
    from pointlab.errors import UserError
    from pointlab.export.page import page_html

    model, _ = exports.untrained("relu", (4,), 2)
    # A model whose points pass a step the page does not know (here the identity, as torch
    # runs it) must not get a page that silently skips it.
    scaled = torch.nn.Sequential(torch.nn.Flatten(), model.module())
    monkeypatch.setattr(
        TrainedModel, "torch_module", lambda self: Probabilities(scaled, self.n_classes)
    )
    with pytest.raises(UserError, match="cannot run a Flatten layer"):
        page_html(model, None, "scaled")


def test_without_data_the_page_shows_the_unit_square_and_escapes_its_title():
    from pointlab.export.page import UNIT_SQUARE, page_html

    model, _ = exports.untrained("relu", (4,), 2)
    text = page_html(model, None, "<b>mine</b> __MODEL__")
    assert "<title>&lt;b&gt;mine&lt;/b&gt; __MODEL__</title>" in text
    assert '"points":[]' in text and f'"extent":{UNIT_SQUARE}'.replace(" ", "") in text


@pytest.mark.browser
@pytest.mark.slow
@needs_chromium
def test_every_layer_kind_runs_in_the_page_as_in_torch(browser, tmp_path):
    from pointlab.export.page import page_html

    for activation, hidden, k, dropout in exports.LAYER_KINDS:
        model, points = exports.untrained(activation, hidden, k, dropout)
        path = tmp_path / f"{activation}-{len(hidden)}-{k}.html"
        path.write_text(page_html(model, None, path.stem))
        ctx, page, errors, _ = open_page(browser, path)
        got = np.array(
            page.evaluate(
                "points => points.map(([x, y]) => window.pointlab.probabilities(x, y))",
                points.tolist(),
            )
        )
        ctx.close()
        worst = float(np.abs(got - model.predict_proba(points)).max())
        assert worst <= 1e-5, (activation, hidden, k, dropout, worst)
        assert not errors


def test_a_model_that_changes_its_points_outside_its_torch_function_is_not_exported(
    monkeypatch,
):
    from pointlab.checkpoint import TrainedModel
    from pointlab.errors import UserError
    from pointlab.export import check_exportable
    from pointlab.export.page import page_html

    model, _ = exports.untrained("tanh", (6,), 3)
    check_exportable(model)  # as it is: one function
    logits = TrainedModel.logits
    # Scaling done in numpy before the network: torch_module would miss it.
    monkeypatch.setattr(TrainedModel, "logits", lambda self, X: logits(self, 2 * X))
    for export in (check_exportable, lambda m: page_html(m, None, "t")):
        with pytest.raises(UserError, match="changes its points before its network"):
            export(model)


@pytest.mark.browser
@pytest.mark.slow
@needs_chromium
def test_feature_inputs_and_standardization_run_in_the_page(browser, tmp_path):
    from pointlab.export.page import page_html

    model, points = exports.untrained("tanh", (8,), 3, 0.0, *exports.FEATURED)
    path = tmp_path / "features.html"
    path.write_text(page_html(model, None, "features"))
    ctx, page, errors, _ = open_page(browser, path)
    got = np.array(
        page.evaluate(
            "points => points.map(([x, y]) => window.pointlab.probabilities(x, y))",
            points.tolist(),
        )
    )
    ctx.close()
    assert np.abs(got - model.predict_proba(points)).max() <= 1e-5 and not errors
