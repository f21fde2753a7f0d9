"""A short-lived cache of task status documents, per API process.

Clients poll a running task's status many times a second; each answer costs two queries and a
response model. Within `ttl_s` the same bytes are sent again, so a poll costs next to nothing and
a running task's progress is at most `ttl_s` old. A change made through this process (an abort)
drops the entry at once.
"""

import threading
import time


class StatusCache:
    def __init__(self, ttl_s: float, max_entries: int = 10_000) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._entries: dict[str, tuple[float, bytes]] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        entry = self._entries.get(key)
        if entry is None or time.monotonic() - entry[0] > self.ttl_s:
            return None
        return entry[1]

    def put(self, key: str, body: bytes) -> None:
        now = time.monotonic()
        with self._lock:
            if len(self._entries) >= self.max_entries:
                self._entries = {k: v for k, v in self._entries.items() if now - v[0] <= self.ttl_s}
                if len(self._entries) >= self.max_entries:
                    self._entries.clear()
            self._entries[key] = (now, body)

    def drop(self, key: str) -> None:
        with self._lock:
            self._entries.pop(key, None)
