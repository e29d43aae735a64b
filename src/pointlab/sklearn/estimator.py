"""`MLPClassifier`: a scikit-learn classifier trained by pointlab's population engine.

Parameter names follow `sklearn.neural_network.MLPClassifier` where the meaning is the same, so a
Pipeline or a search written for scikit-learn's estimator takes this one. What differs, and why:

- `solver`: "sgd" (with `momentum` and `nesterovs_momentum` as scikit-learn uses them), "adam",
  and pointlab's "adamw" and "rmsprop". No "lbfgs": the engine trains with minibatch optimizers.
- `alpha`: the L2 penalty scaled as scikit-learn scales it (alpha / batch size on the gradient of
  the batch's mean loss); pointlab decays the biases too. With "adamw" it is the decoupled decay.
- `max_iter` is the number of epochs, always run in full: there is no `tol` stop on the training
  loss. `early_stopping` holds out a stratified `validation_fraction`, stops after
  `n_iter_no_change` epochs without a lower validation *loss* (scikit-learn watches accuracy) and
  keeps the best weights.
- pointlab's own: `schedule` ("constant" or "cosine" annealing to 0 over the epochs after the
  warmup), `warmup` (epochs of linear warmup), `dropout` (after each hidden layer), `residual`
  (skip connections around hidden layers of equal widths), `norm` ("none", "layer" or "batch"
  normalization of each hidden pre-activation) and `device`.
- `loss_curve_[i]` is the mean cross-entropy on the training points after epoch i + 1, measured
  in evaluation mode without the L2 term (weighted by `sample_weight` when `fit` has one).
- No `partial_fit`: the engine trains from a seed's initial weights, not from given ones.

The fitted state is plain tensors: `state_dict_` is the state dict of the `torch.nn.Sequential`
(`pointlab.engine.models.MLP` with skips or normalization) that `to_torch()` returns, so a
fitted estimator pickles by scikit-learn's rules and loads into plain PyTorch. Predictions run
on the CPU in float64.

Not here: the engine (`pointlab.engine`), searching many candidates at once (`search.py`).
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from pointlab.config import NORMS, TrainConfig, parse_hidden
from pointlab.cpu import cpu_threads  # threads for the idle cores, restored after each call
from pointlab.engine import MemberResult, train_population
from pointlab.engine.models import Architecture, to_module
from pointlab.errors import UserError

# scikit-learn's activation names first, then pointlab's own; the engine's name for each.
ACTIVATIONS = {
    "identity": "identity",
    "logistic": "sigmoid",
    "tanh": "tanh",
    "relu": "relu",
    "gelu": "gelu",
    "leaky_relu": "leaky_relu",
}
SOLVERS = ("sgd", "adam", "adamw", "rmsprop")
SCHEDULES = ("constant", "cosine")


@dataclass
class MemberSpec:
    """One estimator's training job, ready for the engine: its rows of X and its config."""

    config: TrainConfig
    X: np.ndarray  # (N, D) float32
    y: np.ndarray  # (N,) int64 codes into classes_
    train_index: np.ndarray
    val_index: np.ndarray | None
    n_classes: int
    sample_weight: np.ndarray | None = None  # (N,) float32, each row's weight in the loss


class MLPClassifier(ClassifierMixin, BaseEstimator):
    """Multi-layer perceptron classifier on pointlab's population engine.

    Parameters are those of `sklearn.neural_network.MLPClassifier` (see the module docstring for
    what differs) plus `schedule`, `warmup`, `dropout`, `residual`, `norm` and `device` ("cpu",
    "cuda" or "auto").
    """

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        solver="adam",
        alpha=0.0001,
        batch_size="auto",
        learning_rate_init=0.001,
        max_iter=200,
        random_state=None,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        schedule="constant",
        warmup=0,
        dropout=0.0,
        residual=False,
        norm="none",
        device="cpu",
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter
        self.random_state = random_state
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.schedule = schedule
        self.warmup = warmup
        self.dropout = dropout
        self.residual = residual
        self.norm = norm
        self.device = device

    # --- fitting -----------------------------------------------------------------------------
    def fit(self, X, y, sample_weight=None):
        """Train on X (n_samples, n_features) and labels y of any type; returns self.

        sample_weight (n_samples,): each sample's weight in the loss, as scikit-learn's: every
        minibatch's loss is the weighted mean of its samples' losses (and the validation loss and
        accuracy of early stopping are weighted too). None: all 1."""
        spec = self._member_spec(X, y, sample_weight)
        with cpu_threads(self.device):
            (result,) = train_population(
                [spec.config],
                spec.X,
                spec.y,
                train_index=[spec.train_index],
                val_index=None if spec.val_index is None else [spec.val_index],
                n_classes=spec.n_classes,
                device=self.device,
                log_every=1,  # every epoch: loss_curve_ and early stopping look at each one
                sample_weight=spec.sample_weight,
            )
        return self._set_fitted(result)

    def _member_spec(self, X, y, sample_weight=None) -> MemberSpec:
        """Validate the data and the parameters, set classes_ and n_features_in_ (and
        feature_names_in_), and say what the engine should train. `PopulationSearchCV` calls
        this for every candidate and fold, then trains them together."""
        X, y = validate_data(self, X, y, dtype=np.float32)
        check_classification_targets(y)
        self.classes_, codes = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(
                f"{type(self).__name__} needs at least 2 classes to learn from; y has 1 class "
                f"({self.classes_[0]!r})"
            )
        codes = codes.astype(np.int64).reshape(-1)
        if isinstance(self.random_state, numbers.Integral):
            seed = int(self.random_state)  # the engine's seed is the random_state itself
        else:
            seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        index = np.arange(len(X))
        train, val = index, None
        if self.early_stopping:
            if not 0.0 < self.validation_fraction < 1.0:
                raise ValueError(
                    f"validation_fraction must be in (0, 1), got {self.validation_fraction}"
                )
            train, val = train_test_split(
                index, test_size=self.validation_fraction, random_state=seed, stratify=codes
            )
            train, val = np.sort(train), np.sort(val)
        weights, scale = None, 1.0
        if sample_weight is not None:
            weights = _check_sample_weight(
                sample_weight, X, dtype=np.float32, ensure_non_negative=True
            )
            scale = float(weights[train].mean())
            if not scale > 0:
                raise ValueError("sample_weight is zero for every training sample")
        config = self._config(seed, len(train), scale)
        # A copy: the engine wraps the array in a tensor, and X may be a read-only memmap.
        X = np.array(X, dtype=np.float32)
        return MemberSpec(config, X, codes, train, val, len(self.classes_), weights)

    def _config(self, seed: int, n_train: int, weight_scale: float = 1.0) -> TrainConfig:
        """The engine's TrainConfig for these parameters; ValueError names every bad one.
        weight_scale: the training samples' mean weight (1 without sample_weight)."""
        problems = []
        if self.activation not in ACTIVATIONS:
            problems.append(f"activation must be one of {', '.join(ACTIVATIONS)}")
        if self.solver not in SOLVERS:
            problems.append(
                f"solver must be one of {', '.join(SOLVERS)}, got {self.solver!r}"
                + (
                    " (the engine trains with minibatch optimizers)"
                    if self.solver == "lbfgs"
                    else ""
                )
            )
        if self.schedule not in SCHEDULES:
            problems.append(f"schedule must be one of {', '.join(SCHEDULES)}")
        if self.norm not in NORMS:
            problems.append(f"norm must be one of {', '.join(NORMS)}, got {self.norm!r}")
        hidden = self.hidden_layer_sizes
        if isinstance(hidden, str):  # "64,64" or "none": the one widths grammar of every front end
            try:
                hidden = parse_hidden(hidden)
            except ValueError as error:
                problems.append(f"hidden_layer_sizes: {error}")
                hidden = ()
        hidden = (hidden,) if isinstance(hidden, numbers.Integral) else tuple(hidden)
        if self.batch_size == "auto":
            batch = min(200, n_train)
        elif isinstance(self.batch_size, numbers.Integral) and int(self.batch_size) >= 1:
            batch = min(int(self.batch_size), n_train)
        else:
            problems.append(f"batch_size must be 'auto' or an integer >= 1, got {self.batch_size}")
            batch = n_train
        if not (isinstance(self.max_iter, numbers.Integral) and int(self.max_iter) >= 1):
            problems.append(f"max_iter must be an integer >= 1, got {self.max_iter}")
        if not (
            isinstance(self.n_iter_no_change, numbers.Integral) and int(self.n_iter_no_change) >= 1
        ):
            problems.append(
                f"n_iter_no_change must be an integer >= 1, got {self.n_iter_no_change}"
            )
        if not self.alpha >= 0:
            problems.append(f"alpha must be >= 0, got {self.alpha}")
        if problems:
            raise ValueError("bad parameters: " + "; ".join(problems))
        optimizer = self.solver
        if optimizer == "sgd" and self.momentum > 0:
            optimizer = "nesterov" if self.nesterovs_momentum else "momentum"
        # scikit-learn adds alpha/2 ||W||^2 to the batch's summed loss: alpha / batch on the
        # gradient of the mean loss, which is what the engine differentiates; with sample
        # weights alpha / the batch's total weight (exact for a full batch, on average else).
        decay = self.alpha if optimizer == "adamw" else self.alpha / (batch * weight_scale)
        try:
            return TrainConfig(
                hidden=hidden,
                activation=ACTIVATIONS[self.activation],
                dropout=float(self.dropout),
                residual=bool(self.residual),
                norm=self.norm,
                optimizer=optimizer,
                lr=float(self.learning_rate_init),
                momentum=float(self.momentum),
                weight_decay=float(decay),
                beta1=float(self.beta_1),
                beta2=float(self.beta_2),
                eps=float(self.epsilon),
                schedule=self.schedule,
                warmup=int(self.warmup),
                epochs=int(self.max_iter),
                batch_size=None if batch >= n_train else batch,  # None: the full-batch path
                early_stopping=int(self.n_iter_no_change) if self.early_stopping else None,
                seed=seed,
            )
        except UserError as error:
            raise ValueError(str(error)) from None

    def _set_fitted(self, result: MemberResult) -> MLPClassifier:
        """Keep what the engine trained as plain CPU tensors; ValueError if it diverged."""
        if result.status == "diverged":
            raise ValueError(
                f"training diverged (the loss became NaN or infinite) at epoch "
                f"{result.stopped_epoch}: try a lower learning_rate_init"
            )
        # The weights in layer order, keyed as in a Sequential without dropout layers (a norm's
        # state under the index after its Linear's).
        arch = result.arch
        index = {}
        for old, new in zip(
            arch.sequential_indices(result.config.dropout > 0),
            arch.sequential_indices(False),
            strict=True,
        ):
            index[str(old)], index[str(old + 1)] = str(new), str(new + 1)
        self.state_dict_ = {}
        for key, t in result.state.items():
            layer, name = key.split(".", 1)
            self.state_dict_[f"{index[layer]}.{name}"] = t.detach().clone()
        self.activation_ = arch.activation
        self.residual_, self.norm_ = arch.residual, arch.norm
        self.n_layers_ = len(result.arch.hidden) + 2
        self.n_outputs_ = result.arch.n_outputs
        self.out_activation_ = "logistic" if self.n_outputs_ == 1 else "softmax"
        history = result.history
        epochs = history["epoch"]
        self.n_iter_ = int(result.stopped_epoch)
        self.loss_curve_ = [v for e, v in zip(epochs, history["train_loss"], strict=True) if e > 0]
        if result.config.early_stopping is not None:
            rows = [(e, a) for e, a in zip(epochs, history["val_acc"], strict=True) if e > 0]
            self.validation_scores_: list[float] | None = [a for _, a in rows]
            best = max(self.validation_scores_, default=float("nan"))
            self.best_validation_score_: float | None = best
        else:
            self.validation_scores_ = None
            self.best_validation_score_ = None
        return self

    # --- predicting --------------------------------------------------------------------------
    def to_torch(self) -> torch.nn.Module:
        """The fitted network as a plain `torch.nn.Sequential` (float32, on the CPU), or
        `pointlab.engine.models.MLP` (same state dict keys) with skips or normalization."""
        check_is_fitted(self)
        arch = Architecture(
            self._hidden_widths(),
            self.activation_,
            len(self.classes_),
            self.n_features_in_,
            getattr(self, "residual_", False),  # an estimator pickled before these options
            getattr(self, "norm_", "none"),
        )
        model = to_module(arch)
        model.load_state_dict(self.state_dict_)
        return model.eval()

    def _hidden_widths(self) -> tuple[int, ...]:
        weights = [t for k, t in self.state_dict_.items() if k.endswith("weight") and t.dim() == 2]
        return tuple(int(w.shape[0]) for w in weights[:-1])

    def _logits(self, X) -> torch.Tensor:
        """(n_samples, n_outputs) float64 logits."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64)
        model = self.to_torch().double()
        with torch.no_grad(), cpu_threads():
            return model(torch.from_numpy(np.array(X, dtype=np.float64)))

    def decision_function(self, X) -> np.ndarray:
        """Logits: shape (n_samples,) for two classes (> 0 means classes_[1]), else
        (n_samples, n_classes)."""
        logits = self._logits(X).numpy()
        return logits[:, 0] if logits.shape[1] == 1 else logits

    def predict_log_proba(self, X) -> np.ndarray:
        logits = self._logits(X)
        if logits.shape[1] == 1:  # log sigmoid of -z and z: exact where 1 - p would round to 0
            return torch.cat(
                [-torch.nn.functional.softplus(s * logits) for s in (1, -1)], 1
            ).numpy()
        return torch.log_softmax(logits, dim=1).numpy()

    def predict_proba(self, X) -> np.ndarray:
        """(n_samples, n_classes) class probabilities, columns in the order of classes_."""
        return np.exp(self.predict_log_proba(X))

    def predict(self, X) -> np.ndarray:
        logits = self._logits(X)
        codes = (logits[:, 0] > 0).long() if logits.shape[1] == 1 else logits.argmax(1)
        return self.classes_[codes.numpy()]

    @property
    def coefs_(self) -> list[np.ndarray]:
        """Weights per layer as scikit-learn shapes them: (fan_in, fan_out) arrays."""
        check_is_fitted(self)
        return [t.T.numpy() for k, t in self.state_dict_.items() if k.endswith("weight")]

    @property
    def intercepts_(self) -> list[np.ndarray]:
        check_is_fitted(self)
        return [t.numpy() for k, t in self.state_dict_.items() if k.endswith("bias")]
