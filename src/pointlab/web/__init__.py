"""`pointlab play`: a live web playground on the population engine.

Read it in this order:

1. `settings.py`: the page's settings (keys named as `pointlab train` flags, as in the page's URL)
   turned into a data recipe and the `TrainConfig` of every member, within the server's limits.
2. `live.py`: a population trained one epoch at a time (Play, Pause, Step), measured, and drawn
   as numbers over a grid (decision regions, each hidden unit's activation).
3. `session.py`: one browser tab: a worker thread that owns its data and its training, fed by
   the tab's WebSocket messages; closing the tab stops it.
4. `export.py`: the current model as a run directory, the same as `pointlab train` writes.
5. `security.py`: Host and Origin checks, the upload limit.
6. `app.py`: the Starlette app: the page, its static files, the upload, the WebSocket.

The page itself is `static/` (plain ES modules, no build step, nothing from a CDN).

Not here: the command line (`pointlab.cli.play_cmd`), training semantics (`pointlab.engine`).
"""
