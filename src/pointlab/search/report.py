"""What a finished sweep says: the ranking of trials, how much each hyperparameter mattered, and
the JSON summary. Pure functions of the store's rows; the CLI and the plots draw from them.

Importance here is simple and dependency-free: the share of the variance of log validation loss
explained by each hyperparameter alone, its values binned into (at most) five quantile bins, the
correlation ratio eta². It ranks dimensions for the pictures; it is not fANOVA.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from pointlab.search.space import Param
from pointlab.search.store import TrialRow


def ranked(rows: Sequence[TrialRow]) -> list[TrialRow]:
    """Finished trials, best (lowest validation loss) first; pruned ones after completed ones."""
    done = [r for r in rows if r.state in ("complete", "pruned") and r.value is not None]
    return sorted(done, key=lambda r: (r.state != "complete", _finite(r.value), r.slot))


def importance(rows: Sequence[TrialRow], params: Sequence[Param]) -> dict[str, float]:
    """eta² of log validation loss for each hyperparameter, highest first (completed trials)."""
    done = [r for r in rows if r.state == "complete" and r.value and math.isfinite(r.value)]
    if len(done) < 3:
        return {p.name: 0.0 for p in params}
    loss = np.log(np.array([r.value for r in done]))  # (n,)
    shares = main_effects([r.params for r in done], loss, params, bins=5)
    return dict(sorted(shares.items(), key=lambda kv: -kv[1]))


def main_effects(
    points: Sequence[dict], values: np.ndarray, params: Sequence[Param], bins: int = 5
) -> dict[str, float]:
    """First-order functional ANOVA by binning: Var(E[value | h]) / Var(value) for each
    hyperparameter h (the correlation ratio eta²), in the order of `params`.

    Ranges are cut into `bins` quantile bins on their search scale (log for log ranges), choices
    keep their categories. With independent draws (random search) averaging within a bin
    marginalizes over all the other hyperparameters; a share carries a floor of about
    (bins - 1) / n from noise alone."""
    values = np.asarray(values, dtype=float)  # (n,)
    total = float(np.sum((values - values.mean()) ** 2)) or 1.0
    out = {}
    for p in params:
        chosen = [point.get(p.name) for point in points]
        if p.kind == "choice":
            labels = np.array([p.choices.index(v) if v in p.choices else -1 for v in chosen])
        else:
            x = np.array(chosen, dtype=float)
            x = np.log(x) if p.log else x
            edges = np.unique(np.quantile(x, np.linspace(0, 1, bins + 1)[1:-1]))
            labels = np.searchsorted(edges, x)
        between = sum(
            (labels == b).sum() * (values[labels == b].mean() - values.mean()) ** 2
            for b in np.unique(labels)
        )
        out[p.name] = float(between / total)
    return out


def summary(result, setup, study: str, storage: str) -> dict:
    """The `--json` document: every trial, the best, the retrain and the test, apart."""
    trials = [
        {
            "trial": r.slot,
            "optuna_number": r.number,
            "state": r.state,
            "params": r.params,
            "status": (r.result or {}).get("status"),
            "val_loss": _json_number(r.value),
            "val_acc": (r.result or {}).get("val_acc"),
            "best_epoch": (r.result or {}).get("best_epoch"),
            # Which process trained it (host:pid), and on a Ray cluster which node.
            "worker": (r.result or {}).get("worker"),
            "node": (r.result or {}).get("node"),
        }
        for r in result.rows
    ]
    return {
        "study": study,
        "storage": storage,
        "strategy": setup.strategy,
        "space": [p.spec for p in setup.params],
        "validation": f"{setup.cv}-fold cross-validation"
        if setup.cv
        else f"one split, {setup.val_fraction:g} of the training data",
        "trials": trials,
        "best": {
            "trial": result.best.slot,
            "params": result.best.params,
            "val_loss": result.best.value,
            "val_acc": result.best.result["val_acc"],
            "best_epoch": result.best.result["best_epoch"],
        },
        "retrain": {
            "config": result.config.to_dict(),
            "n_train": result.n_train,
            "epochs": result.config.epochs,
        },
        "test": result.test,
    }


def _finite(value: float | None) -> float:
    return value if value is not None and math.isfinite(value) else math.inf


def _json_number(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None
