"""The status cache: the same bytes within the TTL, none after it, and never unbounded."""

import time

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
