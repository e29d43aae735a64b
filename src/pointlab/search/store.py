"""The study store: every trial of a sweep in a real database, through Optuna's RDB storage.

A sweep is one Optuna study (SQLite file by default, any SQLAlchemy URL with `--storage`), so
`optuna-dashboard URL` shows it. Design:
- The process that creates the study writes the sweep's setup (data, space, strategy, epochs, ...)
  as a study attribute and enqueues one WAITING trial per planned slot (user attr `slot`, with its
  parameters already set for grid, random and halving). Creating a study is atomic in the
  database, so of two processes started together exactly one plans; the other waits for the plan.
- A worker claims WAITING trials by switching them to RUNNING, which the database lets only one
  process do (Optuna's own queue pop), so no trial runs twice. It never creates trials. It writes
  itself into the claimed trial (user attr `holder`, "host:pid"), so the dashboard, or a person,
  can tell which process holds a RUNNING trial.
- While it trains, a thread records an Optuna heartbeat for each claimed trial. A trial left
  RUNNING by a killed process stops beating; any worker fails it and re-enqueues its slot with the
  same parameters (RetryHeartbeatStaleTrialCallback) once it has been silent for longer than the
  `stale_after` its holder claimed it with (user attr `stale_after`, written before its first beat):
  a worker started with a shorter `--stale-after` must not take a live trial whose holder beats
  at its own, slower pace. Ctrl-C, SIGTERM, or any error that ends a sweep give back the trials
  still held at once (`guard`).
- When the database goes away mid-sweep, `guard` ends the sweep with one `UserError` that says so
  and that the same command resumes; the trials it held are given back if the database answers,
  else they go stale and run again.
- A finished trial holds its value (validation loss), state COMPLETE or PRUNED, and user attrs
  `config`, `result` (metrics) and `history`. A slot is done when one of its trials finished; the
  table shows one row per slot, so a re-run trial is counted once.

Not here: the parts of Optuna's private API that claiming a queued trial needs
(`optuna_adapter.py`), the sweep that drives the store (`sweep.py`).
"""

from __future__ import annotations

import contextlib
import math
import os
import socket
import threading
import time
import warnings
from dataclasses import dataclass

import optuna
import sqlalchemy.exc
from optuna.exceptions import StorageInternalError, UpdateFinishedTrialError
from optuna.storages import RDBStorage, RetryHeartbeatStaleTrialCallback
from optuna.trial import TrialState

from pointlab.errors import SettingError, UserError
from pointlab.search import optuna_adapter
from pointlab.search.urls import masked

HOLDER = f"{socket.gethostname()}:{os.getpid()}"  # this process, as claimed trials name it

_DONE = (TrialState.COMPLETE, TrialState.PRUNED)
CONNECT_TIMEOUT = 10  # seconds to reach a PostgreSQL server
_PLAN_WAIT = 30.0  # seconds a second process waits for the first to finish planning
MAX_NAME = 512  # characters: Optuna's studies.study_name is a VARCHAR(512)
DATABASE_ERRORS = (sqlalchemy.exc.SQLAlchemyError, StorageInternalError)


@dataclass
class TrialRow:
    """One planned slot of a sweep, as its finished (or latest) trial left it."""

    slot: int
    number: int  # Optuna's trial number
    state: str  # complete | pruned | running | waiting | failed
    params: dict
    value: float | None  # validation loss: the score, lower is better
    config: dict | None
    result: dict | None
    history: dict | None


def lowest(rows: list[TrialRow], none_finished: str) -> TrialRow:
    """The finished trial with the lowest finite value (the earliest slot on a tie): a sweep's
    best, whatever its score. With none, a UserError that says `none_finished`."""
    finished = [
        r for r in rows if r.state == "complete" and r.value is not None and math.isfinite(r.value)
    ]
    if not finished:
        raise UserError(none_finished)
    return min(finished, key=lambda r: (r.value, r.slot))


def one_line(error: BaseException) -> str:
    """The database's own words, without SQLAlchemy's echo of the SQL and its help link (the
    message of a `UserError` is one line)."""
    if isinstance(error, StorageInternalError) and error.__cause__ is not None:
        error = error.__cause__  # Optuna's wrapper says only "an exception is raised"
    reason = getattr(error, "orig", None) or error  # the DBAPI error SQLAlchemy wraps
    text = str(reason).strip().splitlines()
    return text[0] if text else type(reason).__name__


def open_storage(url: str, **options) -> RDBStorage:
    """Optuna's RDB storage at `url` (SQLite, PostgreSQL, any SQLAlchemy URL), its tables made if
    new. Several processes may open a new database at once: the one that loses the race to create
    the schema (an IntegrityError or "table already exists" on SQLite, IntegrityError or
    ProgrammingError on PostgreSQL) waits and opens what the winner made. A PostgreSQL server that
    does not answer is given up after `CONNECT_TIMEOUT` seconds (libpq would wait for ever). Error
    messages show the URL with its password masked."""
    engine_kwargs: dict = {}
    if url.startswith("sqlite"):
        engine_kwargs = {"connect_args": {"timeout": 60}}
    elif url.startswith("postgresql"):
        engine_kwargs = {"connect_args": {"connect_timeout": CONNECT_TIMEOUT}}
    shown = masked(url)
    for attempt in range(5):
        try:
            with warnings.catch_warnings():  # heartbeat_interval is "experimental"
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                storage = RDBStorage(url, engine_kwargs=engine_kwargs, **options)
            if url.startswith("sqlite"):
                _serialize_sqlite(storage.engine)
            return storage
        except (sqlalchemy.exc.IntegrityError, sqlalchemy.exc.ProgrammingError):
            time.sleep(0.5 * (attempt + 1))
        except sqlalchemy.exc.OperationalError as error:
            # SQLite names the lost race "table ... already exists" (seen with two sweeps started
            # together on a loaded machine); any other operational error is the user's to see.
            if "already exists" not in str(error):
                raise SettingError(
                    "{storage} "
                    + SettingError.literal(
                        f"{shown}: cannot open the study database ({one_line(error)})"
                    )
                ) from None
            time.sleep(0.5 * (attempt + 1))
        except (*DATABASE_ERRORS, ImportError, ValueError) as error:
            raise SettingError(
                "{storage} "
                + SettingError.literal(
                    f"{shown}: cannot open the study database ({one_line(error)})"
                )
            ) from None
    raise SettingError(
        "{storage} " + SettingError.literal(f"{shown}: cannot create the study tables")
    )


def _serialize_sqlite(engine) -> None:
    """Make every transaction on this SQLite engine take the write lock when it begins.

    Optuna changes a trial's state by reading it and then writing it in one transaction, with a
    row lock (`SELECT ... FOR UPDATE`) that SQLite ignores. SQLite's default deferred transaction
    takes the write lock only at the write, so two processes could both read RUNNING and both
    write: a reaper's FAIL and the holder's COMPLETE both "won", and the slot ran twice (or two
    workers claimed one WAITING trial). `BEGIN IMMEDIATE` takes the lock before the read, so one
    process sees the other's change, as PostgreSQL's row lock makes it. The SQLAlchemy recipe:
    the driver's own transaction handling off, our BEGIN on each transaction; the connections
    opened while the tables were made are dropped so that every later one follows it."""
    from sqlalchemy import event

    def no_driver_transactions(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None

    def begin_immediate(connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    event.listen(engine, "connect", no_driver_transactions)
    event.listen(engine, "begin", begin_immediate)
    engine.dispose()


class Store:
    def __init__(self, url: str, study_name: str, *, stale_after: int = 60) -> None:
        check_options(study_name, stale_after)
        self.url, self.study_name, self.stale_after = url, study_name, stale_after
        self.shown = masked(url)  # the URL as messages show it: no password
        with warnings.catch_warnings():  # the callback is "experimental"
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            self._retry = RetryHeartbeatStaleTrialCallback()
        self.storage = open_storage(
            url,
            # SQLite keeps heartbeats to the second: leave a few beats of slack.
            heartbeat_interval=max(1, stale_after // 5 - 1),
            grace_period=stale_after,
            heartbeat_stale_trial_callback=self._retry,
        )
        self._study: optuna.Study | None = None  # set by `open`
        self._held: set[int] = set()
        # RUNNING trials of others seen without a heartbeat, and since when (time.monotonic()).
        self._unbeaten: dict[int, float] = {}
        self._lock = threading.Lock()

    @property
    def study(self) -> optuna.Study:
        """The sweep's study, once `open` created or joined it."""
        if self._study is None:
            raise RuntimeError("Store.open() must come before any use of the study")
        return self._study

    def open(
        self,
        setup: dict,
        slots: list[dict],
        distributions: dict,
        sampler: optuna.samplers.BaseSampler,
    ) -> bool:
        """Create the study and plan its slots, or join the existing one with the same setup.
        Returns True when this call created the study."""
        name, storage = self.study_name, self.storage
        try:
            self._study = optuna.create_study(
                direction="minimize", study_name=name, storage=storage, sampler=sampler
            )
        except optuna.exceptions.DuplicatedStudyError:
            self._study = optuna.load_study(study_name=name, storage=storage, sampler=sampler)
            self._join(setup, slots, distributions)
            return False
        self.study.set_user_attr("setup", setup)
        self._enqueue(slots, range(len(slots)), distributions)
        self.study.set_user_attr("planned", len(slots))
        return True

    def _join(self, setup: dict, slots: list[dict], distributions: dict) -> None:
        deadline = time.monotonic() + _PLAN_WAIT
        while "planned" not in self.study.user_attrs and time.monotonic() < deadline:
            time.sleep(0.2)
        old = self.study.user_attrs.get("setup")
        if old is not None and old != setup:
            keys = sorted(k for k in set(old) | set(setup) if old.get(k) != setup.get(k))
            raise UserError(
                f"study {self.study_name!r} in {self.shown} was made by a different sweep "
                f"(differs in: {', '.join(keys)}); run the same command to resume it, or pick "
                "another --study or --out"
            )
        if "planned" not in self.study.user_attrs:  # its planner died half-way: finish the plan
            present = {t.user_attrs.get("slot") for t in self.study.get_trials(deepcopy=False)}
            self._enqueue(slots, [i for i in range(len(slots)) if i not in present], distributions)
            self.study.set_user_attr("setup", setup)
            self.study.set_user_attr("planned", len(slots))

    def _enqueue(self, slots: list[dict], which, distributions: dict) -> None:
        for i in which:
            # Planned parameters go in with the trial (one write): claiming needs no more.
            params = slots[i]
            self.study.add_trial(
                optuna.trial.create_trial(
                    state=TrialState.WAITING,
                    params=params,
                    distributions={k: distributions[k] for k in params},
                    user_attrs={"slot": i},
                )
            )

    def claim(self, n: int, distributions: dict) -> list[optuna.Trial]:
        """Up to n WAITING trials, now RUNNING and held by this process, with their parameters
        (planned, or sampled now for tpe)."""
        claimed: list[optuna.Trial] = []
        for frozen in optuna_adapter.waiting_trials(self.study):
            if len(claimed) == n:
                break
            if not optuna_adapter.try_start(self.study, frozen):
                continue  # another process claimed it first
            trial_id = optuna_adapter.trial_id(frozen)
            with self._lock:
                self._held.add(trial_id)
            # Our terms before our first beat: a trial that beats is judged by its holder's.
            self.storage.set_trial_user_attr(trial_id, "stale_after", self.stale_after)
            self.storage.record_heartbeat(trial_id)
            attrs = {"holder": HOLDER}
            claimed.append(optuna_adapter.running_trial(self.study, frozen, distributions, attrs))
        return claimed

    def finish(self, trial: optuna.Trial, value: float, pruned: bool, attrs: dict) -> bool:
        """Record a trial's result; False if another process had already given it up as lost
        (no heartbeat for `stale_after` seconds): its slot then runs again there."""
        try:
            for key, item in attrs.items():
                trial.set_user_attr(key, item)
            if pruned:
                trial.report(value, attrs["result"]["stopped_epoch"])
                self.study.tell(trial, state=TrialState.PRUNED)
            else:
                self.study.tell(trial, value)
            return True
        except UpdateFinishedTrialError:
            return False
        finally:
            with self._lock:
                self._held.discard(optuna_adapter.trial_id(trial))

    def release(self, trials: list[optuna.Trial]) -> None:
        """Give back unfinished trials (Ctrl-C): failed, and their slots enqueued again. Best
        effort: a trial the database cannot be told of now goes stale and runs again later."""
        self._give_back([optuna_adapter.trial_id(trial) for trial in trials])

    def _give_back(self, trial_ids: list[int]) -> None:
        for trial_id in trial_ids:
            with self._lock:
                self._held.discard(trial_id)
        for trial_id in trial_ids:
            try:
                self._requeue(trial_id)
            except DATABASE_ERRORS:
                return  # the database is gone: the rest would fail (and wait) the same way

    def reap(self) -> None:
        """Fail the trials whose holder stopped beating for longer than its own `stale_after`,
        and enqueue their slots again."""
        stale = optuna_adapter.stale_trials(
            self.storage, self.study, self.stale_after, self._unbeaten
        )
        for trial_id in stale:
            self._requeue(trial_id)

    def _requeue(self, trial_id: int) -> None:
        """Fail a RUNNING trial and enqueue its slot again, unless it finished (or another process
        failed it) first: the database lets one process make that change."""
        with contextlib.suppress(UpdateFinishedTrialError):
            if self.storage.set_trial_state_values(trial_id, TrialState.FAIL):
                self._retry(self.study, self.storage.get_trial(trial_id))

    @contextlib.contextmanager
    def guard(self):
        """Around a sweep: whatever ends it early (Ctrl-C, SIGTERM, an error) gives back the trials
        this process still holds; the database failing becomes one `UserError` that names it
        (password masked) and says that the same command resumes."""
        try:
            yield
        except BaseException as error:
            with self._lock:
                held = sorted(self._held)
            self._give_back(held)
            if not isinstance(error, DATABASE_ERRORS):
                raise
            cause = error.__cause__ if isinstance(error, StorageInternalError) else error
            lost = isinstance(
                cause, (sqlalchemy.exc.OperationalError, sqlalchemy.exc.InterfaceError)
            )
            what = "is unreachable" if lost else "failed"
            raise UserError(
                f"the study database {self.shown} {what} ({one_line(error)}); finished trials "
                "are kept: run the same command again to resume"
            ) from None

    @contextlib.contextmanager
    def heartbeat(self):
        """Beat for every held trial every `heartbeat_interval` seconds, in a thread."""
        stop = threading.Event()

        def beat():
            while not stop.wait(self.storage.heartbeat_interval):
                with self._lock:
                    held = list(self._held)
                for trial_id in held:
                    with contextlib.suppress(*DATABASE_ERRORS):  # the sweep itself will say so
                        self.storage.record_heartbeat(trial_id)

        thread = threading.Thread(target=beat, name="pointlab-heartbeat", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()

    def rows(self) -> list[TrialRow]:
        """One row per planned slot: its finished trial if any, else its latest attempt."""
        by_slot: dict[int, optuna.trial.FrozenTrial] = {}
        for t in self.study.get_trials(deepcopy=False):
            slot = t.user_attrs.get("slot")
            if slot is None:
                continue
            old = by_slot.get(slot)
            newer = t.state in _DONE or t.number > old.number if old else True
            if old is None or (old.state not in _DONE and newer):
                by_slot[slot] = t
        return [_row(slot, t) for slot, t in sorted(by_slot.items())]

    def counts(self) -> tuple[int, int]:
        """(finished slots, planned slots)."""
        rows = self.rows()
        return sum(r.state in ("complete", "pruned") for r in rows), len(rows)


def check_options(name: str, stale_after: int) -> None:
    """Refuse a study name the database cannot keep, or an empty one, and a `stale_after` too
    short for heartbeats (SQLite keeps them to the second)."""
    if stale_after < 5:
        raise SettingError(f"{{stale_after}} must be at least 5 seconds, got {stale_after}")
    if not name.strip():
        raise SettingError("{study}: the study name is empty")
    if len(name) > MAX_NAME:
        raise UserError(
            f"--study: the study name has {len(name)} characters; the study database keeps at "
            f"most {MAX_NAME}"
        )


def _row(slot: int, t: optuna.trial.FrozenTrial) -> TrialRow:
    params = optuna_adapter.planned_params(t)
    value = (
        t.value
        if t.state == TrialState.COMPLETE
        else t.user_attrs.get("result", {}).get("val_loss")
    )
    return TrialRow(
        slot=slot,
        number=t.number,
        state=t.state.name.lower().replace("fail", "failed"),
        params=params,
        value=value,
        config=t.user_attrs.get("config"),
        result=t.user_attrs.get("result"),
        history=t.user_attrs.get("history"),
    )
