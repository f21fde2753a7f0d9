"""What Audience is measured against: the database's own ceiling, and the way a user would write it."""

import re
import time
import uuid
from datetime import datetime

from sqlalchemy import Engine, text


def database_ceiling(out: Engine, source_table: str, start: datetime, end: datetime) -> tuple[int, float]:
    """A server-side INSERT … SELECT of one label per row in range into the labels table (unique key
    and all): no pipeline that reads and writes through a client can beat it. (rows, seconds)."""
    task_id = uuid.uuid4().hex
    began = time.perf_counter()
    with out.begin() as conn:
        rows = conn.execute(
            text(
                "INSERT INTO labels (task_id, source_table, source_id, model, label, score, created_at) "
                f"SELECT :task_id, :source_table, id, 'ceiling', 'label', 1, UTC_TIMESTAMP() FROM {source_table} "
                "WHERE post_time >= :start AND post_time < :end"
            ),
            {"task_id": task_id, "source_table": source_table, "start": start, "end": end},
        ).rowcount
    seconds = time.perf_counter() - began
    _delete_task_labels(out, task_id)
    return int(rows), seconds


def _delete_task_labels(out: Engine, task_id: str, batch: int = 50_000) -> None:
    while True:
        with out.begin() as conn:
            gone = conn.execute(text(f"DELETE FROM labels WHERE task_id = :t LIMIT {batch}"), {"t": task_id})
        if not gone.rowcount:
            return


def naive_pipeline(
    source: Engine, out: Engine, source_table: str, rules: list[tuple[str, str]], start: datetime, end: datetime
) -> tuple[int, float]:
    """pandas `read_sql(chunksize=10000)`, one compiled `re` alternation of the keywords, and
    `to_sql(method="multi")` into a table of its own: the script a user writes instead. (rows, seconds)."""
    import pandas as pd

    label_of: dict[str, set[str]] = {}
    for label, keyword in rules:
        label_of.setdefault(keyword.casefold(), set()).add(label)
    pattern = re.compile("|".join(re.escape(k) for k in sorted(label_of, key=len, reverse=True)))
    with out.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS naive_labels"))
    query = text(
        f"SELECT id, title, content FROM {source_table} WHERE post_time >= :start AND post_time < :end ORDER BY id"
    )
    rows = 0
    began = time.perf_counter()
    with source.connect() as conn:
        for frame in pd.read_sql(query, conn, params={"start": start, "end": end}, chunksize=10_000):
            rows += len(frame)
            texts = (frame["title"].fillna("") + "\n" + frame["content"].fillna("")).str.casefold()
            found = texts.map(lambda t: sorted({lb for m in pattern.findall(t) for lb in label_of[m]}))
            pairs = pd.DataFrame({"source_id": frame["id"], "label": found}).explode("label").dropna()
            pairs.to_sql("naive_labels", out, if_exists="append", index=False, method="multi", chunksize=1_000)
    seconds = time.perf_counter() - began
    with out.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS naive_labels"))
    return rows, seconds
