"""Task and chunk state in the output schema. Functions take a connection and never commit."""

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, and_, func, insert, or_, select, update
from sqlalchemy.engine import Row

from utils.db.tables import chunks, tasks
from utils.db.task_log import ERROR, INFO, add_line

# Task types (the `type` column): one per API that starts work.
PREDICTING_TASK = "predicting"
TRAINING_TASK = "training"
EVALUATION_TASK = "evaluation"
PENDING, STARTED, BREAK, SUCCESS, FAILURE = "PENDING", "STARTED", "BREAK", "SUCCESS", "FAILURE"
FINISHED = (BREAK, SUCCESS, FAILURE)
# Chunk states.
CHUNK_PENDING, CHUNK_RUNNING, CHUNK_DONE, CHUNK_ABORTED, CHUNK_FAILED = (
    "PENDING",
    "RUNNING",
    "DONE",
    "ABORTED",
    "FAILED",
)


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def create_task(conn: Connection, task_id: str, task_type: str, config: dict[str, Any]) -> None:
    conn.execute(
        insert(tasks).values(
            id=task_id, type=task_type, status=PENDING, config=config, abort_requested=False, created_at=utcnow()
        )
    )


def get_task(conn: Connection, task_id: str) -> Row | None:
    return conn.execute(select(tasks).where(tasks.c.id == task_id)).one_or_none()


def list_tasks(
    conn: Connection, task_type: str, status: str | None, before: tuple[datetime, str] | None, limit: int
) -> Sequence[Row]:
    """Newest first, by keyset on (created_at, id): `before` is the last row of the previous page."""
    stmt = select(tasks).where(tasks.c.type == task_type)
    if status:
        stmt = stmt.where(tasks.c.status == status)
    if before:
        created, task_id = before
        stmt = stmt.where(or_(tasks.c.created_at < created, and_(tasks.c.created_at == created, tasks.c.id < task_id)))
    return conn.execute(stmt.order_by(tasks.c.created_at.desc(), tasks.c.id.desc()).limit(limit)).all()


def mark_started(conn: Connection, task_id: str, total: int) -> bool:
    """PENDING → STARTED unless an abort came first; False when another planner (or an abort) won.

    The row lock the UPDATE takes makes a second planner wait, then find the status changed."""
    result = conn.execute(
        update(tasks)
        .where(tasks.c.id == task_id, tasks.c.status == PENDING, tasks.c.abort_requested.is_(False))
        .values(status=STARTED, total=total, started_at=utcnow())
    )
    return result.rowcount == 1


def stale_task_ids(conn: Connection, task_type: str, quiet_since: datetime) -> list[str]:
    """Unfinished tasks with no sign of life since `quiet_since`: no chunk heartbeat, and no start
    or creation, after it."""
    beats = select(chunks.c.task_id, func.max(chunks.c.heartbeat_at).label("beat")).group_by(chunks.c.task_id)
    last = beats.subquery()
    alive = func.coalesce(last.c.beat, tasks.c.started_at, tasks.c.created_at)
    stmt = (
        select(tasks.c.id)
        .select_from(tasks.outerjoin(last, last.c.task_id == tasks.c.id))
        .where(tasks.c.type == task_type, tasks.c.status.not_in(FINISHED), alive < quiet_since)
        .order_by(tasks.c.id)
    )
    return list(conn.execute(stmt).scalars())


def unrecorded_task_ids(conn: Connection, task_type: str, quiet_since: datetime) -> list[str]:
    """Started tasks whose chunks have all ended, the last before `quiet_since`, with no outcome
    recorded: their chord never called finalize (the result backend was down as they ended, say)."""
    open_chunks = select(chunks.c.id).where(
        chunks.c.task_id == tasks.c.id, chunks.c.status.in_((CHUNK_PENDING, CHUNK_RUNNING))
    )
    last_beat = select(func.max(chunks.c.heartbeat_at)).where(chunks.c.task_id == tasks.c.id).scalar_subquery()
    stmt = (
        select(tasks.c.id)
        .where(tasks.c.type == task_type, tasks.c.status == STARTED, ~open_chunks.exists(), last_beat < quiet_since)
        .order_by(tasks.c.id)
    )
    return list(conn.execute(stmt).scalars())


def unfinished_task_ids(conn: Connection, task_type: str) -> list[str]:
    return list(
        conn.execute(
            select(tasks.c.id).where(tasks.c.type == task_type, tasks.c.status.not_in(FINISHED)).order_by(tasks.c.id)
        ).scalars()
    )


def finish_task(conn: Connection, task_id: str, status: str, stats: dict[str, Any], error: str | None) -> bool:
    """Record the outcome once: False if the task had already finished."""
    now = utcnow()
    result = conn.execute(
        update(tasks)
        .where(tasks.c.id == task_id, tasks.c.status.not_in(FINISHED))
        .values(
            status=status,
            stats=stats,
            error=error,
            finished_at=now,
            started_at=func.coalesce(tasks.c.started_at, now),
        )
    )
    if result.rowcount != 1:
        return False
    summary = f"finished {status}"
    if "rows_read" in stats and "rows_per_s" in stats:
        summary += f": read {stats['rows_read']:,} rows, {stats['rows_per_s']:,} rows/s"
    add_line(conn, task_id, f"{summary}; {error}" if error else summary, ERROR if status == FAILURE else INFO)
    return True


def set_stats(conn: Connection, task_id: str, stats: dict[str, Any]) -> None:
    conn.execute(update(tasks).where(tasks.c.id == task_id).values(stats=stats))


def request_abort(conn: Connection, task_id: str) -> int:
    """Set the abort flag of an unfinished task; the number of rows changed (0 when finished)."""
    result = conn.execute(
        update(tasks).where(tasks.c.id == task_id, tasks.c.status.not_in(FINISHED)).values(abort_requested=True)
    )
    return result.rowcount


def should_stop(conn: Connection, task_id: str, lock: bool = False) -> bool:
    """True when the task was aborted or has already finished, so a chunk must not go on.

    With `lock`, a shared row lock holds off a concurrent abort until this transaction ends, so on
    MariaDB no batch commits after an abort was acknowledged. (SQLite takes no row locks: there a
    batch in flight may still commit just after the abort; it is kept and counted.)"""
    stmt = select(tasks.c.abort_requested, tasks.c.status).where(tasks.c.id == task_id)
    if lock:
        stmt = stmt.with_for_update(read=True)
    row = conn.execute(stmt).one_or_none()
    return row is None or bool(row.abort_requested) or row.status in FINISHED


def add_chunks(conn: Connection, task_id: str, source_table: str, ranges: Iterable[tuple[int, int]]) -> None:
    rows = [
        {
            "task_id": task_id,
            "source_table": source_table,
            "lo": lo,
            "hi": hi,
            "checkpoint": lo,
            "status": CHUNK_PENDING,
            "attempts": 0,
            "rows_read": 0,
            "rows_excluded": 0,
            "rows_labeled": 0,
            "label_counts": {},
            "peak_rss": 0,
        }
        for lo, hi in ranges
    ]
    if rows:
        conn.execute(insert(chunks), rows)


def chunk_ids(conn: Connection, task_id: str) -> list[int]:
    return list(conn.execute(select(chunks.c.id).where(chunks.c.task_id == task_id).order_by(chunks.c.id)).scalars())


def get_chunk(conn: Connection, chunk_id: int) -> Row:
    return conn.execute(select(chunks).where(chunks.c.id == chunk_id)).one()


def set_chunk_status(conn: Connection, chunk_id: int, status: str, error: str | None = None) -> None:
    conn.execute(
        update(chunks).where(chunks.c.id == chunk_id).values(status=status, error=error, heartbeat_at=utcnow())
    )


def begin_attempt(conn: Connection, chunk_id: int) -> int:
    """Count one more attempt at a chunk and mark it running; the new attempt number."""
    conn.execute(
        update(chunks)
        .where(chunks.c.id == chunk_id)
        .values(attempts=chunks.c.attempts + 1, status=CHUNK_RUNNING, heartbeat_at=utcnow())
    )
    return int(conn.execute(select(chunks.c.attempts).where(chunks.c.id == chunk_id)).scalar_one())


def advance_chunk(
    conn: Connection,
    chunk_id: int,
    expected_checkpoint: int,
    new_checkpoint: int,
    read: int,
    excluded: int,
    labeled: int,
    label_counts: dict[str, dict[str, int]],
    peak_rss: int,
) -> bool:
    """Compare-and-set the checkpoint with the batch's counters; False if another copy moved it.

    The caller owns the row while the CAS holds, so `label_counts` and `peak_rss` are whole values."""
    result = conn.execute(
        update(chunks)
        .where(chunks.c.id == chunk_id, chunks.c.checkpoint == expected_checkpoint)
        .values(
            checkpoint=new_checkpoint,
            rows_read=chunks.c.rows_read + read,
            rows_excluded=chunks.c.rows_excluded + excluded,
            rows_labeled=chunks.c.rows_labeled + labeled,
            label_counts=label_counts,
            peak_rss=peak_rss,
            heartbeat_at=utcnow(),
        )
    )
    return result.rowcount == 1


def merge_counts(into: dict[str, dict[str, int]], more: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    for model, per_label in more.items():
        target = Counter(into.get(model, {}))
        target.update(per_label)
        into[model] = dict(sorted(target.items()))
    return into


def task_progress(conn: Connection, task_id: str) -> dict[str, Any]:
    """Counters summed over the task's chunks, the only place they are kept while it runs."""
    rows = conn.execute(
        select(
            chunks.c.status,
            chunks.c.rows_read,
            chunks.c.rows_excluded,
            chunks.c.rows_labeled,
            chunks.c.label_counts,
            chunks.c.peak_rss,
        ).where(chunks.c.task_id == task_id)
    ).all()
    counts: dict[str, dict[str, int]] = {}
    for row in rows:
        merge_counts(counts, row.label_counts or {})
    return {
        "chunks": len(rows),
        "chunks_by_status": dict(Counter(r.status for r in rows)),
        "read": sum(r.rows_read for r in rows),
        "excluded": sum(r.rows_excluded for r in rows),
        "labeled": sum(r.rows_labeled for r in rows),
        "label_counts": counts,
        "peak_rss": max((r.peak_rss for r in rows), default=0),
    }


def rows_done(conn: Connection, task_ids: Sequence[str]) -> dict[str, dict[str, int]]:
    """Row counters of many tasks in one query (for task lists): task id → read, excluded, labeled."""
    stmt = (
        select(
            chunks.c.task_id,
            func.sum(chunks.c.rows_read),
            func.sum(chunks.c.rows_excluded),
            func.sum(chunks.c.rows_labeled),
        )
        .where(chunks.c.task_id.in_(list(task_ids)))
        .group_by(chunks.c.task_id)
    )
    found = {
        task_id: {"read": int(read or 0), "excluded": int(excluded or 0), "labeled": int(labeled or 0)}
        for task_id, read, excluded, labeled in conn.execute(stmt)
    }
    return {task_id: found.get(task_id, {"read": 0, "excluded": 0, "labeled": 0}) for task_id in task_ids}


def unfinished_chunks(conn: Connection, task_id: str) -> Sequence[Row]:
    """Chunks that are neither DONE nor ABORTED: FAILED ones, and PENDING or RUNNING ones."""
    return conn.execute(
        select(chunks)
        .where(chunks.c.task_id == task_id, chunks.c.status.not_in((CHUNK_DONE, CHUNK_ABORTED)))
        .order_by(chunks.c.id)
    ).all()
