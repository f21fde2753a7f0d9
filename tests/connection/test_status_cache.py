"""The status cache: the same bytes within the TTL, none after it, one rebuild at a time, never unbounded."""

import asyncio
import threading
import time
from collections.abc import Callable

from apis.status_cache import StatusCache


def test_entries_live_for_the_ttl_and_drop_forgets_them() -> None:
    cache = StatusCache(ttl_s=0.05)
    assert cache.get("t") is None
    cache.put("t", b"v1")
    assert cache.get("t") == b"v1"
    time.sleep(0.06)
    assert cache.get("t") is None
    cache.put("t", b"v2")
    cache.drop("t")
    assert cache.get("t") is None


def test_the_cache_stays_bounded() -> None:
    cache = StatusCache(ttl_s=60, max_entries=3)
    for key in "abcd":
        cache.put(key, key.encode())
    assert cache.get("d") == b"d"
    assert sum(cache.get(k) is not None for k in "abc") <= 2


def slow_build(calls: list[int], body: bytes = b"doc", error: Exception | None = None) -> Callable[[], bytes]:
    def build() -> bytes:
        calls.append(threading.get_ident())
        time.sleep(0.1)
        if error is not None:
            raise error
        return body

    return build


def test_requests_arriving_during_a_rebuild_share_it() -> None:
    async def main() -> None:
        cache = StatusCache(ttl_s=60)
        calls: list[int] = []
        bodies = await asyncio.gather(*(cache.fetch("t", slow_build(calls)) for _ in range(20)))
        assert bodies == [b"doc"] * 20 and len(calls) == 1
        assert calls[0] != threading.get_ident()  # built in the thread pool, not on the event loop
        assert await cache.fetch("t", slow_build(calls, b"new")) == b"doc" and len(calls) == 1

    asyncio.run(main())


def test_an_error_reaches_every_waiter_and_is_not_cached() -> None:
    async def main() -> None:
        cache = StatusCache(ttl_s=60)
        calls: list[int] = []
        failing = slow_build(calls, error=LookupError("no such task"))
        results = await asyncio.gather(*(cache.fetch("t", failing) for _ in range(5)), return_exceptions=True)
        assert all(isinstance(r, LookupError) for r in results) and len(calls) == 1
        assert await cache.fetch("t", slow_build(calls)) == b"doc" and len(calls) == 2

    asyncio.run(main())


def test_a_drop_during_a_rebuild_keeps_its_result_out_of_the_cache() -> None:
    async def main() -> None:
        cache = StatusCache(ttl_s=60)
        calls: list[int] = []
        pending = asyncio.ensure_future(cache.fetch("t", slow_build(calls, b"before abort")))
        await asyncio.sleep(0.02)
        cache.drop("t")
        assert await pending == b"before abort"
        assert cache.get("t") is None
        assert await cache.fetch("t", slow_build(calls, b"after abort")) == b"after abort"

    asyncio.run(main())


def test_a_stale_document_is_sent_at_once_while_one_rebuild_runs() -> None:
    async def main() -> None:
        cache = StatusCache(ttl_s=0.05, stale_s=5)
        calls: list[int] = []
        assert await cache.fetch("t", slow_build(calls, b"v1")) == b"v1"
        await asyncio.sleep(0.06)  # expired, not yet too stale
        began = time.perf_counter()
        bodies = await asyncio.gather(*(cache.fetch("t", slow_build(calls, b"v2")) for _ in range(10)))
        assert bodies == [b"v1"] * 10 and time.perf_counter() - began < 0.05  # none waited the 0.1 s build
        await asyncio.sleep(0.15)
        assert len(calls) == 2 and await cache.fetch("t", slow_build(calls, b"v3")) == b"v2"
        failing = slow_build(calls, error=LookupError("gone"))
        await asyncio.sleep(0.06)
        assert await cache.fetch("t", failing) == b"v2"  # stale, while the failing rebuild runs
        await asyncio.sleep(0.15)  # its error is not cached, and no one was left waiting on it

    asyncio.run(main())


def test_a_document_older_than_stale_s_is_rebuilt_before_it_is_sent() -> None:
    async def main() -> None:
        cache = StatusCache(ttl_s=0.02, stale_s=0.05)
        calls: list[int] = []
        await cache.fetch("t", slow_build(calls, b"old"))
        await asyncio.sleep(0.08)
        assert await cache.fetch("t", slow_build(calls, b"fresh")) == b"fresh" and len(calls) == 2

    asyncio.run(main())
