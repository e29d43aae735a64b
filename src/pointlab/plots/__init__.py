"""Pictures: numbers computed elsewhere, drawn onto a matplotlib Axes you are given.

The contract, as scikit-learn's Display objects: compute first, then draw.
- `compute_*` functions (or the caller) turn a model or a result into plain numbers;
- `draw_*(ax, ...)` functions draw those numbers onto one Axes and touch nothing else (no figure
  layout, no saving), so any figure can combine them: a run's `boundary.png`, an experiment's
  three-panel picture, a window;
- `plot_*(..., path)` functions are the one-call conveniences: a figure, its `draw_*` calls, and
  `save.save_figure`.
One palette for K classes (`palette.class_colours`: class 0 red and class 1 blue as in the book),
one save helper (`save.save_figure`: atomic, any format matplotlib writes). Figures are
`matplotlib.figure.Figure` objects drawn by the Agg canvas, never pyplot's global state, so they
work headless and in threads; only `points.show_points` opens a window.

Modules: `palette`, `save`, `points` (a data set), `boundary` (decision regions), `curves`
(training history), `lines` (titled line panels for the experiments), `sweep` (a sweep's trials),
`explain` (one explained training step), `regions` and `landscape` (the experiments `depth`,
`batch-noise`, `lottery` and `landscape`). Nothing here imports torch; matplotlib is imported by
these modules, so the CLI imports them only once it is about to draw.

Not here: training, searching or measuring anything (`pointlab.engine`, `pointlab.search`,
`pointlab.experiments`).
"""
