"""A task's label rows, streamed in the unique key's order, page by page.

Each page is one short query (keyset on the unique key: task, table, source id, model, label), so an
export of millions of rows holds neither the rows in memory nor a statement open while a slow client
downloads, and pages stay as fast at the end as at the start.
"""

import csv
import io
import json
from collections.abc import Callable, Iterator

from sqlalchemy import Connection, Engine, and_, or_, select

from utils.db.tables import labels

# (source_table, source_id, model, label, score, margin): margin None for rule models' labels
LabelRow = tuple[str, int, str, str, float, float | None]
COLUMNS = ("source_table", "source_id", "model", "label", "score", "margin")


def source_tables(conn: Connection, task_id: str) -> list[str]:
    """The source tables the task has labels of, in order (a skip along the unique key's prefix)."""
    found = conn.execute(select(labels.c.source_table).where(labels.c.task_id == task_id).distinct()).scalars()
    return sorted(found)


def label_pages(engine: Engine, task_id: str, page_rows: int = 10_000) -> Iterator[list[LabelRow]]:
    """The task's label rows, ordered by (table, source id, model, label), `page_rows` at a time."""
    with engine.connect() as conn:
        tables = source_tables(conn, task_id)
    for table in tables:
        after: tuple[int, str, str] | None = None
        while True:
            where = [labels.c.task_id == task_id, labels.c.source_table == table]
            if after is not None:
                source_id, model, label = after
                where.append(
                    or_(
                        labels.c.source_id > source_id,
                        and_(labels.c.source_id == source_id, labels.c.model > model),
                        and_(labels.c.source_id == source_id, labels.c.model == model, labels.c.label > label),
                    )
                )
            stmt = (
                select(labels.c.source_id, labels.c.model, labels.c.label, labels.c.score, labels.c.margin)
                .where(*where)
                .order_by(labels.c.source_id, labels.c.model, labels.c.label)
                .limit(page_rows)
            )
            with engine.connect() as conn:
                page = [
                    (table, int(i), m, lb, float(sc), None if mg is None else float(mg))
                    for i, m, lb, sc, mg in conn.execute(stmt)
                ]
            if page:
                yield page
            if len(page) < page_rows:
                break
            after = page[-1][1], page[-1][2], page[-1][3]


def as_csv(pages: Iterator[list[LabelRow]]) -> Iterator[bytes]:
    """A header line, then one line per label row (RFC 4180 quoting, UTF-8; an empty margin for none)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    yield _drain(buffer)
    for page in pages:
        writer.writerows((t, i, m, lb, repr(sc), "" if mg is None else repr(mg)) for t, i, m, lb, sc, mg in page)
        yield _drain(buffer)


def as_jsonl(pages: Iterator[list[LabelRow]]) -> Iterator[bytes]:
    """One JSON object per label row and line."""
    dumps: Callable[[object], str] = json.JSONEncoder(ensure_ascii=False).encode
    for page in pages:
        yield "".join(dumps(dict(zip(COLUMNS, row, strict=True))) + "\n" for row in page).encode()


def _drain(buffer: io.StringIO) -> bytes:
    data = buffer.getvalue().encode()
    buffer.seek(0)
    buffer.truncate()
    return data
