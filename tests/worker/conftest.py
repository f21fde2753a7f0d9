"""Fixtures of the end-to-end tests: an API process, worker processes, and an empty broker."""

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import redis

from settings import Settings
from tests.conftest import TEST_ENV
from tests.services import Process, start_api
from tests.worker.flow import Recovery, damage


@pytest.fixture
def worker_env(services: Settings) -> dict[str, str]:
    # Each test starts from an empty broker, so no message of an earlier test reaches its workers.
    for url in (services.broker_url, services.result_backend):
        redis.Redis.from_url(url).flushdb()
    return {**os.environ, **TEST_ENV}


@pytest.fixture(scope="module")
def api(services: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    proc, url = start_api({**os.environ, **TEST_ENV}, tmp_path_factory.mktemp("api") / "api.log")
    with httpx.Client(base_url=url, timeout=30) as client:
        yield client
    proc.stop()


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[list[Process]]:
    """Processes a test starts; killed when it ends, pass or fail."""
    started: list[Process] = []
    yield started
    for proc in started:
        proc.kill()


@pytest.fixture
def report(record_property: Callable[[str, object], None], services: Settings) -> Callable[..., None]:
    """Record what a fault did to a task, for `make reliability`'s table; call it before asserting,
    so a failed trial is measured too."""

    def record(recovery: Recovery, expected: dict) -> None:
        lost, duplicates = damage(services, recovery.status, expected)
        record_property("rows_lost", lost)
        record_property("duplicate_rows", duplicates)
        record_property("resumed_s", recovery.resumed_s)
        record_property("finished_s", recovery.finished_s)

    return record
