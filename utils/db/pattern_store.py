"""Pattern sets of the preprocessing API. Functions take a connection and never commit."""

from collections.abc import Sequence
from typing import Any, Literal

from sqlalchemy import Connection, Integer, delete, func, insert, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import GenericFunction

from utils.db.tables import pattern_sets, tasks
from utils.db.task_store import PENDING, STARTED, utcnow
from utils.db.usage import tasks_using

Lock = Literal["share", "update"] | None
# Tasks name their pattern set in config.pattern_set.id (a snapshot taken when the task was created).
SET_ID_PATH = ("pattern_set", "id")
_set_id_of_task = tasks.c.config[SET_ID_PATH].as_integer()
_UNFINISHED = (PENDING, STARTED)


class json_length(GenericFunction):
    """Length of a JSON array, counted by the database (JSON_LENGTH; json_array_length on SQLite)."""

    type = Integer()
    inherit_cache = True


@compiles(json_length, "sqlite")
def _json_length_sqlite(element: json_length, compiler: SQLCompiler, **kw: Any) -> str:
    return f"json_array_length({compiler.process(element.clauses, **kw)})"


_SUMMARY = (
    pattern_sets.c.id,
    pattern_sets.c.name,
    pattern_sets.c.description,
    json_length(pattern_sets.c.patterns).label("pattern_count"),
    pattern_sets.c.created_at,
    pattern_sets.c.updated_at,
)


def _locked(stmt: Any, lock: Lock) -> Any:
    return stmt.with_for_update(read=lock == "share") if lock else stmt


def create_pattern_set(conn: Connection, name: str, description: str, patterns: list[str]) -> int:
    """The new set's id; IntegrityError when `name` is taken."""
    now = utcnow()
    result = conn.execute(
        insert(pattern_sets).values(
            name=name, description=description, patterns=patterns, created_at=now, updated_at=now
        )
    )
    key = result.inserted_primary_key
    assert key is not None  # an INSERT of one row always has one
    return int(key[0])


def get_pattern_set(conn: Connection, set_id: int, lock: Lock = None) -> Row | None:
    """The whole set, patterns included; with a lock, held until the transaction ends."""
    stmt = select(*_SUMMARY, pattern_sets.c.patterns).where(pattern_sets.c.id == set_id)
    return conn.execute(_locked(stmt, lock)).one_or_none()


def find_pattern_set(conn: Connection, name: str, lock: Lock = None) -> Row | None:
    stmt = select(*_SUMMARY, pattern_sets.c.patterns).where(pattern_sets.c.name == name)
    return conn.execute(_locked(stmt, lock)).one_or_none()


def list_pattern_sets(conn: Connection, before_id: int | None, limit: int) -> Sequence[Row]:
    """Newest first, by keyset on id, without the patterns themselves."""
    stmt = select(*_SUMMARY)
    if before_id is not None:
        stmt = stmt.where(pattern_sets.c.id < before_id)
    return conn.execute(stmt.order_by(pattern_sets.c.id.desc()).limit(limit)).all()


def update_pattern_set(conn: Connection, set_id: int, changes: dict[str, Any]) -> None:
    """Change some of name, description, patterns; IntegrityError when the new name is taken."""
    conn.execute(update(pattern_sets).where(pattern_sets.c.id == set_id).values(**changes, updated_at=utcnow()))


def delete_pattern_set(conn: Connection, set_id: int) -> None:
    conn.execute(delete(pattern_sets).where(pattern_sets.c.id == set_id))


def unfinished_tasks_using(conn: Connection, set_id: int) -> list[str]:
    """Ids of PENDING or STARTED tasks (of any type) whose configuration names this set."""
    return tasks_using(conn, SET_ID_PATH, set_id)


def unfinished_task_counts(conn: Connection, set_ids: Sequence[int]) -> dict[int, int]:
    """Set id → number of PENDING or STARTED tasks using it, for many sets in one query."""
    stmt = (
        select(_set_id_of_task, func.count())
        .where(tasks.c.status.in_(_UNFINISHED), _set_id_of_task.in_(list(set_ids)))
        .group_by(_set_id_of_task)
    )
    found = {int(set_id): int(count) for set_id, count in conn.execute(stmt)}
    return {set_id: found.get(set_id, 0) for set_id in set_ids}
