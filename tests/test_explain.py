"""`pointlab.explain` and `pointlab explain`: every number of the trace checked."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import torch

from pointlab.autodiff import MLP
from pointlab.cli import main
from pointlab.config import TrainConfig
from pointlab.engine.models import Architecture, to_sequential
from pointlab.explain import explain_step

from conftest import book_file, is_png, quiet

CURVE = book_file("curve.csv")


def torch_step(state, config, X, y, n_classes):
    """The same step as a PyTorch user takes it: (loss before, grads, state after, loss after)."""
    model = to_sequential(Architecture(config.hidden, config.activation, n_classes)).double()
    model.load_state_dict({k: torch.as_tensor(v) for k, v in state.items()})
    x, t = torch.as_tensor(X, dtype=torch.float64), torch.as_tensor(y)

    def loss_fn():
        z = model(x)
        if n_classes == 2:
            return torch.nn.functional.binary_cross_entropy_with_logits(z[:, 0], t.double())
        return torch.nn.functional.cross_entropy(z, t)

    optimizer = {
        "adam": lambda p: torch.optim.Adam(p, lr=config.lr),
        "momentum": lambda p: torch.optim.SGD(p, lr=config.lr, momentum=config.momentum),
    }[config.optimizer](model.parameters())
    loss = loss_fn()
    loss.backward()
    grads = {k: p.grad.clone() for k, p in model.named_parameters()}
    optimizer.step()
    return loss.item(), grads, model.state_dict(), loss_fn().item()


@pytest.mark.parametrize(
    ("n_classes", "activation", "optimizer"), [(2, "relu", "adam"), (3, "tanh", "momentum")]
)
def test_every_number_of_the_step_equals_pytorch(n_classes, activation, optimizer):
    rng = np.random.default_rng(2)
    X, y = rng.uniform(size=(60, 2)), rng.integers(0, n_classes, size=60)
    config = TrainConfig(hidden=(16, 8), activation=activation, optimizer=optimizer, lr=0.01)
    model = MLP.init(config.hidden, activation, n_classes, seed=5)
    state = model.state()
    loss, grads, after, loss_after = torch_step(state, config, X, y, n_classes)

    trace = explain_step(state, config, X, y, n_classes, weight=(2, 3, 1))
    assert trace.loss_before == pytest.approx(loss, rel=1e-12)
    assert trace.loss_after == pytest.approx(loss_after, rel=1e-12)
    for layer in trace.backward:  # gradient norms, layer by layer
        i = 2 * (layer.layer - 1)
        assert layer.dW.norm == pytest.approx(float(grads[f"{i}.weight"].norm()), rel=1e-10)
        assert layer.db.norm == pytest.approx(float(grads[f"{i}.bias"].norm()), rel=1e-10)

    t = trace.trace  # W2[3, 1] is torch's 2.weight[1, 3]
    assert (t.parameter, t.row, t.col) == ("W2", 3, 1)
    assert t.gradient == pytest.approx(float(grads["2.weight"][1, 3]), rel=1e-10)
    assert t.sum_of_shares == pytest.approx(t.gradient, rel=1e-10, abs=1e-15)
    assert t.path_product == pytest.approx(float(np.prod([f.value for f in t.factors])))
    assert t.n_paths == (1 if n_classes == 2 else 3)  # from W2 straight to each output
    assert t.value_after == pytest.approx(float(after["2.weight"][1, 3]), rel=1e-10)
    assert t.update[-1].value == pytest.approx(t.value_after, rel=1e-12)  # its own arithmetic
    assert trace.max_rel_error < 1e-6
    assert len(trace.check) == 1 + sum(min(4, p.size) for p in state.values())
    json.dumps(trace.to_dict(), allow_nan=False)  # JSON as it is, for the web playground


def test_a_path_through_every_layer_is_one_term_of_the_sum():
    """For one point and a depth-3 network, the paths' products add up to the point's share."""
    rng = np.random.default_rng(8)
    X, y = rng.uniform(size=(1, 2)), np.array([1])
    config = TrainConfig(hidden=(3, 4), activation="tanh", lr=0.01)
    model = MLP.init(config.hidden, "tanh", 2, seed=1)
    W1, W2, W3 = (w.data.copy() for w in model.weights)
    b1, b2, b3 = (b.data.copy() for b in model.biases)
    trace = explain_step(model, config, X, y, weight=(1, 0, 2))
    t = trace.trace
    x = X[0]
    h1 = np.tanh(x @ W1 + b1)  # the forward pass by hand, weights before the step
    h2 = np.tanh(h1 @ W2 + b2)
    z3 = h2 @ W3 + b3
    d3 = 1 / (1 + np.exp(-z3[0])) - 1  # (p - y) / N, N = 1
    total = sum(
        d3 * W3[k, 0] * (1 - h2[k] ** 2) * W2[2, k] * (1 - h1[2] ** 2) * x[0] for k in range(4)
    )
    assert t.n_paths == 4
    assert t.point_share == pytest.approx(total, rel=1e-10)
    assert t.gradient == pytest.approx(total, rel=1e-10)
    k = t.path_units[1]
    assert t.path_product == pytest.approx(
        d3 * W3[k, 0] * (1 - h2[k] ** 2) * W2[2, k] * (1 - h1[2] ** 2) * x[0], rel=1e-10
    )


def test_explain_complex_on_the_books_curve_writes_the_report(tmp_path, capsys):
    out = tmp_path / "report"
    status = main(["explain", str(CURVE), "--model", "complex", "--out", str(out), "--json"])
    assert status == 0
    numbers = json.loads(capsys.readouterr().out)
    assert numbers["model"] == "2-128-128-1 relu" and numbers["n_points"] == 200
    assert numbers["loss_after"] < numbers["loss_before"]
    assert [g["layer"] for g in numbers["grad_norms"]] == [1, 2, 3]
    assert all(g["weight"] > 0 for g in numbers["grad_norms"])
    assert numbers["gradient_check"]["max_rel_error"] < 1e-6
    for picture in ("activations.png", "graph.png", "gradients.png"):
        assert is_png(out / picture)
    report = (out / "report.md").read_text()
    for section in ("## 1. Forward", "## 2. The loss", "## 3. Backward", "## 4. The update"):
        assert section in report
    assert json.loads((out / "trace.json").read_text())["loss_before"] == numbers["loss_before"]


@pytest.mark.slow  # a run, then three explains replaying it: ~7 s
def test_explain_a_run_replayed_to_its_last_epoch(tmp_path, capsys):
    """--run --epoch N replays the run in float64: it lands where the float32 engine did."""
    run = tmp_path / "run"
    argv = ["train", str(CURVE), "--layers", "8", "--epochs", "30", "--seed", "2"]
    assert main([*argv, "--val-fraction", "0", "--out", str(run)], quiet()) == 0
    engine_loss = json.loads((run / "config.json").read_text())["result"]["final"]["train_loss"]
    explain = ["explain", str(CURVE), "--run", str(run)]
    assert main([*explain, "--epoch", "30", "--json", "--out", str(tmp_path / "a")]) == 0
    replayed = json.loads(capsys.readouterr().out)
    assert replayed["step"] == 31
    assert replayed["loss_before"] == pytest.approx(engine_loss, abs=1e-6)

    console = quiet()
    assert (
        main(["explain", str(CURVE), "--run", str(run), "--out", str(tmp_path / "b")], console) == 0
    )
    text = console.file.getvalue()
    assert "keeps no optimizer state" in text and "report:" in text


def test_bad_requests_end_with_one_line(tmp_path, capsys):
    out = str(tmp_path / "x")
    assert (
        main(["explain", str(CURVE), "--model", "simple", "--weight", "2,0,0", "--out", out]) == 2
    )
    assert capsys.readouterr().err.strip() == (
        "pointlab: error: no weight W2[0, 0]: the layers' widths are [2, 1]"
    )
    assert main(["explain", str(tmp_path / "missing.csv")]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_the_command_module_loads_neither_torch_nor_matplotlib():
    code = (
        "import sys, pointlab.cli.explain_cmd; "
        "print(sorted(m for m in ('torch', 'matplotlib') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "[]", result.stderr


def test_the_playgrounds_hook_takes_a_config_and_a_torch_state_dict():
    """`pointlab.explain.trace_step(config, state, X, y, n_classes)`, as the web page calls it,
    with a dropout model's Sequential keys (0, 3, 6) and float32 points."""
    from pointlab.explain import trace_step

    rng = np.random.default_rng(4)
    X = rng.uniform(size=(40, 2)).astype(np.float32)
    y = rng.integers(0, 3, size=40)
    config = TrainConfig(hidden=(6, 5), dropout=0.1, lr=0.01)
    model = to_sequential(Architecture(config.hidden, "relu", 3), dropout=0.1)
    trace = trace_step(config, model.state_dict(), X, y, 3)
    json.dumps(trace, allow_nan=False)
    assert trace["widths"] == [2, 6, 5, 3] and trace["n_points"] == 40
    assert trace["loss_after"] < trace["loss_before"]
    assert "starts it afresh" in trace["notes"][0]
    x = torch.as_tensor(X, dtype=torch.float64)
    loss = torch.nn.functional.cross_entropy(model.double().eval()(x), torch.as_tensor(y))
    assert trace["loss_before"] == pytest.approx(loss.item(), rel=1e-12)
