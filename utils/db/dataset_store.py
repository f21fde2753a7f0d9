"""Datasets and their rows in the output schema. Functions take a connection and never commit."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update
from sqlalchemy.engine import Row

from utils.db.pattern_store import json_length
from utils.db.tables import dataset_rows, datasets
from utils.db.task_store import utcnow

SPLIT_UPDATE_BATCH = 1_000


def name_taken(conn: Connection, name: str, other_than: int | None = None) -> bool:
    stmt = select(datasets.c.id).where(datasets.c.name == name)
    if other_than is not None:
        stmt = stmt.where(datasets.c.id != other_than)
    return conn.execute(stmt).first() is not None


def create_dataset(
    conn: Connection, name: str, description: str, label_set: list[dict[str, str]], source_format: str, encoding: str
) -> int:
    now = utcnow()
    result = conn.execute(
        insert(datasets).values(
            name=name,
            description=description,
            label_set=label_set,
            source_format=source_format,
            encoding=encoding,
            row_count=0,
            rejected_count=0,
            label_counts={},
            sha256="",
            created_at=now,
            updated_at=now,
        )
    )
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def insert_rows(conn: Connection, rows: list[dict[str, Any]]) -> None:
    if rows:
        conn.execute(insert(dataset_rows), rows)


def set_split(conn: Connection, dataset_id: int, lines: Sequence[int], split: str) -> None:
    for i in range(0, len(lines), SPLIT_UPDATE_BATCH):
        conn.execute(
            update(dataset_rows)
            .where(
                dataset_rows.c.dataset_id == dataset_id, dataset_rows.c.line_no.in_(lines[i : i + SPLIT_UPDATE_BATCH])
            )
            .values(split=split)
        )


def delete_rows(conn: Connection, dataset_id: int, lines: Sequence[int]) -> None:
    """Rows withdrawn while their upload's transaction is open (the first copy of a conflicting text)."""
    for i in range(0, len(lines), SPLIT_UPDATE_BATCH):
        conn.execute(
            delete(dataset_rows).where(
                dataset_rows.c.dataset_id == dataset_id, dataset_rows.c.line_no.in_(lines[i : i + SPLIT_UPDATE_BATCH])
            )
        )


def set_labels(conn: Connection, dataset_id: int, lines: Sequence[int], labels: Sequence[str]) -> None:
    """Give the rows at `lines` these labels (the union of a text's copies, when they are merged)."""
    for i in range(0, len(lines), SPLIT_UPDATE_BATCH):
        conn.execute(
            update(dataset_rows)
            .where(
                dataset_rows.c.dataset_id == dataset_id, dataset_rows.c.line_no.in_(lines[i : i + SPLIT_UPDATE_BATCH])
            )
            .values(labels=list(labels))
        )


def first_multi_label_line(conn: Connection, dataset_id: int) -> int | None:
    """The line of the dataset's first row with several labels, or None when each row has one."""
    r = dataset_rows.c
    stmt = select(r.line_no).where(r.dataset_id == dataset_id, json_length(r.labels) > 1).order_by(r.id).limit(1)
    return conn.execute(stmt).scalar_one_or_none()


def finish_dataset(conn: Connection, dataset_id: int, **values: Any) -> None:
    conn.execute(update(datasets).where(datasets.c.id == dataset_id).values(**values, updated_at=utcnow()))


def get_dataset(conn: Connection, dataset_id: int, lock: bool = False) -> Row | None:
    stmt = select(datasets).where(datasets.c.id == dataset_id)
    return conn.execute(stmt.with_for_update() if lock else stmt).one_or_none()


def list_datasets(conn: Connection, before_id: int | None, limit: int) -> Sequence[Row]:
    """Newest first, keyset on id."""
    stmt = select(datasets)
    if before_id is not None:
        stmt = stmt.where(datasets.c.id < before_id)
    return conn.execute(stmt.order_by(datasets.c.id.desc()).limit(limit)).all()


def rows_after(conn: Connection, dataset_id: int, after_id: int, limit: int, split: str | None = None) -> Sequence[Row]:
    """A keyset page of a dataset's rows in upload order."""
    r = dataset_rows.c
    stmt = select(r.id, r.line_no, r.split, r.text, r.labels).where(r.dataset_id == dataset_id, r.id > after_id)
    if split:
        stmt = stmt.where(r.split == split)
    return conn.execute(stmt.order_by(r.id).limit(limit)).all()


def split_sizes(conn: Connection, dataset_id: int) -> dict[str, int]:
    stmt = (
        select(dataset_rows.c.split, func.count())
        .where(dataset_rows.c.dataset_id == dataset_id)
        .group_by(dataset_rows.c.split)
    )
    return {split: int(n) for split, n in conn.execute(stmt)}


def update_dataset(conn: Connection, dataset_id: int, **values: Any) -> None:
    conn.execute(update(datasets).where(datasets.c.id == dataset_id).values(**values, updated_at=utcnow()))


def delete_dataset(conn: Connection, dataset_id: int) -> bool:
    # Rows first: SQLite enforces the cascade only with foreign keys on, MariaDB always.
    conn.execute(delete(dataset_rows).where(dataset_rows.c.dataset_id == dataset_id))
    return conn.execute(delete(datasets).where(datasets.c.id == dataset_id)).rowcount == 1
