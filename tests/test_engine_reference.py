"""The engine against plain PyTorch: every member of a population must train exactly as a lone
`torch.nn.Sequential` (or `models.MLP`, with skips or normalization) with the matching
`torch.optim` optimizer and `lr_scheduler` would, whatever its neighbours: other
hyperparameters, batch sizes, masks, widths (padded to the widest), skips."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from pointlab.config import OPTIMIZERS, TrainConfig
from pointlab.engine import train, train_population
from pointlab.engine.models import (
    Architecture,
    param_mask_from_states,
    to_module,
    to_sequential,
)
from pointlab.engine.padding import own_mask
from pointlab.engine.population import Population

from reference import reference_train

# One torch thread for these tiny models: two threads on a shared 2-core machine wait for each
# other (the docs example took 27 s with two, 5 s with one, at load 9; `conftest.one_thread`).
pytestmark = pytest.mark.usefixtures("one_thread")

RTOL = 1e-5


def _data(n=48, classes=2, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.random((n, 2), dtype=np.float32)
    y = (X[:, 1] > 0.3 * np.sin(6 * X[:, 0]) + 0.5).astype(np.int64)
    if classes > 2:
        y = (y + (X[:, 0] > 0.5) * 1).astype(np.int64) % classes
    return X, y


def _assert_member_matches(result, X, y, log_every, n_classes=2, mask=None, sample_weight=None):
    config = result.config
    history, state = reference_train(config, X, y, log_every, n_classes, mask, sample_weight)
    got = np.array(result.history["train_loss"])
    np.testing.assert_allclose(got, history, rtol=RTOL, atol=1e-7, err_msg=str(config))
    assert set(result.final_state) == set(state), config
    for key, value in state.items():
        if not value.is_floating_point():  # batch norm's num_batches_tracked: a count
            assert int(result.final_state[key]) == int(value), f"{key} ({config})"
            continue
        # Relative difference of each weight tensor (an element near 0 has no useful ratio).
        difference = torch.linalg.norm(result.final_state[key] - value) / torch.linalg.norm(value)
        assert difference < RTOL, f"{key}: relative difference {difference:.2e} ({config})"


# Four members per optimizer, each with other hyperparameters and another schedule.
SCHEDULES = [
    dict(schedule="constant"),
    dict(schedule="step", step_size=4, gamma=0.5),
    dict(schedule="cosine", lr_end=1e-4, warmup=3),
    dict(schedule="cosine_restarts", step_size=5, lr_end=1e-3, warmup=2),
]
LRS = {"sgd": 0.3, "momentum": 0.1, "nesterov": 0.1, "adam": 0.01, "adamw": 0.01, "rmsprop": 0.003}


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_population_equals_separate_torch_models(optimizer):
    X, y = _data()
    configs = [
        TrainConfig(
            hidden=(8, 8),
            optimizer=optimizer,
            lr=LRS[optimizer] * (1 + 0.5 * m),
            epochs=12,
            batch_size=16,
            seed=10 + m,
            momentum=0.5 + 0.1 * m,
            beta1=0.8 + 0.05 * m,
            weight_decay=[0.0, 1e-3, 0.0, 1e-2][m],
            clip_grad=[None, 0.5, None, 2.0][m],
            **SCHEDULES[m],
        )
        for m in range(4)
    ]
    for result in train(configs, X, y, log_every=3):
        assert result.status == "finished"
        _assert_member_matches(result, X, y, log_every=3)


def test_full_batch_and_mixed_batch_sizes_in_one_population():
    X, y = _data(n=40)
    sizes = [None, 7, 16, 40]
    configs = [
        TrainConfig(hidden=(6,), activation="tanh", lr=0.02, epochs=10, batch_size=b, seed=m)
        for m, b in enumerate(sizes)
    ]
    for result in train(configs, X, y, log_every=2):
        _assert_member_matches(result, X, y, log_every=2)


@pytest.mark.parametrize("activation", ["relu", "sigmoid", "gelu", "leaky_relu", "identity"])
def test_activations_and_label_smoothing(activation):
    X, y = _data(n=32)
    configs = [
        TrainConfig(
            hidden=(5, 4), activation=activation, lr=0.05, epochs=8, seed=m, label_smoothing=0.1 * m
        )
        for m in range(2)
    ]
    for result in train(configs, X, y, log_every=4):
        _assert_member_matches(result, X, y, log_every=4)


def test_more_than_two_classes_use_softmax_cross_entropy():
    X, y = _data(n=36, classes=3)
    configs = [
        TrainConfig(
            hidden=(8,), lr=0.02, epochs=10, seed=m, batch_size=12, label_smoothing=0.05 * m
        )
        for m in range(3)
    ]
    results = train(configs, X, y, n_classes=3, log_every=5)
    assert results[0].final_state["2.weight"].shape == (3, 8)
    for result in results:
        _assert_member_matches(result, X, y, log_every=5, n_classes=3)


@pytest.mark.parametrize("classes", [2, 3])
@pytest.mark.parametrize("activation", ["relu", "tanh", "gelu"])
def test_narrow_layers_computed_transposed_still_match(classes, activation):
    # Big enough that `engine.products` computes the narrow products (the 8-unit layer, the
    # output layer and its gradients) transposed, and the output layer's dh as a broadcast product.
    X, y = _data(n=200, classes=classes)
    configs = [
        TrainConfig(hidden=(32, 8), activation=activation, lr=0.02, epochs=6, seed=m)
        for m in range(3)
    ]
    for result in train(configs, X, y, n_classes=classes, log_every=3):
        _assert_member_matches(result, X, y, log_every=3, n_classes=classes)


@pytest.mark.parametrize("optimizer", ["adam", "adamw"])
def test_members_sharing_one_lr_take_the_direct_fused_step_and_still_match(optimizer):
    # One lr for all (a single model, say): the fused kernel updates theta itself.
    X, y = _data()
    configs = [
        TrainConfig(hidden=(8,), optimizer=optimizer, lr=0.01, weight_decay=0.01, epochs=9, seed=m)
        for m in range(2)
    ]
    for result in train(configs, X, y, log_every=3):
        _assert_member_matches(result, X, y, log_every=3)


def test_members_with_different_epoch_counts():
    X, y = _data(n=30)
    configs = [TrainConfig(hidden=(4,), lr=0.05, epochs=e, seed=1) for e in (3, 7, 10)]
    results = train(configs, X, y, log_every=5)
    assert [r.history["epoch"] for r in results] == [[0, 3], [0, 5, 7], [0, 5, 10]]
    for result in results:
        _assert_member_matches(result, X, y, log_every=5)


@pytest.mark.parametrize("optimizer", ["adam", "adamw"])
def test_members_sharing_betas_take_the_fused_adam_path_and_still_match(optimizer):
    # A sweep's usual population: one set of betas, a learning rate and weight decay per member.
    X, y = _data()
    configs = [
        TrainConfig(
            hidden=(8, 8),
            optimizer=optimizer,
            lr=0.003 * 3**m,
            weight_decay=0.01 * m,
            epochs=12,
            batch_size=16,
            seed=m,
            schedule="cosine",
            warmup=2,
        )
        for m in range(4)
    ]
    for result in train(configs, X, y, log_every=4):
        _assert_member_matches(result, X, y, log_every=4)


def _random_masks(arch, members, keep, seed):
    """Per-member masks shaped as Sequential state dicts (weight (out, in), bias (out,))."""
    generator = torch.Generator().manual_seed(seed)
    masks = []
    for _ in range(members):
        mask = {}
        for index, (fan_in, fan_out) in zip(
            arch.sequential_indices(False), arch.layer_shapes, strict=True
        ):
            weight = (torch.rand(fan_out, fan_in, generator=generator) < keep).float()
            bias = (torch.rand(fan_out, generator=generator) < keep).float()
            weight[0, 0] = bias[0] = 1.0  # no tensor wholly pruned: its relative error is 0/0
            mask[f"{index}.weight"], mask[f"{index}.bias"] = weight, bias
        masks.append(mask)
    return masks


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_pruned_parameters_stay_exactly_zero_and_members_match_masked_torch_loops(optimizer):
    # Weight decay and clipping would move a pruned weight if its gradient or decay leaked in.
    X, y = _data()
    arch = Architecture((8, 8), "relu")
    masks = [
        _random_masks(arch, 1, keep=k, seed=7 + m)[0] for m, k in enumerate((0.8, 0.5, 0.2, 1))
    ]
    configs = [
        TrainConfig(
            hidden=(8, 8),
            optimizer=optimizer,
            lr=LRS[optimizer] * (1 + 0.5 * m),
            epochs=12,
            batch_size=[16, None, 16, 7][m],
            seed=20 + m,
            weight_decay=[1e-2, 0.0, 1e-3, 1e-2][m],
            clip_grad=[0.5, None, 2.0, 0.5][m],
            early_stopping=[None, None, 100, None][m],
            **SCHEDULES[m],
        )
        for m in range(4)
    ]
    param_mask = param_mask_from_states(arch, masks)  # (4, P)
    results = train_population(
        configs,
        X,
        y,
        train_index=[np.arange(36)] * 4,
        val_index=[np.arange(36, 48)] * 4,
        log_every=3,
        param_mask=param_mask,
    )
    for result, mask in zip(results, masks, strict=True):
        assert result.status == "finished"
        for key, keep in mask.items():
            pruned = keep == 0
            assert (result.final_state[key][pruned] == 0).all(), key
            assert (result.best_state[key][pruned] == 0).all(), key
            assert (result.final_state[key][~pruned] != 0).all(), key  # the kept ones learned
        _assert_member_matches(result, X[:36], y[:36], log_every=3, mask=mask)


def test_train_takes_one_mask_per_config_across_groups():
    X, y = _data(n=32)
    configs = [
        TrainConfig(hidden=(6,), lr=0.05, epochs=6, seed=1),
        TrainConfig(hidden=(5, 4), lr=0.05, epochs=6, seed=2),
        TrainConfig(hidden=(6,), lr=0.05, epochs=6, seed=3),
    ]
    small, deep = Architecture((6,), "relu"), Architecture((5, 4), "relu")
    masks = [_random_masks(small, 1, 0.5, 1)[0], None, _random_masks(small, 1, 0.5, 2)[0]]
    flat = [None if m is None else param_mask_from_states(small, [m])[0].numpy() for m in masks]
    results = train(configs, X, y, log_every=3, param_mask=flat)
    assert results[1].arch == deep
    for result, mask in zip(results, masks, strict=True):
        _assert_member_matches(result, X, y, log_every=3, mask=mask)


@pytest.mark.parametrize("n_features, n_classes", [(1, 2), (7, 3)])
def test_any_number_of_input_features_and_members_on_their_own_folds(n_features, n_classes):
    # scikit-learn's users bring D features, and a cross-validated search trains each member on
    # its own fold: each member must still match a lone model trained on just its fold's points.
    rng = np.random.default_rng(3)
    X = rng.normal(size=(45, n_features)).astype(np.float32)
    y = (X.sum(1) > 0).astype(np.int64) + (X[:, 0] > 1) * (n_classes - 2)
    folds = [np.flatnonzero(np.arange(45) % 3 != k) for k in range(3)]
    configs = [
        TrainConfig(hidden=(6,), lr=0.02, epochs=8, seed=k, batch_size=[None, 10, 30][k])
        for k in range(3)
    ]
    results = train_population(configs, X, y, train_index=folds, n_classes=n_classes, log_every=2)
    assert results[0].final_state["0.weight"].shape == (6, n_features)
    for result, fold in zip(results, folds, strict=True):
        _assert_member_matches(result, X[fold], y[fold], log_every=2, n_classes=n_classes)


# Members of one depth and different widths in one population, padded to the widest (a sweep's
# population): each must still train exactly as alone, whatever its neighbours' widths.
WIDTHS = [(3, 5), (8, 8), (8, 2), (1, 8)]


@pytest.mark.parametrize(
    "activation, optimizer",
    [("relu", "adam"), ("sigmoid", "momentum"), ("gelu", "rmsprop"), ("tanh", "adamw")],
)
def test_members_of_different_widths_padded_into_one_population_match_lone_loops(
    activation, optimizer
):
    # sigmoid(0) = 0.5: a padded unit's output is not zero, only its outgoing weights are.
    X, y = _data()
    configs = [
        TrainConfig(
            hidden=hidden,
            activation=activation,
            optimizer=optimizer,
            lr=LRS[optimizer] * (1 + 0.5 * m),
            epochs=12,
            batch_size=[16, None, 7, 16][m],
            seed=30 + m,
            weight_decay=[1e-2, 0.0, 1e-3, 0.0][m],
            clip_grad=[None, 0.5, None, 2.0][m],
            early_stopping=[None, 100, None, None][m],
            **SCHEDULES[m],
        )
        for m, hidden in enumerate(WIDTHS)
    ]
    results = train_population(
        configs,
        X,
        y,
        train_index=[np.arange(36)] * 4,
        val_index=[np.arange(36, 48)] * 4,
        log_every=3,
    )
    for result, hidden in zip(results, WIDTHS, strict=True):
        assert result.status == "finished"
        assert result.arch.hidden == hidden and result.final_state["0.weight"].shape == (
            hidden[0],
            2,
        )
        _assert_member_matches(result, X[:36], y[:36], log_every=3)


def test_padding_stays_exactly_zero_beside_a_pruning_mask():
    # Padding and a user's pruning mask together, on the engine's own population state.
    X, y = _data()
    archs = [Architecture(h, "sigmoid") for h in WIDTHS]
    padded = Architecture((8, 8), "sigmoid")
    masks = [_random_masks(padded, 1, 0.6, seed=m)[0] for m in range(4)]
    configs = [
        TrainConfig(hidden=h, activation="sigmoid", lr=0.05, weight_decay=0.01, epochs=5, seed=m)
        for m, h in enumerate(WIDTHS)
    ]
    pop = Population(
        configs,
        X,
        y,
        [np.arange(48)] * 4,
        None,
        2,
        torch.device("cpu"),
        param_mask=param_mask_from_states(padded, masks),
    )
    own = own_mask(padded, archs)
    assert own is not None and int(own.sum()) == sum(a.n_params for a in archs)
    x, targets, weights = pop.full_batch_inputs(pop.train)
    for _ in range(5):
        pop.loss(pop.logits(x, train=True), targets, weights, grad=True)
        pop.step(None)
        assert (pop.theta[pop.pruned] == 0).all()
        assert (pop.theta[own & ~pop.pruned] != 0).all()  # the rest learns


def test_dropout_members_match_lone_torch_loops_with_the_same_masks():
    # Each member draws its masks from its own seed (engine.batches.dropout_keep): the reference
    # applies exactly those, whatever the neighbours' widths, batch sizes and drop rates.
    X, y = _data()
    configs = [
        TrainConfig(
            hidden=hidden,
            activation="tanh",
            optimizer="adam",
            lr=0.01,
            epochs=9,
            batch_size=[16, None, 7, 16][m],
            dropout=[0.2, 0.5, 0.1, 0.0][m],
            seed=40 + m,
        )
        for m, hidden in enumerate(WIDTHS)
    ]
    results = train_population(configs, X, y, train_index=[np.arange(48)] * 4, log_every=3)
    for result in results:
        assert result.status == "finished"
        _assert_member_matches(result, X, y, log_every=3)


def test_a_member_trains_the_same_alone_and_among_any_neighbours():
    # Dropout and minibatches: the member's randomness is its own, not its population's. (Batched
    # products of 1 and of 8 members may round one weight differently, by one float32 ulp;
    # masks drawn from the population's seeds instead moved weights by about 1e-2.)
    X, y = _data()
    member = TrainConfig(
        hidden=(8, 8), lr=0.01, epochs=8, batch_size=16, dropout=0.2, seed=5, weight_decay=1e-3
    )
    neighbours = [member.replace(seed=100 + k, dropout=0.1 * (k % 4)) for k in range(7)]
    (alone,) = train([member], X, y, log_every=2)
    for population in (neighbours[:3] + [member] + neighbours[3:], [member] + neighbours[::-1]):
        (together,) = [r for r in train(population, X, y, log_every=2) if r.config == member]
        assert together.history["train_loss"] == pytest.approx(alone.history["train_loss"], 1e-6)
        for key, value in alone.final_state.items():
            torch.testing.assert_close(together.final_state[key], value, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("classes", [2, 3])
@pytest.mark.parametrize("batches", [(None, 16, 20), (16, 16, 16)])
def test_per_point_weights_match_a_weighted_torch_loss(classes, batches):
    """scikit-learn's sample_weight: each batch's loss is the weighted mean of its points' losses
    (torch's reduction="none", times the weights, over their sum), full batch or minibatches of
    one size or several; accuracy counts each point by its weight."""
    X, y = _data(classes=classes)
    weights = np.random.default_rng(1).uniform(0.05, 3.0, len(X)).astype(np.float32)
    configs = [
        TrainConfig(hidden=(8,), optimizer="adam", lr=lr, epochs=6, batch_size=b, seed=s)
        for s, (lr, b) in enumerate(zip((0.01, 0.03, 0.003), batches, strict=True))
    ]
    index = [np.arange(len(X))] * len(configs)
    results = train_population(
        configs,
        X,
        y,
        train_index=index,
        val_index=index,
        n_classes=classes,
        log_every=2,
        sample_weight=weights,
    )
    for result in results:
        _assert_member_matches(result, X, y, 2, classes, sample_weight=weights)
        np.testing.assert_allclose(result.history["train_loss"], result.history["val_loss"])
    # The last member's accuracy, each point counted by its weight.
    model = to_sequential(Architecture((8,), "relu", classes))
    model.load_state_dict(results[-1].final_state)
    with torch.no_grad():
        logits = model(torch.as_tensor(X))
    predicted = (logits[:, 0] > 0).long() if classes == 2 else logits.argmax(1)
    right = (predicted.numpy() == y).astype(np.float32)
    expected = float((right * weights).sum() / weights.sum())
    assert results[-1].history["train_acc"][-1] == pytest.approx(expected, rel=1e-5)


# Skip connections (`residual`): h_l = h_{l-1} + act(a_l) around hidden layers of equal widths.
# Residual and plain members, of different widths (padded), in one population.
RESIDUAL = [((8, 8, 8), True), ((8, 8, 8), False), ((4, 6, 6), True), ((5, 5, 3), True)]


@pytest.mark.parametrize(
    "activation, optimizer", [("relu", "adam"), ("gelu", "momentum"), ("sigmoid", "sgd")]
)
def test_residual_members_match_lone_torch_models_with_skips(activation, optimizer):
    X, y = _data()
    configs = [
        TrainConfig(
            hidden=hidden,
            residual=residual,
            activation=activation,
            optimizer=optimizer,
            lr=LRS[optimizer] * (1 + 0.5 * m),
            epochs=10,
            batch_size=[16, None, 7, 16][m],
            dropout=[0.0, 0.0, 0.2, 0.0][m],
            seed=50 + m,
            weight_decay=[1e-2, 0.0, 1e-3, 0.0][m],
            **SCHEDULES[m],
        )
        for m, (hidden, residual) in enumerate(RESIDUAL)
    ]
    results = train_population(configs, X, y, train_index=[np.arange(48)] * 4, log_every=3)
    for result in results:
        assert result.status == "finished"
        _assert_member_matches(result, X, y, log_every=3)
    # The skips change what is learned: the same member without them ends elsewhere.
    (plain,) = train([configs[0].replace(residual=False)], X, y, log_every=3)
    assert plain.history["train_loss"][-1] != pytest.approx(results[0].history["train_loss"][-1])


def test_residual_skips_only_hidden_layers_of_equal_widths():
    assert Architecture((8, 8, 4, 4), "relu", residual=True).skips == (
        False,
        True,
        False,
        True,
        False,
    )
    assert Architecture((2, 2), "relu", residual=True).skips == (False, True, False)
    assert Architecture((8, 8), "relu").skips == (False, False, False)
    assert Architecture((8, 4), "relu", residual=True).plain


# Normalization: one kind per population (part of `group_key`), members of different widths
# (padded), skips, batch sizes, dropout and epochs around it. Batch norm's losses are logged in
# evaluation mode (running statistics), and its running statistics and batch count are compared
# as part of the state: the training mode's batch statistics (padding rows and members sitting
# a step out left out) and the evaluation mode both follow torch.
NORMED = [((8, 8), True), ((8, 8), False), ((5, 3), False), ((6, 6), True)]


@pytest.mark.parametrize("norm", ["layer", "batch"])
@pytest.mark.parametrize("batches", [(16, None, 7, 10), (16, 16, 16, 16)])
def test_normalized_members_match_lone_torch_models(norm, batches):
    X, y = _data()
    configs = [
        TrainConfig(
            hidden=hidden,
            residual=residual,
            norm=norm,
            activation="tanh" if norm == "layer" else "relu",
            # Not Adam, and small steps: a bias before a normalization gets a gradient that is
            # partly rounding noise (the normalization removes the bias, or its mean over
            # units), which Adam scales up to full steps, in torch as in the engine (seen: batch
            # norm 1e-2 apart); larger SGD steps amplified float rounding past 1e-5 in 40 steps.
            optimizer="momentum",
            lr=0.01 * (1 + 0.5 * m),
            epochs=[9, 9, 6, 9][m],
            batch_size=batches[m],
            dropout=[0.0, 0.2, 0.0, 0.0][m],
            weight_decay=[0.0, 1e-3, 0.0, 1e-2][m],
            seed=60 + m,
            **SCHEDULES[m],
        )
        for m, (hidden, residual) in enumerate(NORMED)
    ]
    results = train_population(configs, X, y, train_index=[np.arange(48)] * 4, log_every=3)
    for result in results:
        assert result.status == "finished"
        _assert_member_matches(result, X, y, log_every=3)
    if norm == "batch":
        steps = [-(-48 // (b or 48)) for b in batches]
        assert [int(r.final_state["1.num_batches_tracked"]) for r in results] == [
            s * c.epochs for s, c in zip(steps, configs, strict=True)
        ]


@pytest.mark.parametrize("activation", ["tanh", "gelu"])
def test_batch_norm_members_on_their_own_folds_in_full_batch(activation):
    # Members with fewer points than the widest: their padding rows stay out of the statistics.
    X, y = _data(n=45)
    folds = [np.flatnonzero(np.arange(45) % 3 != k) for k in range(3)] + [np.arange(45)]
    configs = [
        TrainConfig(
            hidden=(6, 6),
            norm="batch",
            residual=k % 2 == 0,
            activation=activation,
            optimizer="sgd",
            lr=0.1,
            epochs=7,
            seed=k,
        )
        for k in range(4)
    ]
    results = train_population(configs, X, y, train_index=folds, log_every=2)
    for result, fold in zip(results, folds, strict=True):
        _assert_member_matches(result, X[fold], y[fold], log_every=2)


def test_batch_norm_early_stopped_member_keeps_the_running_statistics_of_its_best_weights():
    X, y = _data()
    configs = [
        TrainConfig(hidden=(8,), norm="batch", lr=0.05, epochs=30, seed=s, early_stopping=2)
        for s in range(2)
    ]
    index = [np.arange(36)] * 2
    results = train_population(
        configs, X, y, train_index=index, val_index=[np.arange(36, 48)] * 2, log_every=1
    )
    for result in results:
        model = to_module(Architecture((8,), "relu", norm="batch"))
        model.load_state_dict(result.state)
        model.eval()
        with torch.no_grad():
            logits = model(torch.as_tensor(X[36:]))
        loss = torch.nn.functional.binary_cross_entropy_with_logits(
            logits[:, 0], torch.as_tensor(y[36:]).float()
        )
        best = result.history["epoch"].index(result.best_epoch)
        assert float(loss) == pytest.approx(result.history["val_loss"][best], rel=1e-5)
