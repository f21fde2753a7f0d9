"""The API tests' client: the app in-process over MariaDB (tasks are sent to Redis, run by no worker)."""

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from apis.app import create_app
from settings import Settings


@pytest.fixture(scope="module")
def client(services: Settings) -> Iterator[TestClient]:
    with TestClient(create_app()) as c:
        yield c
