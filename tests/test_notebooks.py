"""The notebooks in `notebooks/` run from top to bottom in a real Jupyter kernel (nbclient), so
they never go stale; each cell that shows a pointlab result shows its HTML.

Skipped without nbclient and ipykernel (CI's dev group has them)."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

from conftest import ROOT

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))

pytestmark = [
    pytest.mark.slow,  # a kernel, training and an experiment: ~1 min on an idle 2-core machine
    pytest.mark.skipif(
        any(importlib.util.find_spec(m) is None for m in ("nbclient", "ipykernel")),
        reason="needs nbclient and ipykernel (the dev group)",
    ),
]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_the_notebook_runs_from_top_to_bottom(path: Path, monkeypatch):
    import nbformat
    from nbclient import NotebookClient

    monkeypatch.setenv("OMP_NUM_THREADS", "1")  # the kernel inherits it: no spinning threads
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(
        notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": path.parent}}
    ).execute()  # raises CellExecutionError, with the cell and its traceback, if a cell fails
    shown = [
        output["data"]["text/html"]
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if output.output_type == "execute_result" and "text/html" in output.data
    ]
    assert len(shown) >= 4  # the data set, the runs and the report display themselves
    if path.name == "tour.ipynb":  # a sweep's table; the playground's view and its run
        assert any("pointlab sweep" in html and "val loss" in html for html in shown)
        views = [
            output
            for cell in notebook.cells
            if cell.cell_type == "code"
            for output in cell.outputs
            if output.output_type == "execute_result"
            and "application/vnd.jupyter.widget-view+json" in output.data
        ]
        assert len(views) == 1
        assert any(
            "pointlab run (not written)" in html and "finished at epoch 300" in html
            for html in shown
        )
    for html in shown:
        assert '<img src="data:image/png;base64,' in html, html[:300]
    assert os.environ["OMP_NUM_THREADS"] == "1"
