"""The modeling API: train and evaluate models on the modeling queue; the model registry."""

import gzip
import uuid
from collections.abc import Callable
from typing import Annotated, Any, Literal

from celery.canvas import Signature
from fastapi import APIRouter, Path, Query
from fastapi.responses import StreamingResponse
from sqlalchemy import Connection, Engine, select
from sqlalchemy.engine import Row
from sqlalchemy.exc import SQLAlchemyError

from apis.deps import OutputEngine, connect_output, loadable
from apis.errors import AudienceError, database_error
from apis.launching import send
from apis.paging import id_cursor, next_id_cursor, next_task_cursor, task_cursor
from apis.schemas.common import error_responses
from apis.schemas.modeling import (
    EvaluationCreate,
    ModelDetail,
    ModelingTask,
    ModelingTaskList,
    ModelList,
    ModelsDeleted,
    ModelSummary,
    TaskCreated,
    TrainingCreate,
    TrainingCreated,
)
from apis.task_logs import add_log_route
from models.params import RULE_TYPES, ParamError, validate_params
from utils.db import dataset_store as ds
from utils.db import model_store as ms
from utils.db import pattern_store as ps
from utils.db import rule_store as rs
from utils.db import task_store as ts
from utils.db.tables import tasks
from workers.canvas import build_evaluation, build_training
from workers.training_identity import rules_sha256, training_key

router = APIRouter(
    prefix="/modeling", tags=["modeling"], responses=error_responses(400, 401, 403, 404, 409, 413, 422, 500, 503)
)
ModelName = Annotated[str, Path(min_length=1, max_length=100)]
_TYPES = (ts.TRAINING_TASK, ts.EVALUATION_TASK)


def _summary(row: Row) -> ModelSummary:
    return ModelSummary(
        model_id=row.id,
        name=row.name,
        version=row.version,
        kind=row.kind,
        labels=row.labels,
        params=row.params,
        sha256=row.sha256,
        library_versions=row.library_versions,
        dataset_id=row.dataset_id,
        dataset_sha256=row.dataset_sha256,
        rule_set_id=row.rule_set_id,
        task_id=row.task_id,
        created_at=row.created_at,
        # Models stored before the decision was recorded were all multi-label.
        multi_label=(row.decision or {}).get("multi_label", True),
    )


def _check_dataset(conn: Connection, dataset_id: int, needs_labels: bool) -> Row:
    dataset = ds.get_dataset(conn, dataset_id)
    if dataset is None:
        raise AudienceError(400, f"dataset_id: dataset {dataset_id} does not exist")
    if needs_labels:
        train_counts: dict[str, int] = (dataset.label_counts or {}).get("train", {})
        if not train_counts:
            raise AudienceError(400, f"dataset_id: the train split of dataset {dataset.name!r} is empty")
        if len(train_counts) < 2:
            only = next(iter(train_counts))
            message = f"the train split of {dataset.name!r} has one label only ({only!r}); a classifier needs two"
            raise AudienceError(400, f"dataset_id: {message}")
    return dataset


def _reusable(conn: Connection, key: str, name: str) -> Row | None:
    """The stored model trained exactly this way, if it is the version predicting would use (the
    newest of its name) and this server can load it; otherwise training runs again."""
    stored = ms.model_by_training(conn, key, name)
    newest = ms.get_model(conn, name)
    if stored is None or newest is None or stored.id != newest.id:
        return None
    try:
        loadable(stored, "model_name")
    except AudienceError:
        return None
    return stored


def _launch(out: Engine, task_type: str, config: dict[str, Any], signature_of: Callable[[str], Signature]) -> str:
    """Commit the task row, then send its message (never the other way round)."""
    task_id = uuid.uuid4().hex
    with out.begin() as conn:
        ts.create_task(conn, task_id, task_type, config)
    send(out, task_id, signature_of(task_id), "modeling task")
    return task_id


@router.post("/tasks", response_model=TrainingCreated, summary="train a model (or reuse the same training)")
def create_training(body: TrainingCreate, out: OutputEngine) -> TrainingCreated:
    try:
        params = validate_params(body.model_type, body.params)
    except ParamError as exc:
        raise AudienceError(422, str(exc)) from exc
    rule_model = body.model_type in RULE_TYPES
    if rule_model and body.rule_set_id is None:
        raise AudienceError(422, f"rule_set_id: required by {body.model_type} models")
    if not rule_model and body.dataset_id is None:
        raise AudienceError(422, f"dataset_id: required by {body.model_type} models, which learn from labeled texts")
    with connect_output(out) as conn:
        # A rule model needs no dataset: without one it is built from its rules and has no report yet.
        dataset = None if body.dataset_id is None else _check_dataset(conn, body.dataset_id, not rule_model)
        multi_label = True if dataset is None or rule_model else bool(dataset.multi_label)
        if params.get("min_score") is not None and not rule_model and multi_label:
            raise AudienceError(
                422, "params.min_score: only for single-label datasets; a multi-label model has per-label thresholds"
            )
        rules_hash = None
        if body.rule_set_id is not None:
            if rs.get_rule_set(conn, body.rule_set_id) is None:
                raise AudienceError(400, f"rule_set_id: rule set {body.rule_set_id} does not exist")
            rules_hash = rules_sha256(conn, body.rule_set_id)
        snapshot = None
        if body.pattern_set is not None:
            found = ps.find_pattern_set(conn, body.pattern_set)
            if found is None:
                raise AudienceError(400, f"pattern_set: pattern set {body.pattern_set!r} does not exist")
            snapshot = {"id": found.id, "name": found.name, "patterns": found.patterns}
        key = training_key(
            dataset.sha256 if dataset else None,
            body.model_type,
            params,
            rules_hash,
            snapshot["patterns"] if snapshot else None,
            multi_label,
        )
        stored = None if body.force else _reusable(conn, key, body.model_name)
    config = {
        "dataset_id": dataset.id if dataset else None,
        "dataset_name": dataset.name if dataset else None,
        "dataset_sha256": dataset.sha256 if dataset else None,
        "multi_label": multi_label,
        "model_type": body.model_type,
        "model_name": body.model_name,
        "params": params,
        "rule_set_id": body.rule_set_id,
        "pattern_set": snapshot,
        "training_key": key,
    }
    if stored is not None:
        return TrainingCreated(
            task_id=None,
            status="SUCCESS",
            reused=True,
            model=_summary(stored),
            config=config,
            error_message="reused a stored model trained the same way (force=true trains again)",
        )
    task_id = _launch(out, ts.TRAINING_TASK, config, build_training)
    return TrainingCreated(task_id=task_id, status="PENDING", reused=False, model=None, config=config)


def _task_row(conn: Connection, task_id: str) -> Row:
    if len(task_id) != 32 or not all(c in "0123456789abcdef" for c in task_id):
        raise AudienceError(400, "task_id not in proper format: expects 32 lowercase hex digits")
    task = ts.get_task(conn, task_id)
    if task is None or task.type not in _TYPES:
        raise AudienceError(400, f"task id does not exist: {task_id}")
    return task


def _task(task: Row) -> ModelingTask:
    return ModelingTask(
        task_id=task.id,
        type=task.type,
        status=task.status,
        config=task.config,
        result=task.stats or None,
        error=task.error,
        created_at=task.created_at,
        started_at=task.started_at,
        finished_at=task.finished_at,
    )


@router.get("/tasks", response_model=ModelingTaskList, summary="training and evaluation tasks, newest first")
def list_tasks(
    out: OutputEngine,
    type: Annotated[Literal["training", "evaluation"], Query(description="which kind of task")] = "training",
    status: Annotated[Literal["PENDING", "STARTED", "BREAK", "SUCCESS", "FAILURE"] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=100, description="`next_cursor` of the previous page")] = None,
) -> ModelingTaskList:
    before = task_cursor(cursor)
    with connect_output(out) as conn:
        fetched = ts.list_tasks(conn, type, status, before, limit + 1)
    return ModelingTaskList(tasks=[_task(t) for t in fetched[:limit]], next_cursor=next_task_cursor(fetched, limit))


@router.get("/tasks/{task_id}", response_model=ModelingTask, summary="state and result of a modeling task")
def check_status(task_id: str, out: OutputEngine) -> ModelingTask:
    with connect_output(out) as conn:
        return _task(_task_row(conn, task_id))


@router.get("/models", response_model=ModelList, summary="the model registry: every version, newest first")
def list_models(
    out: OutputEngine,
    name: Annotated[str | None, Query(max_length=100, description="only this model's versions")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=20)] = None,
) -> ModelList:
    with connect_output(out) as conn:
        fetched = ms.list_models(conn, id_cursor(cursor), limit + 1, name)
    return ModelList(models=[_summary(r) for r in fetched[:limit]], next_cursor=next_id_cursor(fetched, limit))


def _model(conn: Connection, name: str, version: int | None) -> Row:
    row = ms.get_model(conn, name, version)
    if row is None:
        which = f"version {version} of model" if version else "model"
        raise AudienceError(404, f"{which} {name!r} does not exist")
    return row


@router.get("/models/{name}", response_model=ModelDetail, summary="a model: type, parameters, data, metrics")
def read_model(name: ModelName, out: OutputEngine, version: Annotated[int | None, Query(ge=1)] = None) -> ModelDetail:
    with connect_output(out) as conn:
        row = _model(conn, name, version)
    return ModelDetail(
        **_summary(row).model_dump(), pattern_set=row.pattern_set, metrics=row.metrics, decision=row.decision
    )


@router.get("/models/{name}/details", summary="validation details (dev split) as CSV")
def download_details(
    name: ModelName, out: OutputEngine, version: Annotated[int | None, Query(ge=1)] = None
) -> StreamingResponse:
    with connect_output(out) as conn:
        row = _model(conn, name, version)
        packed = ms.model_details(conn, row.id)
    if packed is None:
        raise AudienceError(404, f"model {name!r} version {row.version} has no validation details (not trained here)")
    return StreamingResponse(
        iter([gzip.decompress(packed)]),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{row.id}-v{row.version}-details.csv"'},
    )


def _tasks_using_models(conn: Connection, model_ids: set[int]) -> list[str]:
    """Unfinished tasks whose configuration loads one of `model_ids`."""
    rows = conn.execute(select(tasks.c.id, tasks.c.config).where(tasks.c.status.not_in(ts.FINISHED)))
    found = []
    for task_id, config in rows:
        used = {m.get("id") for m in (config or {}).get("models", [])} | {(config or {}).get("model", {}).get("id")}
        if used & model_ids:
            found.append(task_id)
    return found


@router.delete("/models/{name}", response_model=ModelsDeleted, summary="delete a model (one version, or all)")
def delete_model(
    name: ModelName,
    out: OutputEngine,
    version: Annotated[int | None, Query(ge=1, description="all when omitted")] = None,
) -> ModelsDeleted:
    with out.begin() as conn:
        rows = [_model(conn, name, version)] if version else ms.list_models(conn, None, 10_000, name)
        if not rows:
            raise AudienceError(404, f"model {name!r} does not exist")
        users = _tasks_using_models(conn, {r.id for r in rows})
        if users:
            raise AudienceError(409, f"model {name!r} is used by running task {users[0]}")
        ms.delete_models(conn, [r.id for r in rows])
    return ModelsDeleted(name=name, versions=sorted(r.version for r in rows))


@router.post("/models/{name}/evaluate", response_model=TaskCreated, summary="evaluate a model on another dataset")
def evaluate_model(name: ModelName, body: EvaluationCreate, out: OutputEngine) -> TaskCreated:
    try:
        with connect_output(out) as conn:
            row = _model(conn, name, body.version)
            loadable(row, "version")
            dataset = _check_dataset(conn, body.dataset_id, needs_labels=False)
            if body.split and not (dataset.label_counts or {}).get(body.split):
                raise AudienceError(400, f"split: the {body.split} split of dataset {dataset.name!r} is empty")
    except SQLAlchemyError as exc:
        raise database_error(exc, 500, "cannot read the model or the dataset") from exc
    config = {
        "model": {"id": row.id, "name": row.name, "version": row.version, "sha256": row.sha256, "labels": row.labels},
        "dataset_id": dataset.id,
        "dataset_name": dataset.name,
        "split": body.split,
    }
    task_id = _launch(out, ts.EVALUATION_TASK, config, build_evaluation)
    return TaskCreated(task_id=task_id, status="PENDING", config=config)


add_log_route(router, "what a modeling task did, a line per step and per error", _task_row)
