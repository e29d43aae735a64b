"""Class weights and class-balanced minibatches in the engine: every member against a lone torch
loop with torch's weighted losses (the reference, `tests/reference.py`), scikit-learn's balanced
rule, and the class mix of the balanced batches the engine draws."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from pointlab.config import ConfigError, TrainConfig, parse_class_weight
from pointlab.engine import train_population
from pointlab.engine.batches import balanced_epoch_order
from pointlab.engine.losses import class_weights
from pointlab.engine.models import Architecture, init_theta, member_state, to_sequential
from pointlab.engine.population import Population
from pointlab.errors import SettingError

from reference import reference_train

pytestmark = pytest.mark.usefixtures("one_thread")

RTOL = 1e-5


def _imbalanced(n=60, classes=2, seed=0):
    """Points in the unit square, about one in six of class 1 (and of class 2 for three)."""
    rng = np.random.default_rng(seed)
    X = rng.random((n, 2), dtype=np.float32)
    y = (X[:, 0] + 0.3 * X[:, 1] > 1.05).astype(np.int64)
    if classes == 3:
        y[(X[:, 0] < 0.2) & (X[:, 1] < 0.6)] = 2
    return X, y


def _assert_matches(result, X, y, n_classes, sample_weight=None):
    history, state = reference_train(result.config, X, y, 2, n_classes, None, sample_weight)
    got = np.array(result.history["train_loss"])
    np.testing.assert_allclose(got, history, rtol=RTOL, atol=1e-7, err_msg=str(result.config))
    for key, value in state.items():
        difference = torch.linalg.norm(result.final_state[key] - value) / torch.linalg.norm(value)
        assert difference < RTOL, f"{key}: relative difference {difference:.2e} ({result.config})"


@pytest.mark.parametrize("classes", [2, 3])
def test_class_weighted_members_match_torch_weighted_losses(classes):
    """Members with no, balanced and explicit class weights, full batch and minibatches, and one
    with balanced minibatches, in one population: each trains as a lone torch loop whose loss is
    torch's weighted cross-entropy (`weight=`), loss for loss and weight for weight."""
    X, y = _imbalanced(classes=classes)
    explicit = ",".join(["1", "4", "2.5"][:classes])
    settings = [
        dict(class_weight=None, batch_size=None),
        dict(class_weight="balanced", batch_size=None),
        dict(class_weight=explicit, batch_size=16),
        dict(class_weight="balanced", batch_size=16),
        dict(class_weight=None, batch_size=16, balanced_batches=True),
    ]
    configs = [
        TrainConfig(hidden=(8,), lr=0.01, epochs=6, seed=s, **setting)
        for s, setting in enumerate(settings)
    ]
    index = [np.arange(len(X))] * len(configs)
    results = train_population(
        configs, X, y, train_index=index, val_index=index, n_classes=classes, log_every=2
    )
    for result in results:
        _assert_matches(result, X, y, classes)
        # validation on the same points: the same weighted loss
        np.testing.assert_allclose(result.history["train_loss"], result.history["val_loss"])
    plain, balanced = results[0], results[1]
    assert plain.history["train_loss"][0] != pytest.approx(balanced.history["train_loss"][0])


@pytest.mark.parametrize("sizes", [(None, 16), (16, 16)])  # (16, 16): plain slices, no masks
def test_class_weights_combine_with_sample_weights_by_product(sizes):
    X, y = _imbalanced()
    weights = np.random.default_rng(3).uniform(0.2, 2.0, len(X)).astype(np.float32)
    configs = [
        TrainConfig(hidden=(8,), lr=0.01, epochs=4, seed=s, class_weight="1,5", batch_size=b)
        for s, b in enumerate(sizes)
    ]
    index = [np.arange(len(X))] * 2
    results = train_population(
        configs, X, y, train_index=index, n_classes=2, log_every=2, sample_weight=weights
    )
    for result in results:
        _assert_matches(result, X, y, 2, sample_weight=weights)


def test_balanced_weights_over_a_full_batch_are_torch_pos_weight():
    """sum(w) = n with balanced weights, so the engine's weighted mean over a full batch is
    w_0 * BCEWithLogitsLoss(pos_weight=w_1 / w_0), torch's own two-class weighting."""
    X, y = _imbalanced()
    config = TrainConfig(hidden=(8,), epochs=0, class_weight="balanced")
    (result,) = train_population([config], X, y, train_index=[np.arange(len(X))], log_every=1)
    w0, w1 = class_weights("balanced", y, 2)
    arch = Architecture((8,), "relu", 2)
    model = to_sequential(arch)
    model.load_state_dict(member_state(arch, init_theta(arch, [0]), 0, False))
    with torch.no_grad():
        z = model(torch.as_tensor(X))[:, 0]
    loss = F.binary_cross_entropy_with_logits(
        z, torch.as_tensor(y).float(), pos_weight=torch.tensor(w1 / w0)
    )
    assert result.history["train_loss"][0] == pytest.approx(float(w0 * loss), rel=1e-5)


def test_balanced_rule_is_scikit_learns_and_accuracy_stays_unweighted():
    from sklearn.utils.class_weight import compute_class_weight

    X, y = _imbalanced(classes=3)
    expected = compute_class_weight("balanced", classes=np.arange(3), y=y)
    np.testing.assert_allclose(class_weights("balanced", y, 3), expected, rtol=1e-6)
    # Each member's rule from its own training points: here the first half of them.
    half = np.arange(len(X) // 2)
    config = TrainConfig(hidden=(4,), epochs=0, class_weight="balanced")
    pop = Population(
        [config, config.replace(seed=1)],
        X,
        y,
        [half, np.arange(len(X))],
        None,
        3,
        torch.device("cpu"),
    )
    assert pop.class_weights is not None
    np.testing.assert_allclose(pop.class_weights[0].numpy(), class_weights("balanced", y[half], 3))
    # Accuracy: the share of points right, whatever the class weights.
    (result,) = train_population(
        [config], X, y, train_index=[np.arange(len(X))], n_classes=3, log_every=1
    )
    arch = Architecture((4,), "relu", 3)
    model = to_sequential(arch)
    model.load_state_dict(result.final_state)
    with torch.no_grad():
        right = (model(torch.as_tensor(X)).argmax(1).numpy() == y).mean()
    assert result.history["train_acc"][-1] == pytest.approx(right)


def test_explicit_weights_must_be_one_per_class():
    X, y = _imbalanced(classes=3)
    config = TrainConfig(hidden=(4,), epochs=1, class_weight="1,20")
    with pytest.raises(SettingError, match="gives 2 weights; the data has 3 classes"):
        train_population([config], X, y, train_index=[np.arange(len(X))], n_classes=3)


def _drawn_labels(config: TrainConfig, X, y, epochs: int) -> list[np.ndarray]:
    pop = Population([config], X, y, [np.arange(len(X))], None, 2, torch.device("cpu"))
    return [labels[0].numpy() for e in range(epochs) for _, labels, *_ in pop.batches(e)]


def test_balanced_batches_draw_each_class_equally_often():
    """1:9 data: plain batches hold about 10% of class 1, balanced ones about 50%, in each batch
    on average and over the epochs; the draws are the seed's alone (the same twice, another seed
    another draw) and the engine's draws are `balanced_epoch_order`'s."""
    rng = np.random.default_rng(0)
    X = rng.random((400, 2), dtype=np.float32)
    y = (np.arange(400) % 10 == 0).astype(np.int64)
    plain = TrainConfig(hidden=(4,), batch_size=32, epochs=1)
    balanced = plain.replace(balanced_batches=True)
    share_plain = np.concatenate(_drawn_labels(plain, X, y, 5)).mean()
    batches = _drawn_labels(balanced, X, y, 5)
    assert share_plain == pytest.approx(0.1, abs=1e-9)  # every point once an epoch
    share = np.concatenate(batches).mean()
    assert share == pytest.approx(0.5, abs=0.03)  # 2,000 draws: 3 standard errors is 0.034
    per_batch = np.array([b.mean() for b in batches if len(b) == 32])
    assert 0.4 < per_batch.mean() < 0.6 and per_batch.min() > 0.15  # never a batch of majority only
    again = _drawn_labels(balanced, X, y, 5)
    assert all(np.array_equal(a, b) for a, b in zip(batches, again, strict=True))
    other = _drawn_labels(balanced.replace(seed=1), X, y, 5)
    assert not all(np.array_equal(a, b) for a, b in zip(batches, other, strict=True))
    order = balanced_epoch_order(0, 0, torch.as_tensor(y), 2).numpy()
    np.testing.assert_array_equal(np.concatenate(batches[:13]), y[order])


def test_a_balanced_member_draws_the_same_among_neighbours():
    """Members of other sizes of training set and batch around it change none of its draws."""
    X, y = _imbalanced(n=80)
    me = TrainConfig(hidden=(6,), lr=0.01, epochs=4, batch_size=10, balanced_batches=True, seed=7)
    (alone,) = train_population([me], X, y, train_index=[np.arange(80)], log_every=2)
    others = [me.replace(seed=1, batch_size=7), me.replace(balanced_batches=False, seed=2)]
    together = train_population(
        [*others, me], X, y, train_index=[np.arange(50), np.arange(80), np.arange(80)], log_every=2
    )[-1]
    assert together.history["train_loss"] == pytest.approx(alone.history["train_loss"], rel=1e-6)
    for key, value in alone.final_state.items():
        torch.testing.assert_close(together.final_state[key], value, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize(
    ("given", "canonical"),
    [
        (None, None),
        ("none", None),
        (" None ", None),
        ("", None),
        ("balanced", "balanced"),
        ("Balanced", "balanced"),
        ("1,20", "1,20"),
        ("[1, 20]", "1,20"),
        ("1.0, 0.25 ,3", "1,0.25,3"),
        ((1, 20.5), "1,20.5"),
        ("0,1", "0,1"),
    ],
)
def test_class_weight_grammar(given, canonical):
    assert parse_class_weight(given) == canonical
    assert TrainConfig(class_weight=given).class_weight == canonical


@pytest.mark.parametrize(
    "bad", ["20", "1;20", "1,x", "1,-1", "0,0", "1,inf", "nan,1", "bal", "1,,2"]
)
def test_bad_class_weights_are_refused_by_name(bad):
    with pytest.raises(ConfigError, match="class_weight"):
        TrainConfig(class_weight=bad)


def test_balanced_batches_need_minibatches():
    with pytest.raises(ConfigError, match="balanced_batches needs minibatches"):
        TrainConfig(balanced_batches=True)
    assert TrainConfig(balanced_batches=True, batch_size=32).balanced_batches


def test_the_playground_takes_class_weights_and_balanced_batches():
    from pointlab.errors import UserError
    from pointlab.web import settings

    setup = settings.parse(
        {"class-weight": "[1, 20]", "balanced-batches": "on", "batch-size": "16"}
    )
    (member,) = setup.members
    assert member.class_weight == "1,20" and member.balanced_batches
    assert setup.settings["class-weight"] == "1,20"
    assert settings.parse({}).members[0].class_weight is None  # the default: none
    compared = settings.parse({"compare": "class-weight=none balanced 1,4"})
    assert [m.class_weight for m in compared.members] == [None, "balanced", "1,4"]
    with pytest.raises(UserError, match="class-weight: '1;20'"):
        settings.parse({"class-weight": "1;20"})
    with pytest.raises(UserError, match="balanced-batches: 'yes' is not on or off"):
        settings.parse({"balanced-batches": "yes"})
    with pytest.raises(UserError, match="balanced_batches needs minibatches"):
        settings.parse({"balanced-batches": "on"})  # the page's default is a full batch


def test_the_estimator_takes_class_weight_as_scikit_learns_classifiers_do():
    pytest.importorskip("sklearn")
    from pointlab.sklearn import MLPClassifier

    X, y = _imbalanced(n=120)
    labels = np.array(["no", "yes"])[y]
    common = dict(hidden_layer_sizes=(8,), max_iter=40, random_state=0, learning_rate_init=0.01)
    plain = MLPClassifier(**common).fit(X, labels)
    weighted = MLPClassifier(**common, class_weight="balanced").fit(X, labels)
    heavy = MLPClassifier(**common, class_weight={"yes": 20}).fit(X, labels)
    # the same training as the engine's own option, weights in the order of classes_
    config = TrainConfig(
        hidden=(8,), lr=0.01, epochs=40, batch_size=None, weight_decay=0.0001 / 120, seed=0
    )
    balanced = config.replace(class_weight="balanced")
    (engine,) = train_population([balanced], X, y, train_index=[np.arange(120)], log_every=1)
    np.testing.assert_allclose(weighted.loss_curve_, engine.history["train_loss"][1:], rtol=1e-5)
    recall = [((m.predict(X) == "yes") & (y == 1)).sum() for m in (plain, weighted, heavy)]
    assert recall[0] < recall[1] and recall[0] < recall[2]
    with pytest.raises(ValueError, match="class label 'maybe' not present"):
        MLPClassifier(**common, class_weight={"maybe": 2}).fit(X, labels)
    with pytest.raises(ValueError, match="class_weight"):
        MLPClassifier(**common, class_weight="heavy").fit(X, labels)


def test_a_search_space_takes_class_weights_and_balanced_batches():
    from pointlab.search.space import apply_params, parse_space

    weight, batches, standardize = parse_space(
        ["class_weight=none,balanced,[1,20]", "balanced_batches=on,off", "standardize=on,off"],
        TrainConfig(batch_size=32),
    )
    assert weight.choices == ("none", "balanced", "[1,20]")
    assert batches.choices == (True, False) and standardize.choices == (True, False)
    config = apply_params(TrainConfig(batch_size=32), {"class_weight": "[1,20]"})
    assert config.class_weight == "1,20"
    with pytest.raises(SettingError, match="balanced_batches needs minibatches"):
        parse_space(["balanced_batches=on,off"])  # the default full batch


def test_titles_say_when_classes_are_reweighted():
    from pointlab.config import describe

    assert "class" not in describe(TrainConfig(), 2)
    text = describe(TrainConfig(class_weight="1,20", balanced_batches=True, batch_size=8), 2)
    assert text.endswith("adam lr 0.003, class weights 1,20, balanced batches")


def test_the_weighted_closed_form_gradient_is_autograds():
    from pointlab.engine.losses import member_loss_and_grad, member_losses

    generator = torch.Generator().manual_seed(0)
    z = torch.randn(3, 20, 1, generator=generator)
    t = (torch.rand(20, generator=generator) > 0.7).float()
    weights = torch.rand(3, 20, generator=generator) * (torch.arange(20) < 15)  # padding too
    loss, dz = member_loss_and_grad(z, t, weights, "bce", 2)
    leaf = z.clone().requires_grad_(True)
    expected = member_losses(leaf, t, weights, "bce", 2)
    (grad,) = torch.autograd.grad(expected.sum(), leaf)
    torch.testing.assert_close(loss, expected.detach())
    torch.testing.assert_close(dz, grad)
    assert (dz[:, 15:] == 0).all()
