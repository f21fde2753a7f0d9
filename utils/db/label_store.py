"""The `labels` table: batch writes and random samples."""

import random
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, func, insert, select
from sqlalchemy.engine import Row

from utils.db.tables import labels


def write_labels(conn: Connection, rows: list[dict]) -> None:
    """One executemany per batch: PyMySQL turns it into multi-row INSERTs (split near 1 MB);
    SQLite's driver runs it row by row inside the one transaction."""
    if rows:
        conn.execute(insert(labels), rows)


def label_rows(
    task_id: str,
    source_table: str,
    model: str,
    ids: Sequence[int],
    predictions: Sequence[Sequence[tuple[str, float]]],
    now: datetime,
) -> list[dict]:
    return [
        {
            "task_id": task_id,
            "source_table": source_table,
            "source_id": source_id,
            "model": model,
            "label": label,
            "score": score,
            "created_at": now,
        }
        for source_id, row_labels in zip(ids, predictions, strict=True)
        for label, score in row_labels
    ]


def has_labels(conn: Connection, task_id: str) -> bool:
    return conn.execute(select(labels.c.task_id).where(labels.c.task_id == task_id).limit(1)).first() is not None


def sample_ids(conn: Connection, task_id: str, size: int, rng: random.Random) -> list[tuple[str, int]]:
    """Up to `size` distinct labeled (table, source id) pairs, picked at random points of each
    table's labeled id range and walked forward on the unique index (no ORDER BY RAND())."""
    ranges = conn.execute(
        select(labels.c.source_table, func.min(labels.c.source_id), func.max(labels.c.source_id))
        .where(labels.c.task_id == task_id)
        .group_by(labels.c.source_table)
    ).all()
    if not ranges:
        return []
    picked: dict[tuple[str, int], None] = {}
    for _ in range(size * 3):
        if len(picked) >= size:
            break
        table, lo, hi = rng.choice(ranges)
        point = rng.randint(lo, hi)
        found = conn.execute(
            select(labels.c.source_id)
            .where(labels.c.task_id == task_id, labels.c.source_table == table, labels.c.source_id >= point)
            .order_by(labels.c.source_id)
            .limit(1)
        ).scalar()
        if found is not None:
            picked[(table, int(found))] = None
    return list(picked)


def labels_of(conn: Connection, task_id: str, source_table: str, ids: Sequence[int]) -> Sequence[Row]:
    return conn.execute(
        select(labels.c.source_id, labels.c.model, labels.c.label, labels.c.score).where(
            labels.c.task_id == task_id, labels.c.source_table == source_table, labels.c.source_id.in_(list(ids))
        )
    ).all()
