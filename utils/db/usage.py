"""Which unfinished tasks use a stored resource, so it is not deleted under them.

A task's configuration names what it uses by id under a key such as "dataset_id" or
"rule_set_id", at its top level or in a list under the plural key ("dataset_ids").
"""

from sqlalchemy import Connection, select

from utils.db.tables import tasks
from utils.db.task_store import FINISHED


def tasks_using(conn: Connection, key: str, resource_id: int) -> list[str]:
    """Ids of unfinished tasks whose configuration refers to `resource_id` under `key`."""
    rows = conn.execute(select(tasks.c.id, tasks.c.config).where(tasks.c.status.not_in(FINISHED)))
    found = []
    for task_id, config in rows:
        config = config or {}
        if config.get(key) == resource_id or resource_id in (config.get(f"{key}s") or []):
            found.append(task_id)
    return found
