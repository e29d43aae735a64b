"""The playground's Generate mode in-process (Starlette's TestClient): a tab sets up generative
models of its points, trains them step by step through the engine's one loop, and gets samples,
their paths from noise and the vector field; bad settings are one line naming the setting."""

from __future__ import annotations

import base64

import numpy as np
import pytest

from webclient import session, until

pytestmark = pytest.mark.usefixtures("one_thread")

SMALL = {"points": "200", "layers": "32,32", "epochs": "40", "steps": "10"}


def gen_setup(ws, **settings):
    raw = {k.replace("_", "-"): str(v) for k, v in settings.items()}
    ws.send_json({"type": "gen_setup", "settings": raw})
    return until(ws, lambda m: m["type"] in ("gen_ready", "error"))


def gen_frame(ws, predicate=lambda f: True):
    return until(
        ws, lambda m: m["type"] == "frame" and m.get("mode") == "generate" and predicate(m)
    )


def floats(text: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), dtype=np.float32)


def test_moons_set_up_trained_and_sampled_along_their_paths(client):
    with session(client) as ws:
        ready = gen_setup(ws, data="moons", **{**SMALL, "epochs": "300"})
        assert ready["type"] == "gen_ready", ready
        assert ready["name"] == "moons" and len(ready["points"]) == 200
        assert ready["settings"]["method"] == "flow" and ready["settings"]["layers"] == "32,32"
        first = gen_frame(ws)
        assert first["epoch"] == 0 and first["status"] == "paused"
        path = floats(first["path"]).reshape(first["path_steps"] + 1, first["path_samples"], 2)
        assert path.shape == (11, 400, 2)
        # At time 0 the samples are the noise: about the data's mean and spread.
        data = np.array(ready["points"])
        assert np.allclose(path[0].mean(0), data.mean(0), atol=0.3)
        ws.send_json({"type": "gen_play"})
        last = gen_frame(ws, lambda f: f["status"] == "finished" and "path" in f)
        assert last["epoch"] == 300
        # Trained, the samples lie far closer to the moons than a fitted Gaussian's draws do.
        assert last["distance"] < first["distance"]
        assert last["distance"] < 0.8 * ready["reference"], (last["distance"], ready["reference"])
        assert last["distances"][0][0] == 0 and last["distances"][0][-1] == 300


def test_step_pause_reset_and_the_field_at_a_time(client):
    with session(client) as ws:
        assert gen_setup(ws, **SMALL)["type"] == "gen_ready"
        gen_frame(ws)
        ws.send_json({"type": "gen_step"})
        assert gen_frame(ws)["epoch"] == 1
        ws.send_json({"type": "gen_view", "t": 0.25, "field": True})
        frame = gen_frame(ws, lambda f: "field" in f)
        assert frame["field"]["t"] == 0.25
        assert "path" not in frame  # a new time draws the field anew, not the samples
        arrows = floats(frame["field"]["arrows"]).reshape(-1, 4)
        assert arrows.shape == (17 * 17, 4) and np.isfinite(arrows).all()
        ws.send_json({"type": "gen_reset"})
        assert until(ws, lambda m: m["type"] == "gen_ready")
        assert gen_frame(ws)["epoch"] == 0
        ws.send_json({"type": "gen_view", "t": 2})
        error = until(ws, lambda m: m["type"] == "error")
        assert error["message"] == "gen_view: t must be a number from 0 to 1, not 2"


def test_compare_mode_trains_one_population_with_small_multiples(client):
    with session(client) as ws:
        ready = gen_setup(ws, compare="lr=0.001 0.01; method=flow ddpm", **SMALL)
        assert ready["members"] == [
            "lr=0.001 method=flow",
            "lr=0.001 method=ddpm",
            "lr=0.01 method=flow",
            "lr=0.01 method=ddpm",
        ]
        frame = gen_frame(ws, lambda f: "thumbs" in f)
        assert len(frame["thumbs"]) == 4 and len(frame["loss"]) == 4
        assert all(floats(t).shape == (400,) for t in frame["thumbs"])  # 200 points, x and y
        ws.send_json({"type": "gen_select", "member": 3})
        assert gen_frame(ws)["main"] == 3


def test_bad_settings_are_one_line_naming_each(client):
    with session(client) as ws:
        error = gen_setup(ws, method="gan", steps="0", embedding_size="7")
        assert error["type"] == "error"
        message = error["message"]
        assert "\n" not in message
        assert "method: 'gan' is not one of flow, ddpm" in message
        assert "steps: 0 is outside 1..1000" in message
        assert "embedding-size: 7 is odd" in message
        assert gen_setup(ws, compare="epochs=1 2; lr=1 2; seed=1 2")["message"] == (
            "compare: vary one or two settings, not more"
        )
        assert gen_setup(ws, colour="red")["message"] == "unknown settings: colour"
        ws.send_json({"type": "gen_play"})
        assert until(ws, lambda m: m["type"] == "error")["message"] == (
            "gen_play: set the Generate mode up first"
        )
        big = gen_setup(ws, points="5000", layers="256,256,256,256,256,256", steps="1000")
        assert big["message"].startswith("this setup is too large for the playground")


def test_clicked_points_train_on_and_join_the_link(client):
    with session(client) as ws:
        ready = gen_setup(ws, **SMALL)
        gen_frame(ws)
        ws.send_json({"type": "gen_add_point", "x": 0.5, "y": 0.25})
        ready = until(ws, lambda m: m["type"] == "gen_ready")
        assert len(ready["points"]) == 201 and ready["points"][-1] == [0.5, 0.25]
        assert ready["settings"]["edits"] == "a0.5,0.25,0"
        ws.send_json({"type": "gen_remove_point", "index": 0})
        ready = until(ws, lambda m: m["type"] == "gen_ready")
        assert len(ready["points"]) == 200 and ready["settings"]["edits"] == "a0.5,0.25,0;r0"
        ws.send_json({"type": "gen_add_point", "x": float("1e300"), "y": 0})
        assert "coordinates must be finite" in until(ws, lambda m: m["type"] == "error")["message"]


def test_the_classifier_still_trains_beside_it(client):
    with session(client) as ws:
        ws.send_json({"type": "setup", "settings": {"data": "xor", "epochs": "5"}})
        until(ws, lambda m: m["type"] == "ready")
        assert gen_setup(ws, **SMALL)["type"] == "gen_ready"
        ws.send_json({"type": "gen_play"})
        ws.send_json({"type": "play"})  # the classifier's play pauses the Generate mode
        frame = until(ws, lambda m: m["type"] == "frame" and "mode" not in m and m["epoch"] == 5)
        assert frame["status"] == "finished"


def test_a_member_stepped_by_the_page_is_where_train_generators_leaves_it():
    from pointlab import generators
    from pointlab.generative import GenConfig, train_generators
    from pointlab.web.generate_live import LiveGeneration

    X = generators.make("moons", n=100, seed=0).X
    configs = [
        GenConfig(hidden=(16, 16), epochs=5, batch_size=32, steps=8),
        GenConfig(hidden=(8, 16), epochs=5, batch_size=64, method="ddpm", lr=0.01, seed=3),
    ]
    live = LiveGeneration(configs, X, log_every=1)
    while not live.finished:
        live.step()
    assert live.epoch == 5
    alone = train_generators(X, configs, log_every=1)
    for m, result in enumerate(alone):
        model = live.models([m])[0]
        for key, value in result.model.state.items():
            assert np.array_equal(model.state[key].numpy(), value.numpy()), (m, key)
        assert live.history["train_loss"][m] == result.history["train_loss"]


def test_the_pages_models_are_the_librarys_defaults_but_for_the_epochs():
    from pointlab.generative import GenConfig
    from pointlab.web.generate_settings import parse

    setup = parse({})
    assert setup.members == (GenConfig(epochs=1000),)
    assert setup.data.kind == "moons" and setup.labels == ("",)
    assert parse({"batch-size": "full", "schedule": "constant"}).members[0].batch_size is None


def test_the_page_speed_paces_the_generate_mode_too(client):
    import time

    with session(client) as ws:
        ws.send_json({"type": "speed", "epochs_per_s": 5})
        assert gen_setup(ws, **{**SMALL, "epochs": "1000"})["type"] == "gen_ready"
        gen_frame(ws)
        ws.send_json({"type": "gen_play"})
        start = time.perf_counter()
        frame = gen_frame(ws, lambda f: f["epoch"] >= 3)
        elapsed = time.perf_counter() - start
        # At 5 epochs a second, 3 epochs take at least about 0.4 s (the first is due at once).
        assert elapsed > 0.3 and frame["status"] == "playing"
        ws.send_json({"type": "gen_pause"})
        assert gen_frame(ws, lambda f: f["status"] == "paused")["epoch"] < 10


def test_the_generate_modes_refusals_read_in_japanese():
    import json
    import re
    from importlib import resources

    path = resources.files("pointlab.web") / "static" / "i18n" / "ja.json"
    patterns = json.loads(path.read_text(encoding="utf-8"))["server"]
    for message in (
        "gen_play: set the Generate mode up first",
        "gen_view: t must be a number from 0 to 1, not 2",
        "embedding-size: 7 is odd; give an even number",
        "steps: 0 is outside 1..1000",
        "method: 'gan' is not one of flow, ddpm",
    ):
        for part in message.split("; "):  # the page matches each part on its own (i18n.js)
            assert any(re.match(p, part) for p, _ in patterns), part


@pytest.mark.parametrize(
    "kind", ["8gaussians", "swissroll", "checkerboard", "pinwheel", "twospirals"]
)
def test_the_flow_papers_sets_are_in_the_page(client, kind):
    with session(client) as ws:
        ready = gen_setup(ws, data=kind, **{**SMALL, "epochs": "5"})
        assert ready["type"] == "gen_ready", ready
        assert ready["name"] == kind and len(ready["points"]) == 200
        assert np.isfinite(ready["reference"]) and ready["reference"] > 0
        assert gen_frame(ws)["epoch"] == 0
