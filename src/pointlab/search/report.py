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
    total = float(np.sum((loss - loss.mean()) ** 2)) or 1.0
    out = {}
    for p in params:
        values = [r.params.get(p.name) for r in done]
        if p.kind == "choice":
            labels = np.array([p.choices.index(v) if v in p.choices else -1 for v in values])
        else:
            x = np.array(values, dtype=float)
            x = np.log(x) if p.log else x
            edges = np.unique(np.quantile(x, np.linspace(0, 1, 6)[1:-1]))
            labels = np.searchsorted(edges, x)
        between = sum(
            (labels == b).sum() * (loss[labels == b].mean() - loss.mean()) ** 2
            for b in np.unique(labels)
        )
        out[p.name] = float(between / total)
    return dict(sorted(out.items(), key=lambda kv: -kv[1]))


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
