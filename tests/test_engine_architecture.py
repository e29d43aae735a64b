"""Skip connections and normalization from the command line to the run folder and back: a run
trained with `--residual` or `--norm` predicts and evaluates exactly as training reported, its
ONNX export computes the same probabilities, its web page carries its skips and normalization,
and the command that cannot run it (explain) says so in one line."""

from __future__ import annotations

import csv
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from pointlab import runs
from pointlab.cli import main
from pointlab.config import TrainConfig

from conftest import CURVE, quiet

ARCHITECTURES = {
    "residual": ["--residual", "--layers", "8,8,8"],
    "batch": ["--norm", "batch", "--layers", "8,8", "--batch-size", "64"],
    "layer": ["--norm", "layer", "--residual", "--layers", "8,8,8"],
}


@pytest.fixture(scope="module", params=sorted(ARCHITECTURES))
def trained(request, tmp_path_factory) -> tuple[str, Path]:
    out = tmp_path_factory.mktemp(request.param) / "run"
    argv = ["train", str(CURVE), "--epochs", "30", "--seed", "3", "--val-fraction", "0"]
    assert main([*argv, *ARCHITECTURES[request.param], "--out", str(out)], quiet()) == 0
    return request.param, out


def test_the_run_records_the_architecture_and_evaluates_as_training_reported(trained, capsys):
    name, out = trained
    config = json.loads((out / "config.json").read_text())["config"]
    assert config["residual"] == (name != "batch")
    assert config["norm"] == {"residual": "none"}.get(name, name)
    final = runs.read_metrics(out)
    capsys.readouterr()
    assert main(["evaluate", str(out), str(CURVE), "--json"], quiet()) == 0
    numbers = json.loads(capsys.readouterr().out)
    assert numbers["n"] == 200
    assert numbers["loss"] == pytest.approx(final["train_loss"][-1], rel=1e-5)
    assert numbers["accuracy"] == pytest.approx(final["train_acc"][-1], abs=1e-6)

    target = out.parent / "predicted.csv"
    assert main(["predict", str(out), str(CURVE), "-o", str(target)], quiet()) == 0
    rows = list(csv.reader(target.read_text().splitlines()))[1:]
    labels = np.loadtxt(CURVE, delimiter=",")[:, 2]
    accuracy = np.mean([int(r[3]) == label for r, label in zip(rows, labels, strict=True)])
    assert accuracy == pytest.approx(final["train_acc"][-1], abs=1e-6)


def test_the_web_page_takes_it_along_and_explain_refuses_it_in_one_line(trained, capsys):
    name, out = trained
    page = out.parent / "page.html"
    assert main(["export", str(out), "--format", "web", "-o", str(page)], quiet()) == 0
    text = page.read_text()  # its answers are checked in a browser in test_export_web.py
    assert ('"skip":true' in text) == (name != "batch")
    assert ('"norm":' in text) == (name != "residual")
    assert main(["explain", str(CURVE), "--run", str(out)], quiet()) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "explain takes a plain MLP" in err[0]
    # It says what to do instead: the plain network of the same shape, or the experiments.
    assert "pointlab explain DATA --layers 8," in err[0] and "experiment skip-connections" in err[0]


@pytest.mark.skipif(
    any(importlib.util.find_spec(m) is None for m in ("onnx", "onnxscript", "onnxruntime")),
    reason="needs the onnx extra (onnx, onnxscript, onnxruntime)",
)
def test_onnx_export_computes_what_predict_computes(trained):
    import onnxruntime

    _, out = trained
    target = out.parent / "model.onnx"
    assert main(["export", str(out), "--format", "onnx", "-o", str(target)], quiet()) == 0
    points = np.loadtxt(CURVE, delimiter=",", dtype=np.float32)[:, :2]
    session = onnxruntime.InferenceSession(str(target), providers=["CPUExecutionProvider"])
    (proba,) = session.run(None, {"points": points})
    expected = runs.load_run(out).model.predict_proba(points)
    assert np.abs(proba - expected).max() <= 1e-5


@pytest.mark.parametrize("norm", ["layer", "batch"])
def test_the_estimator_takes_residual_and_norm_and_its_torch_model_predicts_the_same(norm):
    import torch

    from pointlab.engine.models import MLP
    from pointlab.sklearn import MLPClassifier

    data = np.loadtxt(CURVE, delimiter=",", dtype=np.float32)
    X, y = data[:, :2], data[:, 2].astype(np.int64)
    estimator = MLPClassifier(
        (8, 8, 8),
        residual=True,
        norm=norm,
        max_iter=20,
        batch_size=64,
        dropout=0.1,
        random_state=0,
    )
    assert estimator.get_params()["residual"] and estimator.get_params()["norm"] == norm
    estimator.fit(X, y)
    model = estimator.to_torch()
    assert isinstance(model, MLP)
    with torch.no_grad():
        logits = model(torch.as_tensor(X))[:, 0].numpy()
    assert np.array_equal(estimator.predict(X), (logits > 0).astype(np.int64))
    assert estimator.score(X, y) > 0.5
    with pytest.raises(ValueError, match="norm must be one of none, layer, batch"):
        MLPClassifier(norm="group", max_iter=1).fit(X, y)


@pytest.mark.parametrize("norm", ["none", "layer", "batch"])
def test_the_playground_draws_a_residual_member_as_its_saved_model_predicts(norm):
    from pointlab import generators
    from pointlab.checkpoint import TrainedModel
    from pointlab.splits import split
    from pointlab.web import settings
    from pointlab.web.live import LiveTraining

    setup = settings.parse({"residual": "on", "norm": norm, "layers": "6,6", "epochs": "8"})
    assert setup.settings["residual"] == "on" and setup.settings["norm"] == norm
    (config,) = setup.members
    assert config.residual and config.norm == norm
    data = generators.make("spiral", n=80, seed=1)
    train, val, _ = split(data, 0.25, seed=0)
    configs = [config.replace(seed=0), config.replace(seed=1, residual=False)]
    live = LiveTraining(configs, train, val, 2, log_every=4)
    while not live.finished:
        live.step()
    grid = np.stack(np.meshgrid(np.linspace(-1, 1, 5), np.linspace(-1, 1, 5)), -1).reshape(-1, 2)
    grid = grid.astype(np.float32)
    both = live.regions([0, 1], grid)
    for m in (0, 1):
        model = TrainedModel(configs[m], 2, live.state(m), live.scaling(m))
        expected = model.predict_proba(grid)
        np.testing.assert_allclose(live.regions([m], grid)[0], expected, atol=1e-5)
        np.testing.assert_allclose(both[m], expected, atol=1e-5)
    units = live.units(0, grid)
    assert [u.shape for u in units] == [(25, 6), (25, 6)]
    with pytest.raises(Exception, match="norm"):
        settings.parse({"norm": "group"})


def test_a_search_space_takes_residual_and_norm_choices():
    from pointlab.search.space import apply_params, parse_space

    space = parse_space(["residual=on,off", "norm=none,layer,batch"])
    by_name = {p.name: p for p in space}
    assert by_name["residual"].choices == (True, False)
    assert by_name["norm"].choices == ("none", "layer", "batch")
    config = apply_params(TrainConfig(), {"residual": True, "norm": "batch"})
    assert config.residual and config.norm == "batch"
