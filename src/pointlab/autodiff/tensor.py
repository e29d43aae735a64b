"""`Tensor`: a numpy array that remembers how it was made, so the chain rule can run backwards.

Every operation below does two things, written next to each other:

    forward   compute `out.data` from the inputs' data;
    backward  given `out.g` = dL/d(out), add each input's share dL/d(input) to `input.grad`.

`loss.backward()` orders the graph so that every tensor comes after all the tensors it was made
from (a topological order), sets dL/dL = 1 and calls each tensor's backward rule in reverse order:
when a rule runs, its `out.g` is complete, because every later use of `out` has already added
its part. Gradients *add up* (`+=`) because a tensor used twice gets a share from each use.

Shapes: data and grad always have the same shape. Where numpy broadcasts an input (a bias (K,)
added to every row of an (N, K) matrix), the backward rule sums the gradient over the broadcast
axes (`_unbroadcast`): the bias touched every row, so every row's gradient flows into it.

float64 by default: the point is to check every number against PyTorch to 1e-10.
Not here: losses (`losses.py`), layers (`mlp.py`), optimizers (`optim.py`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

ArrayLike = np.ndarray | float | int | Iterable[float]


class Tensor:
    """An array (`data`), its gradient dL/d(data) (`grad`, None until backward reaches it), and
    how it was made: the tensors it came from (`parents`), the operation's name (`op`) and the
    rule that sends a gradient back to the parents (`_backward`)."""

    def __init__(
        self,
        data: ArrayLike,
        parents: tuple[Tensor, ...] = (),
        op: str = "",
        label: str = "",
        dtype: type = np.float64,
    ) -> None:
        self.data: np.ndarray = np.asarray(data, dtype=dtype)
        self.grad: np.ndarray | None = None
        self.parents = parents
        self.op = op  # "" for a leaf: an input or a parameter
        self.label = label  # a name for pictures and reports ("W1", "z2", ...)
        self._backward: Callable[[], None] = lambda: None

    # -- bookkeeping -------------------------------------------------------------------------

    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    def __repr__(self) -> str:
        name = self.label or self.op or "leaf"
        return f"Tensor({name}, shape={self.shape})"

    def _child(self, data: np.ndarray, parents: tuple[Tensor, ...], op: str) -> Tensor:
        return Tensor(data, parents, op, dtype=self.data.dtype.type)

    def add_grad(self, g: np.ndarray) -> None:
        """Accumulate a share of dL/d(self); g is reduced to self's shape first."""
        g = _unbroadcast(g, self.shape)
        self.grad = g.copy() if self.grad is None else self.grad + g

    @property
    def g(self) -> np.ndarray:
        """dL/d(self), in a backward step or after `backward()`: by then it has been set (the
        backward pass reaches a tensor only after every tensor computed from it)."""
        assert self.grad is not None, f"{self!r} has no gradient yet"
        return self.grad

    def zero_grad(self) -> None:
        self.grad = None

    # -- the operations ----------------------------------------------------------------------

    def __add__(self, other: Tensor | ArrayLike) -> Tensor:
        other = _lift(other, self)
        out = self._child(self.data + other.data, (self, other), "+")

        def backward() -> None:
            # d(a + b)/da = 1, d(a + b)/db = 1: the gradient passes through unchanged
            # (summed over the axes along which a bias was broadcast).
            self.add_grad(out.g)
            other.add_grad(out.g)

        out._backward = backward
        return out

    def __neg__(self) -> Tensor:
        out = self._child(-self.data, (self,), "neg")

        def backward() -> None:
            self.add_grad(-out.g)  # d(-a)/da = -1

        out._backward = backward
        return out

    def __sub__(self, other: Tensor | ArrayLike) -> Tensor:
        other = _lift(other, self)
        out = self._child(self.data - other.data, (self, other), "-")

        def backward() -> None:
            # d(a - b)/da = 1, d(a - b)/db = -1
            self.add_grad(out.g)
            other.add_grad(-out.g)

        out._backward = backward
        return out

    def __mul__(self, other: Tensor | ArrayLike) -> Tensor:
        other = _lift(other, self)
        out = self._child(self.data * other.data, (self, other), "*")

        def backward() -> None:
            # element-wise: d(a * b)/da = b, d(a * b)/db = a
            self.add_grad(out.g * other.data)
            other.add_grad(out.g * self.data)

        out._backward = backward
        return out

    def __matmul__(self, other: Tensor) -> Tensor:
        # a (N, K) @ b (K, M) -> (N, M): out[n, m] = sum_k a[n, k] * b[k, m]
        out = self._child(self.data @ other.data, (self, other), "@")

        def backward() -> None:
            # d out[n, m] / d a[n, k] = b[k, m]  =>  dL/da = dL/dout (N, M) @ b.T (M, K)
            # d out[n, m] / d b[k, m] = a[n, k]  =>  dL/db = a.T (K, N) @ dL/dout (N, M)
            self.add_grad(out.g @ other.data.T)
            other.add_grad(self.data.T @ out.g)

        out._backward = backward
        return out

    def __radd__(self, other: ArrayLike) -> Tensor:
        return self + other

    def __rsub__(self, other: ArrayLike) -> Tensor:
        return _lift(other, self) - self

    def __rmul__(self, other: ArrayLike) -> Tensor:
        return self * other

    def relu(self) -> Tensor:
        out = self._child(np.maximum(self.data, 0), (self,), "relu")

        def backward() -> None:
            # relu(a) = max(a, 0): slope 1 where a > 0, 0 elsewhere (torch takes 0 at a = 0 too)
            self.add_grad(out.g * (self.data > 0))

        out._backward = backward
        return out

    def leaky_relu(self, slope: float = 0.01) -> Tensor:
        out = self._child(np.where(self.data > 0, self.data, slope * self.data), (self,), "lrelu")

        def backward() -> None:
            # slope 1 where a > 0, `slope` elsewhere
            self.add_grad(out.g * np.where(self.data > 0, 1.0, slope))

        out._backward = backward
        return out

    def tanh(self) -> Tensor:
        t = np.tanh(self.data)
        out = self._child(t, (self,), "tanh")

        def backward() -> None:
            self.add_grad(out.g * (1 - t**2))  # d tanh(a)/da = 1 - tanh(a)^2

        out._backward = backward
        return out

    def sigmoid(self) -> Tensor:
        s = sigmoid(self.data)
        out = self._child(s, (self,), "sigmoid")

        def backward() -> None:
            self.add_grad(out.g * s * (1 - s))  # d sigma(a)/da = sigma(a) (1 - sigma(a))

        out._backward = backward
        return out

    def softmax(self) -> Tensor:
        """Softmax over the last axis: (N, K) -> (N, K), each row sums to 1."""
        s = softmax(self.data)
        out = self._child(s, (self,), "softmax")

        def backward() -> None:
            # d s_i / d a_j = s_i (1[i = j] - s_j)  =>  dL/da_j = s_j (g_j - sum_i g_i s_i)
            g = out.g
            self.add_grad(s * (g - (g * s).sum(axis=-1, keepdims=True)))

        out._backward = backward
        return out

    def sum(self, axis: int | None = None) -> Tensor:
        out = self._child(self.data.sum(axis=axis), (self,), "sum")

        def backward() -> None:
            # d(sum of a)/d a_i = 1: every summed element gets the whole gradient
            g = out.g if axis is None else np.expand_dims(out.g, axis)
            self.add_grad(np.broadcast_to(g, self.shape))

        out._backward = backward
        return out

    def mean(self, axis: int | None = None) -> Tensor:
        n = self.data.size if axis is None else self.shape[axis]
        out = self._child(self.data.mean(axis=axis), (self,), "mean")

        def backward() -> None:
            # d(mean of n values)/d a_i = 1/n
            g = out.g if axis is None else np.expand_dims(out.g, axis)
            self.add_grad(np.broadcast_to(g / n, self.shape))

        out._backward = backward
        return out

    # -- the backward pass -------------------------------------------------------------------

    def backward(self) -> None:
        """Fill `grad` of every tensor this one was made from with dL/d(that tensor), L = self."""
        order = topological_order(self)
        for tensor in order:
            tensor.grad = None  # a fresh pass: no gradient left from an earlier backward
        self.grad = np.ones_like(self.data)  # dL/dL = 1
        for tensor in reversed(order):
            tensor._backward()


def topological_order(root: Tensor) -> list[Tensor]:
    """Every tensor `root` depends on, each after all of its parents (iterative depth-first
    search, so deep graphs do not hit Python's recursion limit)."""
    order: list[Tensor] = []
    seen: set[int] = set()
    stack: list[tuple[Tensor, bool]] = [(root, False)]
    while stack:
        tensor, parents_done = stack.pop()
        if parents_done:
            order.append(tensor)
            continue
        if id(tensor) in seen:
            continue
        seen.add(id(tensor))
        stack.append((tensor, True))
        stack.extend((parent, False) for parent in tensor.parents if id(parent) not in seen)
    return order


def sigmoid(a: np.ndarray) -> np.ndarray:
    """1 / (1 + e^-a) without overflow: e^-|a| never exceeds 1."""
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1 / (1 + e), e / (1 + e))


def softmax(a: np.ndarray) -> np.ndarray:
    """Softmax over the last axis; subtracting the row maximum keeps exp from overflowing."""
    e = np.exp(a - a.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def one_blas_thread():
    """A context in which numpy's matrix products use one thread. Why: these matrices are small
    ((200, 128) @ (128, 128)); measured on the shared 2-core machine, OpenBLAS's two threads made
    such a product 11 times slower than one (6.3 ms against 0.57 ms), waiting for each other."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")


def _lift(value: Tensor | ArrayLike, like: Tensor) -> Tensor:
    """A constant (a number or array) as a leaf tensor, so every operation sees two tensors."""
    return value if isinstance(value, Tensor) else Tensor(value, dtype=like.data.dtype.type)


def _unbroadcast(g: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum g over the axes numpy broadcast to reach g.shape from `shape`."""
    while g.ndim > len(shape):  # axes numpy added in front
        g = g.sum(axis=0)
    for axis, size in enumerate(shape):
        if size == 1 and g.shape[axis] != 1:  # axes stretched from length 1
            g = g.sum(axis=axis, keepdims=True)
    return g
