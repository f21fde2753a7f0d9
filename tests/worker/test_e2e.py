"""End to end through HTTP: a uvicorn API process, real Celery worker processes, MariaDB, Redis."""

import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import httpx
import pytest
import redis
from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.exc import OperationalError

from models.keyword import KeywordModel
from settings import Settings
from tests.conftest import TEST_ENV, task_body
from tests.oracle import keyword_oracle
from tests.services import Process, start_api, start_worker, wait_for
from utils.db.engines import output_engine, source_engine
from utils.db.tables import labels, tasks
from utils.demo import generate_posts, posts_table
from utils.text import join_columns
from workers.cli import DEMO_RULES, read_keyword_rules


@pytest.fixture
def worker_env(services: Settings) -> dict[str, str]:
    # Each test starts from an empty broker, so no message of an earlier test reaches its workers.
    for url in (services.broker_url, services.result_backend):
        redis.Redis.from_url(url).flushdb()
    return {**os.environ, **TEST_ENV}


@pytest.fixture(scope="module")
def api(services: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    proc, url = start_api({**os.environ, **TEST_ENV}, tmp_path_factory.mktemp("api") / "api.log")
    with httpx.Client(base_url=url, timeout=30) as client:
        yield client
    proc.stop()


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[list[Process]]:
    started: list[Process] = []
    yield started
    for proc in started:
        proc.kill()


def stored_labels(settings: Settings, task_id: str) -> tuple[int, set[int]]:
    with output_engine(settings).connect() as conn:
        total = conn.execute(select(func.count()).select_from(labels).where(labels.c.task_id == task_id)).scalar_one()
        ids = set(conn.execute(select(labels.c.source_id).where(labels.c.task_id == task_id).distinct()).scalars())
    return total, ids


def assert_labeled_exactly_once(status: dict, settings: Settings, model: str, expected: dict) -> None:
    task_id = status["task_id"]
    assert status["status"] == "SUCCESS", status
    assert status["progress"]["total"] == expected["rows"]
    assert status["progress"]["done"] == expected["rows"]
    assert status["progress"]["labeled"] == len(expected["labeled"])
    assert status["progress"]["percent"] == 100.0
    assert status["label_counts"] == {model: expected["counts"]}
    total, ids = stored_labels(settings, task_id)
    assert total == expected["labels"]  # no row labeled twice (and the unique key forbids it)
    assert ids == expected["labeled"]  # no row lost


def create(api: httpx.Client, table: str, **extra: object) -> str:
    r = api.post("/predicting/tasks", json=task_body(table, **extra))
    assert r.status_code == 200, r.text
    return r.json()["task_id"]


def wait_until_some_done(api: httpx.Client, task_id: str, rows: int, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = api.get(f"/predicting/tasks/{task_id}").json()
        assert status["status"] in ("PENDING", "STARTED"), status
        if status["progress"]["done"] >= rows:
            return status
        time.sleep(0.05)
    raise AssertionError(f"task {task_id} did no work in {timeout}s")


def test_label_a_year_through_http(
    api: httpx.Client, worker_env: dict, workers: list, tmp_path: Path, services: Settings,
    source_posts: str, keyword_model: str, expected: dict,
) -> None:  # fmt: skip
    workers.append(start_worker(worker_env, tmp_path / "worker.log"))
    task_id = create(api, source_posts)
    status = wait_for(api, task_id, ("SUCCESS", "FAILURE", "BREAK"))
    assert_labeled_exactly_once(status, services, keyword_model, expected)
    assert status["error"] is None
    assert status["peak_rss_bytes"] > 10 * 1024 * 1024
    assert status["progress"]["rows_per_s"] > 0
    assert set(status["chunks"]) == {"DONE"} and status["chunks"]["DONE"] > 1
    listed = api.get("/predicting/tasks", params={"status": "SUCCESS", "limit": 500}).json()["tasks"]
    assert task_id in [t["task_id"] for t in listed]

    sample = api.get(f"/predicting/tasks/{task_id}/sample", params={"size": 25})
    assert sample.status_code == 200, sample.text
    rows = sample.json()["rows"]
    assert 0 < len(rows) <= 25
    assert len({r["source_id"] for r in rows}) == len(rows)
    model = KeywordModel(read_keyword_rules(DEMO_RULES))
    for row in rows:
        assert row["source_table"] == source_posts and row["source_id"] in expected["labeled"]
        got = [(x["label"], x["score"]) for x in row["labels"][keyword_model]]
        assert sorted(got) == model.predict([row["text"]])[0]


def test_gevent_pool_labels_the_same(
    api: httpx.Client, worker_env: dict, workers: list, tmp_path: Path, services: Settings,
    source_posts: str, keyword_model: str, expected: dict,
) -> None:  # fmt: skip
    env = {**worker_env, "WORKER_POOL": "gevent", "WORKER_CONCURRENCY": "4"}
    workers.append(start_worker(env, tmp_path / "worker.log"))
    status = wait_for(api, create(api, source_posts), ("SUCCESS", "FAILURE", "BREAK"))
    assert_labeled_exactly_once(status, services, keyword_model, expected)
    assert "(gevent)" in workers[0].output()


def test_abort_a_running_task(
    api: httpx.Client, worker_env: dict, workers: list, tmp_path: Path, services: Settings,
    source_posts: str, keyword_model: str,
) -> None:  # fmt: skip
    workers.append(start_worker(worker_env, tmp_path / "worker.log"))
    task_id = create(api, source_posts, batch_size=20)
    running = wait_until_some_done(api, task_id, 200)
    sample = api.get(f"/predicting/tasks/{task_id}/sample", params={"size": 5})
    assert sample.status_code == 200 and sample.json()["status"] == "STARTED"
    r = api.post(f"/predicting/tasks/{task_id}/abort")
    assert r.status_code == 200, r.text
    status = wait_for(api, task_id, ("BREAK", "SUCCESS", "FAILURE"), timeout=60)
    assert status["status"] == "BREAK"
    assert running["progress"]["done"] <= status["progress"]["done"] < status["progress"]["total"]
    written, _ = stored_labels(services, task_id)
    counted = sum(status["label_counts"][keyword_model].values())
    assert written == counted > 0  # what was written stays and is counted
    time.sleep(1.5)
    assert stored_labels(services, task_id)[0] == written  # nothing written after the abort
    assert_after = api.post(f"/predicting/tasks/{task_id}/abort")
    assert assert_after.status_code == 409


def test_sigkill_the_worker_mid_task_and_start_another(
    api: httpx.Client, worker_env: dict, workers: list, tmp_path: Path, services: Settings,
    source_posts: str, keyword_model: str, expected: dict,
) -> None:  # fmt: skip
    first = start_worker(worker_env, tmp_path / "first.log")
    workers.append(first)
    task_id = create(api, source_posts, batch_size=100)
    before = wait_until_some_done(api, task_id, 1_000)
    first.kill(signal.SIGKILL)
    killed_at = api.get(f"/predicting/tasks/{task_id}").json()
    assert killed_at["status"] == "STARTED" and killed_at["progress"]["done"] < expected["rows"]
    assert before["progress"]["done"] <= killed_at["progress"]["done"]
    workers.append(start_worker(worker_env, tmp_path / "second.log", name="second"))
    status = wait_for(api, task_id, ("SUCCESS", "FAILURE", "BREAK"), timeout=180)
    assert_labeled_exactly_once(status, services, keyword_model, expected)


def embedded_env(var: Path, rows: int) -> dict[str, str]:
    """The environment of `make run` with no .env, and a seeded demo table of `rows` posts."""
    env = {k: v for k, v in os.environ.items() if k not in TEST_ENV}
    env.update({"VAR_DIR": str(var), "OUTPUT_HOST": "", "INPUT_HOST": "", "BROKER_URL": "", "RESULT_BACKEND": ""})
    seeded = subprocess.run(
        [sys.executable, "-m", "workers.cli", "demo", "--rows", str(rows)], env=env, capture_output=True, text=True
    )
    assert seeded.returncode == 0, seeded.stderr
    return env


def demo_year(**extra: object) -> dict:
    return {
        "model_names": ["demo_keywords"],
        "source": {"tables": ["main.posts"]},
        "start_time": "2026-01-01T00:00:00",
        "end_time": "2027-01-01T00:00:00",
        **extra,
    }


def test_embedded_default_end_to_end(tmp_path: Path, workers: list) -> None:
    env = embedded_env(tmp_path / "var", 3000)
    assert sorted(p.name for p in (tmp_path / "var").iterdir() if p.suffix == ".sqlite") == [
        "output.sqlite",
        "source.sqlite",
    ]
    workers.append(start_worker(env, tmp_path / "worker.log", queues="predicting,modeling"))
    api_proc, url = start_api(env, tmp_path / "api.log")
    workers.append(api_proc)
    assert "sqla+sqlite" in workers[0].output()
    with httpx.Client(base_url=url, timeout=30) as client:
        r = client.post("/predicting/tasks", json=demo_year(batch_size=500))
        assert r.status_code == 200, r.text
        status = wait_for(client, r.json()["task_id"], ("SUCCESS", "FAILURE", "BREAK"), timeout=120)
        expected = keyword_oracle(list(generate_posts(3000)), read_keyword_rules(DEMO_RULES))
        assert status["status"] == "SUCCESS", status
        assert status["progress"]["done"] == 3000
        assert status["progress"]["labeled"] == len(expected["labeled"])
        assert status["label_counts"] == {"demo_keywords": expected["counts"]}
        sample = client.get(f"/predicting/tasks/{r.json()['task_id']}/sample", params={"size": 3}).json()
        assert len(sample["rows"]) == 3 and all(row["text"] and row["labels"] for row in sample["rows"])

        # The same year without the rows a pattern set excludes (JSON queries on SQLite, too).
        patterns = ["股市", "^$"]
        created = client.post("/preprocessing/patterns", json={"name": "no_stocks", "patterns": patterns})
        assert created.status_code == 200, created.text
        r = client.post("/predicting/tasks", json=demo_year(batch_size=500, pattern_set="no_stocks"))
        assert r.status_code == 200, r.text
        status = wait_for(client, r.json()["task_id"], ("SUCCESS", "FAILURE", "BREAK"), timeout=120)
        posts = list(generate_posts(3000))
        excluded = {
            p["id"] for p in posts if any(re.search(x, join_columns([p["title"], p["content"]])) for x in patterns)
        }
        kept = keyword_oracle([p for p in posts if p["id"] not in excluded], read_keyword_rules(DEMO_RULES))
        assert status["status"] == "SUCCESS", status
        assert status["progress"]["done"] == 3000 and status["progress"]["excluded"] == len(excluded) > 0
        assert status["label_counts"] == {"demo_keywords": kept["counts"]}
        listed = client.get("/preprocessing/patterns").json()["pattern_sets"]
        assert [(s["name"], s["pattern_count"], s["unfinished_tasks"]) for s in listed] == [("no_stocks", 2, 0)]
        assert client.delete(f"/preprocessing/patterns/{created.json()['pattern_set_id']}").status_code == 200


def test_embedded_default_survives_sigkill_of_its_worker(tmp_path: Path, workers: list) -> None:
    """The SQLAlchemy broker never redelivers a fetched message; the next worker re-sends the work."""
    rows = 12_000
    env = {**embedded_env(tmp_path / "var", rows), "CHUNK_ROWS": "3000"}
    first = start_worker(env, tmp_path / "first.log")
    workers.append(first)
    api_proc, url = start_api(env, tmp_path / "api.log")
    workers.append(api_proc)
    with httpx.Client(base_url=url, timeout=30) as client:
        task_id = client.post("/predicting/tasks", json=demo_year(batch_size=50)).json()["task_id"]
        wait_until_some_done(client, task_id, 500)
        first.kill(signal.SIGKILL)
        killed_at = client.get(f"/predicting/tasks/{task_id}").json()
        assert killed_at["status"] == "STARTED" and killed_at["progress"]["done"] < rows
        second = start_worker(env, tmp_path / "second.log", name="second")
        workers.append(second)
        status = wait_for(client, task_id, ("SUCCESS", "FAILURE", "BREAK"), timeout=180)
    expected = keyword_oracle(list(generate_posts(rows)), read_keyword_rules(DEMO_RULES))
    assert status["status"] == "SUCCESS", status
    assert status["progress"]["done"] == rows
    assert status["label_counts"] == {"demo_keywords": expected["counts"]}
    assert "re-sent 1 unfinished task" in second.output()
    with sqlite3.connect(tmp_path / "var" / "output.sqlite") as db:
        stored, distinct_rows = db.execute(
            "SELECT COUNT(*), COUNT(DISTINCT source_id) FROM labels WHERE task_id = ?", (task_id,)
        ).fetchone()
    assert stored == sum(expected["counts"].values())
    assert distinct_rows == len(expected["labeled"])


def kill_connections(settings: Settings) -> int:
    """KILL every other connection to the test schemas: the workers' reads and writes in flight."""
    killed = 0
    with output_engine(settings).connect() as conn:
        rows = conn.execute(
            text(
                "SELECT id FROM information_schema.processlist "
                "WHERE db IN (:a, :b) AND id <> CONNECTION_ID() AND command <> 'Daemon'"
            ),
            {"a": settings.input_schema, "b": settings.output_schema},
        ).scalars()
        for connection_id in list(rows):
            try:
                conn.execute(text(f"KILL CONNECTION {int(connection_id)}"))
                killed += 1
            except OperationalError:  # it ended by itself meanwhile
                pass
    return killed


def test_database_connections_killed_mid_task(
    api: httpx.Client, worker_env: dict, workers: list, tmp_path: Path, services: Settings,
    source_posts: str, keyword_model: str, expected: dict,
) -> None:  # fmt: skip
    """Reads and writes cut at random points: each chunk resumes from its last committed batch."""
    workers.append(start_worker(worker_env, tmp_path / "worker.log"))
    task_id = create(api, source_posts, batch_size=200)
    wait_until_some_done(api, task_id, 400)
    killed = 0
    for _ in range(6):
        killed += kill_connections(services)
        time.sleep(0.4)
    assert killed > 0
    status = wait_for(api, task_id, ("SUCCESS", "FAILURE", "BREAK"), timeout=240)
    assert_labeled_exactly_once(status, services, keyword_model, expected)
    assert "OperationalError" in workers[0].output()  # the cuts did reach the workers


def test_a_task_whose_messages_the_broker_lost_is_sent_again(
    api: httpx.Client, worker_env: dict, workers: list, tmp_path: Path, services: Settings,
    source_posts: str, keyword_model: str, expected: dict,
) -> None:  # fmt: skip
    """Redis restarted without persistence while its worker died: nothing is left to redeliver. A
    worker notices the task has been silent for STALE_TASK_AFTER_S and plans it again."""
    with output_engine(services).begin() as conn:  # other tests' tasks, never run, are not this test's
        conn.execute(
            update(tasks).where(tasks.c.status.in_(("PENDING", "STARTED"))).values(status="FAILURE", error="test")
        )
    env = {**worker_env, "STALE_TASK_AFTER_S": "6"}
    first = start_worker(env, tmp_path / "first.log")
    workers.append(first)
    task_id = create(api, source_posts, batch_size=100)
    wait_until_some_done(api, task_id, 1_000)
    first.kill(signal.SIGKILL)
    for url in (services.broker_url, services.result_backend):
        redis.Redis.from_url(url).flushdb()  # every message, queued or unacknowledged, is gone
    second = start_worker(env, tmp_path / "second.log", name="second")
    workers.append(second)
    status = wait_for(api, task_id, ("SUCCESS", "FAILURE", "BREAK"), timeout=180)
    assert_labeled_exactly_once(status, services, keyword_model, expected)
    assert f"re-sent 1 predicting task(s) silent for 6 s: {task_id}" in second.output()


def test_warm_shutdown_mid_task_then_another_worker(
    api: httpx.Client, worker_env: dict, workers: list, tmp_path: Path, services: Settings,
    source_posts: str, keyword_model: str, expected: dict,
) -> None:  # fmt: skip
    """SIGTERM: the worker finishes the chunks it holds, gives back the rest, and exits."""
    first = start_worker(worker_env, tmp_path / "first.log")
    workers.append(first)
    task_id = create(api, source_posts, batch_size=200)
    wait_until_some_done(api, task_id, 400)
    first.proc.send_signal(signal.SIGTERM)
    assert first.proc.wait(timeout=120) == 0
    workers.append(start_worker(worker_env, tmp_path / "second.log", name="second"))
    status = wait_for(api, task_id, ("SUCCESS", "FAILURE", "BREAK"), timeout=180)
    assert_labeled_exactly_once(status, services, keyword_model, expected)


def test_children_recycled_after_every_chunk(
    api: httpx.Client, worker_env: dict, workers: list, tmp_path: Path, services: Settings,
    source_posts: str, keyword_model: str, expected: dict,
) -> None:  # fmt: skip
    """worker_max_memory_per_child below any child's size replaces each child after its task."""
    env = {**worker_env, "WORKER_MAX_MEMORY_PER_CHILD_KB": "1"}
    workers.append(start_worker(env, tmp_path / "worker.log"))
    status = wait_for(api, create(api, source_posts), ("SUCCESS", "FAILURE", "BREAK"), timeout=240)
    assert_labeled_exactly_once(status, services, keyword_model, expected)
    children = {int(n) for n in re.findall(r"ForkPoolWorker-(\d+)", workers[0].output())}
    assert max(children) > int(worker_env["WORKER_CONCURRENCY"])  # replaced children took over


def test_rows_inserted_while_a_task_runs_are_not_labeled(
    api: httpx.Client, worker_env: dict, workers: list, tmp_path: Path, services: Settings,
    source_posts: str, keyword_model: str, expected: dict,
) -> None:  # fmt: skip
    """The upper id of each table is frozen when the task is planned."""
    table = posts_table("posts")
    late = [
        {"id": 1_000_000 + i, "title": "足球", "content": "晚到的帖子，世界杯", "post_time": datetime(2026, 6, 1)}
        for i in range(50)
    ]
    workers.append(start_worker(worker_env, tmp_path / "worker.log"))
    task_id = create(api, source_posts, batch_size=200)
    wait_until_some_done(api, task_id, 200)
    try:
        with source_engine(services).begin() as conn:
            conn.execute(insert(table), late)
        status = wait_for(api, task_id, ("SUCCESS", "FAILURE", "BREAK"), timeout=180)
    finally:
        with source_engine(services).begin() as conn:
            conn.execute(delete(table).where(table.c.id >= 1_000_000))
    assert_labeled_exactly_once(status, services, keyword_model, expected)  # the late rows are not among them
