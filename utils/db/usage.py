"""Which unfinished tasks use a stored resource, so it is not deleted under them.

A task's configuration names what it uses by id at a JSON path: ("dataset_id",), ("rule_set_id",),
or ("pattern_set", "id") for the snapshot of a pattern set. The database reads the path, so only
the matching task ids leave it.
"""

from collections.abc import Sequence

from sqlalchemy import Connection, select

from utils.db.tables import tasks
from utils.db.task_store import FINISHED


def tasks_using(conn: Connection, path: Sequence[str], resource_id: int) -> list[str]:
    """Ids of unfinished tasks whose configuration holds `resource_id` at `path`."""
    named = tasks.c.config[tuple(path)].as_integer()
    stmt = select(tasks.c.id).where(tasks.c.status.not_in(FINISHED), named == resource_id).order_by(tasks.c.id)
    return list(conn.execute(stmt).scalars())
