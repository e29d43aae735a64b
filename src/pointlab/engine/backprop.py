"""The training step's forward and backward pass, written out for the MLP instead of autograd.

The engine knows its whole graph: layer l computes a_l = h_{l-1} W_l + b_l (one `baddbmm`) and
h_l = act(a_l) (times a dropout mask in training), the last layer gives the logits z. So the
backward pass is the chain rule applied layer by layer from dz (the gradient of the summed member
losses with respect to the logits, `losses.member_loss_and_grad`):

    dW_l = h_{l-1}^T da_l          (M, fan_in, fan_out)    one bmm, written into the flat gradient
    db_l = sum over points of da_l (M, 1, fan_out)         one sum, written into the flat gradient
    dh_{l-1} = da_l W_l^T          (M, B, fan_in)          one bmm
    da_{l-1} = dh_{l-1} * act'     (M, B, fan_in)          one kernel (act' from the saved output)

With skips (`residual`: h_l = h_{l-1} + act(a_l) where widths allow, `models.Architecture.skips`)
the gradient that reaches h_l also reaches h_{l-1} through the skip unchanged:
dh_{l-1} = da_l W_l^T + dh_l (times the member's 0 / 1 coefficient when not all members skip).

Against `torch.autograd` on the same forward, this saves building and walking the graph, the
per-layer gradient tensors and their concatenation into theta's layout (about a third of a step at
M = 1 on a CPU), and it computes exactly the same products. `tests/test_engine_reference.py`
checks every member against a lone `torch.nn` model trained by autograd.

Not here: the losses and their gradient (`losses.py`), the update (`optim.py`), evaluation
(`models.forward`), normalization (whose populations take autograd's backward: `norms.py`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F

from pointlab.engine.models import ACTIVATION_FUNCTIONS, Architecture, Skip
from pointlab.engine.products import affine, matmul

# Activations whose derivative is a function of their output: computed in place, the input is not
# kept. GELU's derivative needs its input (kept); identity has none.
_IN_PLACE = {
    "relu": torch.relu_,
    "tanh": torch.tanh_,
    "sigmoid": torch.sigmoid_,
    "leaky_relu": F.leaky_relu_,
}


class Saved:
    """What the backward pass needs from a training forward pass."""

    def __init__(self) -> None:
        self.inputs: list[
            torch.Tensor
        ] = []  # h_{l-1} of each layer (M, B, fan_in), dropout applied
        self.outputs: list[torch.Tensor] = []  # act(a_l) of each hidden layer, before dropout
        self.pre: list[torch.Tensor | None] = []  # a_l, kept only for GELU
        self.scales: list[torch.Tensor | None] = []  # dropout mask / keep (M, B, fan_out) or None


def forward_train(
    arch: Architecture,
    layers: list[tuple[torch.Tensor, torch.Tensor]],
    x: torch.Tensor,
    dropout: Callable[[int, torch.Size], torch.Tensor] | None,
    skips: Sequence[Skip] | None = None,
) -> tuple[torch.Tensor, Saved]:
    """Logits (M, B, n_outputs) of a training step and what its backward pass needs.

    Same arithmetic as `models.forward`; no autograd graph is built. dropout: None, or hidden
    layer i's scale (mask / keep, shaped as its output (M, B, width)) from (i, shape). skips:
    each layer's skip coefficient (`models.skip_coefficients`), None for none.
    """
    saved = Saved()
    act = ACTIVATION_FUNCTIONS[arch.activation]
    act_ = _IN_PLACE.get(arch.activation)
    h = x
    last = len(layers) - 1
    for i, (w, b) in enumerate(layers):
        if h.dim() == 2:  # shared inputs: the same points for every member
            h = h.expand(w.shape[0], *h.shape)
        saved.inputs.append(h)
        a = affine(b, h, w)  # (M, B, fan_out)
        if i == last:
            return a, saved
        if act_ is not None:
            h, pre = act_(a), None
        elif arch.activation == "identity":
            h, pre = a, None
        else:
            h, pre = act(a), a
        saved.outputs.append(h)
        saved.pre.append(pre)
        scale = None
        if dropout is not None:
            scale = dropout(i, h.shape)
            h = h * scale
        saved.scales.append(scale)
        skip = None if skips is None else skips[i]
        if skip is not None:  # out of place: h is the saved activation output
            previous = saved.inputs[i]
            h = h + previous if isinstance(skip, float) else h + skip * previous
    raise AssertionError("unreachable: an MLP has an output layer")  # pragma: no cover


def _activation_backward(kind: str, d: torch.Tensor, out: torch.Tensor, pre) -> torch.Tensor:
    """d * act'(a), from the activation's output (or its input, for GELU), written over d (a
    fresh tensor of the backward pass's own: in place saves allocating a full-size one)."""
    aten = torch.ops.aten
    if kind == "relu":
        return aten.threshold_backward.grad_input(d, out, 0, grad_input=d)
    if kind == "tanh":
        return aten.tanh_backward.grad_input(d, out, grad_input=d)
    if kind == "sigmoid":
        return aten.sigmoid_backward.grad_input(d, out, grad_input=d)
    if kind == "leaky_relu":  # out has a's sign
        return aten.leaky_relu_backward.grad_input(d, out, 0.01, True, grad_input=d)
    if kind == "gelu":
        return aten.gelu_backward.grad_input(d, pre, grad_input=d)
    return d  # identity


def backward(
    arch: Architecture,
    layers: list[tuple[torch.Tensor, torch.Tensor]],
    grads: list[tuple[torch.Tensor, torch.Tensor]],
    saved: Saved,
    dlogits: torch.Tensor,
    skips: Sequence[Skip] | None = None,
) -> None:
    """Write the gradient of the summed member losses into `grads` (views into the flat (M, P)
    gradient, laid out as `layers`), given dlogits (M, B, n_outputs); skips as `forward_train`'s."""
    d = dlogits  # da of the output layer
    dh = None  # with skips: dh_i of the layer i below the current one, kept for its skip
    for i in range(len(layers) - 1, -1, -1):
        w = layers[i][0]
        gw, gb = grads[i]
        h = saved.inputs[i]  # (M, B, fan_in)
        matmul(h.transpose(1, 2), d, out=gw)  # (M, fan_in, fan_out)
        torch.sum(d, dim=1, keepdim=True, out=gb)  # (M, 1, fan_out)
        if i == 0:
            return
        d = matmul(d, w.transpose(1, 2))  # dh_{i-1} (M, B, fan_in), a new tensor
        if skips is not None:
            skip = skips[i]
            if skip is not None:  # h_i = h_{i-1} + ...: dh_i reaches h_{i-1} unchanged
                assert dh is not None, "layer i's output gradient was kept for its skip"
                d = d.add_(dh) if isinstance(skip, float) else d.addcmul_(skip, dh)
            if skips[i - 1] is not None:  # dh_{i-1} goes on through layer i-1's skip
                dh = d
                d = d.clone()
        scale = saved.scales[i - 1]
        if scale is not None:
            d = d * scale
        d = _activation_backward(arch.activation, d, saved.outputs[i - 1], saved.pre[i - 1])
