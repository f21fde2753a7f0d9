"""A short-lived cache of task status documents, per API process.

Clients poll a running task's status many times a second; each answer costs two queries and a
response model. Within `ttl_s` the same bytes are sent again, so a poll costs next to nothing. After
that, up to `stale_s`, the last document is still sent at once while one rebuild runs in the thread
pool: no poll waits for a database that a running task keeps busy (those waits were the tail of the
latencies), and a running task's progress is at most `ttl_s` plus one rebuild old. With no document,
or one older than `stale_s`, one request rebuilds it and the others arriving meanwhile wait for that
rebuild. A change made through this process (an abort) drops the entry at once.
"""

import asyncio
import threading
import time
from collections.abc import Callable

from starlette.concurrency import run_in_threadpool


class StatusCache:
    def __init__(self, ttl_s: float, max_entries: int = 10_000, stale_s: float | None = None) -> None:
        self.ttl_s = ttl_s
        self.stale_s = 10 * ttl_s if stale_s is None else max(stale_s, ttl_s)
        self.max_entries = max_entries
        self._entries: dict[str, tuple[float, bytes]] = {}
        self._building: dict[str, asyncio.Future[bytes]] = {}
        self._lock = threading.Lock()

    async def fetch(self, key: str, build: Callable[[], bytes]) -> bytes:
        """The cached body (a stale one while it is rebuilt), or the one `build` makes in the thread
        pool (its error, if it raises)."""
        entry = self._entries.get(key)
        if entry is not None:
            age = time.monotonic() - entry[0]
            if age <= self.ttl_s:
                return entry[1]
            if age <= self.stale_s:
                self._rebuild(key, build)
                return entry[1]
        # Shielded: a client that goes away does not cancel the rebuild the others wait for.
        return await asyncio.shield(self._rebuild(key, build))

    def _rebuild(self, key: str, build: Callable[[], bytes]) -> "asyncio.Future[bytes]":
        building = self._building.get(key)
        if building is None:
            building = self._building[key] = asyncio.ensure_future(self._build(key, build))
            # Retrieved here, so an error nobody waits for (clients gone, or served stale) is not reported as lost.
            building.add_done_callback(lambda done: done.cancelled() or done.exception())
        return building

    async def _build(self, key: str, build: Callable[[], bytes]) -> bytes:
        me = asyncio.current_task()
        try:
            body = await run_in_threadpool(build)
            if self._building.get(key) is me:  # not dropped meanwhile
                self.put(key, body)
            return body
        finally:
            if self._building.get(key) is me:
                del self._building[key]

    def get(self, key: str) -> bytes | None:
        entry = self._entries.get(key)
        if entry is None or time.monotonic() - entry[0] > self.ttl_s:
            return None
        return entry[1]

    def put(self, key: str, body: bytes) -> None:
        now = time.monotonic()
        with self._lock:
            if len(self._entries) >= self.max_entries:
                self._entries = {k: v for k, v in self._entries.items() if now - v[0] <= self.stale_s}
                if len(self._entries) >= self.max_entries:
                    self._entries.clear()
            self._entries[key] = (now, body)

    def drop(self, key: str) -> None:
        with self._lock:
            self._entries.pop(key, None)
            self._building.pop(key, None)
