"""Whole-transaction retry after a lock conflict, on a real (SQLite) database."""

from collections.abc import Iterator
from pathlib import Path

import pymysql
import pytest
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.exc import OperationalError

from utils.db.retrying import in_transaction, lock_conflict


def mariadb_error(code: int, message: str) -> OperationalError:
    return OperationalError("UPDATE chunks …", {}, pymysql.err.OperationalError(code, message))


def test_lock_conflicts_are_told_from_other_errors() -> None:
    assert lock_conflict(mariadb_error(1213, "Deadlock found when trying to get lock")) == "deadlock"
    assert lock_conflict(mariadb_error(1205, "Lock wait timeout exceeded")) == "lock wait timeout"
    assert lock_conflict(mariadb_error(2013, "Lost connection to server during query")) is None
    assert lock_conflict(ValueError("1213")) is None


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = create_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (n INTEGER)"))
    yield engine
    engine.dispose()


def rows(engine: Engine) -> list[int]:
    with engine.connect() as conn:
        return list(conn.execute(text("SELECT n FROM t ORDER BY n")).scalars())


def test_a_transaction_that_lost_a_lock_runs_again_from_its_start(engine: Engine) -> None:
    tries: list[int] = []

    def work(conn: Connection) -> str:
        tries.append(len(tries) + 1)
        conn.execute(text("INSERT INTO t (n) VALUES (:n)"), {"n": tries[-1]})
        if len(tries) < 3:
            raise mariadb_error(1213 if len(tries) == 1 else 1205, "lost")
        return "committed"

    assert in_transaction(engine, work, "test batch") == "committed"
    assert tries == [1, 2, 3]
    assert rows(engine) == [3]  # what the lost tries wrote was rolled back with them


def test_other_errors_and_the_last_try_are_raised(engine: Engine) -> None:
    def lost_connection(conn: Connection) -> None:
        conn.execute(text("INSERT INTO t (n) VALUES (1)"))
        raise mariadb_error(2013, "Lost connection")

    with pytest.raises(OperationalError, match="Lost connection"):
        in_transaction(engine, lost_connection, "test batch")
    tries: list[int] = []

    def always_deadlocked(conn: Connection) -> None:
        tries.append(1)
        raise mariadb_error(1213, "Deadlock")

    with pytest.raises(OperationalError, match="Deadlock"):
        in_transaction(engine, always_deadlocked, "test batch", attempts=2)
    assert len(tries) == 2
    assert rows(engine) == []
