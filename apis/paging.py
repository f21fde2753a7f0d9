"""Keyset pagination cursors, the same for every list: opaque to clients, checked on the way in."""

import re
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.engine import Row

from apis.errors import AudienceError

_TASK_ID = re.compile(r"^[0-9a-f]{32}$")
_NOT_OURS = "cursor: not a cursor returned by this API"


def id_cursor(cursor: str | None) -> int | None:
    """The id after which a page of an id-ordered list starts."""
    if cursor is None:
        return None
    if not (cursor.isascii() and cursor.isdigit()):
        raise AudienceError(400, _NOT_OURS)
    return int(cursor)


def task_cursor(cursor: str | None) -> tuple[datetime, str] | None:
    """The (created_at, id) after which a page of tasks, newest first, starts."""
    if not cursor:
        return None
    created, _, task_id = cursor.rpartition("_")
    try:
        moment = datetime.fromisoformat(created)
    except ValueError as exc:
        raise AudienceError(400, _NOT_OURS) from exc
    if not _TASK_ID.match(task_id):
        raise AudienceError(400, _NOT_OURS)
    return moment, task_id


def next_id_cursor(fetched: Sequence[Row], limit: int) -> str | None:
    """For a page fetched with limit + 1 rows: the cursor of the next page, None on the last."""
    return str(fetched[limit - 1].id) if len(fetched) > limit else None


def next_task_cursor(fetched: Sequence[Row], limit: int) -> str | None:
    if len(fetched) <= limit:
        return None
    last = fetched[limit - 1]
    return f"{last.created_at.isoformat()}_{last.id}"
