"""A task ends SUCCESS only when every row in its range is accounted for, labels are stored exactly as
the model names them, and error fields say what failed in words. The workflow's steps are run here as
functions (plan, each chunk, finalize), on MariaDB, without a broker."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert, select, text
from sqlalchemy.exc import IntegrityError

from apis.app import create_app
from settings import Settings
from tests.conftest import task_body
from utils.db import task_store as ts
from utils.db.engines import output_engine, source_engine
from utils.db.errors import MAX_CAUSE_CHARS, cause_of
from utils.db.tables import labels
from workers import labeling
from workers.cli import register_keyword_model


@pytest.fixture(scope="module")
def client(services: Settings) -> Iterator[TestClient]:
    with TestClient(create_app()) as c:
        yield c


def run_steps(settings: Settings, task_id: str) -> str:
    """The predicting workflow's steps in order, as the worker runs them; the outcome."""
    for chunk_id in labeling.plan_task(settings, task_id):
        labeling.run_chunk(settings, task_id, chunk_id)
    outcome = labeling.finalize_task(settings, task_id)
    assert outcome is not None
    return outcome


def task_row(settings: Settings, task_id: str):  # type: ignore[no-untyped-def]
    with output_engine(settings).connect() as conn:
        return ts.get_task(conn, task_id)


def test_rows_keyset_reads_cannot_reach_fail_the_task_with_their_count(
    client: TestClient, services: Settings, keyword_model: str
) -> None:
    """A view may repeat an id (it has no keys to check): rows a keyset read steps over are missing rows,
    never a SUCCESS."""
    with source_engine(services).begin() as conn:
        conn.execute(text("DROP VIEW IF EXISTS repeated_ids"))
        conn.execute(text("DROP TABLE IF EXISTS repeated_ids_src"))
        conn.execute(
            text(
                "CREATE TABLE repeated_ids_src (pk BIGINT AUTO_INCREMENT PRIMARY KEY, sid BIGINT NOT NULL, "
                "title TEXT, content TEXT, post_time DATETIME NOT NULL)"
            )
        )
        for sid in (1, 1, 2, 3, 3, 4):
            conn.execute(
                text("INSERT INTO repeated_ids_src (sid, title, content, post_time) VALUES (:s, 'NBA', '', :t)"),
                {"s": sid, "t": "2026-06-01 12:00:00"},
            )
        conn.execute(
            text("CREATE VIEW repeated_ids AS SELECT sid AS id, title, content, post_time FROM repeated_ids_src")
        )
    r = client.post("/predicting/tasks", json=task_body("repeated_ids", model=keyword_model, batch_size=1))
    assert r.status_code == 200, r.text
    task_id = r.json()["task_id"]

    assert run_steps(services, task_id) == "FAILURE"
    task = task_row(services, task_id)
    assert task.stats["rows_total"] == 6 and task.stats["rows_read"] == 4
    assert task.error.startswith("2 of 6 rows in range were not read")
    log = client.get(f"/predicting/tasks/{task_id}/log").text
    assert "finished FAILURE" in log and "2 of 6 rows in range were not read" in log


def test_labels_that_differ_by_case_or_are_different_emoji_are_all_stored(
    client: TestClient, services: Settings, source_posts: str, tmp_path: Path
) -> None:
    rules = tmp_path / "rules.csv"
    rules.write_text("label,keyword\nSport,nba\nsport,nba\n😀,nba\n😂,nba\n", encoding="utf-8")
    register_keyword_model("Case-Model", rules)
    register_keyword_model("case-model", rules)
    with source_engine(services).begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS case_posts"))
        conn.execute(
            text("CREATE TABLE case_posts (id BIGINT PRIMARY KEY, title TEXT, content TEXT, post_time DATETIME)")
        )
        conn.execute(
            text("INSERT INTO case_posts VALUES (1, 'NBA tonight', '', '2026-03-01'), (2, 'rain', '', '2026-03-02')")
        )
    body = task_body("case_posts", model="Case-Model")
    body["model_names"] = ["Case-Model", "case-model"]
    r = client.post("/predicting/tasks", json=body)
    assert r.status_code == 200, r.text
    task_id = r.json()["task_id"]

    assert run_steps(services, task_id) == "SUCCESS", task_row(services, task_id).error
    with output_engine(services).connect() as conn:
        stored = set(conn.execute(select(labels.c.model, labels.c.label).where(labels.c.task_id == task_id)).all())
    expected_labels = {"Sport", "sport", "😀", "😂"}
    assert stored == {(m, lb) for m in ("Case-Model", "case-model") for lb in expected_labels}


def test_a_database_error_is_told_in_words_without_its_statement(services: Settings) -> None:
    row = {
        "task_id": "f" * 32,
        "source_table": "posts",
        "source_id": 1,
        "model": "m",
        "score": 1.0,
        "created_at": ts.utcnow(),
    }
    with output_engine(services).connect() as conn:
        conn.execute(insert(labels), [row | {"label": "x" * 90 + str(i)} for i in range(5)])
        with pytest.raises(IntegrityError) as caught:
            conn.execute(insert(labels), [row | {"label": "x" * 90 + str(i)} for i in range(4, 400)])
        conn.rollback()
    cause = cause_of(caught.value)
    assert "Duplicate entry" in cause and cause.startswith("IntegrityError: (1062")
    assert "INSERT" not in cause and "[SQL" not in cause and "parameters" not in cause
    assert len(str(caught.value)) > 2 * MAX_CAUSE_CHARS and len(cause) <= MAX_CAUSE_CHARS
