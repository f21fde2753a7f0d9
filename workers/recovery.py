"""Send lost work again.

kombu's SQLAlchemy transport (the embedded default) marks a message invisible when a worker fetches
it and gives it back only on a clean shutdown: after a SIGKILL it is gone. So a worker on such a
broker re-sends every unfinished task when it starts. Redis redelivers what a dead worker held, but
loses everything when it restarts without persistence: there each worker checks now and then for
predicting tasks silent longer than STALE_TASK_AFTER_S and plans them again, and, within two
minutes, for tasks whose chunks all ended without their outcome being recorded (the result backend, which
counts the chord, was down as they ended) and sends their finalize.

Sending again is safe: planning is idempotent, finished chunks return at once, a chunk still running
elsewhere fences its duplicate, and finalize records an outcome only once.
"""

import logging
import threading
from collections.abc import Collection
from datetime import timedelta
from typing import Any

from celery.signals import worker_ready, worker_shutdown

from settings import Settings, get_settings
from utils.db import task_store as ts
from utils.db.engines import output_engine
from utils.db.task_log import WARNING, add_line
from workers.canvas import build_evaluation, build_finalize, build_predicting_workflow, build_training

log = logging.getLogger(__name__)
REDELIVERING_BROKERS = ("redis://", "rediss://", "amqp://", "amqps://", "pyamqp://")


def broker_redelivers(settings: Settings) -> bool:
    return settings.celery_broker_url.startswith(REDELIVERING_BROKERS)


def resend_unfinished(settings: Settings) -> list[str]:
    """Send again the first message of every unfinished task; their ids."""
    with output_engine(settings).connect() as conn:
        predicting = ts.unfinished_task_ids(conn, ts.PREDICTING_TASK)
        training = ts.unfinished_task_ids(conn, ts.TRAINING_TASK)
        evaluating = ts.unfinished_task_ids(conn, ts.EVALUATION_TASK)
    for task_id in predicting:
        build_predicting_workflow(task_id).apply_async()
    for task_id in training:
        build_training(task_id).apply_async()
    for task_id in evaluating:
        build_evaluation(task_id).apply_async()
    return predicting + training + evaluating


def resend_stale(settings: Settings, skip: Collection[str] = ()) -> list[str]:
    """Send the planner again for predicting tasks silent for `stale_task_after_s`; their ids.

    Redis redelivers what a dead worker held, but not what it lost itself (a restart without
    persistence). Planning again is safe: finished chunks return at once, the rest resume from their
    checkpoints, and a copy of a chunk that is in fact still running is fenced off."""
    quiet_since = ts.utcnow() - timedelta(seconds=settings.stale_task_after_s)
    with output_engine(settings).begin() as conn:
        task_ids = [t for t in ts.stale_task_ids(conn, ts.PREDICTING_TASK, quiet_since) if t not in skip]
        for task_id in task_ids:
            add_line(
                conn,
                task_id,
                f"silent for {settings.stale_task_after_s} s: planned again from its checkpoints (its messages "
                "were lost, or dropped after the output schema refused them for OUTPUT_OUTAGE_RETRY_S)",
                WARNING,
            )
    for task_id in task_ids:
        build_predicting_workflow(task_id).apply_async()
    return task_ids


def finalize_unrecorded(settings: Settings) -> list[str]:
    """Send finalize for predicting tasks whose chunks all ended a while ago with no outcome recorded;
    their ids. Sooner than `resend_stale`: nothing can still be running there."""
    quiet_since = ts.utcnow() - timedelta(seconds=_unrecorded_after_s(settings))
    with output_engine(settings).connect() as conn:
        task_ids = ts.unrecorded_task_ids(conn, ts.PREDICTING_TASK, quiet_since)
    for task_id in task_ids:
        build_finalize(task_id).apply_async()
    return task_ids


def _unrecorded_after_s(settings: Settings) -> float:
    # Finalize runs within moments of the last chunk when the chord works; a minute is plenty.
    return min(60.0, settings.stale_task_after_s)


def _watch_for_stale_tasks(settings: Settings, stop: threading.Event) -> None:
    interval = min(60.0, settings.stale_task_after_s / 4)
    while not stop.wait(interval):
        finalized: list[str] = []
        try:
            finalized = finalize_unrecorded(settings)
        except Exception:
            log.exception("the check for unrecorded outcomes failed; trying again in %.0f s", interval)
        if finalized:
            log.warning("sent finalize for %d predicting task(s) whose chunks all ended %.0f s ago: %s",
                        len(finalized), _unrecorded_after_s(settings), ", ".join(finalized))  # fmt: skip
        try:
            task_ids = resend_stale(settings, skip=finalized)
        except Exception:
            log.exception("the check for stale tasks failed; trying again in %.0f s", interval)
            continue
        if task_ids:
            log.warning("re-sent %d predicting task(s) silent for %d s: %s", len(task_ids),
                        settings.stale_task_after_s, ", ".join(task_ids))  # fmt: skip


_stop = threading.Event()


@worker_ready.connect
def _on_worker_ready(**_: Any) -> None:
    settings = get_settings()
    if broker_redelivers(settings):
        threading.Thread(target=_watch_for_stale_tasks, args=(settings, _stop), daemon=True).start()
        return
    task_ids = resend_unfinished(settings)
    if task_ids:
        log.warning("re-sent %d unfinished task(s) whose messages this broker cannot redeliver", len(task_ids))


@worker_shutdown.connect
def _on_worker_shutdown(**_: Any) -> None:
    _stop.set()
