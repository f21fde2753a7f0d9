"""The Celery application: one per process, configured from Settings."""

import os
from typing import Any

from celery import Celery
from celery.signals import worker_init
from kombu import Queue

from models.literals import keep_compiled_in
from settings import Settings, get_settings
from utils.db.migrating import SchemaVersionError, check_output_schema
from utils.text import warm_text_tables

PREDICTING_QUEUE = "predicting"
MODELING_QUEUE = "modeling"


def create_celery(settings: Settings) -> Celery:
    app = Celery(
        "audience",
        broker=settings.celery_broker_url,
        backend=settings.celery_result_backend,
        include=["workers.predicting", "workers.modeling", "workers.recovery"],
    )
    app.conf.update(
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        # A task is acknowledged only when it ends, and given back if its process dies, so a
        # crash redelivers the chunk (Redis: after the visibility timeout; the embedded broker:
        # see workers/recovery.py); the chunk's checkpoint makes the redelivery resume, not repeat.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        # A lost broker connection makes Redis redeliver the running messages: stop their copies
        # here rather than race them (the checkpoint compare-and-set would fence them anyway).
        worker_cancel_long_running_tasks_on_connection_loss=True,
        worker_prefetch_multiplier=1,
        worker_max_memory_per_child=settings.worker_max_memory_per_child_kb or None,
        task_queues=[Queue(PREDICTING_QUEUE), Queue(MODELING_QUEUE)],
        task_default_queue=PREDICTING_QUEUE,
        task_routes={"predicting.*": {"queue": PREDICTING_QUEUE}, "modeling.*": {"queue": MODELING_QUEUE}},
        broker_connection_retry_on_startup=True,
        result_expires=86_400,
        # Celery's own state is telemetry only; task state lives in the output schema.
        task_track_started=False,
        worker_hijack_root_logger=False,
    )
    if settings.celery_broker_url.startswith(("redis://", "rediss://")):
        app.conf.broker_transport_options = {
            "visibility_timeout": settings.broker_visibility_timeout,
            "unacked_restore_interval": settings.broker_restore_interval,
            "unacked_restore_throttle": 1,
        }
    if settings.celery_result_backend.startswith("db+"):
        app.conf.database_create_tables_at_setup = True
    return app


celery_app = create_celery(get_settings())


@worker_init.connect
def _prepare(**_: Any) -> None:
    """In the worker's main process, before its pool starts, for prefork children to inherit: the
    niceness, the directory of compiled matchers, and the text tables every matcher is built from
    (about 0.3 s each child would otherwise spend on its first task)."""
    settings = get_settings()
    try:
        check_output_schema(settings)
    except SchemaVersionError as exc:
        # SystemExit passes Celery's signal dispatch (which logs and swallows exceptions): the worker stops.
        raise SystemExit(f"refusing to start: {exc}") from exc
    os.nice(settings.worker_nice)
    keep_compiled_in(settings.compiled_dir)
    warm_text_tables()
