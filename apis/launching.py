"""Sending a task's first message, only ever after its row is committed."""

import logging

from celery.canvas import Signature
from sqlalchemy import Engine

from apis.errors import AudienceError
from utils.db import task_store as ts
from utils.db.errors import cause_of

log = logging.getLogger(__name__)


def send(out: Engine, task_id: str, signature: Signature, what: str) -> None:
    """Send the message of a committed task. If the broker refuses it, the task ends FAILURE with
    the cause and the request gets 500 "failed to start a `what`"."""
    try:
        signature.apply_async()
    except Exception as exc:
        log.exception("task %s: could not be sent to the broker", task_id)
        with out.begin() as conn:
            ts.finish_task(conn, task_id, ts.FAILURE, {}, f"failed to start: {cause_of(exc)}")
        raise AudienceError(500, f"failed to start a {what}: {cause_of(exc)}") from exc
