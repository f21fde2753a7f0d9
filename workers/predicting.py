"""Celery tasks of the predicting workflow: thin adapters over `workers.labeling`."""

import logging

from celery import Task
from celery.exceptions import Ignore

from settings import get_settings
from workers import labeling
from workers.app import celery_app
from workers.canvas import build_label_chord

log = logging.getLogger(__name__)
PLAN_RETRIES = 3
# How long finalize waits for chunks still running when the chord fires (120 × 5 s).
FINALIZE_RETRIES = 120
FINALIZE_WAIT_S = 5


def _backoff(retries: int, cap: int = 30) -> int:
    return min(2 ** (retries + 1), cap)


@celery_app.task(bind=True, name="predicting.plan", max_retries=PLAN_RETRIES)
def plan(self: Task, task_id: str) -> None:
    settings = get_settings()
    try:
        chunk_ids = labeling.plan_task(settings, task_id)
        # Inside the try: if the broker refuses the chord, planning is retried (it is idempotent).
        raise self.replace(build_label_chord(task_id, chunk_ids))
    except Ignore:
        raise
    except Exception as exc:
        if self.request.retries >= PLAN_RETRIES:
            log.exception("task %s: planning failed", task_id)
            labeling.fail_task(settings, task_id, exc)
            return
        raise self.retry(exc=exc, countdown=_backoff(self.request.retries)) from exc


@celery_app.task(bind=True, name="predicting.label_chunk", max_retries=None)
def label_chunk(self: Task, task_id: str, chunk_id: int) -> str:
    settings = get_settings()
    try:
        status = labeling.run_chunk(settings, task_id, chunk_id)
    except Exception as exc:
        log.exception("task %s chunk %s: attempt failed", task_id, chunk_id)
        try:
            gave_up = labeling.record_chunk_error(settings, chunk_id, exc)
        except Exception:
            log.exception("task %s chunk %s: could not record the failure", task_id, chunk_id)
            gave_up = False
        if gave_up:
            return labeling.ts.CHUNK_FAILED
        raise self.retry(exc=exc, countdown=_backoff(self.request.retries)) from exc
    if status == labeling.FENCED:
        # Another copy of this chunk owns it: store no result, so the chord counts only the owner's.
        log.info("task %s chunk %s: another copy of this chunk moved its checkpoint first; this one stops",
                 task_id, chunk_id)  # fmt: skip
        raise Ignore()
    return status


@celery_app.task(bind=True, name="predicting.finalize", max_retries=None)
def finalize(self: Task, task_id: str) -> str:
    try:
        status = labeling.finalize_task(get_settings(), task_id, force=self.request.retries >= FINALIZE_RETRIES)
    except Exception as exc:
        log.exception("task %s: finalize failed", task_id)
        raise self.retry(exc=exc, countdown=_backoff(self.request.retries)) from exc
    if status is None:
        raise self.retry(countdown=FINALIZE_WAIT_S)
    return status
