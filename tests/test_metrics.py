"""Per-class recall, balanced accuracy and precision-recall: `pointlab.metrics` against
scikit-learn, and where a user reads them (`pointlab evaluate`, `pointlab train`'s summary,
config.json, precision_recall.png)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console
from sklearn.metrics import (
    average_precision_score,
    balanced_accuracy_score,
    precision_recall_curve,
    recall_score,
)

from pointlab import metrics
from pointlab.cli import main
from pointlab.data import save_csv
from pointlab.generators import make
from pointlab.runs import load_run

from conftest import is_png, quiet


@pytest.mark.parametrize("classes", [2, 3, 4])
def test_recall_and_balanced_accuracy_are_scikit_learns(classes):
    rng = np.random.default_rng(classes)
    for _ in range(20):
        y = rng.integers(0, classes, 30)
        predicted = np.where(rng.random(30) < 0.6, y, rng.integers(0, classes, 30))
        expected = recall_score(y, predicted, average=None, labels=np.arange(classes))
        present = np.isin(np.arange(classes), y)
        recall = metrics.class_recall(y, predicted, classes)
        np.testing.assert_allclose(recall[present], expected[present])
        assert np.isnan(recall[~present]).all()
        assert metrics.balanced_accuracy(y, predicted, classes) == pytest.approx(
            balanced_accuracy_score(y, predicted)
        )


def test_majority_everywhere_scores_high_accuracy_and_half_balanced_accuracy():
    y = np.r_[np.zeros(95, dtype=int), np.ones(5, dtype=int)]
    predicted = np.zeros(100, dtype=int)
    assert metrics.class_recall(y, predicted, 2).tolist() == [1.0, 0.0]
    assert metrics.balanced_accuracy(y, predicted, 2) == 0.5


def test_precision_recall_curve_and_average_precision_are_scikit_learns():
    rng = np.random.default_rng(0)
    for _ in range(30):
        y = (rng.random(40) < 0.2).astype(int)
        y[0] = 1
        score = np.round(rng.random(40), 1)  # ties too
        curve = metrics.precision_recall(y, score)
        precision, recall, thresholds = precision_recall_curve(y, score)
        # scikit-learn: rising thresholds, and the end point (precision 1, recall 0) added
        np.testing.assert_allclose(curve.thresholds, thresholds[::-1])
        np.testing.assert_allclose(curve.precision, precision[:-1][::-1])
        np.testing.assert_allclose(curve.recall, recall[:-1][::-1])
        assert curve.average_precision == pytest.approx(average_precision_score(y, score), 1e-12)
        assert curve.positive_share == pytest.approx(y.mean())
    assert np.isnan(metrics.precision_recall(np.zeros(5), np.arange(5.0)).average_precision)


@pytest.fixture(scope="module")
def imbalanced_run(tmp_path_factory) -> tuple[Path, Path]:
    """A class-weighted run on moons with 1 point of class 1 in 8, and a file to evaluate."""
    folder = tmp_path_factory.mktemp("imbalanced")
    data = make("moons", n=320, noise=0.05, seed=0)
    keep = (data.y == 0) | (np.arange(len(data)) % 8 == 0)
    path = folder / "moons.csv"
    save_csv(data.subset(np.flatnonzero(keep)), path)
    out = folder / "run"
    argv = ["train", str(path), "--epochs", "60", "--layers", "16", "--seed", "2"]
    argv += ["--class-weight", "balanced", "--out", str(out)]
    printed = Console(file=io.StringIO(), width=200)
    assert main(argv, printed) == 0
    (out / "printed.txt").write_text(printed.file.getvalue())  # type: ignore[attr-defined]
    return out, path


def test_evaluate_reports_recall_balanced_accuracy_and_average_precision(imbalanced_run, capsys):
    out, path = imbalanced_run
    assert main(["evaluate", str(out), str(path), "--json"], quiet()) == 0
    numbers = json.loads(capsys.readouterr().out)
    run = load_run(out)
    from pointlab.data import load_csv

    data = load_csv(str(path))
    predicted = run.model.predict(data.X)
    assert numbers["recall"] == pytest.approx(list(recall_score(data.y, predicted, average=None)))
    assert numbers["balanced_accuracy"] == pytest.approx(balanced_accuracy_score(data.y, predicted))
    expected = average_precision_score(data.y, run.model.predict_proba(data.X)[:, 1])
    assert numbers["average_precision"] == pytest.approx(expected, rel=1e-6)
    assert main(["evaluate", str(out), str(path)], Console(file=io.StringIO())) == 0


def test_train_prints_and_records_per_class_numbers_and_draws_precision_recall(imbalanced_run):
    out, _ = imbalanced_run
    printed = (out / "printed.txt").read_text()
    assert "validation: recall of class 0: " in printed and "balanced accuracy" in printed
    assert "precision_recall.png" in printed and is_png(out / "precision_recall.png")
    scores = json.loads((out / "config.json").read_text())["result"]["scores"]
    assert set(scores) == {"train", "val"}
    val = scores["val"]
    assert val["balanced_accuracy"] == pytest.approx(np.mean(val["recall"]))
    assert 0 <= val["average_precision"] <= 1


def test_three_classes_get_no_precision_recall_picture(tmp_path):
    path = tmp_path / "gauss.csv"
    save_csv(make("gauss", n=90, classes=3, seed=0), path)
    out = tmp_path / "run"
    argv = ["train", str(path), "--epochs", "5", "--layers", "4", "--out", str(out)]
    assert main(argv, quiet()) == 0
    assert not (out / "precision_recall.png").exists()
    scores = json.loads((out / "config.json").read_text())["result"]["scores"]
    assert len(scores["train"]["recall"]) == 3 and scores["train"]["average_precision"] is None


def test_a_model_scores_many_points_a_chunk_at_a_time(monkeypatch):
    from pointlab import checkpoint
    from pointlab.config import TrainConfig
    from pointlab.engine.models import Architecture, init_theta, member_state

    arch = Architecture((8,), "relu", 2)
    state = member_state(arch, init_theta(arch, [0]), 0, False)
    model = checkpoint.TrainedModel(TrainConfig(hidden=(8,)), 2, state)
    data = make("moons", n=1000, noise=0.1, seed=1)
    whole = model.logits(data.X)
    monkeypatch.setattr(checkpoint, "CHUNK", 300)  # 4 chunks, the last one short
    np.testing.assert_allclose(model.logits(data.X), whole, rtol=1e-6, atol=1e-7)
    assert model.score(data).balanced_accuracy == pytest.approx(
        metrics.balanced_accuracy(data.y, (whole[:, 0] > 0).astype(int), 2)
    )
