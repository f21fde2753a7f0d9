"""What the API tests share: a client of the app in-process over MariaDB (tasks are sent to Redis
and run by no worker), an unreachable output schema, and the check of an error envelope."""

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine

from apis import deps
from apis.app import create_app
from settings import Settings


@pytest.fixture(scope="module")
def client(services: Settings) -> Iterator[TestClient]:
    with TestClient(create_app()) as c:
        yield c


UNREACHABLE = "mysql+pymysql://root:@127.0.0.1:1/nothing?charset=utf8mb4"


@pytest.fixture
def broken_output(client: TestClient) -> Iterator[None]:
    engine = create_engine(UNREACHABLE, connect_args={"connect_timeout": 2})
    client.app.dependency_overrides[deps._output_engine] = lambda: engine  # type: ignore[attr-defined]
    yield
    client.app.dependency_overrides.pop(deps._output_engine)  # type: ignore[attr-defined]


def assert_error(response, code: int, *needles: str) -> None:  # type: ignore[no-untyped-def]
    """The envelope of an error: `code` as status and error_code, each needle in the message."""
    assert response.status_code == code, response.text
    body = response.json()
    assert body["error_code"] == code
    for needle in needles:
        assert needle in body["error_message"], body["error_message"]
