"""The workflow's steps called directly against MariaDB, without a broker."""

import re
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from pydantic import SecretStr
from sqlalchemy import select, text
from sqlalchemy.exc import OperationalError

from settings import Settings
from tests.conftest import RANGE, SOURCE_DAYS, SOURCE_ROWS, SOURCE_START
from tests.oracle import keyword_oracle
from tests.worker.flow import label_count
from utils.db import task_store as ts
from utils.db.engines import output_engine, source_engine
from utils.db.model_store import latest_models
from utils.db.tables import labels
from utils.demo import generate_posts
from utils.text import join_columns
from workers import labeling
from workers.cli import DEMO_RULES, read_keyword_rules
from workers.exclusion_cache import get_exclusion_set


def make_task(
    settings: Settings, table: str, model: str, batch_size: int = 500, pattern_set: dict | None = None
) -> str:
    task_id = uuid.uuid4().hex
    with output_engine(settings).begin() as conn:
        m = latest_models(conn, [model])[model]
        config = {
            "models": [{"id": m.id, "name": m.name, "version": m.version, "sha256": m.sha256}],
            "source": {
                "tables": [table],
                "id_column": "id",
                "text_columns": ["title", "content"],
                "time_column": "post_time",
            },
            "start_time": RANGE[0].isoformat(),
            "end_time": RANGE[1].isoformat(),
            "batch_size": batch_size,
            "pattern_set": pattern_set,
        }
        ts.create_task(conn, task_id, "predicting", config)
    return task_id


def test_plan_label_finalize_match_the_oracle(
    services: Settings, source_posts: str, keyword_model: str, expected: dict
) -> None:
    task_id = make_task(services, source_posts, keyword_model)
    chunk_ids = labeling.plan_task(services, task_id)
    assert len(chunk_ids) > 1
    assert labeling.plan_task(services, task_id) == chunk_ids  # a redelivered plan adds nothing
    for chunk_id in chunk_ids:
        assert labeling.run_chunk(services, task_id, chunk_id) == ts.CHUNK_DONE
    assert labeling.finalize_task(services, task_id) == ts.SUCCESS
    with output_engine(services).connect() as conn:
        task = ts.get_task(conn, task_id)
    assert task.total == expected["rows"]
    assert task.stats["rows_read"] == expected["rows"]
    assert task.stats["rows_labeled"] == len(expected["labeled"])
    assert task.stats["label_counts"] == {keyword_model: expected["counts"]}
    assert label_count(services, task_id) == expected["labels"]


def test_redelivered_chunk_resumes_from_its_checkpoint(
    services: Settings, source_posts: str, keyword_model: str
) -> None:
    task_id = make_task(services, source_posts, keyword_model, batch_size=300)
    first = labeling.plan_task(services, task_id)[0]
    with output_engine(services).begin() as conn:
        chunk = ts.get_chunk(conn, first)
    # Label the chunk once, then replay it from scratch as a redelivery would: nothing changes.
    assert labeling.run_chunk(services, task_id, first) == ts.CHUNK_DONE
    written = label_count(services, task_id)
    with output_engine(services).begin() as conn:
        ts.set_chunk_status(conn, first, ts.CHUNK_RUNNING)
    assert labeling.run_chunk(services, task_id, first) == ts.CHUNK_DONE
    assert label_count(services, task_id) == written
    with output_engine(services).connect() as conn:
        after = ts.get_chunk(conn, first)
    assert after.checkpoint > chunk.checkpoint
    assert after.attempts == 2


def test_a_stale_copy_is_fenced_by_the_checkpoint(services: Settings, source_posts: str, keyword_model: str) -> None:
    task_id = make_task(services, source_posts, keyword_model)
    first = labeling.plan_task(services, task_id)[0]
    with output_engine(services).begin() as conn:
        chunk = ts.get_chunk(conn, first)
        assert ts.advance_chunk(conn, first, chunk.checkpoint, chunk.checkpoint + 5, 5, 0, 0, {}, 0)
        # a second copy that read the same checkpoint loses the compare-and-set
        assert not ts.advance_chunk(conn, first, chunk.checkpoint, chunk.checkpoint + 9, 9, 0, 0, {}, 0)
        assert ts.get_chunk(conn, first).rows_read == 5


def test_abort_stops_chunks_and_finalize_records_break(
    services: Settings, source_posts: str, keyword_model: str
) -> None:
    task_id = make_task(services, source_posts, keyword_model)
    chunk_ids = labeling.plan_task(services, task_id)
    assert labeling.run_chunk(services, task_id, chunk_ids[0]) == ts.CHUNK_DONE
    written = label_count(services, task_id)
    with output_engine(services).begin() as conn:
        assert ts.request_abort(conn, task_id) == 1
    for chunk_id in chunk_ids[1:]:
        assert labeling.run_chunk(services, task_id, chunk_id) == ts.CHUNK_ABORTED
    assert label_count(services, task_id) == written
    with output_engine(services).connect() as conn:
        assert ts.get_chunk(conn, chunk_ids[1]).attempts == 0  # stopped before reading anything
    assert labeling.finalize_task(services, task_id) == ts.BREAK
    with output_engine(services).connect() as conn:
        task = ts.get_task(conn, task_id)
    assert task.status == ts.BREAK
    assert sum(task.stats["label_counts"][keyword_model].values()) == written


def test_a_chunk_that_keeps_failing_ends_the_task_in_failure(
    services: Settings, source_posts: str, keyword_model: str
) -> None:
    task_id = make_task(services, source_posts, keyword_model)
    chunk_ids = labeling.plan_task(services, task_id)
    for chunk_id in chunk_ids[1:]:
        labeling.run_chunk(services, task_id, chunk_id)
    bad = chunk_ids[0]
    gave_up = False
    for _ in range(services.chunk_max_attempts):
        with output_engine(services).begin() as conn:
            ts.begin_attempt(conn, bad)
        gave_up = labeling.record_chunk_error(services, bad, RuntimeError("model exploded on row 42"))
    assert gave_up
    assert labeling.finalize_task(services, task_id) == ts.FAILURE
    with output_engine(services).connect() as conn:
        task = ts.get_task(conn, task_id)
    assert f"chunk {bad}" in task.error and "model exploded on row 42" in task.error
    assert f"after {services.chunk_max_attempts} attempts" in task.error


def test_two_planners_at_once_write_one_set_of_chunks(
    services: Settings, source_posts: str, keyword_model: str, monkeypatch
) -> None:
    task_id = make_task(services, source_posts, keyword_model)
    both_counted = threading.Barrier(2, timeout=20)
    split = labeling.split_id_range

    def split_when_both_counted(*args):  # both planners pass the status check before either writes
        both_counted.wait()
        return split(*args)

    monkeypatch.setattr(labeling, "split_id_range", split_when_both_counted)
    with ThreadPoolExecutor(2) as pool:
        first, second = pool.map(lambda _: labeling.plan_task(services, task_id), range(2))
    assert first == second and len(first) > 1
    with output_engine(services).connect() as conn:
        assert ts.chunk_ids(conn, task_id) == first


def test_finalize_waits_for_running_chunks_and_records_once(
    services: Settings, source_posts: str, keyword_model: str
) -> None:
    task_id = make_task(services, source_posts, keyword_model)
    chunk_ids = labeling.plan_task(services, task_id)
    for chunk_id in chunk_ids[1:]:
        assert labeling.run_chunk(services, task_id, chunk_id) == ts.CHUNK_DONE
    with output_engine(services).begin() as conn:
        ts.begin_attempt(conn, chunk_ids[0])  # a chunk still labeling when the chord fires
    assert labeling.finalize_task(services, task_id) is None
    assert labeling.finalize_task(services, task_id, force=True) == ts.FAILURE
    with output_engine(services).begin() as conn:
        assert f"chunk {chunk_ids[0]}" in ts.get_task(conn, task_id).error
        assert not ts.finish_task(conn, task_id, ts.SUCCESS, {}, None)  # the outcome is recorded once
        assert ts.get_task(conn, task_id).status == ts.FAILURE
    # the chunk that was still running stops at its next batch instead of writing on
    assert labeling.run_chunk(services, task_id, chunk_ids[0]) == ts.CHUNK_ABORTED


# Patterns on which RE2 and Python's `re` agree, hitting some rows the demo rules label and some empty ones.
EXCLUDE = [r"股市", r"^湖人", r"(哈哈哈)+(今天|周末)", r"^$", r"(?i)ｈｅｌｌｏ"]


def test_rows_matching_the_pattern_set_are_excluded_never_labeled(
    services: Settings, source_posts: str, keyword_model: str, expected: dict
) -> None:
    rows = [
        r
        for r in generate_posts(SOURCE_ROWS, start=SOURCE_START, days=SOURCE_DAYS)
        if RANGE[0] <= r["post_time"] < RANGE[1]
    ]
    compiled = [re.compile(p) for p in EXCLUDE]
    excluded = {r["id"] for r in rows if any(c.search(join_columns([r["title"], r["content"]])) for c in compiled)}
    kept = keyword_oracle([r for r in rows if r["id"] not in excluded], read_keyword_rules(DEMO_RULES))
    assert 0 < len(excluded) < len(rows)
    assert excluded & expected["labeled"]  # without exclusion some of these rows would get labels

    task_id = make_task(
        services, source_posts, keyword_model, pattern_set={"id": 0, "name": "test", "patterns": EXCLUDE}
    )
    for chunk_id in labeling.plan_task(services, task_id):
        assert labeling.run_chunk(services, task_id, chunk_id) == ts.CHUNK_DONE
    assert labeling.finalize_task(services, task_id) == ts.SUCCESS
    with output_engine(services).connect() as conn:
        task = ts.get_task(conn, task_id)
        progress = ts.task_progress(conn, task_id)
        labeled_ids = set(conn.execute(select(labels.c.source_id).where(labels.c.task_id == task_id)).scalars())
    assert (progress["read"], progress["excluded"]) == (len(rows), len(excluded))  # done counts excluded rows
    assert task.stats["rows_read"] == len(rows)
    assert task.stats["rows_excluded"] == len(excluded)
    assert task.stats["rows_labeled"] == len(kept["labeled"])
    assert task.stats["label_counts"] == {keyword_model: kept["counts"]}
    assert label_count(services, task_id) == kept["labels"]
    assert labeled_ids == kept["labeled"]
    assert not labeled_ids & excluded


def test_exclusion_sets_are_compiled_once_per_process_per_patterns() -> None:
    first = get_exclusion_set(["a", "b"])
    assert get_exclusion_set(("a", "b")) is first
    assert get_exclusion_set(["b", "a"]) is not first  # order decides which pattern is reported


def test_drop_excluded_keeps_order_and_pairs() -> None:
    exclusion = get_exclusion_set(["^x"])
    assert labeling.drop_excluded([1, 2, 3, 4], ["xa", "a", "xb", "b"], exclusion) == ([2, 4], ["a", "b"])
    assert labeling.drop_excluded([1, 2], ["xa", "a"], None) == ([1, 2], ["xa", "a"])


def test_a_select_only_source_user_is_enough(services: Settings, source_posts: str, keyword_model: str) -> None:
    """The least privilege the README grants: SELECT on the source schema, nothing else."""
    root = output_engine(services)
    with root.begin() as conn:
        conn.execute(text("DROP USER IF EXISTS 'audience_reader_test'@'%'"))
        conn.execute(text("CREATE USER 'audience_reader_test'@'%' IDENTIFIED BY 'r3ad-only'"))
        conn.execute(text(f"GRANT SELECT ON `{services.input_schema}`.* TO 'audience_reader_test'@'%'"))
    try:
        reader = services.model_copy(
            update={"input_user": "audience_reader_test", "input_password": SecretStr("r3ad-only")}
        )
        task_id = make_task(reader, source_posts, keyword_model)
        for chunk_id in labeling.plan_task(reader, task_id):
            assert labeling.run_chunk(reader, task_id, chunk_id) == ts.CHUNK_DONE
        assert labeling.finalize_task(reader, task_id) == ts.SUCCESS
        with source_engine(reader).connect() as conn, pytest.raises(OperationalError, match="denied"):
            conn.execute(text(f"CREATE TABLE `{services.input_schema}`.audience_was_here (id INT)"))
    finally:
        with root.begin() as conn:
            conn.execute(text("DROP USER IF EXISTS 'audience_reader_test'@'%'"))
