"""The losses: one number that says how wrong the model is, with its gradient at the logits.

Each loss is one operation with its own backward rule (as in PyTorch), not a chain of small ones:
the combined rule is short, exact and cannot overflow. Labels `y` are plain arrays (N,), not
tensors: nothing asks for their gradient.

    bce_with_logits(z (N,) or (N, 1), y (N,) of 0/1)   two classes, one logit per point
    cross_entropy(z (N, K), y (N,) of 0..K-1)          K classes, softmax over K logits
    mse(pred, target)                                  mean squared error, any shape

Not here: the model (`mlp.py`), which loss a TrainConfig means (`mlp.model_loss`).
"""

from __future__ import annotations

import numpy as np

from pointlab.autodiff.tensor import Tensor, sigmoid, softmax


def bce_with_logits(logits: Tensor, y: np.ndarray) -> Tensor:
    """Mean binary cross-entropy of labels y given logits z: mean(-y log p - (1-y) log(1-p)),
    p = sigmoid(z), computed as max(z, 0) - z y + log(1 + e^-|z|), which never takes log(0)."""
    z = logits.data.reshape(-1)  # (N,)
    t = np.asarray(y, dtype=z.dtype).reshape(-1)  # (N,)
    n = z.size
    per_point = np.maximum(z, 0) - z * t + np.log1p(np.exp(-np.abs(z)))
    out = Tensor(per_point.mean(), (logits,), "bce", dtype=z.dtype.type)

    def backward() -> None:
        # dL/dz_n = (sigmoid(z_n) - y_n) / N: prediction minus target, shared over N points
        logits.add_grad((out.g * (sigmoid(z) - t) / n).reshape(logits.shape))

    out._backward = backward
    return out


def cross_entropy(logits: Tensor, y: np.ndarray) -> Tensor:
    """Mean softmax cross-entropy: mean over points of -log softmax(z_n)[y_n]."""
    z = logits.data  # (N, K)
    labels = np.asarray(y, dtype=np.int64)  # (N,)
    n = z.shape[0]
    top = z.max(axis=1, keepdims=True)
    log_sum_exp = top[:, 0] + np.log(np.exp(z - top).sum(axis=1))  # (N,), no overflow
    per_point = log_sum_exp - z[np.arange(n), labels]
    out = Tensor(per_point.mean(), (logits,), "cross_entropy", dtype=z.dtype.type)

    def backward() -> None:
        # dL/dz_nk = (softmax(z_n)_k - 1[k = y_n]) / N: predicted minus true distribution
        g = softmax(z)
        g[np.arange(n), labels] -= 1
        logits.add_grad(out.g * g / n)

    out._backward = backward
    return out


def mse(pred: Tensor, target: np.ndarray) -> Tensor:
    """Mean of (pred - target)^2 over every element."""
    diff = pred.data - np.asarray(target, dtype=pred.data.dtype).reshape(pred.shape)
    out = Tensor((diff**2).mean(), (pred,), "mse", dtype=pred.data.dtype.type)

    def backward() -> None:
        pred.add_grad(out.g * 2 * diff / diff.size)  # d mean((p - t)^2)/dp = 2 (p - t) / n

    out._backward = backward
    return out
