"""The few places where pointlab reaches past Optuna's public API, kept together in one file.

The study store (`store.py`) runs Optuna's queue its own way: many processes claim WAITING trials
that one planner enqueued, a batch at a time, and each claimed trial gets its parameters before it
trains (a population trains many trials at once, so `Study.ask`, which makes a new trial per call
and samples one parameter at a time inside an objective, does not fit). Optuna has no public API for
"claim this queued trial and hand me a `Trial` for it", so this module uses these private parts:

- `Study._storage` and `Study._study_id`: the study's own (caching) storage and the id its rows are
  kept under. `Study.ask` pops the queue through exactly these; going through the study's caching
  storage (not the RDBStorage we opened) lets it learn of trials other processes created.
- `Trial._trial_id` / `FrozenTrial._trial_id`: the storage id of a trial (its `number` counts
  within the study only), which the storage's public methods take.
- `Trial(study, trial_id)`: the constructor, documented as "not recommended for direct use".
- `Trial._suggest(name, distribution)`: sets a planned parameter (or samples one, for tpe) by its
  distribution, as `suggest_float` & co. do, without knowing which kind it is.
- the system attribute "fixed_params": where `Study.enqueue_trial` keeps a queued trial's planned
  parameters.
- `RDBStorage`'s ORM models and scoped session (`optuna.storages._rdb`): to read each RUNNING
  trial's last heartbeat on the database's clock, as `RDBStorage._get_stale_trial_ids` does, but
  judged by the grace period the trial's holder recorded rather than by the reader's own.

pyproject.toml pins Optuna below its next major version, where these may change; the tests of
`pointlab sweep` (resume, kill, two workers) exercise every function here.

Not here: the store's design and database handling (`store.py`), the sweep (`sweep.py`).
"""

from __future__ import annotations

import time
from typing import Any

import optuna
import sqlalchemy
from optuna.distributions import BaseDistribution
from optuna.trial import FrozenTrial, TrialState


def waiting_trials(study: optuna.Study) -> list[FrozenTrial]:
    """The study's queued (WAITING) trials, read through the study's own caching storage."""
    return study._storage.get_all_trials(
        study._study_id, deepcopy=False, states=(TrialState.WAITING,)
    )


def trial_id(trial: optuna.Trial | FrozenTrial) -> int:
    """The storage's id of a trial (the argument of the storage's public methods)."""
    return trial._trial_id


def try_start(study: optuna.Study, trial: FrozenTrial) -> bool:
    """Move a WAITING trial to RUNNING; False when another process took it first (the database
    lets only one process make that change)."""
    try:
        return study._storage.set_trial_state_values(trial._trial_id, TrialState.RUNNING)
    except optuna.exceptions.UpdateFinishedTrialError:
        return False


def running_trial(
    study: optuna.Study,
    trial: FrozenTrial,
    distributions: dict[str, BaseDistribution],
    user_attrs: dict[str, Any] | None = None,
) -> optuna.Trial:
    """A live `optuna.Trial` for a trial this process started: `user_attrs` written first, then
    every parameter of `distributions` set, the planned value where the trial has one, else
    sampled now."""
    live = optuna.Trial(study, trial._trial_id)
    for key, value in (user_attrs or {}).items():
        live.set_user_attr(key, value)
    for name, distribution in distributions.items():
        live._suggest(name, distribution)
    return live


def planned_params(trial: FrozenTrial) -> dict[str, Any]:
    """A trial's parameters: set ones, else those `Study.enqueue_trial` planned for it."""
    return dict(trial.params) or dict(trial.system_attrs.get("fixed_params", {}))


def stale_trials(
    storage: optuna.storages.RDBStorage,
    study: optuna.Study,
    default: float,
    unbeaten: dict[int, float] | None = None,
) -> list[int]:
    """Ids of the study's RUNNING trials silent for longer than their holder's grace period: the
    user attr `stale_after` (seconds) its holder wrote when it claimed the trial, else `default`.
    Heartbeats and "now" are both the database's clock.

    A trial that never beat (its holder died between claiming it and its first beat, which follow
    each other within milliseconds) is judged by `unbeaten`: the caller's own record of when it
    first saw the trial running without a beat (`time.monotonic()`, kept across calls), so that no
    two clocks are compared. Optuna never judges such a trial, and its slot was lost for good: a
    killed worker's other workers then waited for it forever."""
    from optuna.storages._rdb import models
    from optuna.storages._rdb.storage import _create_scoped_session

    running = {
        t._trial_id: t.user_attrs.get("stale_after")
        for t in storage.get_all_trials(
            study._study_id, deepcopy=False, states=(TrialState.RUNNING,)
        )
    }
    if not running:
        return []
    with _create_scoped_session(storage.scoped_session) as session:
        now = session.execute(sqlalchemy.func.now()).scalar()
        beats = (
            session.query(models.TrialHeartbeatModel.trial_id, models.TrialHeartbeatModel.heartbeat)
            .filter(models.TrialHeartbeatModel.trial_id.in_(list(running)))
            .all()
        )
    assert now is not None
    now = now.replace(tzinfo=None)  # PostgreSQL's now() has a time zone, the column none

    def grace_of(trial_id: int) -> float:
        grace = running[trial_id]
        if not isinstance(grace, int | float) or grace <= 0:
            grace = default  # claimed by a pointlab that did not record its terms
        return float(grace)

    stale = [t for t, beat in beats if (now - beat).total_seconds() > grace_of(t)]
    if unbeaten is not None:
        beaten = {t for t, _ in beats}
        seen = time.monotonic()
        for trial_id in set(unbeaten) - (set(running) - beaten):
            del unbeaten[trial_id]  # it beat since, or it is no longer running
        for trial_id in set(running) - beaten:
            first = unbeaten.setdefault(trial_id, seen)
            if seen - first > grace_of(trial_id):
                stale.append(trial_id)
    return sorted(stale)
