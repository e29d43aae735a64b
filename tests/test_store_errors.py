"""Study-database errors end in one line, as every other error does (issue 16): not SQLAlchemy's
message with the SQL statement and a link to its documentation."""

import io
import sqlite3

import sqlalchemy
from rich.console import Console

from pointlab.cli import main
from pointlab.search.store import one_line

from conftest import CURVE


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
