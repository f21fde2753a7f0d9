"""A task's log: lines added in the caller's transaction, read back in order from a cursor."""

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import Connection, insert, select
from sqlalchemy.engine import Row

from utils.db.tables import task_log

INFO, WARNING, ERROR = "INFO", "WARNING", "ERROR"


def add_line(conn: Connection, task_id: str, message: str, level: str = INFO) -> None:
    conn.execute(
        insert(task_log).values(
            task_id=task_id, at=datetime.now(UTC).replace(tzinfo=None), level=level, message=message
        )
    )


def lines_after(conn: Connection, task_id: str, after: int, limit: int) -> Sequence[Row]:
    """Up to `limit` lines with ids above `after`, oldest first: (id, at, level, message)."""
    return conn.execute(
        select(task_log.c.id, task_log.c.at, task_log.c.level, task_log.c.message)
        .where(task_log.c.task_id == task_id, task_log.c.id > after)
        .order_by(task_log.c.id)
        .limit(limit)
    ).all()


def as_text(line: Row) -> str:
    """`2026-12-03T14:00:00.123Z INFO message`, one line (line breaks in a message become spaces)."""
    message = " ".join(str(line.message).splitlines())
    return f"{line.at.isoformat(timespec='milliseconds')}Z {line.level} {message}"
