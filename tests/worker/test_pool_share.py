"""A task smaller than a chunk still keeps every pool process busy: real MariaDB, Redis and a prefork worker."""

import itertools
import re
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from settings import Settings
from tests.conftest import RANGE
from tests.oracle import keyword_oracle
from tests.services import start_worker, wait_for
from tests.worker.flow import FINISHED, create, stored_pairs
from tests.worker.test_labeling import make_task
from utils.db.engines import output_engine, source_engine
from utils.db.tables import chunks, task_log
from utils.demo import generate_posts, posts_table, seed_posts
from workers import labeling
from workers.cli import DEMO_RULES, read_keyword_rules

ROWS = 35_000
SEED = 3


@pytest.fixture(scope="module")
def small_table(services: Settings) -> str:
    """35,000 posts, every one in the test range, as a task names the table."""
    seed_posts(source_engine(services), posts_table("pool_posts"), ROWS, seed=SEED, start=RANGE[0], days=300)
    return f"{services.input_schema}.pool_posts"


def test_a_task_under_one_chunk_is_labeled_by_both_pool_processes(
    api: httpx.Client, worker_env: dict, workers: list, tmp_path: Path, services: Settings,
    small_table: str, keyword_model: str,
) -> None:  # fmt: skip
    # CHUNK_ROWS at its default: by rows alone the task is one chunk; MIN_CHUNKS unset, so the plan asks the workers.
    env = {**worker_env, "CHUNK_ROWS": "100000", "MIN_CHUNKS": "0", "WORKER_POOL": "prefork", "WORKER_CONCURRENCY": "2"}
    worker = start_worker(env, tmp_path / "worker.log")
    workers.append(worker)
    task_id = create(api, small_table)
    status = wait_for(api, task_id, FINISHED)

    assert status["status"] == "SUCCESS", status
    assert status["progress"]["total"] == status["progress"]["done"] == ROWS
    expected = keyword_oracle(
        list(generate_posts(ROWS, SEED, start=RANGE[0], days=300)), read_keyword_rules(DEMO_RULES)
    )
    pairs = stored_pairs(services, task_id)
    assert len(pairs) == len(set(pairs)) == expected["labels"]  # no row labeled twice
    assert set(pairs) == expected["pairs"]  # none missed

    with output_engine(services).connect() as conn:
        planned = conn.execute(
            select(chunks.c.id, chunks.c.rows_read, chunks.c.attempts).where(chunks.c.task_id == task_id)
        ).all()
    assert len(planned) == 2
    assert all(attempts == 1 for _, _, attempts in planned)  # each chunk labeled once, by one process
    read = {int(chunk_id): int(rows) for chunk_id, rows, _ in planned}
    log = api.get(f"/predicting/tasks/{task_id}/log", params={"limit": 1_000}).text
    assert f"planned {ROWS:,} rows in range in 2 chunks (minimum 2: pool processes on the predicting queue)" in log

    # Celery names a chunk's message after the chunk, and its log line names the pool process that ran it.
    ran = re.findall(
        rf"INFO/([^\]]+)\] Task predicting\.label_chunk\[{task_id}-chunk-(\d+)\] succeeded", worker.output()
    )
    by_process: dict[str, int] = {}
    for process, chunk_id in ran:
        by_process[process] = by_process.get(process, 0) + read[int(chunk_id)]
    assert len(ran) == 2 and len(by_process) == 2, worker.output()
    assert all(rows > 0 for rows in by_process.values()), by_process
    assert sum(by_process.values()) == ROWS


def plan_alone(settings: Settings, table: str, model: str) -> tuple[list[tuple[int, int]], str]:
    """Plan a task in this process (no worker); its chunks' (lo, hi] ranges in id order and its plan line."""
    task_id = make_task(settings, table, model)
    labeling.plan_task(settings, task_id)
    with output_engine(settings).connect() as conn:
        rows = conn.execute(select(chunks.c.lo, chunks.c.hi).where(chunks.c.task_id == task_id).order_by(chunks.c.lo))
        ranges = [(int(lo), int(hi)) for lo, hi in rows]
        line = conn.execute(select(task_log.c.message).where(task_log.c.task_id == task_id)).scalars().first()
    assert ranges[0][0] == 0 and ranges[-1][1] == ROWS  # the ids are 1..ROWS, every one in range
    assert all(prev[1] == nxt[0] for prev, nxt in itertools.pairwise(ranges))
    assert max(hi - lo for lo, hi in ranges) - min(hi - lo for lo, hi in ranges) <= 1
    return ranges, str(line)


def test_min_chunks_sets_the_minimum_without_asking_the_workers(
    services: Settings, small_table: str, keyword_model: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(labeling, "_pool_size", (time.monotonic(), 64))  # what the workers would answer
    settings = services.model_copy(update={"chunk_rows": 100_000, "min_chunks": 5})
    ranges, line = plan_alone(settings, small_table, keyword_model)
    assert len(ranges) == 5
    assert line.startswith(f"planned {ROWS:,} rows in range in 5 chunks (minimum 5: MIN_CHUNKS); tables: ")


def test_with_no_worker_answering_the_plan_takes_its_own_concurrency(
    services: Settings, worker_env: dict, small_table: str, keyword_model: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(labeling, "_pool_size", None)  # ask afresh: no worker runs on this test's broker
    settings = services.model_copy(update={"chunk_rows": 100_000, "min_chunks": 0, "worker_concurrency": 3})
    ranges, line = plan_alone(settings, small_table, keyword_model)
    assert len(ranges) == 3
    assert "in 3 chunks (minimum 3: pool processes on the predicting queue)" in line
