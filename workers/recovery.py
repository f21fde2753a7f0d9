"""Re-send lost work when a worker starts, for brokers that never redeliver.

Redis gives an unacknowledged message back after the visibility timeout. kombu's SQLAlchemy
transport (the embedded default) marks a message invisible when a worker fetches it and gives it
back only on a clean shutdown: after a SIGKILL or a power cut it is gone, and its task would stay
STARTED for ever. So a worker on such a broker re-sends the planner of every unfinished task when it
starts. That is safe to repeat: planning is idempotent, finished chunks return at once, a chunk
still running elsewhere fences its duplicate, and finalize records an outcome only once.
"""

import logging
from typing import Any

from celery.signals import worker_ready

from settings import Settings, get_settings
from utils.db import task_store as ts
from utils.db.engines import output_engine
from workers.canvas import build_evaluation, build_predicting_workflow, build_training

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


@worker_ready.connect
def _on_worker_ready(**_: Any) -> None:
    settings = get_settings()
    if broker_redelivers(settings):
        return
    task_ids = resend_unfinished(settings)
    if task_ids:
        log.warning("re-sent %d unfinished task(s) whose messages this broker cannot redeliver", len(task_ids))
