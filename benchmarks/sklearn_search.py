"""PopulationSearchCV against GridSearchCV, side by side in one run; results go to SKLEARN.md.

    uv run python benchmarks/sklearn_search.py [--repeats 2] [--device cpu]

The search of issue 13: 16 candidates x 5 folds on Ripley's synth training set (250 points,
`../shared/datasets/ripley_synth_train.csv`, loaded with `pointlab.data`), a Pipeline of
StandardScaler and the classifier, StratifiedKFold(5, shuffle=True, random_state=0), 300 epochs
full batch (batch_size "auto" is all 200 training points of a fold), random_state 0. Three ways:

1. `PopulationSearchCV(pointlab MLPClassifier)`: the 80 fits as populations;
2. `GridSearchCV(pointlab MLPClassifier, n_jobs=-1)`: 80 separate fits, joblib's processes;
3. `GridSearchCV(sklearn.neural_network.MLPClassifier, n_jobs=-1)`: scikit-learn's own estimator
   with the same parameters (it also stops when the training loss stalls: its `tol`).

Two grids: "one architecture" (learning_rate_init x alpha, 4 x 4: one population of 80) and
"four architectures" (hidden_layer_sizes x learning_rate_init, 4 x 4: four populations of 20).
Each search is timed from the call to the fitted search (refit included), and the best model is
scored on a fresh sample of 100,000 points from Ripley's distribution, next to the Bayes rule.
1 and 2 must agree on every score (the check column: largest difference in cv_results_).
"""

from __future__ import annotations

import argparse
import os
import platform
import time
import warnings
from pathlib import Path

import numpy as np
import sklearn
import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.neural_network import MLPClassifier as ScikitMLPClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from pointlab.data import load_csv
from pointlab.sklearn import MLPClassifier, PopulationSearchCV

ROOT = Path(__file__).resolve().parents[1]
RIPLEY = ROOT.parent / "shared" / "datasets" / "ripley_synth_train.csv"
OUT = ROOT / "benchmarks" / "SKLEARN.md"
# Ripley (1994): each class an equal mixture of two Gaussians with covariance 0.03 I.
MEANS = np.array([[(-0.7, 0.3), (0.3, 0.3)], [(-0.3, 0.7), (0.4, 0.7)]])  # (class, part, 2)
VARIANCE = 0.03
GRIDS = {
    "one architecture": {
        "mlp__learning_rate_init": [0.001, 0.003, 0.01, 0.03],
        "mlp__alpha": [1e-4, 1e-3, 1e-2, 1e-1],
    },
    "four architectures": {
        "mlp__hidden_layer_sizes": [(16,), (64,), (16, 16), (64, 64)],
        "mlp__learning_rate_init": [0.001, 0.003, 0.01, 0.03],
    },
}
SETTINGS = dict(hidden_layer_sizes=(32, 32), max_iter=300, random_state=0)


def ripley_sample(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    part = rng.integers(0, 2, n)
    return MEANS[y, part] + rng.normal(0, np.sqrt(VARIANCE), (n, 2)), y


def bayes_rule(X: np.ndarray) -> np.ndarray:
    def density(c: int) -> np.ndarray:  # the classes share the covariance: constants cancel
        return sum(np.exp(-((X - m) ** 2).sum(1) / (2 * VARIANCE)) for m in MEANS[c])

    return (density(1) > density(0)).astype(np.int64)


def searches(device: str) -> dict:
    ours = Pipeline(
        [("scale", StandardScaler()), ("mlp", MLPClassifier(**SETTINGS, device=device))]
    )
    theirs = Pipeline([("scale", StandardScaler()), ("mlp", ScikitMLPClassifier(**SETTINGS))])
    return {
        "PopulationSearchCV (pointlab)": lambda grid, cv: PopulationSearchCV(ours, grid, cv=cv),
        "GridSearchCV (pointlab, n_jobs=-1)": lambda grid, cv: GridSearchCV(
            ours, grid, cv=cv, n_jobs=-1
        ),
        "GridSearchCV (scikit-learn MLP, n_jobs=-1)": lambda grid, cv: GridSearchCV(
            theirs, grid, cv=cv, n_jobs=-1
        ),
    }


def run(repeats: int, device: str) -> str:
    data = load_csv(RIPLEY)
    X, y = data.X, data.y
    X_fresh, y_fresh = ripley_sample(100_000, seed=1)
    bayes = (bayes_rule(X_fresh) == y_fresh).mean()
    cv = StratifiedKFold(5, shuffle=True, random_state=0)
    lines = []
    for grid_name, grid in GRIDS.items():
        lines += [
            f"### {grid_name}: {' x '.join(k.split('__')[1] for k in grid)}",
            "",
            "| run | search | wall s | vs PopulationSearchCV | best params | best CV acc | "
            "fresh-sample acc | check |",
            "| ---: | --- | ---: | ---: | --- | ---: | ---: | --- |",
        ]
        for repeat in range(1, repeats + 1):
            fitted, times = {}, {}
            for name, make in searches(device).items():
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    start = time.perf_counter()
                    fitted[name] = make(grid, cv).fit(X, y)
                    times[name] = time.perf_counter() - start
            base = "PopulationSearchCV (pointlab)"
            for name, search in fitted.items():
                params = ", ".join(
                    f"{k.split('__')[1]}={v}" for k, v in search.best_params_.items()
                )
                check = ""
                if name == "GridSearchCV (pointlab, n_jobs=-1)":
                    a, b = fitted[base].cv_results_, search.cv_results_
                    diff = max(
                        np.abs(a[k] - b[k]).max() for k in b if k.startswith(("split", "mean_test"))
                    )
                    same = fitted[base].best_index_ == search.best_index_
                    check = f"max diff {diff:.1e}, same best: {same}"
                fresh = (search.predict(X_fresh) == y_fresh).mean()
                lines.append(
                    f"| {repeat} | {name} | {times[name]:.1f} | "
                    f"{times[name] / times[base]:.1f}x | {params} | {search.best_score_:.3f} | "
                    f"{fresh:.4f} | {check} |"
                )
        lines += ["", f"The Bayes rule on the same fresh sample: {bayes:.4f}.", ""]
    return "\n".join(lines)


def machine(device: str) -> str:
    load = os.getloadavg()
    where = torch.cuda.get_device_name() if device.startswith("cuda") else "the CPU"
    return (
        f"{platform.machine()}, {os.cpu_count()} cores, training on {where}; torch "
        f"{torch.__version__}, scikit-learn {sklearn.__version__}, Python "
        f"{platform.python_version()}; load average at the end {load[0]:.1f} / {load[1]:.1f} / "
        f"{load[2]:.1f} (1 / 5 / 15 min)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    table = run(args.repeats, args.device)
    text = f"{table}\nMachine: {machine(args.device)}.\n"
    print(text)
    if args.out != Path("-"):
        args.out.write_text(f"# PopulationSearchCV against GridSearchCV\n\n{text}")


if __name__ == "__main__":
    main()
