"""`pointlab play` against the bare engine: what does streaming to a page cost? -> WEB.md

Side by side, alternating, on one machine:
- bare: `engine.train` of the book's `complex` model (2-128-128-1 relu, Adam 0.003, full batch) on
  the book's `curve.csv` (200 points, no validation split), logging as `pointlab train` does;
- page: the same model and data in `pointlab play` (a subprocess, as a user starts it), driven by
  Chromium through Playwright: Play pressed, timed until the page shows the last epoch. The page
  draws every frame it gets, and the browser shares the machine's cores with the server, as it
  does on a laptop;
- socket: the same, but the frames go to a plain WebSocket client that draws nothing (the
  server's own cost of streaming, without the browser's).
And the time from the start of the page's navigation to its first drawn decision regions.

With `--speeds`: the page's speed control instead. For each speed it offers (1 epoch a second to
full speed), the playground's default setup (spiral, 2-16-16-1 tanh, Adam 0.03, full batch, the
network diagram on) with 100,000 epochs so that no speed finishes, played in Chromium for
`--seconds`: the epochs a second and the frames a second the page received and drew.

Both sides use one torch thread (OMP_NUM_THREADS=1), the choice `pointlab play` makes on a busy
machine (`pointlab/cpu.py`).

    uv run python benchmarks/web.py [--epochs 3000] [--repeats 3]
    uv run python benchmarks/web.py --speeds [--seconds 4]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = "data=curve.csv&layers=128,128&activation=relu&optimizer=adam&lr=0.003&val-fraction=0"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"]


def bare(epochs: int) -> float:
    """Epochs per second of engine.train, as `pointlab train` calls it."""
    import torch

    from pointlab import engine
    from pointlab.config import TrainConfig
    from pointlab.data import load_csv

    torch.set_num_threads(1)
    data = load_csv(ROOT / "data" / "curve.csv")
    config = TrainConfig(hidden=(128, 128), activation="relu", lr=0.003, epochs=epochs)
    start = time.perf_counter()
    engine.train([config], data.X, data.y, log_every=max(1, epochs // 200))
    return epochs / (time.perf_counter() - start)


def start_server(runs: Path) -> tuple[subprocess.Popen, str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [str(Path(sys.executable).parent / "pointlab"), "play", "--port", str(port)]
    process = subprocess.Popen(
        [*command, "--runs", str(runs)],
        env=dict(os.environ, OMP_NUM_THREADS="1"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/"
    for _ in range(300):
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return process, url
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("pointlab play did not start")


def page_run(browser, url: str, epochs: int) -> dict[str, float]:
    page = browser.new_page()
    page.goto(f"{url}?{SETTINGS}&epochs={epochs}&speed=full")  # the page's default is 200/s
    page.wait_for_function("window.pointlab.firstRegionsAt !== undefined")
    first = page.evaluate("window.pointlab.firstRegionsAt")
    frames0 = page.evaluate("window.pointlab.frames")
    start = time.perf_counter()
    page.click("[data-testid=play]")
    page.wait_for_function(
        f"window.pointlab.frame && window.pointlab.frame.epoch === {epochs}", timeout=600_000
    )
    seconds = time.perf_counter() - start
    frames = page.evaluate("window.pointlab.frames") - frames0
    page.close()
    return {"epochs_per_s": epochs / seconds, "fps": frames / seconds, "first_regions_ms": first}


def speed_run(browser, url: str, speed: str, seconds: float) -> dict[str, float]:
    """Epochs and frames a second in the page at one speed, after a second to settle."""
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    page.goto(f"{url}?epochs=100000&speed={speed}")
    page.wait_for_function("window.pointlab.frame !== null && window.pointlab.diagram !== null")
    page.click("[data-testid=play]")
    time.sleep(1.0)
    probe = "[window.pointlab.frame.epoch, window.pointlab.frames, performance.now()]"
    epoch0, frames0, t0 = page.evaluate(probe)
    time.sleep(seconds)
    epoch1, frames1, t1 = page.evaluate(probe)
    page.click("[data-testid=pause]")
    page.close()
    elapsed = (t1 - t0) / 1000
    return {"epochs_per_s": (epoch1 - epoch0) / elapsed, "fps": (frames1 - frames0) / elapsed}


def speeds(seconds: float) -> None:
    from playwright.sync_api import sync_playwright

    process, url = start_server(Path("/tmp/pointlab-web-benchmark"))
    offered = ["1", "2", "5", "10", "20", "50", "100", "200", "500", "1000", "full"]
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            speed_run(browser, url, "full", 1.0)  # warm up the server's torch and the browser
            print("| speed set | epochs/s measured | frames/s |")
            print("| ---: | ---: | ---: |")
            for speed in offered:
                row = speed_run(browser, url, speed, seconds)
                print(f"| {speed} | {row['epochs_per_s']:,.1f} | {row['fps']:.1f} |", flush=True)
            browser.close()
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
    print(f"load average at the end: {os.getloadavg()}")


def socket_run(url: str, epochs: int) -> dict[str, float]:
    from websockets.sync.client import connect

    ws_url = url.replace("http://", "ws://") + "ws"
    settings = dict(part.split("=", 1) for part in SETTINGS.split("&"))
    settings["epochs"] = str(epochs)
    with connect(ws_url, origin=url.rstrip("/"), max_size=None) as ws:
        ws.send(json.dumps({"type": "setup", "settings": settings}))
        while json.loads(ws.recv())["type"] != "frame":
            pass
        start = time.perf_counter()
        ws.send(json.dumps({"type": "play"}))
        frames = 0
        while True:
            message = json.loads(ws.recv())
            if message["type"] == "frame":
                frames += 1
                if message["epoch"] == epochs:
                    break
        seconds = time.perf_counter() - start
    return {"epochs_per_s": epochs / seconds, "fps": frames / seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=3000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--speeds", action="store_true", help="measure the page's speed control")
    parser.add_argument("--seconds", type=float, default=4.0)
    args = parser.parse_args()
    if args.speeds:
        speeds(args.seconds)
        return
    from playwright.sync_api import sync_playwright

    runs = Path("/tmp/pointlab-web-benchmark")
    process, url = start_server(runs)
    rows: dict[str, list[dict[str, float]]] = {"bare": [], "page": [], "socket": []}
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            page_run(browser, url, 50)  # warm up the server's torch and the browser
            for r in range(args.repeats):
                rows["bare"].append({"epochs_per_s": bare(args.epochs)})
                rows["page"].append(page_run(browser, url, args.epochs))
                rows["socket"].append(socket_run(url, args.epochs))
                print(f"repeat {r + 1}: " + json.dumps({k: v[-1] for k, v in rows.items()}))
            browser.close()
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
    print(f"load average at the end: {os.getloadavg()}")
    bare_speed = statistics.median(r["epochs_per_s"] for r in rows["bare"])
    for side in ("page", "socket"):
        speed = statistics.median(r["epochs_per_s"] for r in rows[side])
        fps = statistics.median(r["fps"] for r in rows[side])
        print(
            f"{side}: {speed:,.0f} epochs/s against bare {bare_speed:,.0f} "
            f"({speed / bare_speed:.2f}x, streaming costs {1 - speed / bare_speed:.0%}), "
            f"{fps:.1f} frames/s"
        )
    first = [r["first_regions_ms"] for r in rows["page"]]
    print(f"page load to first decision regions: median {statistics.median(first):.0f} ms {first}")


if __name__ == "__main__":
    main()
