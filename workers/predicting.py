"""Celery tasks of the predicting workflow: thin adapters over `workers.labeling`."""

import logging
import time

from celery import Task
from celery.exceptions import Ignore

from settings import get_settings
from utils.db.errors import cause_of
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
def label_chunk(self: Task, task_id: str, chunk_id: int, outage: dict | None = None) -> str:
    """Label one chunk. `outage` travels with its retries while the output schema refuses every write
    (even of the failure): when it was first refused, how often, and why."""
    settings = get_settings()
    try:
        if outage:  # it answers again: first tell the log what it refused to record
            labeling.record_outage(settings, chunk_id, outage)
            outage = None
        status = labeling.run_chunk(settings, task_id, chunk_id)
    except Exception as exc:
        log.exception("task %s chunk %s: attempt failed", task_id, chunk_id)
        gave_up = False
        try:
            if outage:  # the schema refused even the outage's line just now: one more refused attempt
                outage = _outage(outage, exc)
            else:
                gave_up = labeling.record_chunk_error(settings, chunk_id, exc)
        except Exception as unrecorded:
            outage = _outage(outage, unrecorded)
        if outage and time.time() - outage["since"] > settings.output_outage_retry_s:
            _give_up(task_id, f"chunk {chunk_id}", outage)
        if gave_up:
            return labeling.ts.CHUNK_FAILED
        raise self.retry(exc=exc, countdown=_backoff(self.request.retries), kwargs={"outage": outage}) from exc
    if status == labeling.FENCED:
        # Another copy of this chunk owns it: store no result, so the chord counts only the owner's.
        log.info("task %s chunk %s: another copy of this chunk moved its checkpoint first; this one stops",
                 task_id, chunk_id)  # fmt: skip
        raise Ignore()
    return status


@celery_app.task(bind=True, name="predicting.finalize", max_retries=None)
def finalize(self: Task, task_id: str, outage: dict | None = None) -> str:
    settings = get_settings()
    try:
        status = labeling.finalize_task(settings, task_id, force=self.request.retries >= FINALIZE_RETRIES)
    except Exception as exc:
        log.exception("task %s: finalize failed", task_id)
        outage = _outage(outage, exc)
        if time.time() - outage["since"] > settings.output_outage_retry_s:
            _give_up(task_id, "finalize", outage)
        raise self.retry(exc=exc, countdown=_backoff(self.request.retries), kwargs={"outage": outage}) from exc
    if status is None:
        raise self.retry(countdown=FINALIZE_WAIT_S)
    return status


def _outage(outage: dict | None, error: BaseException) -> dict:
    """The outage so far, with one more refused attempt (JSON, so it travels in the retry's message)."""
    first = outage or {"since": time.time(), "attempts": 0}
    return {"since": first["since"], "attempts": first["attempts"] + 1, "cause": cause_of(error)}


def _give_up(task_id: str, what: str, outage: dict) -> None:
    # Retrying for ever would hide the outage and pile up messages: the database is the truth, and
    # recovery (workers/recovery.py) sends the task again from its checkpoints once it answers.
    log.error("task %s %s: the output schema has refused every write for %.0f s (%d attempts, last: %s); "
              "this message is dropped, and recovery takes the task up again once the schema answers",
              task_id, what, time.time() - outage["since"], outage["attempts"], outage["cause"])  # fmt: skip
    raise Ignore()
