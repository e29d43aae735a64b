"""`pointlab export RUN --format onnx`: one ONNX file that onnxruntime runs to the probabilities
`pointlab predict` gives, on the book's three files and a three-class spiral; a missing extra is
one line naming what to install.

The agreement tests skip without onnxruntime (the `onnx` extra; CI's dev group has it)."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

import exports
from pointlab.cli import main
from pointlab.export import onnx as onnx_export

from conftest import quiet

needs_onnx = pytest.mark.skipif(
    any(importlib.util.find_spec(m) is None for m in ("onnx", "onnxscript", "onnxruntime")),
    reason="needs the onnx extra (onnx, onnxscript, onnxruntime): pip install 'pointlab[onnx]'",
)


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> dict[str, exports.Trained]:
    root = tmp_path_factory.mktemp("onnx")
    return {name: exports.train_and_predict(root, name) for name in exports.NAMES}


@needs_onnx
@pytest.mark.slow  # four runs trained and exported: ~30 s on a loaded 2-core machine
@pytest.mark.parametrize("name", exports.NAMES)
def test_onnxruntime_gives_what_predict_gives(trained, name, tmp_path, capsys):
    import onnx
    import onnxruntime

    run = trained[name]
    target = tmp_path / "exported" / f"{name}.onnx"
    target.parent.mkdir()
    assert main(["export", str(run.run), "--format", "onnx", "-o", str(target)]) == 0
    said = capsys.readouterr().out
    assert f"wrote {target}" in said and "largest difference" in said
    assert [p.name for p in target.parent.iterdir()] == [target.name]  # one file, no weights beside

    session = onnxruntime.InferenceSession(str(target), providers=["CPUExecutionProvider"])
    (inp,), (out,) = session.get_inputs(), session.get_outputs()
    assert (inp.name, inp.type, out.name) == ("points", "tensor(float)", "probabilities")
    assert inp.shape[1] == 2 and not isinstance(inp.shape[0], int)  # N is free
    (proba,) = session.run(None, {"points": run.points})  # (N, K)
    worst = float(np.abs(proba - run.proba).max())
    print(f"{name}: {len(run.points)} points, largest |onnxruntime - predict| = {worst:.2g}")
    assert proba.shape == run.proba.shape and worst <= 1e-5
    assert np.array_equal(proba.argmax(1), run.predicted)

    # One point, and points far outside the data: the same function.
    model = onnx.load(str(target))
    props = {p.key: p.value for p in model.metadata_props}
    assert props["n_classes"] == str(run.proba.shape[1])
    odd = np.array([[0.5, 0.5]], np.float32), np.array([[1e4, -1e4], [0, 0]], np.float32)
    from pointlab.runs import load_run

    reference = load_run(run.run).model
    for points in odd:
        (got,) = session.run(None, {"points": points})
        assert np.abs(got - reference.predict_proba(points)).max() <= 1e-5


def test_a_missing_extra_is_one_line_naming_the_install(monkeypatch, tmp_path, capsys):
    run = exports.train_and_predict(tmp_path, "curve").run
    real = importlib.util.find_spec
    monkeypatch.setattr(
        onnx_export.importlib.util,
        "find_spec",
        lambda name, *rest: None if name == "onnxscript" else real(name, *rest),
    )
    target = tmp_path / "m.onnx"
    argv = ["export", str(run), "--format", "onnx", "-o", str(target)]
    assert main(argv, quiet()) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "onnxscript" in err
    assert "pip install 'pointlab[onnx]'" in err and not target.exists()


@needs_onnx
@pytest.mark.slow  # one export a layer kind: ~3 s each on an idle 2-core machine
@pytest.mark.parametrize("kind", exports.LAYER_KINDS, ids=lambda kind: f"{kind[0]}{kind[1]}")
def test_every_layer_kind_exports_as_torch_runs_it(kind):
    model, points = exports.untrained(*kind)
    worst = onnx_export.largest_difference(onnx_export.onnx_bytes(model), model, points)
    assert worst <= 1e-5, worst


@needs_onnx
def test_feature_inputs_and_standardization_travel_in_the_file():
    model, points = exports.untrained("tanh", (8,), 3, 0.0, *exports.FEATURED)
    worst = onnx_export.largest_difference(onnx_export.onnx_bytes(model), model, points)
    assert worst <= 1e-5, worst


def test_the_torch_step_to_the_inputs_is_the_numpy_one():
    import torch

    from pointlab.checkpoint import FEATURE_FUNCTIONS, Inputs
    from pointlab.features import FEATURES, Scaling, model_inputs

    assert set(FEATURE_FUNCTIONS) == set(FEATURES)  # a new feature needs its torch twin
    names, (mean, std) = exports.FEATURED
    points = np.random.default_rng(1).normal(scale=5.0, size=(500, 2)).astype(np.float32)
    with torch.no_grad():
        got = Inputs(names, mean, std)(torch.as_tensor(points)).numpy()
    want = model_inputs(points, names, Scaling(mean, std))
    assert got.dtype == want.dtype == np.float32
    assert np.abs(got - want).max() <= 1e-6 * np.abs(want).max()
