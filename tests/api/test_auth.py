"""Authentication comes first, on a real uvicorn server with API_KEYS set: without a key the answer is
401 before the body is read (however large, malformed or slow it is), a wrong key is 403, and only the
liveness probe, the dashboard's files and the API's documentation answer anyone. Anonymous answers
name no account, schema, host or key."""

import json
import os
import select
import socket
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from apis.app import create_app
from settings import Settings
from tests.api.conftest import assert_error
from tests.services import start_api

KEY = "edge-key-1"
OTHER_KEY = "edge-key-2"
BODY_BYTES = 50 * 1024 * 1024
PIECE = 64 * 1024
FORM_START = b'--b\r\nContent-Disposition: form-data; name="file"; filename="posts.jsonl"\r\n\r\n'


@pytest.fixture(scope="module")
def api(services: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    env = {**os.environ, "API_KEYS": f"{KEY},{OTHER_KEY}"}
    proc, url = start_api(env, Path(tmp_path_factory.mktemp("auth")) / "api.log")
    yield url
    proc.stop()


def slow_upload(url: str, headers: dict[str, str], body_bytes: int = BODY_BYTES) -> tuple[bytes, int]:
    """Send a request's headers, then its body piece by piece, looking for an answer after each piece;
    the answer's first bytes and how much of the body had been sent when it came (or when the
    server stopped taking it)."""
    parts = urlsplit(url)
    head = f"POST /documenting/datasets HTTP/1.1\r\nHost: {parts.netloc}\r\nContent-Length: {body_bytes}\r\n"
    head += "".join(f"{name}: {value}\r\n" for name, value in headers.items()) + "\r\n"
    sent = 0
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as sock:
        sock.sendall(head.encode())
        # A well-formed start of a form, so the server, once it reads, keeps reading the file to its end.
        piece = FORM_START + b"x" * (PIECE - len(FORM_START))
        try:
            while sent < body_bytes:
                readable, _, _ = select.select([sock], [], [], 0.05)
                if readable:
                    break
                sock.sendall(piece)
                sent += len(piece)
                piece = b"x" * PIECE
        except OSError:
            pass  # the server closed the connection on an unread body: its answer is already on the way
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
    return answer, sent


def test_without_a_key_a_large_slow_upload_gets_401_before_its_body_is_sent(api: str) -> None:
    form = {"Content-Type": "multipart/form-data; boundary=b"}
    answer, sent = slow_upload(api, form)
    assert answer.startswith(b"HTTP/1.1 401 "), answer[:200]
    assert b"\r\nwww-authenticate: bearer\r\n" in answer.lower()
    assert sent < BODY_BYTES // 10, f"{sent:,} of {BODY_BYTES:,} bytes sent before the answer"
    # A wrong key: 403, as early.
    answer, sent = slow_upload(api, {**form, "X-API-Key": "wrong"})
    assert answer.startswith(b"HTTP/1.1 403 "), answer[:200]
    assert sent < BODY_BYTES // 10, f"{sent:,} of {BODY_BYTES:,} bytes sent before the answer"


def test_with_the_key_the_same_upload_is_read(api: str) -> None:
    # The control: with a key the server reads the whole body before it answers (a form never closed).
    small = 2 * 1024 * 1024
    answer, sent = slow_upload(api, {"Content-Type": "multipart/form-data; boundary=b", "X-API-Key": KEY}, small)
    assert sent == small
    assert answer.startswith((b"HTTP/1.1 400 ", b"HTTP/1.1 422 ")), answer[:200]


def test_401_wins_over_an_oversized_content_length(api: str) -> None:
    form = {"Content-Type": "multipart/form-data; boundary=b"}
    answer, sent = slow_upload(api, form, 10 * 1024**3)
    assert answer.startswith(b"HTTP/1.1 401 "), answer[:200]
    # With the key, the declared length is judged, still before the body is read.
    answer, sent = slow_upload(api, {**form, "X-API-Key": KEY}, 10 * 1024**3)
    assert answer.startswith(b"HTTP/1.1 413 "), answer[:200]
    assert sent < BODY_BYTES // 10


def test_a_streamed_body_is_not_pulled_to_its_end(api: str) -> None:
    pulled = 0

    def body() -> Iterator[bytes]:
        nonlocal pulled
        piece = b"y" * PIECE
        while pulled < BODY_BYTES:
            pulled += len(piece)
            yield piece

    headers = {"content-type": "multipart/form-data; boundary=b"}
    answer = httpx.post(f"{api}/documenting/datasets", content=body(), headers=headers, timeout=30)
    assert answer.status_code == 401, answer.text
    assert pulled < BODY_BYTES // 2, f"{pulled:,} of {BODY_BYTES:,} bytes pulled"


@pytest.mark.parametrize(
    ("method", "path", "content"),
    [
        ("POST", "/predicting/tasks", b'{"model_names": ['),  # malformed JSON
        ("POST", "/predicting/tasks", b"\xff\xfe not even text"),
        ("POST", "/preprocessing/patterns", b"{}"),
        ("GET", "/predicting/tasks", None),
        ("GET", "/metrics", None),
        ("DELETE", "/modeling/models/anything", None),
        ("GET", "/no/such/route", None),  # unknown paths are not told apart from protected ones
        ("PUT", "/healthz/", None),  # not the public path itself
    ],
)
def test_without_a_key_every_protected_answer_is_401_and_a_wrong_key_403(
    api: str, method: str, path: str, content: bytes | None
) -> None:
    headers = {"content-type": "application/json"}
    with httpx.Client(base_url=api) as client:
        missing = client.request(method, path, content=content, headers=headers)
        assert missing.status_code == 401, missing.text
        assert missing.json() == {
            "error_code": 401,
            "error_message": "missing API key: send X-API-Key or Authorization: Bearer",
        }
        assert missing.headers["www-authenticate"] == "Bearer"
        for wrong in ({"X-API-Key": "wrong"}, {"Authorization": f"Bearer {KEY}x"}, {"X-API-Key": KEY.upper()}):
            refused = client.request(method, path, content=content, headers={**headers, **wrong})
            assert refused.status_code == 403, refused.text
            assert refused.json() == {"error_code": 403, "error_message": "API key not accepted"}
        # Another scheme is no key at all.
        basic = client.request(method, path, content=content, headers={**headers, "Authorization": f"Basic {KEY}"})
        assert basic.status_code == 401


def test_with_a_key_the_routes_work(api: str) -> None:
    with httpx.Client(base_url=api) as client:
        for auth in ({"X-API-Key": KEY}, {"Authorization": f"Bearer {OTHER_KEY}"}, {"authorization": f"bearer {KEY}"}):
            assert client.get("/predicting/tasks", headers=auth).status_code == 200
        keyed = {"X-API-Key": OTHER_KEY}
        as_json = {**keyed, "content-type": "application/json"}
        malformed = client.post("/predicting/tasks", content=b'{"model_names": [', headers=as_json)
        assert malformed.status_code == 422 and "not valid JSON" in malformed.json()["error_message"]
        created = client.post(
            "/preprocessing/patterns", json={"name": f"auth-{os.getpid()}", "patterns": ["a+"]}, headers=keyed
        )
        assert created.status_code == 200, created.text
        assert client.get("/no/such/route", headers=keyed).status_code == 404
        assert client.get("/metrics", headers={"Authorization": f"Bearer {KEY}"}).status_code == 200


def test_public_routes_answer_without_a_key(api: str) -> None:
    with httpx.Client(base_url=api) as client:
        assert client.get("/healthz").json()["status"] == "ok"
        assert client.get("/").headers["content-type"].startswith("text/html")
        assert client.get("/static/app.js").status_code == 200
        assert client.get("/docs").status_code == 200
        assert client.get("/redoc").status_code == 200
        schema = client.get("/openapi.json").json()
        # Swagger UI's "Authorize" still knows both ways of sending the key.
        assert {"APIKeyHeader", "HTTPBearer"} <= set(schema["components"]["securitySchemes"])


def test_anonymous_answers_name_no_account_schema_host_or_key(api: str, services: Settings) -> None:
    secrets = {
        services.output_user + "@",
        services.output_schema,
        services.input_schema,
        "127.0.0.1",
        "3306",
        KEY,
        OTHER_KEY,
        "Traceback",
    }
    with httpx.Client(base_url=api) as client:
        answers = [
            client.get("/static/nothing.js"),  # 404 of the dashboard's files
            client.get("/static/%2e%2e/settings.py"),  # no way out of the static directory
            client.post("/healthz"),  # 405
            client.post("/", content=b"x" * (40 * 1024 * 1024)),  # 413 on a public path
            client.post("/predicting/tasks", content=b"{"),  # 401
            client.get("/predicting/tasks", headers={"X-API-Key": "wrong"}),  # 403
        ]
    assert [a.status_code for a in answers] == [404, 404, 405, 413, 401, 403]
    for answer in answers:
        body = answer.json()
        assert set(body) == {"error_code", "error_message"}
        text = json.dumps(body) + str(answer.headers)
        assert not [s for s in secrets if s in text], text


@pytest.mark.usefixtures("broken_output")
def test_healthz_names_the_dependency_down_and_logs_the_cause(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    answer = client.get("/healthz")
    assert_error(answer, 503)
    # Which dependency is down, nothing about the account, host, port or schema it was reached with.
    assert answer.json()["error_message"] == "cannot connect to output schema"
    assert "Can't connect" in caplog.text and "127.0.0.1" in caplog.text  # the cause is in the server's log


def test_a_websocket_without_a_key_is_closed_before_the_app_sees_it(services: Settings) -> None:
    keyed = services.model_copy(update={"api_keys": [KEY]})
    with (
        TestClient(create_app(keyed)) as c,
        pytest.raises(WebSocketDisconnect) as closed,
        c.websocket_connect("/predicting/tasks"),
    ):
        pass
    assert closed.value.code == 1008  # policy violation: ours, not the router's "no such route" (1000)
