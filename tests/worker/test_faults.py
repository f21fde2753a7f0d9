"""The fault matrix: a predicting task broken on purpose while it runs, on real MariaDB, Redis and
worker processes. After each fault the task must end with every row in range labeled exactly once,
the same labels as a clean run, and counters equal to the output (or, where it cannot succeed, a
clear error). `make reliability` runs these tests several times and tabulates what they measured."""

import re
import signal
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import httpx
import psutil
import pytest
import redis
from sqlalchemy import delete, insert, select, update

from models.keyword import KeywordModel
from settings import Settings
from tests.conftest import task_body
from tests.faults import (
    RedisServer,
    deadlock_the_workers,
    kill_connections,
    kill_lock_waiters,
    label_rows_held,
    store_poison_model,
    task_row_locked,
    wait_for_lock_waiters,
)
from tests.services import start_api, start_worker, wait_for
from tests.worker.flow import (
    FINISHED,
    Fault,
    assert_labeled_exactly_once,
    chunk_attempts,
    create,
    label_count,
    stored_pairs,
    wait_until_some_done,
)
from utils.db.engines import output_engine, source_engine
from utils.db.tables import chunks, tasks
from utils.demo import posts_table
from workers.cli import DEMO_RULES, read_keyword_rules

pytestmark = pytest.mark.fault
Report = Callable[..., None]


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A Redis of this test's own, to kill and start again."""
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.kill()


def end_other_tests_tasks(settings: Settings) -> None:
    """Mark the unfinished tasks earlier tests left (never run) FAILURE, so the stale-task check of
    this test's worker sends only this test's task."""
    with output_engine(settings).begin() as conn:
        conn.execute(update(tasks).where(tasks.c.status.in_(("PENDING", "STARTED"))).values(status="FAILURE"))


def test_sigkill_a_pool_child_mid_batch(
    api: httpx.Client, worker_env: dict, workers: list, tmp_path: Path, services: Settings,
    source_posts: str, keyword_model: str, expected: dict, report: Report,
) -> None:  # fmt: skip
    """The parent sees its child die and gives the message back (reject_on_worker_lost)."""
    worker = start_worker(worker_env, tmp_path / "worker.log")
    workers.append(worker)
    task_id = create(api, source_posts, batch_size=50)
    wait_until_some_done(api, task_id, 1_000)
    child = psutil.Process(worker.proc.pid).children()[0]
    fault = Fault(api, task_id)
    child.send_signal(signal.SIGKILL)
    recovery = fault.watch()
    report(recovery, expected)
    assert_labeled_exactly_once(recovery.status, services, keyword_model, expected)
    assert "signal 9 (SIGKILL)" in worker.output()


def test_sigkill_the_worker_mid_task_and_start_another(
    api: httpx.Client, worker_env: dict, workers: list, tmp_path: Path, services: Settings,
    source_posts: str, keyword_model: str, expected: dict, report: Report,
) -> None:  # fmt: skip
    first = start_worker(worker_env, tmp_path / "first.log")
    workers.append(first)
    task_id = create(api, source_posts, batch_size=50)
    wait_until_some_done(api, task_id, 1_000)
    fault = Fault(api, task_id)
    first.kill(signal.SIGKILL)
    killed_at = api.get(f"/predicting/tasks/{task_id}").json()
    assert killed_at["status"] == "STARTED" and killed_at["progress"]["done"] < expected["rows"]
    workers.append(start_worker(worker_env, tmp_path / "second.log", name="second"))
    recovery = fault.watch()
    report(recovery, expected)
    assert_labeled_exactly_once(recovery.status, services, keyword_model, expected)


def test_a_batch_outliving_the_visibility_timeout_is_fenced(
    api: httpx.Client, worker_env: dict, workers: list, tmp_path: Path, services: Settings,
    source_posts: str, keyword_model: str, expected: dict, report: Report,
) -> None:  # fmt: skip
    """Both chunks' batches are held up past BROKER_VISIBILITY_TIMEOUT (8 s), so Redis hands their
    messages to a second worker while the first copies still run. Each pair races on the checkpoint:
    one commits, the other is fenced off and stops, and nothing is counted twice."""
    env = {**worker_env, "CHUNK_ROWS": "12000"}  # two chunks, both running on the first worker
    first = start_worker(env, tmp_path / "first.log")
    workers.append(first)
    task_id = create(api, source_posts, batch_size=50)
    wait_until_some_done(api, task_id, 400)
    with task_row_locked(services, task_id):
        fault = Fault(api, task_id)
        second = start_worker(env, tmp_path / "second.log", name="second")
        workers.append(second)
        deadline = time.monotonic() + 60
        while second.output().count("Task predicting.label_chunk") < 2:
            assert time.monotonic() < deadline, "the messages were not delivered again:\n" + second.output()[-2000:]
            time.sleep(0.2)
        time.sleep(2)  # the copies read their batch and wait for the lock too
    recovery = fault.watch()
    report(recovery, expected)
    assert_labeled_exactly_once(recovery.status, services, keyword_model, expected)
    logs = first.output() + second.output()
    assert logs.count("moved its checkpoint first; this one stops") >= 2


def test_redis_restarted_mid_task(
    worker_env: dict, workers: list, tmp_path: Path, services: Settings, own_redis: RedisServer,
    source_posts: str, keyword_model: str, expected: dict, report: Report,
) -> None:  # fmt: skip
    """Redis (broker and results, no persistence) dies mid-task and comes back empty. The API keeps
    answering from the database, a task sent meanwhile fails with the cause, the workers reconnect,
    and the lost messages are sent again once the task has been silent for STALE_TASK_AFTER_S."""
    server = own_redis
    env = {**worker_env, "BROKER_URL": server.url(0), "RESULT_BACKEND": server.url(1), "STALE_TASK_AFTER_S": "6"}
    end_other_tests_tasks(services)
    worker = start_worker(env, tmp_path / "worker.log")
    workers.append(worker)
    api_proc, url = start_api(env, tmp_path / "api.log")
    workers.append(api_proc)
    with httpx.Client(base_url=url, timeout=60) as api:
        task_id = create(api, source_posts, batch_size=50)
        wait_until_some_done(api, task_id, 1_000)
        fault = Fault(api, task_id)
        server.kill()
        r = api.post("/predicting/tasks", json=task_body(source_posts))
        assert r.status_code == 500 and "failed to start" in r.json()["error_message"], r.text
        refused = api.get("/predicting/tasks", params={"status": "FAILURE", "limit": 1}).json()["tasks"][0]
        assert refused["task_id"] != task_id
        assert "failed to start" in api.get(f"/predicting/tasks/{refused['task_id']}").json()["error"]
        assert api.get(f"/predicting/tasks/{task_id}").json()["status"] == "STARTED"
        time.sleep(2)
        server.start()
        recovery = fault.watch()
    report(recovery, expected)
    assert_labeled_exactly_once(recovery.status, services, keyword_model, expected)
    assert f"re-sent 1 predicting task(s) silent for 6 s: {task_id}" in worker.output()


def test_result_backend_down_while_the_task_finishes(
    api: httpx.Client, worker_env: dict, workers: list, tmp_path: Path, services: Settings, own_redis: RedisServer,
    source_posts: str, keyword_model: str, expected: dict, report: Report,
) -> None:  # fmt: skip
    """Chunks end while the result backend is gone, so the chord cannot count them. The outcome is
    recorded from the database once the backend is back, and the API never shows PENDING."""
    server = own_redis
    env = {**worker_env, "RESULT_BACKEND": server.url(0), "STALE_TASK_AFTER_S": "6"}
    end_other_tests_tasks(services)
    worker = start_worker(env, tmp_path / "worker.log")
    workers.append(worker)
    task_id = create(api, source_posts, batch_size=50)
    wait_until_some_done(api, task_id, expected["rows"] // 4)
    fault = Fault(api, task_id)
    server.kill()
    deadline = time.monotonic() + 60
    while True:  # the chunks finish into the void
        with output_engine(services).connect() as conn:
            statuses = set(conn.execute(select(chunks.c.status).where(chunks.c.task_id == task_id)).scalars())
        if statuses == {"DONE"}:
            break
        assert time.monotonic() < deadline, statuses
        time.sleep(0.2)
    time.sleep(2)
    assert api.get(f"/predicting/tasks/{task_id}").json()["status"] == "STARTED"
    server.start()
    recovery = fault.watch()
    report(recovery, expected)
    assert_labeled_exactly_once(recovery.status, services, keyword_model, expected)
    assert f"sent finalize for 1 predicting task(s) whose chunks all ended 6 s ago: {task_id}" in worker.output()


def test_database_connections_killed_mid_task(
    api: httpx.Client, worker_env: dict, workers: list, tmp_path: Path, services: Settings,
    source_posts: str, keyword_model: str, expected: dict, report: Report,
) -> None:  # fmt: skip
    """Reads and writes cut at random points (between a write and its commit too): each chunk
    resumes from its last committed batch."""
    workers.append(start_worker(worker_env, tmp_path / "worker.log"))
    task_id = create(api, source_posts, batch_size=50)
    wait_until_some_done(api, task_id, 400)
    fault = Fault(api, task_id)
    killed = 0
    for _ in range(6):
        killed += kill_connections(services)
        time.sleep(0.4)
    assert killed > 0
    recovery = fault.watch(timeout=240)
    report(recovery, expected)
    assert_labeled_exactly_once(recovery.status, services, keyword_model, expected)
    assert "OperationalError" in workers[0].output()  # the cuts did reach the workers


def test_output_connection_killed_between_write_and_commit(
    api: httpx.Client, worker_env: dict, workers: list, tmp_path: Path, services: Settings,
    source_posts: str, keyword_model: str, expected: dict, report: Report,
) -> None:  # fmt: skip
    """A batch has moved its checkpoint and is writing its labels when its connection dies: the
    whole transaction is gone, and the chunk's next attempt redoes the batch."""
    workers.append(start_worker(worker_env, tmp_path / "worker.log"))
    task_id = create(api, source_posts, batch_size=50)
    wait_until_some_done(api, task_id, 400)
    fault = Fault(api, task_id)
    with label_rows_held(services, task_id, keyword_model, expected["pairs"]):
        assert kill_lock_waiters(services) >= 1
    recovery = fault.watch()
    report(recovery, expected)
    assert_labeled_exactly_once(recovery.status, services, keyword_model, expected)
    assert max(chunk_attempts(services, task_id)) == 2  # a killed batch costs its chunk an attempt


def test_lock_wait_timeouts_retry_the_whole_batch(
    api: httpx.Client, worker_env: dict, workers: list, tmp_path: Path, services: Settings,
    source_posts: str, keyword_model: str, expected: dict, report: Report,
) -> None:  # fmt: skip
    """A batch commit that waits longer than OUTPUT_LOCK_WAIT_TIMEOUT_S, once for the task row and
    once at its label INSERT (after it moved its checkpoint), is rolled back and runs again whole,
    without spending one of the chunk's attempts."""
    # Held locks make a chunk run ten seconds or so: past the suite's short visibility timeout, Redis
    # would hand it to a second copy, whose fenced attempt is not what this scenario measures.
    env = {**worker_env, "OUTPUT_LOCK_WAIT_TIMEOUT_S": "1", "BROKER_VISIBILITY_TIMEOUT": "60"}
    workers.append(start_worker(env, tmp_path / "worker.log"))
    task_id = create(api, source_posts, batch_size=50)
    wait_until_some_done(api, task_id, 400)
    fault = Fault(api, task_id)
    with task_row_locked(services, task_id):
        time.sleep(1.5)
    with label_rows_held(services, task_id, keyword_model, expected["pairs"]) as held:
        wait_for_lock_waiters(held)
        time.sleep(1.5)
    recovery = fault.watch()
    report(recovery, expected)
    assert_labeled_exactly_once(recovery.status, services, keyword_model, expected)
    assert "lock wait timeout (try 1 of" in workers[0].output()
    assert set(chunk_attempts(services, task_id)) == {1}


def test_a_deadlock_victim_retries_the_whole_batch(
    api: httpx.Client, worker_env: dict, workers: list, tmp_path: Path, services: Settings,
    source_posts: str, keyword_model: str, expected: dict, report: Report,
) -> None:  # fmt: skip
    workers.append(start_worker(worker_env, tmp_path / "worker.log"))
    task_id = create(api, source_posts, batch_size=50)
    wait_until_some_done(api, task_id, 400)
    fault = Fault(api, task_id)
    deadlock_the_workers(services, task_id)
    recovery = fault.watch()
    report(recovery, expected)
    assert_labeled_exactly_once(recovery.status, services, keyword_model, expected)
    assert "deadlock (try 1 of" in workers[0].output()
    assert set(chunk_attempts(services, task_id)) == {1}


def test_a_poison_row_fails_its_chunk_after_bounded_attempts(
    api: httpx.Client, worker_env: dict, workers: list, tmp_path: Path, services: Settings,
    source_posts: str, expected: dict,
) -> None:  # fmt: skip
    """A row the model raises on: its chunk is tried CHUNK_MAX_ATTEMPTS times and fails; the other
    chunks finish, and the task ends FAILURE naming the chunk and the cause."""
    marker = "☠毒"
    store_poison_model(services, "poisoned", KeywordModel(read_keyword_rules(DEMO_RULES)), marker)
    table = posts_table("posts")
    poison_id = 1_500_000
    with source_engine(services).begin() as conn:
        poison = {
            "id": poison_id,
            "title": "标题",
            "content": f"这一行{marker}让模型出错",
            "post_time": datetime(2026, 7, 1),
        }
        conn.execute(insert(table), [poison])
    env = {**worker_env, "CHUNK_MAX_ATTEMPTS": "3"}
    worker = start_worker(env, tmp_path / "worker.log")
    workers.append(worker)
    try:
        task_id = create(api, source_posts, model="poisoned")
        status = wait_for(api, task_id, FINISHED, timeout=120)
    finally:
        with source_engine(services).begin() as conn:
            conn.execute(delete(table).where(table.c.id == poison_id))
    assert status["status"] == "FAILURE", status
    with output_engine(services).connect() as conn:
        rows = conn.execute(select(chunks).where(chunks.c.task_id == task_id).order_by(chunks.c.id)).all()
    failed = [c for c in rows if c.status == "FAILED"]
    assert len(failed) == 1 and failed[0].lo < poison_id <= failed[0].hi
    assert {c.status for c in rows if c.id != failed[0].id} == {"DONE"}
    assert failed[0].attempts == 3
    cause = f"failed after 3 attempts: ValueError: the model cannot handle a text containing '{marker}'"
    assert re.search(rf"chunk {failed[0].id} of \S+ \(ids \d+\.\.\d+\] {re.escape(cause)}", status["error"]), status

    # The other chunks labeled every row of theirs, nothing stored is wrong, and all of it is counted.
    pairs = set(stored_pairs(services, task_id))
    lo, hi = failed[0].lo, failed[0].hi
    assert {(i, label) for i, label in expected["pairs"] if not lo < i <= hi} <= pairs <= expected["pairs"]
    assert len(pairs) == sum(status["label_counts"]["poisoned"].values())
    assert status["progress"]["total"] == expected["rows"] + 1 > status["progress"]["done"]
    missing = status["progress"]["total"] - status["progress"]["done"]
    assert status["error"].startswith(f"{missing:,} of {status['progress']['total']:,} rows in range were not read")
    tries = worker.output().count(f"chunk {failed[0].id}: attempt failed")
    time.sleep(5)  # no endless redelivery: nothing runs the chunk again
    assert worker.output().count(f"chunk {failed[0].id}: attempt failed") == tries == 3
    # The task's log tells each failed attempt, the chunk's failure and the end, as errors.
    errors = [line.split(" ERROR ", 1)[1] for line in api.get(f"/predicting/tasks/{task_id}/log").text.splitlines()
              if " ERROR " in line]  # fmt: skip
    retried = [f"attempt {n} failed, to be retried" for n in (1, 2)]
    assert [e.split(": ")[1] for e in errors[:2]] == retried
    assert errors[2].startswith(f"chunk {failed[0].id} of ") and cause in errors[2]
    assert errors[3].startswith("finished FAILURE") and len(errors) == 4
    assert chunk_attempts(services, task_id).count(3) == 1


def test_a_task_whose_messages_the_broker_lost_is_sent_again(
    api: httpx.Client, worker_env: dict, workers: list, tmp_path: Path, services: Settings,
    source_posts: str, keyword_model: str, expected: dict, report: Report,
) -> None:  # fmt: skip
    """Redis restarted without persistence while its worker died: nothing is left to redeliver. A
    worker notices the task has been silent for STALE_TASK_AFTER_S and plans it again."""
    end_other_tests_tasks(services)
    env = {**worker_env, "STALE_TASK_AFTER_S": "6"}
    first = start_worker(env, tmp_path / "first.log")
    workers.append(first)
    task_id = create(api, source_posts, batch_size=50)
    wait_until_some_done(api, task_id, 1_000)
    fault = Fault(api, task_id)
    first.kill(signal.SIGKILL)
    for url in (services.broker_url, services.result_backend):
        redis.Redis.from_url(url).flushdb()  # every message, queued or unacknowledged, is gone
    second = start_worker(env, tmp_path / "second.log", name="second")
    workers.append(second)
    recovery = fault.watch()
    report(recovery, expected)
    assert_labeled_exactly_once(recovery.status, services, keyword_model, expected)
    assert f"re-sent 1 predicting task(s) silent for 6 s: {task_id}" in second.output()


def test_warm_shutdown_mid_task_then_another_worker(
    api: httpx.Client, worker_env: dict, workers: list, tmp_path: Path, services: Settings,
    source_posts: str, keyword_model: str, expected: dict, report: Report,
) -> None:  # fmt: skip
    """SIGTERM: the worker finishes the chunks it holds, gives back the rest, and exits."""
    first = start_worker(worker_env, tmp_path / "first.log")
    workers.append(first)
    task_id = create(api, source_posts, batch_size=50)
    wait_until_some_done(api, task_id, 400)
    fault = Fault(api, task_id)
    first.proc.send_signal(signal.SIGTERM)
    assert first.proc.wait(timeout=120) == 0
    workers.append(start_worker(worker_env, tmp_path / "second.log", name="second"))
    recovery = fault.watch()
    report(recovery, expected)
    assert_labeled_exactly_once(recovery.status, services, keyword_model, expected)


def test_children_recycled_after_every_chunk(
    api: httpx.Client, worker_env: dict, workers: list, tmp_path: Path, services: Settings,
    source_posts: str, keyword_model: str, expected: dict, report: Report,
) -> None:  # fmt: skip
    """worker_max_memory_per_child below any child's size replaces each child after its task."""
    env = {**worker_env, "WORKER_MAX_MEMORY_PER_CHILD_KB": "1"}
    workers.append(start_worker(env, tmp_path / "worker.log"))
    task_id = create(api, source_posts)
    recovery = Fault(api, task_id).watch(timeout=240)
    report(recovery, expected)
    assert_labeled_exactly_once(recovery.status, services, keyword_model, expected)
    children = {int(n) for n in re.findall(r"ForkPoolWorker-(\d+)", workers[0].output())}
    assert max(children) > int(worker_env["WORKER_CONCURRENCY"])  # replaced children took over


def test_rows_inserted_while_a_task_runs_are_not_labeled(
    api: httpx.Client, worker_env: dict, workers: list, tmp_path: Path, services: Settings,
    source_posts: str, keyword_model: str, expected: dict, report: Report,
) -> None:  # fmt: skip
    """The upper id of each table is frozen when the task is planned."""
    table = posts_table("posts")
    late = [
        {"id": 1_000_000 + i, "title": "足球", "content": "晚到的帖子，世界杯", "post_time": datetime(2026, 6, 1)}
        for i in range(50)
    ]
    workers.append(start_worker(worker_env, tmp_path / "worker.log"))
    task_id = create(api, source_posts, batch_size=50)
    wait_until_some_done(api, task_id, 200)
    fault = Fault(api, task_id)
    try:
        with source_engine(services).begin() as conn:
            conn.execute(insert(table), late)
        recovery = fault.watch()
    finally:
        with source_engine(services).begin() as conn:
            conn.execute(delete(table).where(table.c.id >= 1_000_000))
    report(recovery, expected)
    assert_labeled_exactly_once(recovery.status, services, keyword_model, expected)  # the late rows are not among them


def test_abort_mid_run_writes_nothing_after_it_is_acknowledged(
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
    acknowledged = label_count(services, task_id)
    status = wait_for(api, task_id, FINISHED, timeout=60)
    assert status["status"] == "BREAK"
    assert running["progress"]["done"] <= status["progress"]["done"] < status["progress"]["total"]
    written = label_count(services, task_id)
    assert written == acknowledged  # the abort waited for the batch in flight; none came after
    assert written == sum(status["label_counts"][keyword_model].values()) > 0  # what was written is counted
    time.sleep(1.5)
    assert label_count(services, task_id) == written
    assert api.post(f"/predicting/tasks/{task_id}/abort").status_code == 409
