"""/metrics: the figures of the output schema in Prometheus' text format."""

from datetime import datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, insert, update

from apis.metrics import OutputSchemaCollector
from utils.db.tables import chunks, metadata, tasks

NOW = datetime(2026, 12, 1, 12, 0, 0)


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_tasks_rows_durations_and_running_rates(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'out.sqlite'}")
    metadata.create_all(engine, tables=[tasks, chunks])
    rows = [  # id, type, status, seconds from start to end (None: running), total
        ("a" * 32, "predicting", "SUCCESS", 10, 500),
        ("b" * 32, "predicting", "FAILURE", 100, 900),
        ("c" * 32, "training", "SUCCESS", 2, 0),
        ("d" * 32, "predicting", "STARTED", None, 1_000),
    ]
    with engine.begin() as conn:
        for task_id, task_type, status, seconds, total in rows:
            started = NOW - timedelta(seconds=seconds or 20)
            finished = started + timedelta(seconds=seconds) if seconds else None
            conn.execute(
                insert(tasks).values(
                    id=task_id, type=task_type, status=status, config={}, total=total, abort_requested=False,
                    created_at=started, started_at=started, finished_at=finished,
                )
            )  # fmt: skip
        counters = [("a" * 32, 500, 10, 300), ("d" * 32, 400, 0, 200), ("d" * 32, 100, 5, 50)]
        for task_id, read, excluded, labeled in counters:
            conn.execute(
                insert(chunks).values(
                    task_id=task_id, source_table="s.t", lo=0, hi=1, checkpoint=0, status="DONE", attempts=1,
                    rows_read=read, rows_excluded=excluded, rows_labeled=labeled, label_counts={}, peak_rss=0,
                )
            )  # fmt: skip
    registry = CollectorRegistry(auto_describe=False)
    registry.register(OutputSchemaCollector(engine, now=NOW))
    got = samples(generate_latest(registry).decode())

    assert got[("audience_tasks", (("status", "SUCCESS"), ("type", "predicting")))] == 1
    assert got[("audience_tasks", (("status", "STARTED"), ("type", "predicting")))] == 1
    assert got[("audience_tasks", (("status", "SUCCESS"), ("type", "training")))] == 1
    assert got[("audience_task_failures_total", (("type", "predicting"),))] == 1
    assert got[("audience_rows_read_total", ())] == 1_000
    assert got[("audience_rows_excluded_total", ())] == 15
    assert got[("audience_rows_labeled_total", ())] == 550
    key = (("status", "SUCCESS"), ("type", "predicting"))
    assert got[("audience_task_duration_seconds_bucket", (("le", "5.0"), *key))] == 0
    assert got[("audience_task_duration_seconds_bucket", (("le", "15.0"), *key))] == 1
    assert got[("audience_task_duration_seconds_sum", key)] == 10
    assert got[("audience_task_duration_seconds_count", (("status", "FAILURE"), ("type", "predicting")))] == 1
    assert got[("audience_task_rows_per_second", (("task_id", "d" * 32),))] == 500 / 20
    assert got[("audience_task_progress_ratio", (("task_id", "d" * 32),))] == 0.5
    assert ("audience_task_rows_per_second", (("task_id", "a" * 32),)) not in got  # finished: not running

    with engine.begin() as conn:
        conn.execute(update(tasks).where(tasks.c.id == "d" * 32).values(status="SUCCESS", finished_at=NOW))
    assert not any(name == "audience_task_rows_per_second" for name, _ in samples(generate_latest(registry).decode()))


def test_the_route_answers_in_prometheus_text_format(client: TestClient) -> None:
    r = client.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain; version=")
    names = {family.name for family in text_string_to_metric_families(r.text)}
    assert {"audience_tasks", "audience_rows_read", "audience_task_duration_seconds"} <= names
