"""Canvas builders: pure functions from ids to Celery signatures, no I/O."""

from celery import chord, group
from celery.canvas import Signature

from workers.app import celery_app

signature = celery_app.signature


def build_predicting_workflow(task_id: str) -> Signature:
    """What the API launches: a planner that replaces itself with the labeling chord."""
    return signature("predicting.plan", args=(task_id,), immutable=True)


def chunk_message_id(task_id: str, chunk_id: int) -> str:
    """The Celery id of a chunk's message: the same in every chord built for the task, so a chunk
    re-sent after its message was lost completes the chord that is waiting for it."""
    return f"{task_id}-chunk-{chunk_id}"


def build_finalize(task_id: str) -> Signature:
    return signature("predicting.finalize", args=(task_id,), immutable=True)


def build_label_chord(task_id: str, chunk_ids: list[int]) -> Signature:
    """`chord(label_chunk × N, finalize)`; finalize also runs if the chord fails. It reads the
    outcome from the database and waits for chunks still running, so a duplicated header result
    (a second copy of a chunk stores none) cannot finish a task early."""
    callback = build_finalize(task_id)
    if not chunk_ids:
        return callback
    callback.link_error(build_finalize(task_id))
    header = group(
        [
            signature("predicting.label_chunk", args=(task_id, c), immutable=True).set(
                task_id=chunk_message_id(task_id, c)
            )
            for c in chunk_ids
        ],
        app=celery_app,
    )
    return chord(header, callback, app=celery_app)


def build_training(task_id: str) -> Signature:
    """One task on the modeling queue: train, evaluate on dev and test, store the model."""
    return signature("modeling.train", args=(task_id,), immutable=True)


def build_evaluation(task_id: str) -> Signature:
    """One task on the modeling queue: run a stored model over a dataset and report."""
    return signature("modeling.evaluate", args=(task_id,), immutable=True)
