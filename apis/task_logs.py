"""`GET …/tasks/{id}/log` of both task routers: a task's log lines as plain text, tailable."""

from typing import Annotated

from fastapi import Query
from fastapi.responses import PlainTextResponse
from sqlalchemy import Connection

from utils.db.task_log import as_text, lines_after

LOG_DESCRIPTION = (
    "One line per step, batch and error: `time level message`, oldest first. To follow a running task, "
    "send the `X-Next-After` header of the answer back as `after`."
)
After = Annotated[int, Query(ge=0, description="only lines after this one (X-Next-After of the last answer)")]
Limit = Annotated[int, Query(ge=1, le=10_000, description="at most this many lines")]
LOG_RESPONSES: dict[int | str, dict] = {200: {"content": {"text/plain": {}}, "description": "the log lines"}}


def log_response(conn: Connection, task_id: str, after: int, limit: int) -> PlainTextResponse:
    lines = lines_after(conn, task_id, after, limit)
    body = "".join(as_text(line) + "\n" for line in lines)
    next_after = lines[-1].id if lines else after
    return PlainTextResponse(body, headers={"X-Next-After": str(next_after)})
