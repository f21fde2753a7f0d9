"""Label rows reach MariaDB (literal INSERT … SELECT statements) and SQLite (executemany) exactly as given."""

import uuid
from datetime import datetime

import pytest
from sqlalchemy import Engine, delete, func, select
from sqlalchemy.exc import IntegrityError

from settings import Settings
from utils.db import label_store
from utils.db.engines import output_engine
from utils.db.label_store import LabelRows, write_labels
from utils.db.tables import labels

HOSTILE = [
    "体育",
    "it's",
    'say "hi"',
    "back\\slash",
    "100%",
    "%s %(x)s",
    "a\nb\tc",
    "😂👍",
    "'); DROP TABLE labels; --",
    "1",
]
# Decimals of every length and exponents side by side: a DECIMAL column of them would round some.
SCORES = [1.0, 0.1, 1e-300, 123456.789, -2.5, 0.30000000000000004, 1e-05, 5e20, 0.5, 2.0, 1 / 3]
WHEN = datetime(2026, 5, 1, 12, 30, 45)


def stored(engine: Engine, task_id: str) -> set[tuple]:
    columns = (labels.c.source_table, labels.c.source_id, labels.c.model, labels.c.label, labels.c.score)
    with engine.connect() as conn:
        found = conn.execute(select(*columns, labels.c.created_at).where(labels.c.task_id == task_id)).all()
    assert {row[-1] for row in found} <= {WHEN}
    return {tuple(row[:-1]) for row in found}


def batch(task_id: str, table: str = "src.posts") -> LabelRows:
    rows = [
        (model, 1_000 + i, label, SCORES[(i + j) % len(SCORES)])
        for i, model in enumerate(HOSTILE)
        for j, label in enumerate(HOSTILE)
    ]
    return LabelRows(task_id, table, WHEN, rows)


def test_any_label_or_model_name_is_stored_as_given(engine: Engine) -> None:
    task_id = uuid.uuid4().hex
    given = batch(task_id, "weird`schema.table'name")
    others = select(func.count()).select_from(labels).where(labels.c.task_id != task_id)
    with engine.connect() as conn:
        before = conn.execute(others).scalar_one()
    with engine.begin() as conn:
        write_labels(conn, given)
    assert stored(engine, task_id) == {(given.source_table, i, m, lb, s) for m, i, lb, s in given.rows}
    with engine.connect() as conn:  # the table is still there, and nothing else was written
        assert conn.execute(others).scalar_one() == before


def test_rows_whose_values_look_alike(engine: Engine) -> None:
    """Id 1, label "1", score 1: a table value constructor that took its column names from its first row
    would name two columns alike."""
    task_id = uuid.uuid4().hex
    rows = [("1", 1, "1", 1.0), ("1", 1, "1.0", 1.0), ("m", 2, "2", 2.0), ("1", 3, "1", 0.5)]
    with engine.begin() as conn:
        write_labels(conn, LabelRows(task_id, "1", WHEN, rows))
    assert stored(engine, task_id) == {("1", i, m, lb, s) for m, i, lb, s in rows}


def test_large_batches_are_split_into_several_statements(services: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(label_store, "STATEMENT_CHARS", 2_000)
    engine = output_engine(services)
    task_id = uuid.uuid4().hex
    rows = [("kw", i, f"label_{i % 7}", 1.0) for i in range(5_000)]
    statements = list(label_store._insert_statements(repr, LabelRows(task_id, "t", WHEN, rows)))
    assert len(statements) > 50 and all(len(s) <= 2_000 for s in statements)
    with engine.begin() as conn:
        write_labels(conn, LabelRows(task_id, "t", WHEN, rows))
    assert len(stored(engine, task_id)) == 5_000
    with engine.begin() as conn:
        conn.execute(delete(labels).where(labels.c.task_id == task_id))


def test_a_score_that_is_not_a_number_writes_nothing(services: Settings) -> None:
    engine = output_engine(services)
    task_id = uuid.uuid4().hex
    rows = [("kw", 1, "a", 1.0), ("kw", 2, "a", float("nan"))]
    with pytest.raises(ValueError, match="row 2 the score nan"), engine.begin() as conn:
        write_labels(conn, LabelRows(task_id, "t", WHEN, rows))
    assert stored(engine, task_id) == set()
    with pytest.raises(ValueError, match="row 1 the score nan"), engine.begin() as conn:
        write_labels(conn, LabelRows(task_id, "t", WHEN, [("clf", 1, "a", 1.0)], [float("nan")]))
    assert stored(engine, task_id) == set()


def test_the_unique_key_still_refuses_a_second_copy(engine: Engine) -> None:
    task_id = uuid.uuid4().hex
    with engine.begin() as conn:
        write_labels(conn, LabelRows(task_id, "t", WHEN, [("kw", 1, "a", 1.0)]))
    with pytest.raises(IntegrityError), engine.begin() as conn:
        write_labels(conn, LabelRows(task_id, "t", WHEN, [("kw", 2, "a", 1.0), ("kw", 1, "a", 2.0)]))
    assert stored(engine, task_id) == {("t", 1, "kw", "a", 1.0)}


def test_margins_are_stored_beside_models_without_them(engine: Engine) -> None:
    """A classifier's rows carry margins, a rule model's in the same batch none: both land as given."""
    task_id = uuid.uuid4().hex
    rows = [("kw", i, "体育", 1.0) for i in range(1, 6)] + [("clf", i, HOSTILE[i], SCORES[i]) for i in range(1, 6)]
    margins: list[float | None] = [None] * 5 + [SCORES[i + 1] - 0.5 for i in range(1, 6)]
    with engine.begin() as conn:
        write_labels(conn, LabelRows(task_id, "t", WHEN, rows, margins))
    with engine.connect() as conn:
        found = conn.execute(
            select(labels.c.model, labels.c.source_id, labels.c.label, labels.c.score, labels.c.margin).where(
                labels.c.task_id == task_id
            )
        ).all()
    assert sorted(found, key=repr) == sorted(
        [(*row, margin) for row, margin in zip(rows, margins, strict=True)], key=repr
    )
