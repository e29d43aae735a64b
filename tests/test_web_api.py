"""`pointlab play`'s server in-process (Starlette's TestClient): the page, the upload, the WebSocket
session, and one refused request for each security rule."""

from __future__ import annotations

import asyncio
import json

import pytest
from starlette.requests import Request
from starlette.websockets import WebSocketDisconnect

from pointlab.cli import main
from pointlab.errors import UserError
from pointlab.web.security import allowed_host, read_limited
from pointlab.web.settings import parse
from webclient import ORIGIN, WS, session, setup, until, workers

pytestmark = pytest.mark.usefixtures("one_thread")


# --- the page --------------------------------------------------------------------------------
def test_page_and_its_modules_are_served_from_the_package(client):
    page = client.get("/")
    assert page.status_code == 200
    for testid in ("dataset", "upload", "play", "pause", "step", "reset", "epoch", "boundary"):
        assert f'data-testid="{testid}"' in page.text
    script = client.get("/static/js/main.js")
    assert script.status_code == 200
    assert "javascript" in script.headers["content-type"]
    assert "http" not in client.get("/static/index.html").text.split("<body>")[0].replace(
        'href="/static', ""
    ), "no CDN: every asset comes from this server"


# --- security: one refused request per rule ---------------------------------------------------
def test_foreign_host_header_is_refused(client):
    """DNS rebinding: evil.example resolving to 127.0.0.1 still sends Host: evil.example."""
    response = client.get("/", headers={"host": "evil.example:8050"})
    assert response.status_code == 400
    assert "Host" in response.text
    assert client.get("/", headers={"host": "localhost:8050"}).status_code == 200


def test_websocket_with_foreign_host_is_refused(client):
    with pytest.raises(WebSocketDisconnect):
        with client.websocket_connect(
            "ws://evil.example:8050/ws", headers={"origin": "http://evil.example:8050"}
        ) as ws:
            ws.receive_json()


def test_websocket_from_another_origin_is_refused(client):
    with pytest.raises(WebSocketDisconnect):
        with client.websocket_connect(WS, headers={"origin": "http://evil.example"}) as ws:
            ws.receive_json()
    with pytest.raises(WebSocketDisconnect):  # no Origin at all: not a page of ours
        with client.websocket_connect(WS) as ws:
            ws.receive_json()


def test_upload_from_another_origin_is_refused(client):
    response = client.post(
        "/api/upload?name=a.csv", content=b"0,0,0\n1,1,1\n", headers={"origin": "http://evil.ex"}
    )
    assert response.status_code == 403


def test_too_large_upload_is_refused(client):
    body = b"0.5,0.5,1\n" * (5 * 1024 * 1024 // 10 + 1)
    response = client.post("/api/upload?name=big.csv", content=body, headers={"origin": ORIGIN})
    assert response.status_code == 413
    assert "5 MB" in response.json()["error"]


def test_upload_size_is_checked_before_reading():
    """A declared size over the limit is refused without reading a byte of the body."""

    async def receive():
        raise AssertionError("the body was read")

    scope = {
        "type": "http",
        "method": "POST",
        "headers": [(b"content-length", str(6 * 1024 * 1024).encode())],
    }
    with pytest.raises(UserError, match="larger than the limit"):
        asyncio.run(read_limited(Request(scope, receive)))


@pytest.mark.parametrize(
    "path",
    [
        "/static/../app.py",
        "/static/%2e%2e/app.py",
        "/static/..%2fapp.py",
        "/static/js/../../app.py",
    ],
)
def test_static_files_never_leave_the_package_folder(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert "create_app" not in response.text


def test_settings_are_validated_with_clear_messages(client):
    with session(client) as ws:
        assert "lr: 'fast' is not a number" in setup(ws, lr="fast")["message"]
        assert "layers: 1000 is outside 1..256" in setup(ws, layers="16,1000")["message"]
        assert "points: 6000 is outside 4..5000" in setup(ws, points=6000)["message"]
        assert "epochs: 1000000 is outside" in setup(ws, epochs=1_000_000)["message"]
        error = setup(ws, compare="lr=" + " ".join(["0.1"] * 65))["message"]
        assert "65 members; the limit is 64" in error
        assert "dropout" in setup(ws, dropout=1.5)["message"]
        # TrainConfig's own checks come through too
        assert "momentum" in setup(ws, momentum=1.5)["message"]
        assert setup(ws, data="spiral")["type"] == "ready"  # and a good setup still works


def test_host_rules():
    assert allowed_host("127.0.0.1:8050", "127.0.0.1")
    assert allowed_host("localhost:8050", "127.0.0.1")
    assert not allowed_host("attacker.example:8050", "127.0.0.1")
    assert not allowed_host("192.168.1.5:8050", "127.0.0.1")
    assert allowed_host("192.168.1.5:8050", "0.0.0.0")  # an address, which cannot be rebound
    assert not allowed_host("attacker.example:8050", "0.0.0.0")


# --- uploads ------------------------------------------------------------------------------------
def test_bad_csv_upload_names_the_file_and_the_line(client):
    body = b"0.1,0.2,0\n0.3,0.4,1\n0.5,oops,1\n"
    response = client.post(
        "/api/upload?name=../../my data.csv", content=body, headers={"origin": ORIGIN}
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error.startswith("my data.csv:3:")  # the loader's own line, naming the line
    assert "/tmp" not in error and "\n" not in error


def test_uploaded_points_train(client):
    rows = [f"{x / 10},{y / 10},{int(x > y)}" for x in range(10) for y in range(10)]
    body = ("x,y,label\n" + "\n".join(rows)).encode()
    answer = client.post("/api/upload?name=mine.csv", content=body, headers={"origin": ORIGIN})
    assert answer.status_code == 200
    points = answer.json()
    assert len(points["X"]) == 100 and points["n_classes"] == 2
    with session(client) as ws:
        setup(ws, epochs=50)
        ws.send_json({"type": "points", "X": points["X"], "y": points["y"], "name": "mine.csv"})
        ready = until(ws, lambda m: m["type"] == "ready")
        assert ready["settings"]["data"] == "upload" and ready["name"] == "mine.csv"
        assert len(ready["points"]) == 100
        ws.send_json({"type": "points", "X": [[0, 0]] * 5, "y": [0, 0, 0, 0, 3]})
        assert "labels must be 0..K-1" in until(ws, lambda m: m["type"] == "error")["message"]


# --- the session ----------------------------------------------------------------------------
def test_step_play_and_finish(client):
    with session(client) as ws:
        ready = setup(ws, data="xor", epochs=300, layers="8,8", lr=0.03)
        assert ready["n_classes"] == 2 and len(ready["points"]) == 200
        first = until(ws, lambda m: m["type"] == "frame")
        assert first["epoch"] == 0 and first["status"] == "paused"
        ws.send_json({"type": "step"})
        assert until(ws, lambda m: m["type"] == "frame")["epoch"] == 1
        ws.send_json({"type": "play"})
        last = until(ws, lambda m: m["type"] == "frame" and m["status"] == "finished")
        assert last["epoch"] == 300
        assert last["now"]["train_acc"][0] > 0.9  # xor with a hidden layer: learned
        assert len(last["regions"][0]) > 0


def test_server_answers_while_a_page_trains(client):
    with session(client) as ws:
        setup(ws, epochs=100000, layers="64,64")
        ws.send_json({"type": "play"})
        until(ws, lambda m: m["type"] == "frame" and m["epoch"] > 0)
        assert client.get("/").status_code == 200  # the event loop is free
        later = until(ws, lambda m: m["type"] == "frame" and m["epoch"] > 50)
        assert later["status"] == "playing"


def test_closing_the_tab_stops_its_training(client):
    before = workers()
    with session(client) as ws:
        setup(ws, epochs=100000)
        ws.send_json({"type": "play"})
        until(ws, lambda m: m["type"] == "frame" and m["epoch"] > 0)
        (worker,) = workers() - before
        assert worker.is_alive()
    worker.join(timeout=10)
    assert not worker.is_alive()


def test_compare_mode_trains_every_member(client):
    with session(client) as ws:
        ready = setup(ws, compare="lr=0.003 0.03; layers=4 8,8", epochs=20)
        assert ready["members"] == [
            "lr=0.003 layers=4",
            "lr=0.003 layers=8,8",
            "lr=0.03 layers=4",
            "lr=0.03 layers=8,8",
        ]
        frame = until(ws, lambda m: m["type"] == "frame")
        assert len(frame["thumbs"]) == 4
        ws.send_json({"type": "select", "member": 3})
        assert until(ws, lambda m: m["type"] == "frame")["main"] == 3


def test_points_edited_during_training(client):
    with session(client) as ws:
        ready = setup(ws, data="gauss", points=40, epochs=100)
        ws.send_json({"type": "step"})
        ws.send_json({"type": "add_point", "x": 0.9, "y": 0.1, "label": 1})
        edited = until(ws, lambda m: m["type"] == "ready")
        assert len(edited["points"]) == 41
        frame = until(ws, lambda m: m["type"] == "frame")
        assert frame["epoch"] == 1  # the weights and the epoch stay
        ws.send_json({"type": "remove_point", "index": edited["index"][0]})
        assert len(until(ws, lambda m: m["type"] == "ready")["points"]) == 40
        ws.send_json({"type": "add_point", "x": 0.5, "y": 0.5, "label": 7})
        assert "label must be 0..1" in until(ws, lambda m: m["type"] == "error")["message"]
        assert ready["n_classes"] == 2


def test_three_classes_and_the_network_view(client):
    with session(client) as ws:
        ready = setup(ws, data="spiral", classes=3, layers="6,5", epochs=10)
        assert ready["n_classes"] == 3 and len(ready["colours"]) == 3
        ws.send_json({"type": "view", "layer": 1})
        frame = until(ws, lambda m: m["type"] == "frame" and "network" in m)
        network = frame["network"]
        assert network["layer"] == 1 and network["width"] == 5 and len(network["units"]) == 5
        assert len(network["weights"]) == 5 and len(network["weights"][0]) == 6  # (units, fan_in)


def test_export_is_a_run_directory_that_evaluate_accepts(client, tmp_path, capsys):
    with session(client) as ws:
        setup(ws, data="moons", epochs=200, layers="16,16", lr=0.03)
        ws.send_json({"type": "play"})
        until(ws, lambda m: m["type"] == "frame" and m["status"] == "finished")
        ws.send_json({"type": "export"})
        exported = until(ws, lambda m: m["type"] in ("exported", "error"))
    assert exported["type"] == "exported", exported
    run_dir = exported["path"]
    for name in ("config.json", "metrics.csv", "model.safetensors", "boundary.png", "loss.png"):
        assert (tmp_path / "runs").joinpath(run_dir.rsplit("/", 1)[1], name).exists()
    capsys.readouterr()
    assert main(["evaluate", run_dir, f"{run_dir}/data.csv", "--json"]) == 0
    assert '"accuracy"' in capsys.readouterr().out


def test_settings_parse_reads_like_the_train_flags():
    setup = parse(
        {"data": "spiral", "classes": "3", "layers": "16,16", "activation": "tanh", "lr": "0.03"}
    )
    (config,) = setup.members
    assert config.hidden == (16, 16) and config.activation == "tanh" and config.lr == 0.03
    assert setup.data.classes == 3 and setup.settings["layers"] == "16,16"
    assert parse({"batch-size": "full"}).members[0].batch_size is None
    assert parse({"layers": "none"}).members[0].hidden == ()


def test_step_and_explain_traces_the_main_model(client):
    with session(client) as ws:
        setup(ws, data="xor", layers="4", epochs=10)
        ws.send_json({"type": "step"})
        ws.send_json({"type": "explain"})
        answer = until(ws, lambda m: m["type"] in ("explained", "error"))
    assert answer["type"] == "explained", answer
    assert "loss" in json.dumps(answer["trace"])


def test_web_modules_form_no_import_circle_and_import_no_other_front_end():
    """The one-concept modules of `pointlab.web` import downwards only: nothing imports the
    session but the app, and no module imports another front end."""
    import ast
    from pathlib import Path

    import pointlab.web

    folder = Path(pointlab.web.__file__).parent
    imports: dict[str, set[str]] = {}
    for path in folder.glob("*.py"):
        names = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                names.add(node.module)
                names.update(f"{node.module}.{alias.name}" for alias in node.names)
            elif isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
        imports[path.stem] = names
    importers = {m for m, names in imports.items() if "pointlab.web.session" in names}
    assert importers == {"app"}
    front_ends = ("pointlab.cli", "pointlab.notebook", "pointlab.sklearn")
    assert not {n for names in imports.values() for n in names if n.startswith(front_ends)}
