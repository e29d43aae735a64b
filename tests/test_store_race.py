"""A trial's state changes once on SQLite too: the holder's COMPLETE and a reaper's FAIL cannot both
win (issue 27's three-worker defect: a slot finished twice in about one run of ten).

Optuna reads a trial's state and then writes it in one transaction; SQLite ignores the row lock it
asks for, so without `store._serialize_sqlite` a second process could read RUNNING between the
first one's read and write, and both writes "succeeded"."""

import threading
import time

import optuna
from optuna.exceptions import UpdateFinishedTrialError
from optuna.storages._rdb import models
from optuna.trial import TrialState

from pointlab.search.store import open_storage


def test_a_reaper_cannot_fail_a_trial_its_holder_is_finishing(tmp_path):
    url = f"sqlite:///{tmp_path}/study.db"
    holder, reaper = open_storage(url), open_storage(url)
    study = optuna.create_study(storage=holder, study_name="race")
    trial_id = study.ask()._trial_id
    reaper_saw: list[object] = []

    def reap() -> None:
        try:
            reaper_saw.append(reaper.set_trial_state_values(trial_id, TrialState.FAIL))
        except UpdateFinishedTrialError as error:
            reaper_saw.append(error)

    # The holder's finish, as Optuna writes it: read the state, then (later) write it.
    session = holder.scoped_session()
    trial = models.TrialModel.find_or_raise_by_id(trial_id, session, for_update=True)
    assert trial.state == TrialState.RUNNING
    thread = threading.Thread(target=reap)
    thread.start()
    time.sleep(0.5)  # the reaper reads and writes now, if SQLite lets it
    trial.state = TrialState.COMPLETE
    session.commit()
    session.close()
    thread.join(timeout=30)

    assert holder.get_trial(trial_id).state == TrialState.COMPLETE
    assert len(reaper_saw) == 1 and isinstance(reaper_saw[0], UpdateFinishedTrialError)
