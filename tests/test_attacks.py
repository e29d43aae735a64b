"""Adversarial examples (`pointlab.attacks`) against what can be worked out by hand, and
adversarial training through the engine's `train_inputs` hook (`engine.Training`)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from pointlab import attacks, engine, features, generators
from pointlab.config import TrainConfig

pytestmark = pytest.mark.usefixtures("one_thread")


def _linear(w, b):
    """Two members of a linear model on raw points: logits = p . w_m + b_m; w (M, 2), b (M,)."""
    w = torch.tensor(w, dtype=torch.float32)
    b = torch.tensor(b, dtype=torch.float32)
    return lambda x: (x * w[:, None, :]).sum(2, keepdim=True) + b[:, None, None]


POINTS = torch.tensor([[0.2, 0.3], [0.8, 0.1], [0.4, 0.9], [0.6, 0.55]])
LABELS = torch.tensor([0, 1, 1, 0])
W, B = [[1.0, -2.0], [0.5, 3.0]], [0.1, -1.5]


def test_fgsm_and_pgd_on_a_linear_model_move_each_point_by_eps_against_its_label():
    # The loss rises fastest in L-infinity along -sign(w) for label 1 and +sign(w) for label 0;
    # for a linear model that corner of the ball is the exact worst case, so PGD ends there too.
    model, eps = _linear(W, B), torch.tensor([0.05, 0.2])
    sign = torch.tensor(W).sign()[:, None, :] * (1 - 2 * LABELS)[None, :, None]  # (M, B, 2)
    expected = POINTS + eps[:, None, None] * sign
    raw = attacks.ModelInputs()
    torch.testing.assert_close(attacks.fgsm(model, raw, POINTS, LABELS, eps), expected)
    torch.testing.assert_close(attacks.pgd(model, raw, POINTS, LABELS, eps, steps=7), expected)


def test_margins_of_a_linear_model_are_its_l_infinity_distances_to_the_line():
    # distance from p to {w.p + b = 0} in L-infinity: |w.p + b| / ||w||_1 (the dual norm)
    model = _linear(W, B)
    w, b = torch.tensor(W), torch.tensor(B)
    logits = POINTS @ w.T + b  # (B, M)
    distance = (logits.abs() / w.abs().sum(1)).T  # (M, B)
    wrong = ((logits.T > 0).long() != LABELS).float()
    got = attacks.margins(
        model, attacks.ModelInputs(), POINTS, LABELS, 2, largest=2.0, steps=5, halvings=16
    )
    expected = torch.where(wrong > 0, torch.zeros_like(distance), distance.clamp(max=2.0))
    torch.testing.assert_close(got, expected, atol=2.0 / 2**16 + 1e-6, rtol=0)
    assert (got >= expected - 1e-6).all()  # from above: an eps that does flip


@pytest.mark.parametrize("standardize", [False, True])
def test_model_inputs_in_torch_are_the_engines_inputs(standardize):
    data = generators.make("moons", n=50, seed=3)
    names = tuple(features.FEATURES)
    scaling = features.fit(data.X, standardize)
    want = features.model_inputs(data.X, names, scaling)
    got = attacks.ModelInputs(names, scaling)(torch.as_tensor(data.X, dtype=torch.float64))
    np.testing.assert_allclose(got.float().numpy(), want, rtol=1e-6, atol=1e-6)


def _spiral_run(batch_size, train_inputs=None):
    data = generators.make("spiral", n=60, seed=0)
    scaling = features.fit(data.X, True)
    X = features.model_inputs(data.X, features.RAW, scaling)
    configs = [
        TrainConfig(hidden=(8, 8), lr=0.02, epochs=6, seed=s, batch_size=batch_size)
        for s in range(2)
    ]
    training = engine.Training(
        configs, X, data.y, [np.arange(60)] * 2, log_every=2, train_inputs=train_inputs
    )
    return data, scaling, training


@pytest.mark.parametrize("batch_size", [None, 16])
def test_adversarial_training_at_eps_0_is_standard_training_exactly(batch_size):
    data, scaling, _ = _spiral_run(batch_size)
    adversary = attacks.Adversary(
        torch.as_tensor(data.X), attacks.ModelInputs(features.RAW, scaling), torch.zeros(2)
    )
    calls = []

    def hook(batch):
        calls.append(batch.epoch)
        return adversary(batch)

    plain = _spiral_run(batch_size)[2].run()
    hooked = _spiral_run(batch_size, hook)[2].run()
    assert len(calls) == 6 * (1 if batch_size is None else 4)  # every pass that trains
    for a, b in zip(plain, hooked, strict=True):
        for key, value in a.state.items():
            torch.testing.assert_close(b.state[key], value, rtol=0, atol=0)
        # logged in evaluation mode with the hook: the same model, to float rounding
        np.testing.assert_allclose(a.history["train_loss"], b.history["train_loss"], rtol=1e-5)


@pytest.mark.parametrize("batch_size", [None, 16])
def test_each_member_trains_on_points_within_its_own_eps(batch_size):
    data, scaling, _ = _spiral_run(batch_size)
    eps = torch.tensor([0.0, 0.05])
    inputs = attacks.ModelInputs(features.RAW, scaling)
    adversary = attacks.Adversary(torch.as_tensor(data.X), inputs, eps)
    mean, std = torch.tensor(scaling.mean), torch.tensor(scaling.std)
    moved = []

    def hook(batch):
        x = adversary(batch)  # (M, B, 2) standardized
        seen = x.double() * std + mean  # back in the units of the points
        moved.append((seen - torch.as_tensor(data.X)[batch.points]).abs().amax(2))  # (M, B)
        assert torch.equal(x[0], batch.inputs.expand_as(x)[0])  # eps 0: the clean inputs
        return x

    _, _, training = _spiral_run(batch_size, hook)
    training.run()
    shift = torch.cat(moved, dim=1)  # (M, all passes' points)
    assert shift[0].max() <= 1e-6  # float32 inputs mapped back; exactly clean, as asserted above
    assert shift[1].max() <= 0.05 + 1e-6
    assert (shift[1] > 0.05 - 1e-6).float().mean() > 0.9  # PGD ends on the ball's corners


def test_an_adversary_with_an_eps_per_member_refuses_another_population_size():
    data, scaling, _ = _spiral_run(None)
    adversary = attacks.Adversary(
        torch.as_tensor(data.X), attacks.ModelInputs(features.RAW, scaling), torch.zeros(3)
    )
    with pytest.raises(ValueError, match="3 eps values for a population of 2 members"):
        _spiral_run(None, adversary)[2].run()


def test_a_train_inputs_hook_refuses_cuda_graphs():
    data = generators.make("spiral", n=20, seed=0)
    with pytest.raises(ValueError, match="train_inputs hook"):
        engine.Training(
            [TrainConfig(hidden=(4,), epochs=2)],
            data.X,
            data.y,
            [np.arange(20)],
            cuda_graphs=True,
            train_inputs=lambda batch: batch.inputs,
        )
