"""`GET …/tasks/{id}/log` of both task routers: a task's log lines as plain text, tailable."""

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Query, Response
from fastapi.responses import PlainTextResponse
from sqlalchemy import Connection

from apis.deps import OutputEngine, connect_output
from utils.db.task_log import as_text, lines_after

After = Annotated[int, Query(ge=0, description="only lines after this one (X-Next-After of the last answer)")]
Limit = Annotated[int, Query(ge=1, le=10_000, description="at most this many lines")]


def add_log_route(router: APIRouter, summary: str, check_task: Callable[[Connection, str], object]) -> None:
    """GET /tasks/{task_id}/log on `router`; `check_task` raises the router's error for an unknown id."""

    @router.get(
        "/tasks/{task_id}/log",
        summary=summary,
        description="One line per step, batch and error: `time level message`, oldest first. To follow a "
        "running task, send the `X-Next-After` header of the answer back as `after`.",
        response_class=Response,  # errors stay JSON in the schema; the answer is text
        responses={200: {"content": {"text/plain": {}}, "description": "the log lines"}},
    )
    def task_log(task_id: str, out: OutputEngine, after: After = 0, limit: Limit = 1_000) -> PlainTextResponse:
        with connect_output(out) as conn:
            check_task(conn, task_id)
            lines = lines_after(conn, task_id, after, limit)
        body = "".join(as_text(line) + "\n" for line in lines)
        return PlainTextResponse(body, headers={"X-Next-After": str(lines[-1].id if lines else after)})
