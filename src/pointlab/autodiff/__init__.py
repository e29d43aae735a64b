"""pointlab.autodiff: a small reverse-mode automatic differentiation on numpy arrays, for reading.

Read it in this order:

1. `tensor.py`: `Tensor` (data, grad, how it was made) and its operations, each backward rule
   next to its forward with the derivative in a comment; `backward()` in reverse topological order.
2. `losses.py`: `bce_with_logits`, `cross_entropy`, `mse`, each one operation with its gradient.
3. `mlp.py`: the book's models as layers of `h @ W + b` and an activation.
4. `optim.py`: SGD (with momentum) and Adam, as `torch.optim` computes them.
5. `train.py`: the training loop: forward, loss, backward, update.
6. `gradcheck.py`: finite differences against the backward pass.

Everything is float64 and checked against PyTorch (`tests/test_autodiff*.py`). It is for
learning and checking; `pointlab.engine` trains (float32, populations, GPUs).
Not here: one training step taken apart for a learner (`pointlab.explain`, built on this).
"""

from pointlab.autodiff.gradcheck import GradCheck, gradient_check
from pointlab.autodiff.losses import bce_with_logits, cross_entropy, mse
from pointlab.autodiff.mlp import MLP, model_loss
from pointlab.autodiff.optim import SGD, Adam, make_optimizer
from pointlab.autodiff.tensor import Tensor
from pointlab.autodiff.train import fit, train_config

__all__ = [
    "MLP",
    "SGD",
    "Adam",
    "GradCheck",
    "Tensor",
    "bce_with_logits",
    "cross_entropy",
    "fit",
    "gradient_check",
    "make_optimizer",
    "model_loss",
    "mse",
    "train_config",
]
