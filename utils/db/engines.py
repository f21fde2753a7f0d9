"""Database engines, created lazily once per process (never shared across fork or greenlets)."""

import importlib.util
import os
import sqlite3
import sys
from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url, text

from settings import Settings, get_settings

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


def build_engine(url: str, pool_size: int = 5, lock_wait_timeout_s: int | None = None) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _on_sqlite_connect)
        return engine
    connect_args = {}
    if lock_wait_timeout_s is not None:
        connect_args["init_command"] = f"SET SESSION innodb_lock_wait_timeout = {int(lock_wait_timeout_s)}"
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_recycle=POOL_RECYCLE_S,
        pool_size=pool_size,
        max_overflow=pool_size,
        connect_args=connect_args,
    )


def get_engine(url: str, pool_size: int = 5, lock_wait_timeout_s: int | None = None) -> Engine:
    """The engine for `url` in this process; a forked child drops its parent's pool."""
    global _owner_pid
    if os.getpid() != _owner_pid:
        for engine in _engines.values():
            engine.dispose(close=False)
        _engines.clear()
        _owner_pid = os.getpid()
    # Keyed by the session settings too: a source and an output on the same schema get engines of their own.
    key = f"{url}|{lock_wait_timeout_s}"
    if key not in _engines:
        _engines[key] = build_engine(url, pool_size, lock_wait_timeout_s)
    return _engines[key]


def _pool_size(settings: Settings) -> int:
    # A gevent or threads worker runs `worker_concurrency` chunks in one process, each holding a
    # connection to both databases at once; prefork children need one or two.
    return max(5, settings.worker_concurrency)


def output_engine(settings: Settings | None = None) -> Engine:
    settings = settings or get_settings()
    return get_engine(settings.output_url, _pool_size(settings), settings.output_lock_wait_timeout_s)


def source_engine(settings: Settings | None = None) -> Engine:
    settings = settings or get_settings()
    return get_engine(source_driver_url(settings.source_url), _pool_size(settings))


def source_driver_url(url: str) -> str:
    """`url` with mysqlclient instead of PyMySQL where it can serve: the source is read row by row, and
    mysqlclient parses rows in C, at a third of PyMySQL's CPU per row. Not under gevent, whose hub its
    blocking calls would stall (nor where it is not installed): there PyMySQL reads."""
    prefix = "mysql+pymysql://"
    if not url.startswith(prefix) or not c_driver_usable():
        return url
    return "mysql+mysqldb://" + url.removeprefix(prefix)


def c_driver_usable() -> bool:
    monkey = sys.modules.get("gevent.monkey")
    if monkey is not None and monkey.is_module_patched("socket"):
        return False
    return importlib.util.find_spec("MySQLdb") is not None


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
