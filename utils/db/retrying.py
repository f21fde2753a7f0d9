"""Retrying a whole transaction that lost a lock conflict.

InnoDB rolls back a deadlock's victim whole, but after a lock-wait timeout only the statement that
waited: the transaction must be rolled back and run again from its start, never resumed.
"""

import logging
import random
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import OperationalError

log = logging.getLogger(__name__)
T = TypeVar("T")
# MariaDB error numbers: ER_LOCK_WAIT_TIMEOUT, ER_LOCK_DEADLOCK.
LOCK_CONFLICTS = {1205: "lock wait timeout", 1213: "deadlock"}
ATTEMPTS = 6


def lock_conflict(exc: BaseException) -> str | None:
    """The kind of lock conflict `exc` reports, or None for any other error."""
    if not isinstance(exc, OperationalError):
        return None
    args = getattr(exc.orig, "args", ())
    if args and isinstance(args[0], int):
        return LOCK_CONFLICTS.get(args[0])
    return None


def in_transaction(engine: Engine, work: Callable[[Connection], T], what: str, attempts: int = ATTEMPTS) -> T:
    """`work` in one transaction, run again from the start after a deadlock or lock-wait timeout."""
    for attempt in range(1, attempts + 1):
        try:
            with engine.begin() as conn:
                return work(conn)
        except OperationalError as exc:
            kind = lock_conflict(exc)
            if kind is None or attempt == attempts:
                raise
            # Jittered backoff, so two transactions that deadlocked do not collide again in step.
            pause = random.uniform(0.5, 1.0) * min(0.1 * 2**attempt, 3.0)
            log.warning("%s: %s (try %d of %d), the transaction runs again in %.2f s",
                        what, kind, attempt, attempts, pause)  # fmt: skip
            time.sleep(pause)
    raise AssertionError("unreachable")
