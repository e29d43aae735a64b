"""One tab must not hold the machine, and no message a page can send gets "internal error": the
playground's server in-process (Starlette's TestClient), as a tester probed it (issue 27).

- closing a tab cancels what it queued; its inbox is bounded;
- a request is priced as a whole (arithmetic, and memory as the engine estimates it) and refused
  with one message when it is too large; tabs take turns at a gate of few slots;
- out-of-range points, booleans for indices, binary or deeply nested frames, and numbers spelled
  with other digits or underscores get one clear message each;
- Export writes a run whole or not at all.
"""

from __future__ import annotations

import json
import threading
import time

import pytest
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from pointlab import runs
from pointlab.errors import UserError
from pointlab.web.app import create_app
from pointlab.web.queues import Gate, Inbox
from pointlab.web.settings import parse
from webclient import ORIGIN, session, setup, until, workers

pytestmark = pytest.mark.usefixtures("one_thread")

# An explained step that takes about half a second on the 2-core machine, within the budget.
EXPLAINED = dict(data="gauss", points=3000, layers="64,64", epochs=100)


def resident() -> int:
    """This process's resident memory in bytes."""
    with open("/proc/self/statm") as file:
        return int(file.read().split()[1]) * 4096


# --- a closed tab stops; an inbox is bounded -----------------------------------------------------
def test_closing_a_tab_cancels_its_queued_work(client):
    """16 expensive messages queued (about 8 s of work), then the tab closes: the worker stops
    after the one it was doing, and memory does not grow."""
    before, memory = workers(), resident()
    with session(client) as ws:
        assert setup(ws, **EXPLAINED)["type"] == "ready"
        (worker,) = workers() - before
        for _ in range(16):
            ws.send_json({"type": "explain"})
    started = time.perf_counter()
    worker.join(timeout=3)
    assert not worker.is_alive(), "the closed tab's queued work ran on"
    assert time.perf_counter() - started < 3
    assert resident() - memory < 150 * 2**20


def test_a_tab_that_floods_the_server_is_told_and_queues_no_more(client):
    with session(client) as ws:
        setup(ws, **EXPLAINED)
        for _ in range(40):
            ws.send_json({"type": "explain"})
        ws.send_json({"type": "no such type"})
        refused = until(ws, lambda m: m["type"] == "error")
        assert "messages waiting" in refused["message"], refused
        assert refused["message"].startswith("explain: ")


def test_inbox_refuses_past_its_limit_and_close_cancels_all():
    inbox = Inbox(limit=2)
    assert inbox.put({"type": "a"}) and inbox.put({"type": "b"})
    assert not inbox.put({"type": "c"})
    assert inbox.get(wait=False) == {"type": "a"}
    inbox.close()
    assert inbox.get(wait=True) is None  # returns at once: nothing queued runs after a close


# --- a request is priced as a whole ---------------------------------------------------------------
def test_a_setup_that_multiplies_the_limits_is_refused_with_its_cost(client):
    """Each setting within its own limit; together 256x6 on 5,000 points for 64 members took 17 s
    and 4.1 GB an epoch."""
    with session(client) as ws:
        seeds = " ".join(str(s) for s in range(64))
        started = time.perf_counter()
        refused = setup(ws, points=5000, layers="256,256,256,256,256,256", compare=f"seed={seeds}")
        assert time.perf_counter() - started < 5  # priced, not tried
        assert refused["type"] == "error", "the setup was built"
        message = refused["message"]
        assert message.startswith("this setup is too large for the playground: one epoch needs")
        assert "GB of memory" in message and "fewer points" in message
        assert setup(ws, points=5000, layers="16,16")["type"] == "ready"  # a fair one still works
        one_by_one = setup(ws, points=5000, layers="16,16", batch_size=1)  # 4,000 steps an epoch
        assert one_by_one["type"] == "error" and "larger batches" in one_by_one["message"]


def test_a_setups_memory_is_the_engines_estimate_per_population():
    """The budget prices memory with the engine's own estimate, one population per group_key (as
    live.py trains them), so the playground and `pointlab train` never disagree on a model."""
    from pointlab.engine.memory import estimate_memory
    from pointlab.web.budget import training_cost

    setup = parse({"points": "1000", "compare": "layers=8 16,16; lr=0.1 0.01"})
    wide = [c for c in setup.members if c.hidden == (16, 16)]
    narrow = [c for c in setup.members if c.hidden == (8,)]
    expected = sum(estimate_memory(group, 2, 800, 200).total for group in (wide, narrow))
    assert training_cost(setup.members, 2, 800, 200).memory == expected


def test_an_explained_step_too_large_is_refused_and_the_tab_goes_on(client):
    with session(client) as ws:
        setup(ws, data="gauss", points=4000, layers="128,128", epochs=10)
        started = time.perf_counter()
        ws.send_json({"type": "explain"})
        answer = until(ws, lambda m: m["type"] in ("explained", "error"))
        assert answer["type"] == "error", "the step was explained"
        assert answer["message"].startswith("Step and explain of this model on these points is")
        assert answer["message"].endswith("use fewer points, or fewer or narrower layers")
        assert time.perf_counter() - started < 5
        ws.send_json({"type": "step"})
        assert until(ws, lambda m: m["type"] == "frame")["epoch"] == 1


def test_tabs_take_turns_and_one_that_waits_too_long_is_told(tmp_path):
    app = create_app("127.0.0.1", tmp_path / "runs", workers=1, patience=0.2)
    with TestClient(app, base_url=ORIGIN) as client:
        with session(client) as ws:
            setup(ws, data="xor", epochs=10)
            gate = app.state.gate
            assert gate.acquire(lambda: False, 5)  # another tab's work holds the only slot
            ws.send_json({"type": "step"})
            refused = until(ws, lambda m: m["type"] == "error")
            assert refused["message"].startswith("step: the server is busy with other pages'")
            gate.release()  # the slot is free again
            ws.send_json({"type": "play"})
            done = until(ws, lambda m: m["type"] == "frame" and m["status"] == "finished")
            assert done["epoch"] == 10


def test_a_tab_past_the_servers_limit_is_told_and_closed(tmp_path):
    app = create_app("127.0.0.1", tmp_path / "runs", max_tabs=1)
    with TestClient(app, base_url=ORIGIN) as client:
        with session(client) as first:
            assert setup(first, data="xor", epochs=10)["type"] == "ready"
            with session(client) as second:
                refused = second.receive_json()
                assert refused["message"].startswith("the server has 1 pages open, its limit")
                with pytest.raises(WebSocketDisconnect) as closed:
                    second.receive_json()
                assert closed.value.code == 1013
        with session(client) as again:  # the first one closed: room again
            assert setup(again, data="xor", epochs=10)["type"] == "ready"


def test_gate_admits_its_slots_first_come_first_served():
    gate, order, inside, most = Gate(1), [], [0], [0]
    lock = threading.Lock()
    assert gate.acquire(lambda: False, None)  # held while the others line up

    def work(name: str) -> None:
        assert gate.acquire(lambda: False, None)
        with lock:
            inside[0] += 1
            most[0] = max(most[0], inside[0])
            order.append(name)
        time.sleep(0.01)
        with lock:
            inside[0] -= 1
        gate.release()

    threads = []
    for name in "abcd":
        threads.append(threading.Thread(target=work, args=(name,)))
        threads[-1].start()
        while gate.waiting < len(threads):
            time.sleep(0.001)
    assert not gate.acquire(lambda: False, 0.05)  # the line is long: refused after 0.05 s
    assert not gate.acquire(lambda: True, None)  # a closed tab stops waiting
    gate.release()
    for thread in threads:
        thread.join(timeout=5)
    assert order == list("abcd") and most[0] == 1


# --- rough inputs get one clear message --------------------------------------------------------
def test_out_of_range_points_are_refused_as_uploads_are(client):
    with session(client) as ws:
        setup(ws, data="gauss", points=40, epochs=50)
        ws.send_json({"type": "points", "X": [[1e300, 0]] * 4, "y": [0, 1, 0, 1]})
        upload = until(ws, lambda m: m["type"] == "error")["message"]
        assert upload == "points: coordinates must be finite numbers within +-1e6"
        ws.send_json({"type": "add_point", "x": 1e300, "y": 0.5, "label": 1})
        added = until(ws, lambda m: m["type"] == "error")["message"]
        assert added == upload.replace("points", "add_point")
        ws.send_text('{"type": "add_point", "x": 1' + "0" * 400 + ', "y": 0.5, "label": 1}')
        assert until(ws, lambda m: m["type"] == "error")["message"] == added
        ws.send_json({"type": "remove_point", "index": True})
        message = until(ws, lambda m: m["type"] == "error")["message"]
        assert message == "remove_point: no point True"
        ws.send_json({"type": "select", "member": True})
        assert until(ws, lambda m: m["type"] == "error")["message"] == "select: no member True"
        ws.send_json({"type": "play"})
        last = until(ws, lambda m: m["type"] == "frame" and m["status"] != "playing")
        assert last["status"] == "finished" and len(last["diverged"]) == 1
        assert not last["diverged"][0]


def test_binary_and_deeply_nested_frames_get_a_message_and_the_tab_stays(client):
    with session(client) as ws:
        ws.send_bytes(b'{"type": "setup"}')
        assert "sent as text" in until(ws, lambda m: m["type"] == "error")["message"]
        ws.send_text("[" * 100_000 + "]" * 100_000)
        assert "JSON objects" in until(ws, lambda m: m["type"] == "error")["message"]
        ws.send_text('{"type": "setup", "settings": ' + "[" * 100_000 + "]" * 100_000 + "}")
        assert "JSON objects" in until(ws, lambda m: m["type"] == "error")["message"]
        assert setup(ws, data="xor", epochs=10)["type"] == "ready"


@pytest.mark.parametrize(
    ("key", "text"),
    [("epochs", "١٠"), ("lr", "0_0_1"), ("points", "2_00"), ("seed", "٣")],
)
def test_numbers_in_other_digits_or_with_underscores_are_refused(client, key, text):
    with pytest.raises(UserError, match=f"^{key}: .* is not a (whole )?number written with"):
        parse({key: text})
    with session(client) as ws:
        refused = setup(ws, **{key: text})
        assert refused["type"] == "error" and refused["message"].startswith(f"{key}: ")
        ready = setup(ws, **{key: {"epochs": "10", "points": "200", "seed": "3"}.get(key, "0.01")})
        assert ready["type"] == "ready" and text not in json.dumps(ready["settings"])


def test_a_compared_value_is_held_to_the_same_spelling():
    with pytest.raises(UserError, match="compare: .*'0_0_1' is not a number"):
        parse({"compare": "lr=0.1 0_0_1"})


# --- Export: whole or nothing ------------------------------------------------------------------
def test_an_export_that_fails_leaves_no_run_directory(client, tmp_path, monkeypatch):
    def fail(run_dir, result):
        raise UserError(f"{run_dir}/boundary.png: cannot write: No space left on device")

    root = tmp_path / "runs"
    with session(client) as ws:
        setup(ws, data="xor", epochs=20, layers="4")
        ws.send_json({"type": "step"})
        monkeypatch.setattr(runs, "write_pictures", fail)
        ws.send_json({"type": "export"})
        answer = until(ws, lambda m: m["type"] in ("exported", "error"))
        assert answer["type"] == "error" and "No space left" in answer["message"]
        assert [p.name for p in root.iterdir()] == []  # nothing half-written, nothing hidden
        monkeypatch.undo()
        ws.send_json({"type": "export"})
        exported = until(ws, lambda m: m["type"] in ("exported", "error"))
    assert exported["type"] == "exported", exported
    (run_dir,) = root.iterdir()
    assert str(run_dir) == exported["path"]
    spec = json.loads((run_dir / "config.json").read_text())
    assert spec["data"] == str((run_dir / "data.csv").resolve())
    assert (run_dir / "model.safetensors").exists() and (run_dir / "boundary.png").exists()


def test_memory_a_closed_tab_freed_goes_back_to_the_machine():
    """`pointlab play` keeps freed memory for speed (`cpu.keep_freed_memory`); when a tab closes
    its session hands it back (`cpu.release_freed_memory`): measured in a process of its own."""
    import subprocess
    import sys

    program = """
import numpy as np
from pointlab.cpu import keep_freed_memory, release_freed_memory
def rss():
    return int(open("/proc/self/statm").read().split()[1]) * 4096
keep_freed_memory()
blocks = [np.ones(2**20) for _ in range(75)]  # 600 MB in 8 MB blocks, kept by the heap
del blocks
kept = rss()
release_freed_memory()
print(kept - rss())
"""
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) > 400e6
