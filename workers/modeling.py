"""Celery tasks of the modeling queue: thin adapters over `workers.model_training`."""

import logging

from celery import Task
from sqlalchemy.exc import OperationalError

from settings import get_settings
from workers.app import celery_app

log = logging.getLogger(__name__)
# A database that is briefly away is waited for; any other error is the task's outcome.
RETRIES = 3


@celery_app.task(bind=True, name="modeling.train", max_retries=RETRIES)
def train(self: Task, task_id: str) -> str:
    return _run(self, "train_task", task_id)


@celery_app.task(bind=True, name="modeling.evaluate", max_retries=RETRIES)
def evaluate(self: Task, task_id: str) -> str:
    return _run(self, "evaluate_task", task_id)


def _run(task: Task, step: str, task_id: str) -> str:
    """`step` of `workers.model_training`, imported here rather than with this module: it brings
    scikit-learn's metrics and trainers (about 125 MB), which a worker that only labels never needs."""
    from workers import model_training

    settings = get_settings()
    try:
        return str(getattr(model_training, step)(settings, task_id))
    except OperationalError as exc:
        if task.request.retries < RETRIES:
            raise task.retry(exc=exc, countdown=2 ** (task.request.retries + 1)) from exc
        log.exception("task %s: the output schema stayed unreachable", task_id)
        model_training.fail(settings, task_id, exc)
        return "FAILURE"
    except Exception as exc:
        log.exception("task %s failed", task_id)
        model_training.fail(settings, task_id, exc)
        return "FAILURE"
