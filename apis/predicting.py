"""Predicting API: start a labeling task over source tables, watch it, sample it, abort it."""

import random
import re
import uuid
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from itertools import chain
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse
from sqlalchemy import Connection, Engine
from sqlalchemy.engine import Row
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from apis.deps import OutputEngine, SettingsDep, SourceEngine, connect_output, loadable
from apis.errors import AudienceError, database_error
from apis.launching import send
from apis.paging import next_task_cursor, task_cursor
from apis.schemas.common import error_responses
from apis.schemas.predicting import (
    AbortAccepted,
    ModelRef,
    PredictingTaskCreate,
    Progress,
    Sample,
    SampleRow,
    ScoredLabel,
    TaskConfig,
    TaskCreated,
    TaskDetail,
    TaskList,
    TaskStatusName,
    TaskSummary,
)
from apis.schemas.preprocessing import PatternSetSnapshot
from apis.status_cache import StatusCache
from apis.task_logs import add_log_route
from utils.db import pattern_store as ps
from utils.db import task_store as ts
from utils.db.errors import cause_of
from utils.db.label_export import as_csv, as_jsonl, label_pages
from utils.db.label_store import has_labels, labels_of, sample_ids
from utils.db.model_store import get_model, latest_models
from utils.review import Sampling, labeled_rows, pick, review_file
from utils.source import SourceError, SourceSpec, reflect_source
from utils.text import join_columns
from workers.canvas import build_predicting_workflow
from workers.labeling import spec_of

# Rows picked for a review export per line asked for, at first and at most.
REVIEW_CANDIDATES = 2
REVIEW_MAX_CANDIDATES = 32

router = APIRouter(
    prefix="/predicting", tags=["predicting"], responses=error_responses(400, 401, 403, 404, 409, 413, 422, 500, 503)
)
TASK_TYPE = ts.PREDICTING_TASK
_TASK_ID = re.compile(r"^[0-9a-f]{32}$")
STATUS_TTL_S = 0.5


def in_zone(moment: datetime, zone: ZoneInfo, field: str) -> datetime:
    """A naive wall-clock time in `zone`: one with an offset is converted, one without is kept."""
    if moment.tzinfo is None:
        return moment
    try:
        return moment.astimezone(zone).replace(tzinfo=None)
    except OverflowError:
        raise AudienceError(422, f"{field}: {moment.isoformat()} is out of range in {zone.key}") from None


def _check_task_id(task_id: str) -> str:
    if not _TASK_ID.match(task_id):
        raise AudienceError(400, "task_id not in proper format: expects 32 lowercase hex digits")
    return task_id


def _load_task(conn: Connection, task_id: str) -> Row:
    task = ts.get_task(conn, task_id)
    if task is None or task.type != TASK_TYPE:
        raise AudienceError(400, f"task id does not exist: {task_id}")
    return task


def _progress(task: Row, live: dict[str, Any]) -> Progress:
    done = live["read"]
    total = task.total
    end = task.finished_at or ts.utcnow()
    elapsed = (end - task.started_at).total_seconds() if task.started_at else 0.0
    rate = done / elapsed if elapsed > 0 else None
    eta = None
    if rate and total is not None and task.status == ts.STARTED:
        eta = round(max(total - done, 0) / rate, 1)
    return Progress(
        total=total,
        done=done,
        excluded=live["excluded"],
        labeled=live["labeled"],
        percent=round(100.0 * done / total, 2) if total else (100.0 if task.status == ts.SUCCESS else None),
        rows_per_s=round(rate, 1) if rate else None,
        eta_s=eta,
    )


def _pattern_snapshot(conn: Connection, name: str) -> PatternSetSnapshot:
    """The set's patterns as of now, read under a shared lock: a DELETE of the set waits for this
    transaction, then finds the task using it (and refuses)."""
    found = ps.find_pattern_set(conn, name, lock="share")
    if found is None:
        raise AudienceError(400, f"pattern_set: pattern set {name!r} does not exist")
    return PatternSetSnapshot(id=found.id, name=found.name, patterns=found.patterns)


@router.post("/tasks", response_model=TaskCreated, summary="create_task: start labeling source rows")
def create_task(body: PredictingTaskCreate, settings: SettingsDep, out: OutputEngine, src: SourceEngine) -> TaskCreated:
    # Source time columns hold wall-clock values of the source's zone; compare in that zone.
    start_time = in_zone(body.start_time, settings.source_zone, "start_time")
    end_time = in_zone(body.end_time, settings.source_zone, "end_time")
    if start_time >= end_time:
        raise AudienceError(400, "start_time must be earlier than end_time")
    spec = SourceSpec(
        tables=tuple(body.source.tables),
        id_column=body.source.id_column,
        text_columns=tuple(body.source.text_columns),
        time_column=body.source.time_column,
    )
    with connect_output(out) as conn:
        found = latest_models(conn, body.model_names)
        for name, version in (body.model_versions or {}).items():
            if name not in body.model_names:
                raise AudienceError(400, f"model_versions: {name!r} is not one of model_names")
            pinned = get_model(conn, name, version)
            if pinned is None:
                raise AudienceError(400, f"model_versions: version {version} of model {name!r} does not exist")
            found[name] = pinned
    missing = [name for name in body.model_names if name not in found]
    if missing:
        raise AudienceError(400, f"model_names: model {missing[0]!r} does not exist")
    for model in found.values():
        loadable(model, "model_names")
    try:
        reflect_source(src, spec)
    except SourceError as exc:
        raise AudienceError(400, f"source.{exc}") from exc
    except SQLAlchemyError as exc:
        # 500, as Audience 2.x answered: the source is not this service's own schema.
        cause = cause_of(exc)
        raise AudienceError(500, f"failed to start a labeling task: cannot read source database: {cause}") from exc

    config = TaskConfig(
        models=[
            ModelRef(id=m.id, name=m.name, version=m.version, sha256=m.sha256)
            for m in (found[n] for n in body.model_names)
        ],
        source=body.source,
        start_time=start_time,
        end_time=end_time,
        batch_size=body.batch_size or settings.batch_size,
    )
    task_id = uuid.uuid4().hex
    try:
        with out.begin() as conn:
            if body.pattern_set:
                config.pattern_set = _pattern_snapshot(conn, body.pattern_set)
            ts.create_task(conn, task_id, TASK_TYPE, config.model_dump(mode="json"))
    except OperationalError as exc:
        raise AudienceError(503, f"cannot connect to output schema: {cause_of(exc)}") from exc
    # Launched only after the task row is committed, so a worker always finds it.
    send(out, task_id, build_predicting_workflow(task_id), "labeling task")
    return TaskCreated(task_id=task_id, status="PENDING", config=config)


@router.get("/tasks", response_model=TaskList, summary="tasks_list: tasks, newest first")
def list_tasks(
    out: OutputEngine,
    status: Annotated[TaskStatusName | None, Query(description="only tasks in this status")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=100, description="`next_cursor` of the previous page")] = None,
) -> TaskList:
    before = task_cursor(cursor)
    try:
        with out.connect() as conn:
            # One row more than asked tells whether a next page exists.
            fetched = ts.list_tasks(conn, TASK_TYPE, status, before, limit + 1)
            rows = fetched[:limit]
            done = ts.rows_done(conn, [t.id for t in rows]) if rows else {}
            summaries = [
                TaskSummary(
                    task_id=t.id,
                    status=t.status,
                    progress=_progress(t, done[t.id]),
                    created_at=t.created_at,
                    started_at=t.started_at,
                    finished_at=t.finished_at,
                )
                for t in rows
            ]
    except SQLAlchemyError as exc:
        raise database_error(exc, 500, "cannot read the state table") from exc
    return TaskList(tasks=summaries, next_cursor=next_task_cursor(fetched, limit))


@router.get(
    "/tasks/{task_id}",
    response_model=TaskDetail,
    summary="check_status: state and progress of a task",
    description=f"Progress may be a little over {STATUS_TTL_S} s old: the answer is cached that long, then sent "
    "while it is rebuilt.",
)
async def check_status(task_id: str, out: OutputEngine, request: Request) -> Response:
    # async: a cached answer is sent from the event loop, with no hop to the thread pool.
    _check_task_id(task_id)
    body = await status_cache(request).fetch(task_id, lambda: _status(task_id, out).model_dump_json().encode())
    return Response(body, media_type="application/json")


def status_cache(request: Request) -> StatusCache:
    """This app's cache of status documents (made in `create_app`)."""
    cache: StatusCache = request.app.state.status_cache
    return cache


def _status(task_id: str, out: Engine) -> TaskDetail:
    with connect_output(out) as conn:
        task = _load_task(conn, task_id)
        live = ts.task_progress(conn, task_id)
    return TaskDetail(
        task_id=task.id,
        status=task.status,
        progress=_progress(task, live),
        created_at=task.created_at,
        started_at=task.started_at,
        finished_at=task.finished_at,
        abort_requested=task.abort_requested,
        label_counts=live["label_counts"],
        error=task.error,
        peak_rss_bytes=live["peak_rss"],
        chunks=live["chunks_by_status"],
        config=TaskConfig.model_validate(task.config),
    )


@router.get("/tasks/{task_id}/sample", response_model=Sample, summary="sample_result: random labeled rows")
def sample_result(
    task_id: str,
    out: OutputEngine,
    src: SourceEngine,
    size: Annotated[int, Query(ge=1, le=100)] = 20,
) -> Sample:
    _check_task_id(task_id)
    with connect_output(out) as conn:
        task = _load_task(conn, task_id)
        try:
            if not has_labels(conn, task_id):
                if task.status in ts.FINISHED:
                    raise AudienceError(404, f"result table not found: the task ended {task.status} with no labels")
                raise AudienceError(404, "result table not found yet: no labels written so far, retry later")
            picked = sample_ids(conn, task_id, size, random.Random())
            by_table = _by_table(picked)
            labels: dict[tuple[str, int], dict[str, list[ScoredLabel]]] = defaultdict(lambda: defaultdict(list))
            for table, ids in by_table.items():
                for row in labels_of(conn, task_id, table, ids):
                    labels[(table, row.source_id)][row.model].append(ScoredLabel(label=row.label, score=row.score))
        except SQLAlchemyError as exc:
            raise database_error(exc, 500, "cannot read result tables") from exc
    texts = _source_texts(src, task.config, by_table)
    rows = [
        SampleRow(source_table=t, source_id=i, text=texts.get((t, i)), labels=dict(labels[(t, i)])) for t, i in picked
    ]
    return Sample(task_id=task_id, status=task.status, rows=rows)


@router.get(
    "/tasks/{task_id}/labels",
    summary="export_labels: every label row of a task, streamed as CSV or JSONL",
    description="Rows (source_table, source_id, model, label, score) in that order, read from the output schema "
    "page by page while they are sent: millions of rows without holding them. A running task's export holds "
    "the batches committed so far.",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}, "application/x-ndjson": {}}}},
)
def export_labels(
    task_id: str,
    out: OutputEngine,
    fmt: Annotated[Literal["csv", "jsonl"], Query(alias="format", description="csv (with a header) or jsonl")] = "csv",
) -> StreamingResponse:
    _check_task_id(task_id)
    with connect_output(out) as conn:
        _load_task(conn, task_id)
    pages = label_pages(out, task_id)
    if fmt == "csv":
        body, media = as_csv(pages), "text/csv; charset=utf-8"
    else:
        body, media = as_jsonl(pages), "application/x-ndjson"
    disposition = f'attachment; filename="labels-{task_id}.{fmt}"'
    return StreamingResponse(body, media_type=media, headers={"Content-Disposition": disposition})


def _by_table(rows: Iterable[tuple[str, int]]) -> dict[str, list[int]]:
    """(source table, source id) pairs as the ids of each table."""
    by_table: dict[str, list[int]] = defaultdict(list)
    for table, source_id in rows:
        by_table[table].append(source_id)
    return by_table


def _source_texts(src: Engine, config: dict[str, Any], by_table: dict[str, list[int]]) -> dict[tuple[str, int], str]:
    """The texts of these source rows, as a task reads them; a row deleted since is missing."""
    texts: dict[tuple[str, int], str] = {}
    try:
        tables = reflect_source(src, spec_of(config))
        with src.connect() as sconn:
            for table, ids in by_table.items():
                for source_id, row in tables[table].fetch_rows(sconn, ids).items():
                    texts[(table, source_id)] = join_columns(row[1:])
    except SourceError as exc:
        raise AudienceError(409, f"the source has changed since the task was created: {exc}") from exc
    except SQLAlchemyError as exc:
        raise database_error(exc, 409, "the source rows cannot be read as the task read them") from exc
    return texts


@router.get(
    "/tasks/{task_id}/review",
    summary="review_export: sampled rows with their predicted labels, as doccano JSONL to review",
    description="Each line: `text`, `label` (the predicted labels of `model`, as pre-annotations; where it gave "
    "none, the other models' labels) and `meta` (source row, whose labels are proposed, every model's labels and "
    "scores, `machine_labels: true`). Import it into doccano as a text classification dataset; the reviewed "
    "export goes back through POST /documenting/datasets, which stores every line of the file as given. Rows are "
    "picked in one pass over the task's labels: `uniform`, `per_label` (an equal share of each label), "
    "`least_confident` (nearest the model's decision: a classifier's smallest margin — between its top two labels, "
    "or from a label's threshold — or a rule model's lowest score) or `disagreement` (rows the task's models label "
    "differently). Each text is in the file once: rows repeating a text already in it are left out and counted in "
    "`X-Rows-Repeated`; rows deleted from the source since, with no text now, or with a text the upload would "
    "refuse (empty, too long) are counted in `X-Rows-Skipped`.",
    response_class=Response,
    responses={200: {"content": {"application/x-ndjson": {}}}},
)
def review_export(
    task_id: str,
    settings: SettingsDep,
    out: OutputEngine,
    src: SourceEngine,
    sampling: Annotated[Sampling, Query(description="how rows are picked")] = "uniform",
    size: Annotated[int, Query(ge=1, le=10_000, description="at most this many rows")] = 100,
    model: Annotated[
        str | None, Query(max_length=100, description="whose labels are proposed (default: the first)")
    ] = None,
    seed: Annotated[int | None, Query(description="the same seed picks the same rows")] = None,
) -> Response:
    _check_task_id(task_id)
    with connect_output(out) as conn:
        task = _load_task(conn, task_id)
    names = [m.name for m in TaskConfig.model_validate(task.config).models]
    chosen = model or names[0]
    if chosen not in names:
        raise AudienceError(400, f"model: {chosen!r} is not a model of this task ({', '.join(names)})")
    if sampling == "disagreement" and len(names) < 2:
        raise AudienceError(400, "sampling: disagreement needs a task with two models or more; this task has one")
    rng = random.Random(seed)
    meta = {"task_id": task_id, "machine_labels": True, "model": chosen, "sampling": sampling}
    # More rows are picked than asked for, as room for those whose text repeats one already in the file;
    # while that is not room enough and the task has more, the pick grows.
    candidates = REVIEW_CANDIDATES * size
    while True:
        try:
            rows = pick(labeled_rows(chain.from_iterable(label_pages(out, task_id))), sampling, candidates, chosen,
                        names, rng)  # fmt: skip
        except SQLAlchemyError as exc:
            raise database_error(exc, 500, "cannot read result tables") from exc
        texts = _source_texts(src, task.config, _by_table((row.source_table, row.source_id) for row in rows))
        found = review_file(rows, texts, sampling, size, chosen, meta, settings.max_text_chars, rng)
        if len(found.lines) == size or len(rows) < candidates or candidates >= REVIEW_MAX_CANDIDATES * size:
            break
        candidates *= 4
    headers = {
        "Content-Disposition": f'attachment; filename="review-{task_id}-{sampling}.jsonl"',
        "X-Rows-Skipped": str(found.missing + sum(found.unusable.values())),
        "X-Rows-Repeated": str(found.repeated),
    }
    return Response("".join(found.lines), media_type="application/x-ndjson", headers=headers)


@router.post("/tasks/{task_id}/abort", response_model=AbortAccepted, summary="abort_result: stop a running task")
def abort_result(task_id: str, out: OutputEngine, request: Request) -> AbortAccepted:
    _check_task_id(task_id)
    try:
        with out.begin() as conn:
            task = _load_task(conn, task_id)
            if task.status in ts.FINISHED or not ts.request_abort(conn, task_id):
                finished = ts.get_task(conn, task_id)
                raise AudienceError(409, f"task already finished with status {finished.status if finished else '?'}")
    except SQLAlchemyError as exc:
        raise database_error(exc, 500, "failed to send break status") from exc
    status_cache(request).drop(task_id)
    return AbortAccepted(task_id=task_id, status=task.status, error_message="break status sent to task")


add_log_route(
    router,
    "task_log: what the task did, a line per batch and per error",
    lambda conn, task_id: _load_task(conn, _check_task_id(task_id)),
)
