"""pointlab's scikit-learn front end as a scikit-learn user meets it: Pipelines, cross-validation,
labels of any type, pickling, and PopulationSearchCV giving GridSearchCV's results."""

from __future__ import annotations

import pickle
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("sklearn")

import torch  # noqa: E402
from sklearn.base import clone  # noqa: E402
from sklearn.datasets import load_iris, make_blobs  # noqa: E402
from sklearn.exceptions import ConvergenceWarning, FitFailedWarning  # noqa: E402
from sklearn.model_selection import (  # noqa: E402
    GridSearchCV,
    RandomizedSearchCV,
    StratifiedKFold,
    cross_val_score,
)
from sklearn.neural_network import MLPClassifier as ScikitMLPClassifier  # noqa: E402
from sklearn.pipeline import Pipeline, make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from pointlab.generators import make  # noqa: E402
from pointlab.sklearn import MLPClassifier, PopulationSearchCV  # noqa: E402


def _points(kind: str, n: int, **options) -> tuple[np.ndarray, np.ndarray]:
    data = make(kind, n=n, **options)
    return data.X, data.y


def test_importing_pointlab_does_not_import_scikit_learn():
    code = "import sys, pointlab, pointlab.config, pointlab.data; print('sklearn' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_iris_pipeline_reaches_scikit_learns_own_mlp_accuracy():
    X, y = load_iris(return_X_y=True)
    settings = dict(hidden_layer_sizes=(16,), learning_rate_init=0.01, max_iter=200, random_state=0)
    ours = cross_val_score(make_pipeline(StandardScaler(), MLPClassifier(**settings)), X, y, cv=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        theirs = cross_val_score(
            make_pipeline(StandardScaler(), ScikitMLPClassifier(**settings)), X, y, cv=5
        )
    assert ours.mean() >= 0.93
    assert abs(ours.mean() - theirs.mean()) <= 0.03, (ours.mean(), theirs.mean())


def test_string_labels_many_features_probabilities_and_pickling():
    X, codes = make_blobs(n_samples=120, n_features=5, centers=4, cluster_std=1.0, random_state=0)
    names = np.array(["ant", "bee", "cat", "dog"])[codes]
    model = MLPClassifier(hidden_layer_sizes=(12, 12), learning_rate_init=0.01, random_state=3)
    assert model.fit(X, names) is model
    assert list(model.classes_) == ["ant", "bee", "cat", "dog"]
    assert model.n_features_in_ == 5
    assert model.score(X, names) > 0.95
    proba = model.predict_proba(X)
    assert proba.shape == (120, 4)
    np.testing.assert_allclose(proba.sum(1), 1.0)
    assert (model.classes_[proba.argmax(1)] == model.predict(X)).all()
    assert model.decision_function(X).shape == (120, 4)
    assert len(model.loss_curve_) == model.n_iter_ == 200
    assert model.loss_curve_[-1] < model.loss_curve_[0] / 5
    assert [c.shape for c in model.coefs_] == [(5, 12), (12, 12), (12, 4)]

    # The state is plain tensors; a pickled model predicts exactly as the original.
    assert all(type(t) is torch.Tensor for t in model.state_dict_.values())
    again = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(again.predict_proba(X), proba)
    # ... and it is a plain PyTorch network.
    with torch.no_grad():
        logits = model.to_torch()(torch.as_tensor(X, dtype=torch.float32)).numpy()
    np.testing.assert_allclose(logits, model.decision_function(X), rtol=1e-4, atol=1e-4)
    # clone keeps the parameters and drops what was learned.
    assert clone(model).get_params() == model.get_params()
    assert not hasattr(clone(model), "classes_")


def test_two_classes_decide_by_the_sign_of_one_logit():
    X, y = _points("moons", 200, seed=0, noise=0.1)
    labels = np.where(y == 1, "yes", "no")
    model = MLPClassifier((16, 16), learning_rate_init=0.02, batch_size=20, max_iter=100)
    model.set_params(random_state=0).fit(X, labels)
    decision = model.decision_function(X)
    assert decision.shape == (200,)
    np.testing.assert_array_equal(model.predict(X), np.where(decision > 0, "yes", "no"))
    np.testing.assert_allclose(model.predict_proba(X)[:, 1], 1 / (1 + np.exp(-decision)))
    assert model.score(X, labels) > 0.9  # the moons overlap a little at this noise


def test_early_stopping_keeps_the_best_weights_and_stops():
    X, y = _points("moons", 300, seed=1, noise=0.1)
    model = MLPClassifier(
        hidden_layer_sizes=(64, 64),
        learning_rate_init=0.01,
        batch_size=32,
        max_iter=400,
        early_stopping=True,
        random_state=0,
    ).fit(X, y)
    assert model.n_iter_ < 400
    assert len(model.validation_scores_) == len(model.loss_curve_) == model.n_iter_
    assert model.best_validation_score_ == max(model.validation_scores_) > 0.85


def test_bad_parameters_are_one_clear_value_error():
    X, y = _points("moons", 40, seed=0)
    with pytest.raises(ValueError, match="solver must be one of .*minibatch"):
        MLPClassifier(solver="lbfgs").fit(X, y)
    with pytest.raises(ValueError, match="at least 2 classes"):
        MLPClassifier().fit(X, np.zeros(40))


def _assert_same_search_results(ours, theirs):
    assert sorted(ours.cv_results_) == sorted(theirs.cv_results_)
    for key, expected in theirs.cv_results_.items():
        got = ours.cv_results_[key]
        if key == "params":
            assert got == expected
        elif key.startswith("param_"):
            assert list(got) == list(expected), key
        elif key.startswith("std_") and "time" not in key:
            # A spread of fold scores that each agree to 1e-5: its own error is absolute.
            np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5, err_msg=key)
        elif "time" not in key:
            np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6, err_msg=key)
        assert np.shape(got) == np.shape(expected), key
    assert ours.best_index_ == theirs.best_index_
    assert ours.best_params_ == theirs.best_params_
    assert ours.best_score_ == pytest.approx(theirs.best_score_, rel=1e-5)


@pytest.mark.slow  # one grid searched twice, by PopulationSearchCV and GridSearchCV: ~6 s
def test_population_search_gives_grid_search_results_on_a_pipeline():
    # Two architectures (two populations), a scaler setting (earlier steps fitted per fold and
    # setting), early stopping in one candidate, two metrics, train scores.
    X, y = _points("circle", 150, seed=2, noise=0.1)
    X = X * 5 + 3  # the scaler has something to do
    pipe = Pipeline([("scale", StandardScaler()), ("mlp", MLPClassifier(random_state=0))])
    grid = [
        {
            "scale__with_mean": [True, False],
            "mlp__hidden_layer_sizes": [(8,), (8, 8)],
            "mlp__learning_rate_init": [0.003, 0.03],
            "mlp__max_iter": [60],
        },
        {"mlp__early_stopping": [True], "mlp__max_iter": [80], "mlp__batch_size": [32]},
    ]
    settings = dict(
        cv=StratifiedKFold(3, shuffle=True, random_state=0),
        scoring=["accuracy", "neg_log_loss"],
        refit="neg_log_loss",
        return_train_score=True,
    )
    ours = PopulationSearchCV(pipe, grid, **settings).fit(X, y)
    theirs = GridSearchCV(pipe, grid, **settings).fit(X, y)
    _assert_same_search_results(ours, theirs)
    assert isinstance(ours.best_estimator_, Pipeline)
    np.testing.assert_array_equal(ours.predict(X), theirs.predict(X))
    assert ours.score(X, y) == pytest.approx(theirs.score(X, y))


def test_population_search_samples_as_randomized_search():
    from scipy.stats import loguniform

    X, y = _points("xor", 120, seed=0, noise=0.05)
    model = MLPClassifier(hidden_layer_sizes=(8,), max_iter=40, random_state=1)
    space = {"learning_rate_init": loguniform(1e-3, 1e-1), "solver": ["adam", "sgd"]}
    settings = dict(n_iter=4, cv=2, random_state=5, scoring="neg_log_loss")
    ours = PopulationSearchCV(model, param_distributions=space, **settings).fit(X, y)
    theirs = RandomizedSearchCV(model, space, **settings).fit(X, y)
    _assert_same_search_results(ours, theirs)


@pytest.mark.filterwarnings("ignore:One or more of the test scores are non-finite")
def test_population_search_scores_failed_fits_as_grid_search_does():
    X, y = _points("xor", 80, seed=0, noise=0.05)
    model = MLPClassifier(hidden_layer_sizes=(8,), max_iter=20, random_state=1)
    grid = {"solver": ["sgd", "lbfgs"], "learning_rate_init": [0.1, 1e9]}
    with pytest.warns(FitFailedWarning):
        ours = PopulationSearchCV(model, grid, cv=2).fit(X, y)
    with pytest.warns(FitFailedWarning):
        theirs = GridSearchCV(model, grid, cv=2).fit(X, y)
    _assert_same_search_results(ours, theirs)
    # "lbfgs" fails in both; a learning rate of 1e9 diverges, which fit reports as an error.
    failed = np.isnan(ours.cv_results_["mean_test_score"])
    assert list(failed) == [False, True, True, True]


def test_population_search_refuses_what_it_cannot_train():
    X, y = _points("moons", 40, seed=0)
    with pytest.raises(TypeError, match="last step"):
        PopulationSearchCV(ScikitMLPClassifier(), {"alpha": [1e-4]}).fit(X, y)
    with pytest.raises(ValueError, match="exactly one of"):
        PopulationSearchCV(MLPClassifier()).fit(X, y)


def test_the_readme_example_runs(monkeypatch, capsys):
    root = Path(__file__).resolve().parents[1]
    readme = (root / "README.md").read_text()
    section = readme[readme.index("## With scikit-learn") :]
    code = section[section.index("```python") + len("```python") : section.index("```\n\n")]
    monkeypatch.chdir(root)
    exec(compile(code, "README.md", "exec"), {})
    params, predictions = capsys.readouterr().out.strip().splitlines()
    assert "mlpclassifier__learning_rate_init" in params
    assert predictions == "[1 0]"
