"""The `labels` table: batch writes and random samples."""

import math
import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import groupby
from operator import itemgetter

from sqlalchemy import Connection, func, insert, select
from sqlalchemy.engine import Row

from utils.db.tables import labels

# One statement stays under this many characters (at most 4 MiB in UTF-8), below MariaDB's
# max_allowed_packet (16 MiB by default).
STATEMENT_CHARS = 1 << 20


@dataclass(frozen=True)
class LabelRows:
    """One batch's label rows of one task and source table: (model, source id, label, score), and beside
    them, when a model of the batch has margins (classifiers), each row's margin (None for the others)."""

    task_id: str
    source_table: str
    created_at: datetime
    rows: list[tuple[str, int, str, float]]
    margins: list[float | None] | None = field(default=None)


def write_labels(conn: Connection, batch: LabelRows) -> None:
    """Insert the batch in the caller's transaction.

    On MariaDB the rows go as INSERT … SELECT statements written here, over a table value constructor
    of (source id, label, score): the task, table, model and time are written once per statement, not
    once per row, and each distinct string is escaped once by the driver. Per label row that costs the
    server about a quarter less than a multi-row INSERT of whole rows, which itself costs the client
    half of the driver's executemany. SQLite's driver runs an executemany row by row inside the one
    transaction."""
    if not batch.rows:
        return
    if conn.dialect.name != "mysql":
        common = {"task_id": batch.task_id, "source_table": batch.source_table, "created_at": batch.created_at}
        margins = batch.margins or [None] * len(batch.rows)
        rows = [
            {**common, "source_id": i, "model": m, "label": lb, "score": sc, "margin": mg}
            for (m, i, lb, sc), mg in zip(batch.rows, margins, strict=True)
        ]
        conn.execute(insert(labels), rows)
        return
    escape = conn.connection.dbapi_connection.escape  # type: ignore[union-attr]
    # no_parameters: the driver runs the text as it is, without %-formatting it.
    raw = conn.execution_options(no_parameters=True)
    for statement in _insert_statements(escape, batch):
        raw.exec_driver_sql(statement)


def _insert_statements(escape: Callable[[object], str], batch: LabelRows) -> Iterator[str]:
    """INSERT … WITH v (source_id, label, score[, margin]) AS (VALUES …) SELECT …, one model per statement,
    each under STATEMENT_CHARS. (The CTE names the columns: a table value constructor alone takes its
    column names from its first row, and a label "1" of source id 1 would name two columns alike.) A model
    without margins (a rule model) leaves that column out, null, and its statement no longer."""
    common = f"{escape(batch.task_id)}, {escape(batch.source_table)}, {escape(batch.created_at)}"
    # Each distinct (label, score) is escaped and formatted once: a rule model gives few scores to many rows.
    endings: dict[tuple[str, float], str] = {}
    margins = batch.margins
    start = 0
    for model, group in groupby(batch.rows, key=itemgetter(0)):
        rows = list(group)
        kept = margins[start : start + len(rows)] if margins is not None else None
        start += len(rows)
        if kept is not None and kept[0] is None:
            kept = None
        columns = "source_id, label, score" + (", margin" if kept is not None else "")
        head = (
            f"INSERT INTO labels (task_id, source_table, created_at, model, {columns}) WITH v ({columns}) AS (VALUES "
        )
        tail = f") SELECT {common}, {escape(model)}, {columns} FROM v"
        values: list[str] = []
        size = len(head) + len(tail)
        for n, (_model, source_id, label, score) in enumerate(rows):
            if kept is not None:
                margin = _double(model, source_id, label, kept[n])  # type: ignore[arg-type]
                ending = f",{escape(label)},{_double(model, source_id, label, score)},{margin})"
            elif (known := endings.get((label, score))) is not None:  # a NaN is never found: _double refuses it
                ending = known
            else:
                ending = endings[label, score] = f",{escape(label)},{_double(model, source_id, label, score)})"
            value = f"({int(source_id):d}{ending}"
            if values and size + len(value) + 1 > STATEMENT_CHARS:
                yield head + ",".join(values) + tail
                values, size = [], len(head) + len(tail)
            values.append(value)
            size += len(value) + 1
        yield head + ",".join(values) + tail


def _double(model: str, source_id: int, label: str, score: float) -> str:
    """`score` as a DOUBLE literal. An exponent makes it one: without, 0.5 would be a DECIMAL, and the
    column of all the rows' scores a DECIMAL too, rounded to the fewest decimals any row has."""
    if not math.isfinite(score):
        raise ValueError(f"model {model!r} gave row {source_id} the score {score} for label {label!r}")
    text = repr(float(score))
    return text if "e" in text else f"{text}e0"


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
