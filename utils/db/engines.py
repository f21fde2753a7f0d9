"""Database engines, created lazily once per process (never shared across fork or greenlets)."""

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, make_url, text

from settings import Settings, get_settings
from utils.db.tables import metadata

# Below MariaDB's default wait_timeout (8 h) so the pool never hands out a closed connection.
POOL_RECYCLE_S = 1800
_engines: dict[str, Engine] = {}
_owner_pid = os.getpid()


def _on_sqlite_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
    # WAL lets the API read while a worker writes; the busy timeout queues concurrent writers.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def build_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _on_sqlite_connect)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_recycle=POOL_RECYCLE_S, pool_size=5, max_overflow=5)


def get_engine(url: str) -> Engine:
    """The engine for `url` in this process; a forked child drops its parent's pool."""
    global _owner_pid
    if os.getpid() != _owner_pid:
        for engine in _engines.values():
            engine.dispose(close=False)
        _engines.clear()
        _owner_pid = os.getpid()
    if url not in _engines:
        _engines[url] = build_engine(url)
    return _engines[url]


def output_engine(settings: Settings | None = None) -> Engine:
    return get_engine((settings or get_settings()).output_url)


def source_engine(settings: Settings | None = None) -> Engine:
    return get_engine((settings or get_settings()).source_url)


@contextmanager
def output_transaction(settings: Settings | None = None) -> Iterator[Connection]:
    """One unit of work on the output schema: commits on success, rolls back on error."""
    with output_engine(settings).begin() as conn:
        yield conn


def ensure_database(url: str) -> None:
    """Create the MariaDB schema named in `url` if it is missing (SQLite creates files itself)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" or not parsed.database:
        return
    server = create_engine(parsed.set(database=""), pool_pre_ping=True)
    try:
        with server.begin() as conn:
            name = server.dialect.identifier_preparer.quote_identifier(parsed.database)
            conn.execute(text(f"CREATE DATABASE IF NOT EXISTS {name} CHARACTER SET utf8mb4"))
    finally:
        server.dispose()


def init_output_schema(settings: Settings | None = None) -> None:
    settings = settings or get_settings()
    ensure_database(settings.output_url)
    metadata.create_all(output_engine(settings))
