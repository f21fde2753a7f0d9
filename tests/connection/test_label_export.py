"""A task's label rows come out once each, in key order, page by page, as CSV and as JSONL."""

import csv
import io
import json
import uuid
from collections.abc import Iterator
from datetime import datetime
from itertools import chain

import pytest
from sqlalchemy import Engine, delete

from utils.db.label_export import as_csv, as_jsonl, label_pages
from utils.db.label_store import LabelRows, write_labels
from utils.db.tables import labels

WHEN = datetime(2026, 5, 1)
LABELS = ["体育", "it's", 'say "hi"', "a,b", "line\nbreak", "😂", "1"]


@pytest.fixture
def written(engine: Engine) -> Iterator[tuple[str, list[tuple[str, int, str, str, float, float | None]]]]:
    """A task with labels in two tables, several models and labels per row, and another task's beside
    them; all removed afterwards (other tests count what the table holds)."""
    task_id, other = uuid.uuid4().hex, uuid.uuid4().hex
    expected = []
    for table in ("src.b_posts", "src.a_posts"):
        rows = [
            (model, source_id, label, 0.5 + source_id % 3)
            for source_id in range(1, 40)
            for model in ("kw", "tw")
            for label in LABELS[source_id % 4 : source_id % 4 + 1 + source_id % 3]
        ]
        # The classifier "tw" has margins, the rule model "kw" none.
        margins = [(sc - 1.0) / 4 if m == "tw" else None for m, _, _, sc in rows]
        with engine.begin() as conn:
            write_labels(conn, LabelRows(task_id, table, WHEN, rows, margins))
            write_labels(conn, LabelRows(other, table, WHEN, rows[:5]))
        expected += [(table, i, m, lb, sc, mg) for (m, i, lb, sc), mg in zip(rows, margins, strict=True)]
    yield task_id, expected
    with engine.begin() as conn:
        conn.execute(delete(labels).where(labels.c.task_id.in_([task_id, other])))


def test_pages_hold_every_row_once_in_key_order(engine: Engine, written: tuple[str, list]) -> None:
    task_id, expected = written
    pages = list(label_pages(engine, task_id, page_rows=7))  # pages end inside a row's labels
    rows = list(chain.from_iterable(pages))
    per_table = len(expected) // 2
    assert len(pages) == 2 * -(-per_table // 7) and all(1 <= len(page) <= 7 for page in pages)
    assert sorted(rows, key=repr) == sorted(expected, key=repr) and len(set(rows)) == len(rows)
    assert [r[:2] for r in rows] == sorted(r[:2] for r in rows)  # table by table, id by id
    assert list(label_pages(engine, uuid.uuid4().hex)) == []


def test_csv_and_jsonl_give_the_rows_back(engine: Engine, written: tuple[str, list]) -> None:
    task_id, expected = written
    text = b"".join(as_csv(label_pages(engine, task_id, page_rows=10))).decode()
    header, *lines = list(csv.reader(io.StringIO(text)))
    assert header == ["source_table", "source_id", "model", "label", "score", "margin"]
    found = [(t, int(i), m, lb, float(sc), float(mg) if mg else None) for t, i, m, lb, sc, mg in lines]
    assert sorted(found, key=repr) == sorted(expected, key=repr)
    jsonl = b"".join(as_jsonl(label_pages(engine, task_id, page_rows=10))).decode()
    objects = [json.loads(line) for line in jsonl.splitlines()]
    assert len(objects) == len(expected) and "line\\nbreak" in jsonl and "体育" in jsonl  # not escaped
    assert sorted((tuple(o.values()) for o in objects), key=repr) == sorted(expected, key=repr)
