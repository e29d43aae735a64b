"""The measurement behind experiment `skip-connections`: each layer's gradient norm, taken from a
population's weights in the engine's layout, is what autograd gives a lone `torch.nn` model of
the same member (plain or residual). The quick run itself is in `test_experiments_quick.py`."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from pointlab.engine.models import Architecture, init_theta, member_state, to_module
from pointlab.experiments.skip_connections import layer_gradient_norms, log_ratio


@pytest.mark.parametrize("residual", [False, True])
def test_layer_gradient_norms_match_a_lone_torch_model(residual):
    arch = Architecture((8, 8, 8, 8), "relu", residual=residual)
    theta = init_theta(arch, [3, 4, 5])
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 2)).astype(np.float32)
    y = (X[:, 0] * X[:, 1] > 0).astype(np.float32)
    ours = layer_gradient_norms(arch, theta, X, y)
    assert ours.shape == (3, 5)
    for m in range(3):
        model = to_module(arch)
        model.load_state_dict(member_state(arch, theta, m))
        loss = torch.nn.functional.binary_cross_entropy_with_logits(
            model(torch.as_tensor(X))[:, 0], torch.as_tensor(y)
        )
        loss.backward()
        linears = [layer for layer in model.modules() if isinstance(layer, torch.nn.Linear)]
        theirs = [float(layer.weight.grad.norm()) for layer in linears]
        np.testing.assert_allclose(ours[m], theirs, rtol=1e-5)


def test_log_ratio_is_first_layer_over_output_layer():
    grads = np.array([[1e-6, 1.0, 1e-2], [1.0, 5.0, 10.0]])
    np.testing.assert_allclose(log_ratio(grads), [-4.0, -1.0])
