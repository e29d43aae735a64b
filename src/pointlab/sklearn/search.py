"""`PopulationSearchCV`: GridSearchCV's and RandomizedSearchCV's interface, trained as populations.

`GridSearchCV` fits one clone per candidate and fold, one after another (or a few at a time with
`n_jobs`). Here every candidate x fold becomes one engine member, and the members that share an
architecture (hidden layers, activation, optimizer kind, number of features and classes, device)
train together as one population, each on its own fold (`train_population`'s per-member
`train_index`). A member trains exactly as `MLPClassifier.fit` would train the same clone on the
same fold (the engine's reference test pins that down), so the scores are GridSearchCV's.

How one search runs:
1. candidates from `ParameterGrid(param_grid)` or `ParameterSampler(param_distributions, n_iter)`;
2. for each candidate x fold, a clone with the candidate's parameters; a Pipeline's earlier steps
   are fitted on the fold's training part (once per fold and setting of those steps, shared by
   the candidates that differ only in the classifier) and transform it;
3. the classifier validates its data and says what to train (`MLPClassifier._member_spec`);
4. members grouped by architecture, each group one `train_population` call;
5. each fitted clone is scored on its test fold by scikit-learn's own scorers, and the results
   are formatted by scikit-learn's `BaseSearchCV` (so `cv_results_` has GridSearchCV's keys);
6. with `refit`, the best candidate is fitted on all the data, as GridSearchCV does.

`fit_time` in `cv_results_` is a member's preprocessing plus an equal share of its population's
training time. Each member draws its own dropout masks (from its own seed), so every member's
results are those of a separate fit, with dropout too.

Not here: the estimator (`estimator.py`), pointlab's own sweeps and their store
(`pointlab.search`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from traceback import format_exc
from typing import Any

import numpy as np
from sklearn.base import clone, is_classifier
from sklearn.model_selection import ParameterGrid, ParameterSampler, check_cv
from sklearn.model_selection._search import BaseSearchCV
from sklearn.model_selection._validation import (
    _insert_error_scores,
    _score,
    _warn_or_raise_about_fit_failures,
)
from sklearn.pipeline import Pipeline
from sklearn.utils import indexable
from sklearn.utils.metaestimators import _safe_split

from pointlab.cpu import cpu_threads
from pointlab.engine import train_population
from pointlab.sklearn.estimator import MemberSpec, MLPClassifier


@dataclass
class _Member:
    """One candidate x fold: its clone, its fold, and what the engine trains for it."""

    model: Any  # the candidate's clone: an MLPClassifier or a Pipeline ending in one
    classifier: MLPClassifier
    train: np.ndarray
    test: np.ndarray
    block: tuple  # which transformed training data it trains on (fold, earlier steps)
    spec: MemberSpec | None = None
    error: str | None = None
    fit_time: float = 0.0


class PopulationSearchCV(BaseSearchCV):
    """Exhaustive (`param_grid`) or randomized (`param_distributions`, `n_iter`) search over an
    `MLPClassifier` or a Pipeline ending in one; candidates x folds train as populations.

    Parameters and fitted attributes are those of `GridSearchCV` / `RandomizedSearchCV`
    (`cv_results_`, `best_params_`, `best_score_`, `best_estimator_`, `best_index_`,
    `scorer_`, `n_splits_`, `refit_time_`, `multimetric_`), without `n_jobs`, `pre_dispatch`
    and `verbose`: the work is one batched program per architecture, and the library never
    prints. `random_state` seeds the sampling of `param_distributions`.
    """

    def __init__(
        self,
        estimator,
        param_grid=None,
        *,
        param_distributions=None,
        n_iter=10,
        scoring=None,
        refit=True,
        cv=None,
        random_state=None,
        error_score=np.nan,
        return_train_score=False,
    ):
        self.estimator = estimator
        self.param_grid = param_grid
        self.param_distributions = param_distributions
        self.n_iter = n_iter
        self.scoring = scoring
        self.refit = refit
        self.cv = cv
        self.random_state = random_state
        self.error_score = error_score
        self.return_train_score = return_train_score

    def _candidates(self) -> list[dict]:
        if (self.param_grid is None) == (self.param_distributions is None):
            raise ValueError(
                "PopulationSearchCV needs exactly one of param_grid (every combination) or "
                "param_distributions (n_iter samples)"
            )
        if self.param_grid is not None:
            return list(ParameterGrid(self.param_grid))
        return list(
            ParameterSampler(self.param_distributions, self.n_iter, random_state=self.random_state)
        )

    def fit(self, X, y, groups=None):
        """Train every candidate on every fold, then (with `refit`) the best on all of X."""
        scorers, refit_metric = self._get_scorers()
        X, y = indexable(X, y)
        cv = check_cv(self.cv, y, classifier=is_classifier(self.estimator))
        splits = list(cv.split(X, y, groups))
        self.n_splits_ = len(splits)
        candidates = self._candidates()
        if not candidates or not splits:
            raise ValueError("No fits were performed: no candidates or no folds")

        members = [
            self._member(params, fold, train, test)
            for params in candidates
            for fold, (train, test) in enumerate(splits)
        ]
        earlier_steps: dict[tuple, tuple] = {}  # block -> (fitted earlier steps, their output)
        for member in members:
            self._prepare(member, X, y, earlier_steps)
        del earlier_steps
        self._train(members)
        out = [self._score(member, X, y, scorers) for member in members]

        _warn_or_raise_about_fit_failures(out, self.error_score)
        if callable(self.scoring):
            _insert_error_scores(out, self.error_score)
        results = self._format_results(candidates, self.n_splits_, out)
        self.multimetric_ = isinstance(out[0]["test_scores"], dict)
        if callable(self.scoring) and self.multimetric_:
            self._check_refit_for_multimetric(out[0]["test_scores"])
            refit_metric = self.refit

        if self.refit or not self.multimetric_:
            self.best_index_ = self._select_best_index(self.refit, refit_metric, results)
            if not callable(self.refit):
                self.best_score_ = results[f"mean_test_{refit_metric}"][self.best_index_]
            self.best_params_ = results["params"][self.best_index_]
        if self.refit:
            self.best_estimator_ = clone(self.estimator).set_params(
                **clone(self.best_params_, safe=False)
            )
            start = time.perf_counter()
            self.best_estimator_.fit(X, y)
            self.refit_time_ = time.perf_counter() - start
            if hasattr(self.best_estimator_, "feature_names_in_"):
                self.feature_names_in_ = self.best_estimator_.feature_names_in_
        self.scorer_ = getattr(scorers, "_scorers", scorers)  # a dict when multi-metric
        self.cv_results_ = results
        return self

    # --- the steps of fit --------------------------------------------------------------------
    def _member(self, params: dict, fold: int, train, test) -> _Member:
        model = clone(self.estimator).set_params(**clone(params, safe=False))
        classifier = model.steps[-1][1] if isinstance(model, Pipeline) else model
        if not isinstance(classifier, MLPClassifier):
            raise TypeError(
                "PopulationSearchCV searches pointlab.sklearn.MLPClassifier or a Pipeline whose "
                f"last step is one; got {type(classifier).__name__}"
            )
        block: tuple = (fold,)
        if isinstance(model, Pipeline):
            # Candidates that differ only in the classifier share the earlier steps' fit.
            name = model.steps[-1][0]
            earlier = {
                k: v for k, v in params.items() if k != name and not k.startswith(name + "__")
            }
            block = (fold, repr(sorted(earlier.items())))
        return _Member(model, classifier, np.asarray(train), np.asarray(test), block)

    def _prepare(self, member: _Member, X, y, earlier_steps: dict) -> None:
        """Fit the earlier Pipeline steps (once per block) and let the classifier validate its
        fold; a failure is the member's fit error, as in GridSearchCV."""
        start = time.perf_counter()
        try:
            X_train, y_train = _safe_split(member.model, X, y, member.train)
            if isinstance(member.model, Pipeline):
                X_train = _transform(member, X_train, y_train, earlier_steps)
            member.spec = member.classifier._member_spec(X_train, y_train)
        except Exception:
            if self.error_score == "raise":
                raise
            member.error = format_exc()
        member.fit_time = time.perf_counter() - start

    def _train(self, members: list[_Member]) -> None:
        """One `train_population` per architecture; each member's rows are its block's."""
        groups: dict[tuple, list[_Member]] = {}
        for member in members:
            if member.spec is not None:
                spec = member.spec
                key = (
                    spec.config.group_key(),
                    spec.X.shape[1],
                    spec.n_classes,
                    spec.config.early_stopping is not None,
                    member.classifier.device,
                )
                groups.setdefault(key, []).append(member)
        for key, group in groups.items():
            offsets: dict[tuple, int] = {}
            blocks: list[MemberSpec] = []
            for member in group:
                if member.block not in offsets:
                    offsets[member.block] = sum(len(b.X) for b in blocks)
                    blocks.append(_spec(member))
            X = np.concatenate([b.X for b in blocks])  # (sum of block rows, D)
            y = np.concatenate([b.y for b in blocks])
            specs = [_spec(m) for m in group]
            early = key[3]
            train_index = [offsets[m.block] + _spec(m).train_index for m in group]
            val_index = [offsets[m.block] + _val_index(m) for m in group] if early else None
            start = time.perf_counter()
            with cpu_threads(key[4]):
                results = train_population(
                    [s.config for s in specs],
                    X,
                    y,
                    train_index=train_index,
                    val_index=val_index,
                    n_classes=key[2],
                    device=key[4],
                    # Early stopping looks at every epoch; otherwise only the end matters here.
                    log_every=1 if early else max(s.config.epochs for s in specs),
                )
            share = (time.perf_counter() - start) / len(group)
            for member, result in zip(group, results, strict=True):
                member.fit_time += share
                try:
                    member.classifier._set_fitted(result)
                except ValueError:
                    if self.error_score == "raise":
                        raise
                    member.error = format_exc()

    def _score(self, member: _Member, X, y, scorers) -> dict:
        """The dict `_fit_and_score` returns, so scikit-learn's own formatting reads it."""
        X_test, y_test = _safe_split(member.model, X, y, member.test, member.train)
        out: dict = {"fit_error": member.error, "n_test_samples": len(member.test)}
        out["fit_time"], out["score_time"] = member.fit_time, 0.0
        if member.error is not None:
            names = getattr(scorers, "_scorers", None)
            scores = self.error_score if names is None else dict.fromkeys(names, self.error_score)
            out["test_scores"] = scores
            if self.return_train_score:
                out["train_scores"] = scores
            return out
        start = time.perf_counter()
        out["test_scores"] = _score(member.model, X_test, y_test, scorers, {}, self.error_score)
        out["score_time"] = time.perf_counter() - start
        if self.return_train_score:
            X_train, y_train = _safe_split(member.model, X, y, member.train)
            out["train_scores"] = _score(
                member.model, X_train, y_train, scorers, {}, self.error_score
            )
        return out


def _spec(member: _Member) -> MemberSpec:
    assert member.spec is not None, "only members whose data were prepared are trained"
    return member.spec


def _val_index(member: _Member) -> np.ndarray:
    spec = _spec(member)
    assert spec.val_index is not None, "early stopping holds out validation rows"
    return spec.val_index


def _transform(member: _Member, X_train, y_train, earlier_steps: dict):
    """The fold's training part through the Pipeline's earlier steps, fitted once per block."""
    fitted = earlier_steps.get(member.block)
    if fitted is None:
        earlier = member.model[:-1]
        fitted = (earlier.steps, earlier.fit_transform(X_train, y_train))
        earlier_steps[member.block] = fitted
    steps, X_transformed = fitted
    member.model.steps = [*steps, member.model.steps[-1]]
    return X_transformed
