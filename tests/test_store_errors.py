"""Study-database errors end in one line, as every other error does (issue 16): not SQLAlchemy's
message with the SQL statement and a link to its documentation; a URL's password is never shown,
and a store that cannot open leaves nothing written (issue 27)."""

import io
import sqlite3
from pathlib import Path

import pytest
import sqlalchemy
from rich.console import Console

import servers
from pointlab.cli import main
from pointlab.search.store import one_line
from pointlab.search.urls import masked

from conftest import CURVE, quiet


def test_a_storage_that_cannot_open_is_one_line(tmp_path, capsys):
    url = f"sqlite:///{tmp_path}/no/such/dir/study.db"
    argv = ["sweep", str(CURVE), "--trials", "2", "--storage", url, "--out", str(tmp_path / "s")]
    assert main(argv, Console(file=io.StringIO())) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unable to open database file" in err
    assert "sqlalche.me" not in err and "Background" not in err


def test_errors_met_during_a_sweep_lose_the_sql_and_the_link(tmp_path):
    engine = sqlalchemy.create_engine(f"sqlite:///{tmp_path}/x.db")
    try:
        with engine.connect() as connection:
            connection.execute(sqlalchemy.text("SELECT * FROM trials"))
    except sqlalchemy.exc.OperationalError as error:
        assert "\n" in str(error)  # what the user used to see
        assert one_line(error) == "no such table: trials"
        assert isinstance(error.orig, sqlite3.OperationalError)
    else:
        raise AssertionError("expected an error")


# --- issue 27: nothing written for a bad store, no password shown, no name the database refuses


def _sweep_argv(out: Path, *extra: str) -> list[str]:
    return ["sweep", str(CURVE), "--trials", "2", "--epochs", "20", "--out", str(out), *extra]


def test_a_storage_that_cannot_open_leaves_no_new_out_folder(tmp_path, capsys):
    out = tmp_path / "new" / "sweep"
    url = f"sqlite:///{tmp_path}/no/such/dir/study.db"
    assert main(_sweep_argv(out, "--storage", url), quiet()) == 2
    assert capsys.readouterr().err.count("\n") == 1
    assert not (tmp_path / "new").exists()  # nothing written


def test_a_password_in_a_storage_url_is_never_printed(tmp_path, capsys):
    port = servers.free_port()  # nothing listens there: the connection is refused
    url = f"postgresql+psycopg://user:S3cret-pw@127.0.0.1:{port}/db"
    assert main(_sweep_argv(tmp_path / "o", "--storage", url), quiet()) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot open the study database" in err
    assert "S3cret" not in err and f"user:***@127.0.0.1:{port}/db" in err
    assert not (tmp_path / "o").exists()

    assert main(["dashboard", "--storage", url, "--port", str(servers.free_port())]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "S3cret" not in err and "user:***@" in err


def test_masked_hides_the_password_as_sqlalchemy_does():
    assert masked("postgresql+psycopg://u:pw@h:5432/db") == "postgresql+psycopg://u:***@h:5432/db"
    assert masked("postgresql://u:p@ss:w/rd@h/db?sslmode=require") == (
        "postgresql://u:***@h/db?sslmode=require"
    )
    for plain in ("sqlite:////tmp/a b/study.db", "postgresql://u@h/db", "postgresql://h:5/db"):
        assert masked(plain) == plain


@pytest.mark.parametrize(
    ("study", "says"), [("", "the study name is empty"), ("x" * 600, "600 characters")]
)
def test_a_study_name_the_database_cannot_keep_is_refused(tmp_path, capsys, study, says):
    out = tmp_path / "o"
    assert main(_sweep_argv(out, "--study", study), quiet()) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and says in err
    assert not out.exists()


def test_a_trial_whose_holder_died_before_its_first_beat_goes_stale(tmp_path):
    # A worker killed between claiming a trial (RUNNING) and its first heartbeat, milliseconds
    # apart: Optuna never judges a trial without a beat, so the other workers waited for it for
    # ever (seen once in CI: three workers, one killed, the others hung). Now a reader judges it
    # from when it first saw it without a beat, on its own clock.
    import time

    import optuna

    from pointlab.search import optuna_adapter
    from pointlab.search.store import open_storage

    storage = open_storage(f"sqlite:///{tmp_path / 's.db'}", heartbeat_interval=1, grace_period=5)
    study = optuna.create_study(storage=storage, study_name="s")
    study.enqueue_trial({})
    (frozen,) = optuna_adapter.waiting_trials(study)
    assert optuna_adapter.try_start(study, frozen)  # claimed; its holder dies here
    trial_id = optuna_adapter.trial_id(frozen)
    storage.set_trial_user_attr(trial_id, "stale_after", 5)

    unbeaten: dict[int, float] = {}
    assert optuna_adapter.stale_trials(storage, study, 60, unbeaten) == []  # first seen now
    assert trial_id in unbeaten
    unbeaten[trial_id] = time.monotonic() - 6  # as if first seen 6 s ago: past its 5 s
    assert optuna_adapter.stale_trials(storage, study, 60, unbeaten) == [trial_id]
    assert optuna_adapter.stale_trials(storage, study, 60) == []  # Optuna's rule alone: never

    storage.record_heartbeat(trial_id)  # a live holder beats: judged by its beats from now on
    assert optuna_adapter.stale_trials(storage, study, 60, unbeaten) == []
    assert unbeaten == {}
