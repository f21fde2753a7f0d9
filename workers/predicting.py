"""Celery tasks of the predicting workflow: thin adapters over `workers.labeling`."""

import logging

from celery import Task

from settings import get_settings
from workers import labeling
from workers.app import celery_app
from workers.canvas import build_label_chord

log = logging.getLogger(__name__)
PLAN_RETRIES = 3


@celery_app.task(bind=True, name="predicting.plan", max_retries=PLAN_RETRIES)
def plan(self: Task, task_id: str) -> None:
    settings = get_settings()
    try:
        chunk_ids = labeling.plan_task(settings, task_id)
    except Exception as exc:
        if self.request.retries >= PLAN_RETRIES:
            log.exception("task %s: planning failed", task_id)
            labeling.fail_task(settings, task_id, exc)
            return
        raise self.retry(exc=exc, countdown=2 ** (self.request.retries + 1)) from exc
    raise self.replace(build_label_chord(task_id, chunk_ids))


@celery_app.task(bind=True, name="predicting.label_chunk", max_retries=None)
def label_chunk(self: Task, task_id: str, chunk_id: int) -> str:
    settings = get_settings()
    try:
        return labeling.run_chunk(settings, task_id, chunk_id)
    except Exception as exc:
        log.exception("task %s chunk %s: attempt failed", task_id, chunk_id)
        if labeling.record_chunk_error(settings, chunk_id, exc):
            return labeling.ts.CHUNK_FAILED
        raise self.retry(exc=exc, countdown=min(2 ** (self.request.retries + 1), 30)) from exc


@celery_app.task(name="predicting.finalize")
def finalize(task_id: str) -> str:
    return labeling.finalize_task(get_settings(), task_id)
