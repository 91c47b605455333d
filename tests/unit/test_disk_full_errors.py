"""A database whose disk is full is answered 503 saying so: SQLITE_FULL (out of space) and
SQLITE_IOERR_WRITE (a quota or file-size limit), raised by SQLAlchemy or by the driver directly."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy import exc as sa_exc

from bluewire.app import unavailable_error
from bluewire.store.database import is_disk_full, is_unavailable


def full_sqlite_error() -> sqlite3.OperationalError:
    """What SQLite raises when the database cannot grow: a page limit stands in for the disk."""
    connection = sqlite3.connect(":memory:")
    connection.execute("PRAGMA max_page_count = 2")
    with pytest.raises(sqlite3.OperationalError) as raised:
        connection.execute("CREATE TABLE t (x)")
        connection.execute("INSERT INTO t VALUES (randomblob(100000))")
    connection.close()
    return raised.value


def test_sqlite_full_from_the_driver_is_a_full_disk() -> None:
    error = full_sqlite_error()
    assert error.sqlite_errorcode == 13  # SQLITE_FULL
    assert is_disk_full(error) and is_unavailable(error)


def test_sqlite_full_through_sqlalchemy_answers_503_saying_the_disk_is_full() -> None:
    engine = create_engine("sqlite://")
    with engine.connect() as connection, pytest.raises(sa_exc.OperationalError) as raised:
        connection.execute(text("PRAGMA max_page_count = 2"))
        connection.execute(text("CREATE TABLE t (x)"))
        connection.execute(text("INSERT INTO t VALUES (randomblob(100000))"))
    answer = unavailable_error(raised.value)
    assert answer is not None
    assert answer.http_status == 503 and answer.error_code == 5000
    assert "disk is full" in answer.message
    assert answer.headers["retry-after"]


def test_a_refused_write_is_a_full_disk_but_other_errors_are_not() -> None:
    refused = sqlite3.OperationalError("disk I/O error")
    refused.sqlite_errorcode = 778  # SQLITE_IOERR_WRITE: EFBIG, EDQUOT
    assert is_disk_full(refused)
    locked = sqlite3.OperationalError("database is locked")
    locked.sqlite_errorcode = 5  # SQLITE_BUSY
    assert not is_disk_full(locked)
    assert not is_disk_full(ValueError("no"))
    answer = unavailable_error(sa_exc.OperationalError("SELECT 1", {}, locked))
    assert answer is not None and "disk" not in answer.message
