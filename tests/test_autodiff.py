"""pointlab.autodiff against torch.autograd, in float64: every gradient to 1e-10 relative."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from pointlab.autodiff import MLP, Tensor, gradient_check, model_loss
from pointlab.autodiff.mlp import ACTIVATIONS

TORCH_ACT = {
    "relu": torch.relu,
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "leaky_relu": F.leaky_relu,
    "identity": lambda z: z,
}


def close(ours: np.ndarray, theirs: torch.Tensor, rtol: float = 1e-10) -> None:
    """Equal to rtol relative to the reference tensor's scale (zeros of dead ReLUs included)."""
    reference = theirs.detach().numpy()
    scale = max(float(np.abs(reference).max()), 1e-300)
    assert ours.shape == reference.shape
    assert np.abs(ours - reference).max() <= rtol * scale, np.abs(ours - reference).max() / scale


def random_mlp(rng: np.random.Generator, depth: int, n_classes: int) -> list:
    """depth = number of weight layers (1: the book's simple model); random widths 1 to 9."""
    n_out = 1 if n_classes == 2 else n_classes
    widths = [2, *rng.integers(1, 10, size=depth - 1), n_out]
    return [
        (rng.normal(size=(a, b)), rng.normal(size=b))
        for a, b in zip(widths[:-1], widths[1:], strict=False)
    ]


def torch_loss(layers, activation, X, y, n_classes, kind):
    """The same model and loss written the way a PyTorch user would, float64."""
    params = []
    h = torch.as_tensor(X)
    for i, (w, b) in enumerate(layers):
        W = torch.tensor(w, requires_grad=True)
        B = torch.tensor(b, requires_grad=True)
        params += [W, B]
        h = h @ W + B
        if i < len(layers) - 1:
            h = TORCH_ACT[activation](h)
    t = torch.as_tensor(y)
    if kind == "mse":
        p = torch.sigmoid(h) if n_classes == 2 else torch.softmax(h, 1)
        target = t.double().unsqueeze(1) if n_classes == 2 else F.one_hot(t, n_classes).double()
        loss = F.mse_loss(p, target)
    elif n_classes == 2:
        loss = F.binary_cross_entropy_with_logits(h[:, 0], t.double())
    else:
        loss = F.cross_entropy(h, t)
    return loss, params


@pytest.mark.parametrize("broadcast_bias", [True, False])
@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("depth", [1, 2, 3, 4])
def test_mlp_gradients_equal_torch_autograd(depth, activation, n_classes, broadcast_bias):
    rng = np.random.default_rng([depth, len(activation), n_classes, broadcast_bias])
    layers = random_mlp(rng, depth, n_classes)
    X = rng.normal(size=(23, 2))
    y = rng.integers(0, n_classes, size=23)
    for kind in ("bce", "mse"):
        model = MLP(layers, activation, n_classes, broadcast_bias)
        loss = model_loss(model(Tensor(X)), y, n_classes, kind)
        loss.backward()
        reference, params = torch_loss(layers, activation, X, y, n_classes, kind)
        reference.backward()
        assert abs(float(loss.data) - reference.item()) <= 1e-12 * abs(reference.item())
        for ours, theirs in zip(model.parameters(), params, strict=True):
            close(ours.grad.reshape(theirs.shape), theirs.grad)


def test_each_operation_and_broadcasting_equal_torch():
    rng = np.random.default_rng(7)
    a, b, c = rng.normal(size=(5, 4)), rng.normal(size=4), rng.normal(size=(4, 3))
    ours = [Tensor(a), Tensor(b), Tensor(c)]
    theirs = [torch.tensor(v, requires_grad=True) for v in (a, b, c)]

    def expression(x, v, m, lib):
        u = (x * v - v) @ m  # broadcast v over rows in * and -
        s = 2.0 - u.sigmoid() * 3.0 + (-u).tanh()
        if lib == "ours":
            return (s.softmax() * u.relu()).sum(axis=0).mean() + u.mean(axis=1).sum()
        return (torch.softmax(s, 1) * u.relu()).sum(0).mean() + u.mean(1).sum()

    out = expression(*ours, "ours")
    ref = expression(*theirs, "torch")
    out.backward()
    ref.backward()
    assert abs(float(out.data) - ref.item()) < 1e-12
    for mine, torch_leaf in zip(ours, theirs, strict=True):
        close(mine.grad, torch_leaf.grad)


def test_a_tensor_used_twice_gets_both_gradients():
    x = Tensor([3.0])
    (x * x + x).sum().backward()  # d(x^2 + x)/dx = 2x + 1
    assert x.grad.tolist() == [7.0]


def test_backward_twice_does_not_double_the_gradients():
    w = Tensor(np.array([[1.0, -2.0]]))
    loss = (Tensor(np.array([[0.5], [2.0]])) @ w).relu().sum()
    loss.backward()
    first = w.grad.copy()
    loss.backward()
    np.testing.assert_array_equal(w.grad, first)


def test_losses_stay_finite_where_probabilities_saturate():
    """Logits of +-800: sigmoid is exactly 0 or 1 in float64, yet the losses stay exact."""
    z = torch.tensor([[800.0], [-800.0], [3.0]], dtype=torch.float64, requires_grad=True)
    y = np.array([0, 1, 1])
    ours = Tensor(z.detach().numpy())
    loss = model_loss(ours, y, 2)
    loss.backward()
    ref = F.binary_cross_entropy_with_logits(z[:, 0], torch.as_tensor(y).double())
    ref.backward()
    assert np.isfinite(loss.data) and abs(float(loss.data) - ref.item()) < 1e-12
    close(ours.grad, z.grad)
    logits = torch.tensor([[900.0, 0.0, -900.0], [1.0, 2.0, 3.0]], dtype=torch.float64)
    ce = model_loss(Tensor(logits.numpy()), np.array([2, 0]), 3)
    assert abs(float(ce.data) - float(F.cross_entropy(logits, torch.tensor([2, 0])))) < 1e-9


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
@pytest.mark.parametrize("n_classes", [2, 3])
def test_finite_differences_agree_with_backward(activation, n_classes):
    rng = np.random.default_rng(11)
    model = MLP(random_mlp(rng, 3, n_classes), activation, n_classes)
    x = Tensor(rng.normal(size=(40, 2)))
    y = rng.integers(0, n_classes, size=40)
    check = gradient_check(
        lambda: model.loss(model(x), y), model.parameters(), per_tensor=6, rng=rng
    )
    assert len(check.weights) == sum(min(6, p.data.size) for p in model.parameters())
    assert check.max_rel_error < 1e-6, check.max_rel_error


def test_the_gradient_check_catches_a_wrong_backward_rule():
    rng = np.random.default_rng(5)
    model = MLP(random_mlp(rng, 2, 2), "tanh")
    x, y = Tensor(rng.normal(size=(30, 2))), rng.integers(0, 2, size=30)

    def loss_with_a_bug():
        logits = model(x)
        doubled = logits * 1.0
        # a backward rule that forgets nothing but doubles its gradient: d(1.0 * a)/da = 1, not 2
        doubled._backward = lambda: logits.add_grad(2 * doubled.grad)
        return model.loss(doubled, y)

    check = gradient_check(loss_with_a_bug, model.parameters(), per_tensor=3, rng=rng)
    assert check.max_rel_error > 0.4
