"""Generative models as a user sees them: flow matching learns moons, samples repeat from a seed,
a member trains the same alone or among neighbours, and a saved model samples as before."""

from __future__ import annotations

import numpy as np
import pytest

from pointlab.config import ConfigError
from pointlab.errors import UserError
from pointlab.generative import (
    GenConfig,
    GeneratorsInterrupted,
    GenModel,
    GenTraining,
    sample_population,
    train_generators,
)
from pointlab.generators import make

pytestmark = pytest.mark.usefixtures("one_thread")

SMALL = dict(hidden=(32, 32), embedding_size=8, epochs=6, batch_size=32)


def _moons(n=400):
    return make("moons", n=n, seed=3).X


def test_flow_matching_learns_moons_mean_and_covariance():
    X = _moons(600)
    config = GenConfig(hidden=(64, 64, 64), epochs=80, batch_size=128, lr=3e-3, seed=1)
    (result,) = train_generators(X, [config])
    losses = result.history["train_loss"]
    assert losses[-1] < 0.8 * losses[0]
    samples = result.model.sample(4000, seed=0)
    assert samples.shape == (4000, 2)
    scale = X.std(0)
    assert np.all(np.abs(samples.mean(0) - X.mean(0)) < 0.1 * scale)
    relative = np.abs(np.cov(samples.T) - np.cov(X.T)) / np.outer(scale, scale)
    assert relative.max() < 0.15, relative


def test_same_seed_same_samples_and_paths_run_from_noise_to_samples():
    (result,) = train_generators(_moons(), [GenConfig(**SMALL)])
    model = result.model
    np.testing.assert_array_equal(model.sample(50, seed=4), model.sample(50, seed=4))
    assert not np.array_equal(model.sample(50, seed=4), model.sample(50, seed=5))
    path = model.sample(50, seed=4, steps=10, path=True)
    assert path.shape == (11, 50, 2)
    np.testing.assert_array_equal(path[-1], model.sample(50, seed=4, steps=10))


@pytest.mark.parametrize("method", ["flow", "ddpm"])
def test_a_member_trains_and_samples_the_same_alone_and_among_neighbours(method):
    X = _moons(300)
    member = GenConfig(method=method, seed=7, steps=20, **SMALL)
    neighbours = [
        member.replace(seed=1, lr=3e-3, hidden=(48, 16)),
        member.replace(seed=2, input_embedding="identity", time_embedding="linear"),
        member.replace(seed=3, steps=10, batch_size=50, embedding_size=16),
    ]
    (alone,) = train_generators(X, [member])
    population = train_generators(X, [neighbours[0], member, *neighbours[1:]])
    among = population[1]
    np.testing.assert_allclose(among.history["train_loss"], alone.history["train_loss"], rtol=1e-5)
    for key, value in alone.model.state.items():
        np.testing.assert_allclose(among.model.state[key], value, rtol=1e-4, atol=1e-6)
    together = sample_population(population, 64, seed=2)
    np.testing.assert_allclose(together[1], alone.model.sample(64, seed=2), rtol=1e-4, atol=1e-4)


def test_saved_model_loads_and_samples_the_same(tmp_path):
    (result,) = train_generators(_moons(), [GenConfig(method="ddpm", steps=10, **SMALL)])
    result.model.save(tmp_path / "gen")
    loaded = GenModel.load(tmp_path / "gen")
    assert loaded.config == result.config
    np.testing.assert_array_equal(loaded.sample(30, seed=1), result.model.sample(30, seed=1))
    velocity = loaded.velocity(_moons()[:5], 0.5)
    assert velocity.shape == (5, 2) and np.isfinite(velocity).all()
    record = (tmp_path / "gen" / "generator.json").read_text()
    (tmp_path / "gen" / "generator.json").write_text(
        record.replace('"label_weights": null', '"label_weights": "half"')
    )
    with pytest.raises(UserError, match="generator.json: damaged record"):
        GenModel.load(tmp_path / "gen")
    (tmp_path / "gen" / "generator.json").write_text("{")
    with pytest.raises(UserError, match="generator.json: not readable JSON"):
        GenModel.load(tmp_path / "gen")


def test_conditional_model_samples_the_asked_class():
    data = make("moons", n=400, seed=3)
    config = GenConfig(conditional=True, hidden=(64, 64), epochs=40, batch_size=64, lr=3e-3)
    (result,) = train_generators(data.X, [config], labels=data.y)
    for label in (0, 1):
        samples = result.model.sample(500, seed=0, label=label)
        own = data.X[data.y == label].mean(0)
        other = data.X[data.y != label].mean(0)
        mean = samples.mean(0)
        assert np.linalg.norm(mean - own) < np.linalg.norm(mean - other)
    # without a label: the label-weighted mean of the fields, the same every call
    field = result.model.velocity(data.X[:5], 0.3)
    np.testing.assert_array_equal(field, result.model.velocity(data.X[:5], 0.3))
    both = [result.model.velocity(data.X[:5], 0.3, label) for label in (0, 1)]
    np.testing.assert_allclose(field, (both[0] + both[1]) / 2, rtol=0.05, atol=1e-6)


def test_a_diverging_member_is_frozen_with_its_last_finite_weights_and_the_others_go_on():
    configs = [GenConfig(**SMALL).replace(lr=1e6, clip_grad=None, weight_decay=0.0, epochs=20)]
    configs.append(GenConfig(**SMALL).replace(seed=1, epochs=20))
    diverged, fine = train_generators(_moons(), configs, log_every=1)
    assert diverged.status == "diverged" and fine.status == "finished"
    assert all(bool(v.isfinite().all()) for v in diverged.model.state.values())
    assert np.isfinite(fine.history["train_loss"]).all() and len(fine.history["epoch"]) == 21


def test_a_record_from_before_the_schedule_option_repeats_at_a_constant_rate():
    recorded = GenConfig(lr=1e-3).to_dict()
    del recorded["schedule"]
    assert GenConfig.from_dict(recorded).schedule == "constant"
    assert GenConfig.from_dict(GenConfig().to_dict()) == GenConfig()


def test_bad_configs_name_every_fault():
    with pytest.raises(ConfigError, match="method must be one of flow, ddpm.*embedding_size"):
        GenConfig(method="gan", embedding_size=7)


def test_stepping_a_population_gives_what_training_to_the_end_gives():
    X = _moons(200)
    configs = [GenConfig(**SMALL), GenConfig(method="ddpm", steps=8, seed=1, **SMALL)]
    training = GenTraining(X, configs, log_every=2)
    more = True
    while more:
        more = training.step_epoch()  # False from the call that trains the last epoch
        assert training.results()[0].history["epoch"][-1] <= training.training.epoch
    assert training.training.epoch == SMALL["epochs"]
    trained_to_end = train_generators(X, configs, log_every=2)
    for stepped, trained in zip(training.results(), trained_to_end, strict=True):
        assert stepped.history == trained.history
        np.testing.assert_array_equal(stepped.model.sample(20), trained.model.sample(20))


def test_a_stepped_population_goes_on_training_on_edited_points():
    training = GenTraining(_moons(200), [GenConfig(**SMALL)], log_every=1)
    for _ in range(3):
        training.step_epoch()
    moved = _moons(150) + [2.0, 0.0]  # the points dragged to the right
    training.replace_points(moved)
    while training.step_epoch():
        pass
    (result,) = training.results()
    assert result.history["epoch"] == list(range(SMALL["epochs"] + 1))
    assert result.model.scaling == training.points.scaling  # the first points' scaling, kept
    assert np.isfinite(result.model.sample(10)).all()


def test_a_stop_request_ends_training_with_the_models_so_far():
    calls = []

    def stop():
        calls.append(1)
        return len(calls) > 10

    configs = [GenConfig(**SMALL), GenConfig(**SMALL).replace(hidden=(16,), seed=1)]
    with pytest.raises(GeneratorsInterrupted) as caught:
        train_generators(_moons(200), configs, stop=stop)
    first, second = caught.value.results
    assert first is not None and second is None  # the second population never started
    assert first.status == "interrupted"
    assert first.history["epoch"][-1] < SMALL["epochs"]
    assert first.model.sample(5).shape == (5, 2)


def test_flow_velocity_is_the_step_the_sampler_takes():
    (result,) = train_generators(_moons(), [GenConfig(**SMALL)])
    model = result.model
    path = model.sample(40, seed=3, steps=4, path=True)  # data units, dt = 1/4
    for i, t in enumerate((0.0, 0.25, 0.5, 0.75)):
        step = model.velocity(path[i], t) / 4
        np.testing.assert_allclose(path[i + 1] - path[i], step, rtol=1e-4, atol=1e-5)


def test_ddpm_samples_as_tiny_diffusions_ancestral_sampler_with_the_same_noise():
    import torch

    from test_generative_reference import Denoiser

    config = GenConfig(method="ddpm", steps=12, **SMALL)
    (result,) = train_generators(_moons(), [config])
    net = Denoiser(config, 0)
    net.mlp.load_state_dict(result.model.state)
    n, T = 64, config.steps
    generator = torch.Generator().manual_seed(3)  # the model's draws: start, then every step
    x = torch.randn(n, 2, generator=generator)
    noises = torch.randn(T, n, 2, generator=generator)
    betas = torch.linspace(1e-4, 0.02, T, dtype=torch.float32)
    alphas = 1.0 - betas
    cumulative = torch.cumprod(alphas, 0)
    previous = torch.cat((torch.ones(1), cumulative[:-1]))
    with torch.no_grad():
        for i, k in enumerate(range(T - 1, -1, -1)):
            eps = net(x, torch.full((n,), float(k)), None)
            x0 = torch.sqrt(1 / cumulative[k]) * x - torch.sqrt(1 / cumulative[k] - 1) * eps
            mean = (betas[k] * torch.sqrt(previous[k]) / (1 - cumulative[k])) * x0 + (
                (1 - previous[k]) * torch.sqrt(alphas[k]) / (1 - cumulative[k])
            ) * x
            variance = (betas[k] * (1 - previous[k]) / (1 - cumulative[k])).clip(1e-20)
            x = mean + variance**0.5 * noises[i] if k > 0 else mean
    scaling = result.model.scaling
    expected = x.numpy() * np.asarray(scaling.std) + np.asarray(scaling.mean)
    np.testing.assert_allclose(result.model.sample(n, seed=3), expected, rtol=1e-4, atol=1e-5)
