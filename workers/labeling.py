"""The predicting workflow's steps as plain functions; Celery tasks in `workers.predicting` wrap them."""

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial
from typing import Any

from celery import current_task
from sqlalchemy import Connection

from settings import Settings
from utils.db import task_store as ts
from utils.db.engines import output_engine, source_engine
from utils.db.errors import cause_of
from utils.db.label_store import LabelRows, write_labels
from utils.db.retrying import in_transaction
from utils.db.task_log import ERROR, add_line
from utils.memory import PeakRss
from utils.patterns import ExclusionSet
from utils.planning import IdRange, chunk_counts, split_id_range
from utils.source import SourceSpec, reflect_source
from workers.app import PREDICTING_QUEUE, celery_app
from workers.exclusion_cache import get_exclusion_set
from workers.labeler_cache import get_labeler

FENCED = "FENCED"
# Asking the workers for their pool sizes: how long to wait for answers, and how long to trust them.
POOL_QUERY_TIMEOUT_S = 0.5
POOL_SIZE_TTL_S = 60.0

log = logging.getLogger(__name__)
_pool_size: tuple[float, int] | None = None  # (when asked, processes), per process


def spec_of(config: dict[str, Any]) -> SourceSpec:
    source = config["source"]
    return SourceSpec(
        tables=tuple(source["tables"]),
        id_column=source["id_column"],
        text_columns=tuple(source["text_columns"]),
        time_column=source["time_column"],
    )


def time_range(config: dict[str, Any]) -> tuple[datetime, datetime]:
    return datetime.fromisoformat(config["start_time"]), datetime.fromisoformat(config["end_time"])


def drop_excluded(ids: list[int], texts: list[str], exclusion: ExclusionSet | None) -> tuple[list[int], list[str]]:
    """The ids and texts of the rows no pattern of `exclusion` matches, in order."""
    if exclusion is None:
        return ids, texts
    kept = [i for i, text in enumerate(texts) if exclusion.first_match(text) is None]
    return [ids[i] for i in kept], [texts[i] for i in kept]


def plan_task(settings: Settings, task_id: str) -> list[int]:
    """Count rows in range and write the task's chunks; the chunk ids to label.

    The upper id of each table is frozen here: rows inserted into the range later are not labeled.
    A redelivered plan finds its chunks already written and returns them.
    """
    with output_engine(settings).begin() as conn:
        task = ts.get_task(conn, task_id)
        if task is None or task.status in ts.FINISHED or task.abort_requested:
            return []
        if task.status == ts.STARTED:
            return ts.chunk_ids(conn, task_id)
    config = task.config
    start, end = time_range(config)
    tables = reflect_source(source_engine(settings), spec_of(config))
    counted: dict[str, IdRange] = {}
    total = 0
    with source_engine(settings).connect() as conn:
        for name, table in tables.items():
            count, lo, hi = table.count_in_range(conn, start, end)
            total += count
            if count and lo is not None and hi is not None:
                counted[name] = IdRange(count, lo, hi)
    min_chunks = (settings.min_chunks or predicting_pool_size(settings)) if counted else 1
    counts = chunk_counts(list(counted.values()), settings.chunk_rows, settings.max_chunks_per_table, min_chunks)
    plans = [
        (name, split_id_range(r.min_id, r.max_id, n)) for (name, r), n in zip(counted.items(), counts, strict=True)
    ]
    with output_engine(settings).begin() as conn:
        # Status first: a second planner racing this one waits on the row lock, then loses here.
        if not ts.mark_started(conn, task_id, total):
            return ts.chunk_ids(conn, task_id)
        for name, ranges in plans:
            ts.add_chunks(conn, task_id, name, ranges)
        planned = ts.chunk_ids(conn, task_id)
        add_line(conn, task_id, plan_line(settings, total, len(planned), plans, min_chunks))
        return planned


def plan_line(
    settings: Settings, total: int, chunks: int, plans: list[tuple[str, list[tuple[int, int]]]], min_chunks: int
) -> str:
    """The task log's line for a plan: rows, chunks, the minimum asked for and where it came from."""
    tables = ", ".join(f"{name} ({len(ranges)})" for name, ranges in plans) or "none"
    if not plans:
        return f"planned {total:,} rows in range in {chunks} chunks; tables: {tables}"
    source = "MIN_CHUNKS" if settings.min_chunks else "pool processes on the predicting queue"
    return f"planned {total:,} rows in range in {chunks} chunks (minimum {min_chunks}: {source}); tables: {tables}"


def predicting_pool_size(settings: Settings) -> int:
    """The pool processes that serve the predicting queue, asked of the workers at most once a minute
    per process; this worker's own concurrency when none answers. Never fails: a plan needs no census."""
    global _pool_size
    now = time.monotonic()
    if _pool_size is not None and now - _pool_size[0] < POOL_SIZE_TTL_S:
        return _pool_size[1]
    try:
        size = _ask_pool_size(settings)
    except Exception:
        log.warning("asking the workers for their pool sizes failed", exc_info=True)
        size = 0
    _pool_size = (now, size or settings.worker_concurrency)
    return _pool_size[1]


def _ask_pool_size(settings: Settings) -> int:
    stats = celery_app.control.inspect(timeout=POOL_QUERY_TIMEOUT_S).stats() or {}
    if not stats:
        return 0
    # The same nodes again: `limit` ends the wait as soon as they have all answered.
    nodes = list(stats)
    queues = celery_app.control.inspect(nodes, timeout=POOL_QUERY_TIMEOUT_S, limit=len(nodes)).active_queues()
    size = serving_processes(stats, queues or {}, PREDICTING_QUEUE)
    # A solo pool cannot answer while it plans: count the planner's own worker when it was silent.
    own = current_task.request.hostname if current_task else None
    if own and own not in stats:
        size += settings.worker_concurrency
    return size


def serving_processes(stats: Mapping[str, Any], queues: Mapping[str, Any], queue: str) -> int:
    """The pool processes of the workers consuming `queue`, from their `stats` and `active_queues` replies."""
    return sum(
        int(stats[node].get("pool", {}).get("max-concurrency") or 0)
        for node, consumed in queues.items()
        if node in stats and any(q.get("name") == queue for q in consumed or ())
    )


def run_chunk(settings: Settings, task_id: str, chunk_id: int) -> str:
    """Label one chunk batch by batch from its checkpoint; the chunk's final status.

    Each batch commits its labels, checkpoint and counters in one transaction, guarded by a
    compare-and-set on the checkpoint: a second copy of this chunk (a redelivery while the first
    still runs) loses the race and stops without writing, returning FENCED.
    """
    out = output_engine(settings)
    with out.begin() as conn:
        task = ts.get_task(conn, task_id)
        chunk = ts.get_chunk(conn, chunk_id)
        if task is None:
            return ts.CHUNK_FAILED
        if chunk.status in (ts.CHUNK_DONE, ts.CHUNK_ABORTED, ts.CHUNK_FAILED):
            return str(chunk.status)
        if ts.should_stop(conn, task_id):
            # Aborted (or finished) before this chunk began: no attempt spent, nothing read.
            ts.set_chunk_status(conn, chunk_id, ts.CHUNK_ABORTED)
            return ts.CHUNK_ABORTED
        attempt = ts.begin_attempt(conn, chunk_id)
        if attempt > settings.chunk_max_attempts:
            cause = chunk.error or "its worker was lost while labeling it"
            ts.set_chunk_status(conn, chunk_id, ts.CHUNK_FAILED, f"gave up after {attempt - 1} attempts: {cause}")
            return ts.CHUNK_FAILED
    config = task.config
    start, end = time_range(config)
    one_table = replace(spec_of(config), tables=(chunk.source_table,))
    table = reflect_source(source_engine(settings), one_table)[chunk.source_table]
    labelers = [(m["name"], get_labeler(out, m["id"], m["sha256"])) for m in config["models"]]
    # The task's own copy of the pattern set: editing the set later does not change a running task.
    snapshot = config.get("pattern_set")
    exclusion = get_exclusion_set(snapshot["patterns"]) if snapshot else None
    # Texts as UTF-8 bytes when every labeler takes them and no pattern set wants them decoded.
    utf8 = exclusion is None and all(labeler.takes_utf8 for _, labeler in labelers)
    read: Callable[..., tuple[list[int], list[Any]]] = table.read_batch_utf8 if utf8 else table.read_batch
    batch_size = int(config["batch_size"])
    checkpoint = int(chunk.checkpoint)
    counts: dict[str, dict[str, int]] = dict(chunk.label_counts or {})
    memory = PeakRss(int(chunk.peak_rss))

    while True:
        with source_engine(settings).connect() as sconn:
            ids, texts = read(sconn, checkpoint, int(chunk.hi), start, end, batch_size)
        finished = len(ids) < batch_size
        kept_ids, texts = drop_excluded(ids, texts, exclusion)
        now = ts.utcnow()
        labeled: set[int] = set()
        batch_counts: dict[str, dict[str, int]] = {}
        rows: list[tuple[str, int, str, float]] = []
        margins: list[float | None] | None = None  # beside `rows`, once a model of the batch has margins
        for name, labeler in labelers:
            per_label: dict[str, int] = {}
            before = len(rows)
            # One pass: the rows to write, the labeled ids and the counts.
            decide = getattr(labeler, "decide", None)
            if decide is not None:  # a classifier: each label with its margin
                if margins is None:
                    margins = [None] * before
                for source_id, decided in zip(kept_ids, decide(texts) if texts else [], strict=True):
                    if decided:
                        labeled.add(source_id)
                        for label, score, margin in decided:
                            per_label[label] = per_label.get(label, 0) + 1
                            rows.append((name, source_id, label, score))
                            margins.append(margin)
            else:
                for source_id, row_labels in zip(kept_ids, labeler.predict(texts) if texts else [], strict=True):
                    if row_labels:
                        labeled.add(source_id)
                        for label, score in row_labels:
                            per_label[label] = per_label.get(label, 0) + 1
                            rows.append((name, source_id, label, score))
                if margins is not None:
                    margins.extend([None] * (len(rows) - before))
            batch_counts[name] = per_label
        writes = LabelRows(task_id, chunk.source_table, now, rows, margins)
        new_counts = ts.merge_counts({k: dict(v) for k, v in counts.items()}, batch_counts)
        new_checkpoint = ids[-1] if ids else checkpoint
        batch = Batch(
            checkpoint,
            new_checkpoint,
            len(ids),
            len(ids) - len(kept_ids),
            len(labeled),
            new_counts,
            memory.sample(),
            writes,
            finished,
        )
        where = f"task {task_id} chunk {chunk_id} batch after id {checkpoint}"
        outcome = in_transaction(out, partial(commit_batch, task_id=task_id, chunk_id=chunk_id, batch=batch), where)
        if outcome is not None:
            return outcome
        checkpoint, counts = new_checkpoint, new_counts


@dataclass(frozen=True)
class Batch:
    """One batch's results, ready to commit."""

    checkpoint: int
    new_checkpoint: int
    read: int
    excluded: int
    labeled: int
    label_counts: dict[str, dict[str, int]]
    peak_rss: int
    writes: LabelRows
    finished: bool


def commit_batch(conn: Connection, task_id: str, chunk_id: int, batch: Batch) -> str | None:
    """The batch's labels, checkpoint and counters at once; the chunk's final status, or None to go on."""
    if ts.should_stop(conn, task_id, lock=True):
        ts.set_chunk_status(conn, chunk_id, ts.CHUNK_ABORTED)
        add_line(conn, task_id, f"chunk {chunk_id}: stopped by an abort after id {batch.checkpoint}")
        return ts.CHUNK_ABORTED
    if batch.read:
        moved = ts.advance_chunk(
            conn,
            chunk_id,
            batch.checkpoint,
            batch.new_checkpoint,
            batch.read,
            batch.excluded,
            batch.labeled,
            batch.label_counts,
            batch.peak_rss,
        )
        if not moved:
            conn.rollback()
            return FENCED
        write_labels(conn, batch.writes)
        add_line(
            conn,
            task_id,
            f"chunk {chunk_id}: ids ({batch.checkpoint}..{batch.new_checkpoint}] read {batch.read:,}, excluded "
            f"{batch.excluded:,}, labeled {batch.labeled:,} ({len(batch.writes.rows):,} labels)",
        )
    if batch.finished:
        ts.set_chunk_status(conn, chunk_id, ts.CHUNK_DONE)
        add_line(conn, task_id, f"chunk {chunk_id}: done")
        return ts.CHUNK_DONE
    return None


def record_outage(settings: Settings, chunk_id: int, outage: dict[str, Any]) -> None:
    """Tell the task log of the attempts the output schema refused to record (`workers.predicting`)."""
    lasted = max(0.0, time.time() - float(outage["since"]))
    with output_engine(settings).begin() as conn:
        chunk = ts.get_chunk(conn, chunk_id)
        add_line(
            conn,
            chunk.task_id,
            f"chunk {chunk_id}: the output schema refused every write for {lasted:.0f} s ({outage['attempts']} "
            f"attempts, not counted against the chunk): {outage['cause']}",
            ERROR,
        )


def record_chunk_error(settings: Settings, chunk_id: int, error: BaseException) -> bool:
    """Note a failed attempt; True when the chunk has used up its attempts and is now FAILED."""
    cause = cause_of(error)
    with output_engine(settings).begin() as conn:
        chunk = ts.get_chunk(conn, chunk_id)
        if chunk.attempts >= settings.chunk_max_attempts:
            message = (
                f"chunk {chunk_id} of {chunk.source_table} (ids {chunk.lo}..{chunk.hi}] failed "
                f"after {chunk.attempts} attempts: {cause}"
            )
            ts.set_chunk_status(conn, chunk_id, ts.CHUNK_FAILED, message)
            add_line(conn, chunk.task_id, message, ERROR)
            return True
        ts.set_chunk_status(conn, chunk_id, ts.CHUNK_PENDING, cause)
        add_line(
            conn, chunk.task_id, f"chunk {chunk_id}: attempt {chunk.attempts} failed, to be retried: {cause}", ERROR
        )
        return False


def finalize_task(settings: Settings, task_id: str, force: bool = False) -> str | None:
    """Record the outcome and stats from the database (never from Celery results); idempotent.

    None while a chunk is still PENDING or RUNNING (a chord can fire early when a duplicate copy of a
    chunk reports first): the caller tries again later, and with `force` gives up and fails the task.
    """
    with output_engine(settings).begin() as conn:
        task = ts.get_task(conn, task_id)
        if task is None:
            return ts.FAILURE
        if task.status in ts.FINISHED:
            return str(task.status)
        unfinished = ts.unfinished_chunks(conn, task_id)
        if not force and any(c.status in (ts.CHUNK_PENDING, ts.CHUNK_RUNNING) for c in unfinished):
            return None
        progress = ts.task_progress(conn, task_id)
        now = ts.utcnow()
        started = task.started_at or now
        elapsed = max((now - started).total_seconds(), 1e-6)
        stats = {
            "rows_total": task.total or 0,
            "rows_read": progress["read"],
            "rows_excluded": progress["excluded"],
            "rows_labeled": progress["labeled"],
            "label_counts": progress["label_counts"],
            "chunks": progress["chunks"],
            "elapsed_s": round(elapsed, 3),
            "rows_per_s": round(progress["read"] / elapsed, 1),
            "peak_rss_bytes": progress["peak_rss"],
        }
        error = None
        total = task.total or 0
        if task.abort_requested:
            status = ts.BREAK
        elif unfinished:
            status = ts.FAILURE
            first = unfinished[0]
            error = first.error or (
                f"chunk {first.id} of {first.source_table} (ids {first.lo}..{first.hi}] did not finish "
                f"(status {first.status})"
            )
            if len(unfinished) > 1:
                error += f" (and {len(unfinished) - 1} more chunks)"
            if progress["read"] < total:
                error = f"{total - progress['read']:,} of {total:,} rows in range were not read: {error}"
        elif progress["read"] < total:
            # Success is rows accounted for, never the absence of errors: every row counted in range at
            # planning must have been read (labeled, left without a label, or excluded).
            status = ts.FAILURE
            error = (
                f"{total - progress['read']:,} of {total:,} rows in range were not read: rows the keyset reads "
                "cannot reach (a NULL or repeated id in a view), or rows deleted from the source or moved out of the "
                "range while the task ran"
            )
        else:
            status = ts.SUCCESS
            if progress["read"] > total:
                add_line(
                    conn,
                    task_id,
                    f"{progress['read'] - total:,} rows more than counted at planning were read: rows inserted "
                    "into the range below the highest id while the task ran",
                )
        ts.finish_task(conn, task_id, status, stats, error)
        return status


def fail_task(settings: Settings, task_id: str, error: BaseException) -> None:
    with output_engine(settings).begin() as conn:
        ts.finish_task(conn, task_id, ts.FAILURE, {}, f"planning failed: {cause_of(error)}")
