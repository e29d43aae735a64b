"""The measurement behind experiment `normalization`: the loss and the gradient along the gradient,
taken from a population's weights in the engine's layout, are what a lone `torch.nn` model of the
same member gives (batch norm in training mode, with the statistics of all the points). The quick
run itself is in `test_experiments_quick.py`."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from pointlab.engine.models import Architecture, init_theta, member_state, to_module
from pointlab.experiments.normalization import (
    NormResult,
    along_gradient,
    decades_that_train,
    epochs_to,
    largest_that_trains,
    reference_lr,
)


def _lone(arch: Architecture, theta: torch.Tensor, m: int, X, y, eta: float):
    """Loss at w, loss at w - eta g and |grad at w - eta g - g| of member m as a torch module."""
    model = to_module(arch)
    model.load_state_dict(member_state(arch, theta, m))
    model.train()  # batch norm: the batch's own statistics
    x, target = torch.as_tensor(X), torch.as_tensor(y)
    params = list(model.parameters())

    def loss_and_grad():
        loss = torch.nn.functional.binary_cross_entropy_with_logits(model(x)[:, 0], target)
        return float(loss.detach()), [g.detach().clone() for g in torch.autograd.grad(loss, params)]

    loss, grads = loss_and_grad()
    with torch.no_grad():
        for p, g in zip(params, grads, strict=True):
            p -= eta * g
    stepped, after = loss_and_grad()
    change = torch.sqrt(sum(((a - g) ** 2).sum() for a, g in zip(after, grads, strict=True)))
    norm = torch.sqrt(sum((g**2).sum() for g in grads))
    return loss, stepped, float(change), float(norm)


@pytest.mark.parametrize("norm", ["none", "layer", "batch"])
def test_along_gradient_matches_a_lone_torch_model(norm):
    arch = Architecture((8, 8, 8), "relu", norm=norm)
    theta = init_theta(arch, [3, 4])
    with torch.no_grad():  # scales and shifts away from 1 and 0, so that they matter
        theta[:, arch.n_params - arch.n_norm_params :] += 0.3 * torch.randn(
            2, arch.n_norm_params, generator=torch.Generator().manual_seed(0)
        )
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2)).astype(np.float32)
    y = (X[:, 0] * X[:, 1] > 0).astype(np.float32)
    steps = np.array([[0.1, 0.5], [0.2, 1.0]])
    along = along_gradient(arch, theta, X, y, steps)
    assert along.stepped.shape == (2, 2) and along.change.shape == (2, 2)
    for m in range(2):
        for k in range(2):
            loss, stepped, change, norm_g = _lone(arch, theta, m, X, y, steps[m, k])
            np.testing.assert_allclose(along.loss[m], loss, rtol=1e-5)
            np.testing.assert_allclose(along.grad_norm[m], norm_g, rtol=1e-4)
            np.testing.assert_allclose(along.stepped[m, k], stepped, rtol=1e-4)
            np.testing.assert_allclose(along.change[m, k], change, rtol=1e-3, atol=1e-6)
    every = np.concatenate([along.loss[:, None], along.stepped], 1)
    np.testing.assert_allclose(along.variation, every.max(1) - every.min(1))
    np.testing.assert_allclose(along.predictiveness, along.change.max(1))


def test_along_gradient_leaves_the_weights_alone():
    arch = Architecture((8, 8), "relu", norm="batch")
    theta = init_theta(arch, [0])
    before = theta.clone()
    X = np.random.default_rng(1).normal(size=(20, 2)).astype(np.float32)
    along_gradient(arch, theta, X, (X[:, 0] > 0).astype(np.float32), np.array([[0.5]]))
    assert torch.equal(theta, before)


def test_the_range_that_trains_per_seed():
    lrs = (0.01, 0.0316, 0.1, 0.316)
    trains = np.array(  # (lrs, seeds)
        [[True, False, False], [True, True, False], [False, True, False], [False, False, False]]
    )
    np.testing.assert_allclose(largest_that_trains(trains, lrs), [-1.5, -1.0, -2.5], atol=0.01)
    np.testing.assert_allclose(decades_that_train(trains), [1.0, 1.0, 0.0])


def test_epochs_to_train_is_the_first_logged_epoch_at_the_accuracy():
    history = {"epoch": [0, 5, 10, 15], "train_acc": [0.5, 0.85, 0.93, 0.99]}
    assert epochs_to(history, never=20) == 10
    assert epochs_to({"epoch": [0, 5], "train_acc": [0.5, 0.6]}, never=20) == 20


def test_the_reference_rate_is_the_largest_where_most_seeds_train():
    def result(acc, loss):  # (lrs, seeds)
        acc, loss = np.array(acc), np.array(loss)
        return NormResult(loss, acc, acc, np.zeros(acc.shape, bool), acc, {}, {}, {})

    acc = [[0.5, 0.5, 0.5], [0.95, 0.95, 0.5], [0.95, 0.5, 0.5], [0.5, 0.5, 0.5]]
    assert reference_lr(result(acc, np.full((4, 3), 0.5))) == 1
    # trains nowhere: the lowest mean training loss
    loss = [[0.7, 0.7, 0.7], [0.6, 0.6, 0.6], [0.3, 0.4, 0.5], [0.69, 0.69, 0.69]]
    assert reference_lr(result(np.full((4, 3), 0.5), loss)) == 2
