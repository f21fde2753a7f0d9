"""Ways to break a running deployment on purpose: killed connections, held row locks, a Redis
server of a test's own to stop and start, and a model that raises on one row."""

import contextlib
import subprocess
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import redis
from sqlalchemy import Connection, insert, select, text
from sqlalchemy.exc import OperationalError

from models.keyword import KeywordModel
from models.loading import dump_pickled
from models.versions import installed_versions
from settings import Settings
from tests.services import free_port
from utils.db.engines import output_engine
from utils.db.model_store import add_model
from utils.db.tables import chunks, labels, tasks


def kill_connections(settings: Settings) -> int:
    """KILL every other connection to the test schemas: the workers' reads and writes in flight."""
    with output_engine(settings).connect() as conn:
        rows = conn.execute(
            text(
                "SELECT id FROM information_schema.processlist "
                "WHERE db IN (:a, :b) AND id <> CONNECTION_ID() AND command <> 'Daemon'"
            ),
            {"a": settings.input_schema, "b": settings.output_schema},
        ).scalars()
        return _kill(conn, list(rows))


def _kill(conn: Connection, connection_ids: list[int]) -> int:
    """KILL these connections; how many were still there to kill."""
    killed = 0
    for connection_id in connection_ids:
        try:
            conn.execute(text(f"KILL CONNECTION {int(connection_id)}"))
            killed += 1
        except OperationalError:  # it ended by itself meanwhile
            pass
    return killed


def waiting_for_locks(conn: Connection) -> int:
    """Transactions of other sessions now waiting for a row lock."""
    return int(
        conn.execute(
            text(
                "SELECT COUNT(*) FROM information_schema.innodb_trx "
                "WHERE trx_state = 'LOCK WAIT' AND trx_mysql_thread_id <> CONNECTION_ID()"
            )
        ).scalar_one()
    )


def wait_for_lock_waiters(conn: Connection, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while waiting_for_locks(conn) == 0:
        if time.monotonic() > deadline:
            sessions = conn.execute(
                text("SELECT id, command, time, state, LEFT(info, 120) FROM information_schema.processlist")
            ).all()
            raise AssertionError(f"no worker waited for a row lock within {timeout}s; sessions: {sessions}")
        # InnoDB refreshes what innodb_trx shows only after 100 ms without a read of it.
        time.sleep(0.25)


@contextlib.contextmanager
def task_row_locked(settings: Settings, task_id: str) -> Iterator[Connection]:
    """Hold the exclusive lock on a task's row (as an abort does) until the block ends; every
    batch commit of the task waits for it."""
    with output_engine(settings).connect() as conn:
        transaction = conn.begin()
        conn.execute(select(tasks.c.id).where(tasks.c.id == task_id).with_for_update())
        try:
            yield conn
        finally:
            transaction.rollback()


def deadlock_the_workers(settings: Settings, task_id: str, ballast_rows: int = 20_000) -> None:
    """Make a worker's batch commit the victim of a deadlock.

    A commit takes a shared lock on the task row, then updates its chunk row. This transaction
    takes the chunk rows first, waits until a worker waits for one of them, then asks for the task
    row: a cycle. InnoDB rolls back the lighter transaction, so this one first writes ballast rows.
    """
    engine = output_engine(settings)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS deadlock_ballast (n BIGINT NOT NULL) ENGINE=InnoDB"))
    try:
        with engine.connect() as conn:
            transaction = conn.begin()
            conn.execute(text(f"INSERT INTO deadlock_ballast (n) SELECT seq FROM seq_1_to_{int(ballast_rows)}"))
            conn.execute(select(chunks.c.id).where(chunks.c.task_id == task_id).with_for_update())
            with engine.connect() as watcher:
                wait_for_lock_waiters(watcher)
            conn.execute(select(tasks.c.id).where(tasks.c.id == task_id).with_for_update())
            transaction.rollback()
    finally:
        with engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS deadlock_ballast"))


@contextlib.contextmanager
def label_rows_held(settings: Settings, task_id: str, model: str, pairs: set[tuple[int, str]]) -> Iterator[Connection]:
    """Hold every label row the task has yet to write, inserted and not committed, until the block
    ends (then rolled back). Each worker's next batch updates its chunk row, then waits at its label
    INSERT for this transaction: it is stopped between a write and its commit.

    The rows to hold are read while every batch commit is held off by the task row's lock, so no
    batch commits in between."""
    table = f"{settings.input_schema}.posts"
    with output_engine(settings).connect() as conn:
        transaction = conn.begin()
        with task_row_locked(settings, task_id):
            ranges = conn.execute(
                select(chunks.c.checkpoint, chunks.c.hi).where(chunks.c.task_id == task_id, chunks.c.status != "DONE")
            ).all()
            rows = [
                {"task_id": task_id, "source_table": table, "source_id": i, "model": model, "label": label,
                 "score": 0, "created_at": datetime(2026, 1, 1)}
                for i, label in pairs
                if any(checkpoint < i <= hi for checkpoint, hi in ranges)
            ]  # fmt: skip
            conn.execute(insert(labels), rows)
        try:
            yield conn
        finally:
            transaction.rollback()


def kill_lock_waiters(settings: Settings) -> int:
    """KILL the sessions now waiting for a row lock; how many."""
    with output_engine(settings).connect() as watcher:
        wait_for_lock_waiters(watcher)
        time.sleep(0.5)  # the other pool process's batch may come to wait too
        waiting = watcher.execute(
            text(
                "SELECT trx_mysql_thread_id FROM information_schema.innodb_trx "
                "WHERE trx_state = 'LOCK WAIT' AND trx_mysql_thread_id <> CONNECTION_ID()"
            )
        ).scalars()
        return _kill(watcher, list(waiting))


class RedisServer:
    """A redis-server of a test's own, without persistence, on a free port: it can be stopped and
    started again without touching the machine's Redis."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.proc: subprocess.Popen | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self, timeout: float = 10) -> None:
        argv = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        log = (self.workdir / f"redis-{self.port}.log").open("ab")
        self.proc = subprocess.Popen(argv, cwd=self.workdir, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while True:
            try:
                redis.Redis.from_url(self.url(), socket_connect_timeout=1).ping()
                return
            except redis.ConnectionError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise RuntimeError(f"redis-server on port {self.port} did not start") from None
                time.sleep(0.1)

    def kill(self) -> None:
        """Gone at once, with every message it held."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


class PoisonModel:
    """A model that labels like a keyword model, but raises on any batch holding a text with `marker`:
    what a real model does when one row's text trips a bug in it."""

    kind = "term_weight"
    takes_utf8 = False  # as scikit-learn models: its texts are read decoded

    def __init__(self, inner: KeywordModel, marker: str) -> None:
        self.inner, self.marker = inner, marker

    @property
    def labels_(self) -> list[str]:
        return self.inner.labels_

    def predict(self, texts: list[str]) -> list:
        for text_ in texts:
            if self.marker in text_:
                raise ValueError(f"the model cannot handle a text containing {self.marker!r}")
        return self.inner.predict(texts)


def store_poison_model(settings: Settings, name: str, inner: KeywordModel, marker: str) -> None:
    versions = installed_versions(["scikit-learn"])
    blob = dump_pickled(PoisonModel.kind, PoisonModel(inner, marker), versions)
    with output_engine(settings).begin() as conn:
        add_model(conn, name, PoisonModel.kind, blob, inner.labels_, {"poison": marker}, versions)
