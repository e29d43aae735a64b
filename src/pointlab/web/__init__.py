"""`pointlab play`: a live web playground on the population engine.

Read it in this order:

1. `settings.py`: the page's settings (keys named as `pointlab train` flags, as in the page's URL)
   turned into a data recipe and the `TrainConfig` of every member, within the server's limits.
2. `live.py`: a population trained one epoch at a time (Play, Pause, Step), measured, and drawn
   as numbers over a grid (decision regions, each hidden unit's activation).
3. `points.py`: the points: made from the settings' data recipe, uploaded, split, edited.
4. `pictures.py`: pictures as numbers: decision regions and hidden units as bytes for the page.
5. `budget.py`: what one request may cost (arithmetic, and memory as the engine estimates it).
6. `queues.py`: a tab's bounded inbox, and the turns all tabs take at the processor.
7. `session.py`: one browser tab: the dispatch of its messages to a worker thread that owns its
   points and its training; closing the tab cancels what it queued and stops it.
8. `export.py`: the current model as a run directory, the same as `pointlab train` writes.
9. `security.py`: Host and Origin checks, the upload limit.
10. `app.py`: the Starlette app: the page, its static files, the upload, the WebSocket.

The page itself is `static/` (plain ES modules, no build step, nothing from a CDN).

Not here: the command line (`pointlab.cli.play_cmd`), training semantics (`pointlab.engine`).
"""
