"""Preprocessing API: sets of patterns (RE2's syntax) whose matching texts are excluded before labeling.

Routes are plain `def`s: FastAPI runs them in its thread pool, so compiling a set (in a child
process, up to utils.patterns.COMPILE_SECONDS) never blocks the event loop.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from sqlalchemy import Connection, Engine
from sqlalchemy.engine import Row
from sqlalchemy.exc import IntegrityError

from apis.deps import OutputEngine, connect_output
from apis.errors import AudienceError
from apis.paging import id_cursor, next_id_cursor
from apis.schemas.common import error_responses
from apis.schemas.preprocessing import (
    PatternSetCreate,
    PatternSetDeleted,
    PatternSetDetail,
    PatternSetList,
    PatternSetPatch,
    PatternSetReplace,
    PatternSetSummary,
    PatternTestRequest,
    PatternTestResult,
    TextVerdict,
)
from utils.db import pattern_store as ps
from utils.patterns import PatternError, PatternSetTooLarge, check_patterns
from workers.exclusion_cache import get_exclusion_set

router = APIRouter(
    prefix="/preprocessing",
    tags=["preprocessing"],
    responses=error_responses(400, 401, 403, 404, 409, 413, 422, 500, 503),
)
SetId = Annotated[int, Path(ge=1, le=2**63 - 1, description="the pattern set's id")]
# How many task ids a 409 names before summing up the rest.
_NAMED_TASKS = 5


def _quoted(pattern: str) -> str:
    # As the user typed it (no doubled backslashes), unless it holds characters that need escaping.
    return f"'{pattern}'" if pattern.isprintable() else repr(pattern)


def _check_compiles(patterns: list[str]) -> None:
    try:
        check_patterns(patterns)
    except PatternError as exc:
        raise AudienceError(422, f"patterns[{exc.index}]: {_quoted(exc.pattern)} {exc.reason}") from exc
    except PatternSetTooLarge as exc:
        raise AudienceError(422, f"patterns: {exc}") from exc


@contextmanager
def _transaction(out: Engine) -> Iterator[Connection]:
    with connect_output(out) as conn, conn.begin():
        yield conn


def _name_taken(name: str) -> AudienceError:
    return AudienceError(409, f"name: a pattern set named {name!r} exists")


def _load(conn: Connection, set_id: int, lock: ps.Lock = None) -> Row:
    row = ps.get_pattern_set(conn, set_id, lock)
    if row is None:
        raise AudienceError(404, f"pattern set {set_id} does not exist")
    return row


def _summary(row: Row, unfinished_tasks: int) -> PatternSetSummary:
    return PatternSetSummary(
        pattern_set_id=row.id,
        name=row.name,
        description=row.description,
        pattern_count=row.pattern_count,
        unfinished_tasks=unfinished_tasks,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _detail(conn: Connection, set_id: int) -> PatternSetDetail:
    row = _load(conn, set_id)
    return PatternSetDetail(
        **_summary(row, ps.unfinished_task_counts(conn, [set_id])[set_id]).model_dump(), patterns=row.patterns
    )


@router.post("/patterns", response_model=PatternSetDetail, summary="create a pattern set")
def create_pattern_set(body: PatternSetCreate, out: OutputEngine) -> PatternSetDetail:
    _check_compiles(body.patterns)
    try:
        with _transaction(out) as conn:
            set_id = ps.create_pattern_set(conn, body.name, body.description, body.patterns)
    except IntegrityError as exc:  # the name is the only unique key
        raise _name_taken(body.name) from exc
    with connect_output(out) as conn:
        return _detail(conn, set_id)


@router.get("/patterns", response_model=PatternSetList, summary="list pattern sets, newest first")
def list_pattern_sets(
    out: OutputEngine,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=20, description="`next_cursor` of the previous page")] = None,
) -> PatternSetList:
    with connect_output(out) as conn:
        # One row more than asked tells whether a next page exists.
        fetched = ps.list_pattern_sets(conn, id_cursor(cursor), limit + 1)
        rows = fetched[:limit]
        in_use = ps.unfinished_task_counts(conn, [r.id for r in rows]) if rows else {}
    return PatternSetList(
        pattern_sets=[_summary(r, in_use[r.id]) for r in rows],
        next_cursor=next_id_cursor(fetched, limit),
    )


@router.get("/patterns/{set_id}", response_model=PatternSetDetail, summary="read a pattern set")
def read_pattern_set(set_id: SetId, out: OutputEngine) -> PatternSetDetail:
    with connect_output(out) as conn:
        return _detail(conn, set_id)


def _update(out: Engine, set_id: int, changes: dict[str, Any]) -> PatternSetDetail:
    if "patterns" in changes:
        _check_compiles(changes["patterns"])
    try:
        with _transaction(out) as conn:
            _load(conn, set_id, lock="update")
            ps.update_pattern_set(conn, set_id, changes)
    except IntegrityError as exc:
        raise _name_taken(changes["name"]) from exc
    with connect_output(out) as conn:
        return _detail(conn, set_id)


@router.put("/patterns/{set_id}", response_model=PatternSetDetail, summary="replace a pattern set")
def replace_pattern_set(set_id: SetId, body: PatternSetReplace, out: OutputEngine) -> PatternSetDetail:
    """Running tasks keep the patterns they started with."""
    return _update(out, set_id, body.model_dump())


@router.patch("/patterns/{set_id}", response_model=PatternSetDetail, summary="change some fields of a pattern set")
def patch_pattern_set(set_id: SetId, body: PatternSetPatch, out: OutputEngine) -> PatternSetDetail:
    """Running tasks keep the patterns they started with."""
    return _update(out, set_id, body.model_dump(exclude_unset=True))


@router.delete("/patterns/{set_id}", response_model=PatternSetDeleted, summary="delete an unused pattern set")
def delete_pattern_set(set_id: SetId, out: OutputEngine) -> PatternSetDeleted:
    with _transaction(out) as conn:
        # The row lock makes a concurrent POST /predicting/tasks naming this set wait or finish first.
        row = _load(conn, set_id, lock="update")
        users = ps.unfinished_tasks_using(conn, set_id)
        if users:
            named = ", ".join(users[:_NAMED_TASKS])
            if len(users) > _NAMED_TASKS:
                named += f" and {len(users) - _NAMED_TASKS} more"
            raise AudienceError(409, f"pattern set {row.name!r} is used by unfinished task(s) {named}")
        ps.delete_pattern_set(conn, set_id)
    return PatternSetDeleted(pattern_set_id=set_id, name=row.name, error_message="pattern set deleted")


@router.post("/patterns/{set_id}/test", response_model=PatternTestResult, summary="dry run: which texts it excludes")
def test_pattern_set(set_id: SetId, body: PatternTestRequest, out: OutputEngine) -> PatternTestResult:
    """Matches as a predicting task does: on the text as given (a task joins a row's text columns
    with newlines), not normalised; the first pattern that matches is reported."""
    with connect_output(out) as conn:
        row = _load(conn, set_id)
    try:
        exclusion = get_exclusion_set(row.patterns)
    except (PatternError, PatternSetTooLarge) as exc:  # stored before a change of RE2 or its limits
        raise AudienceError(500, f"pattern set {set_id} no longer compiles: {exc}") from exc
    results = []
    for text in body.texts:
        index = exclusion.first_match(text)
        pattern = None if index is None else exclusion.patterns[index]
        results.append(TextVerdict(excluded=index is not None, pattern_index=index, pattern=pattern))
    return PatternTestResult(
        pattern_set_id=row.id, name=row.name, excluded=sum(r.excluded for r in results), results=results
    )
