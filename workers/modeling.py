"""Celery tasks of the modeling queue: thin adapters over `workers.model_training`."""

import logging
from collections.abc import Callable

from celery import Task
from sqlalchemy.exc import OperationalError

from settings import Settings, get_settings
from workers.app import celery_app

log = logging.getLogger(__name__)
# A database that is briefly away is waited for; any other error is the task's outcome.
RETRIES = 3


# `workers.model_training` is imported when a modeling task runs, not with this module: it brings
# scikit-learn's metrics and trainers (about 125 MB), which a worker that only labels never needs.


@celery_app.task(bind=True, name="modeling.train", max_retries=RETRIES)
def train(self: Task, task_id: str) -> str:
    from workers import model_training

    return _run(self, model_training.train_task, task_id)


@celery_app.task(bind=True, name="modeling.evaluate", max_retries=RETRIES)
def evaluate(self: Task, task_id: str) -> str:
    from workers import model_training

    return _run(self, model_training.evaluate_task, task_id)


def _run(task: Task, step: Callable[[Settings, str], str], task_id: str) -> str:
    from workers import model_training

    settings = get_settings()
    try:
        return str(step(settings, task_id))
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
