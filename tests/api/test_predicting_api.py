"""The predicting API's answers and error codes, on MariaDB and Redis (no worker needed)."""

import csv
import io
import json
import logging
import time
import uuid
from collections import Counter
from datetime import datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text, update

from apis import deps
from apis.app import create_app
from apis.predicting import STATUS_TTL_S
from settings import Settings
from tests.api.conftest import UNREACHABLE, assert_error
from tests.conftest import SOURCE_ROWS, TEST_ENV, task_body
from utils.db.engines import output_engine, source_engine
from utils.db.label_store import LabelRows, write_labels
from utils.db.tables import tasks
from workers import labeling
from workers.cli import DEMO_RULES, register_keyword_model

SRC = TEST_ENV["INPUT_SCHEMA"]


def test_create_returns_task_id_and_stored_config(client: TestClient, source_posts: str, keyword_model: str) -> None:
    r = client.post("/predicting/tasks", json=task_body(source_posts, batch_size=777))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["error_code"] == 200
    assert len(body["task_id"]) == 32 and int(body["task_id"], 16) >= 0
    assert body["config"]["batch_size"] == 777
    assert body["config"]["models"][0]["name"] == keyword_model
    assert len(body["config"]["models"][0]["sha256"]) == 64
    assert body["config"]["source"]["text_columns"] == ["title", "content"]
    status = client.get(f"/predicting/tasks/{body['task_id']}").json()
    assert status["config"] == body["config"]
    assert status["status"] in ("PENDING", "STARTED", "SUCCESS")


def test_start_must_be_before_end(client: TestClient, source_posts: str, keyword_model: str) -> None:
    body = task_body(source_posts, start_time="2026-05-01T00:00:00", end_time="2026-05-01T00:00:00")
    assert_error(client.post("/predicting/tasks", json=body), 400, "start_time must be earlier than end_time")


def test_times_with_an_offset_are_read_in_the_source_zone(
    services: Settings, source_posts: str, keyword_model: str
) -> None:
    shanghai = services.model_copy(update={"input_timezone": "Asia/Shanghai"})
    with TestClient(create_app(shanghai)) as c:
        body = task_body(source_posts, start_time="2026-03-01T00:00:00Z", end_time="2026-03-01T10:00:00")
        r = c.post("/predicting/tasks", json=body)
        assert r.status_code == 200, r.text
        assert r.json()["config"]["start_time"] == "2026-03-01T08:00:00"  # UTC midnight is 08:00 there
        assert r.json()["config"]["end_time"] == "2026-03-01T10:00:00"  # no offset: already source time
        mixed = task_body(source_posts, start_time="2026-03-01T09:00:00", end_time="2026-03-01T00:30:00Z")
        assert_error(c.post("/predicting/tasks", json=mixed), 400, "start_time must be earlier than end_time")


def test_unknown_model_is_named(client: TestClient, source_posts: str, keyword_model: str) -> None:
    body = task_body(source_posts)
    body["model_names"] = [keyword_model, "no_such_model"]
    assert_error(client.post("/predicting/tasks", json=body), 400, "model_names", "'no_such_model'")


@pytest.mark.parametrize(
    ("source", "needle"),
    [
        ({"tables": [f"{SRC}.missing"]}, f"table '{SRC}.missing' does not exist"),
        ({"tables": ["nowhere.posts"]}, "schema 'nowhere'"),
        ({"text_columns": ["title", "body"]}, "text_columns: column 'body'"),
        ({"time_column": "created_at"}, "time_column: column 'created_at'"),
        ({"id_column": "uid"}, "id_column: column 'uid'"),
    ],
)
def test_missing_source_names_are_named(
    client: TestClient, source_posts: str, keyword_model: str, source: dict, needle: str
) -> None:
    body = task_body(source_posts)
    body["source"] = {"tables": [source_posts], **source}
    assert_error(client.post("/predicting/tasks", json=body), 400, "source.", needle)


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"source": {"tables": ["posts`; DROP TABLE x; --"]}}, "source.tables[0]: a table name is 1 to 64 ASCII"),
        ({"source": {"tables": ["pоsts"]}}, "source.tables[0]"),  # Cyrillic o
        ({"source": {"tables": []}}, "source.tables"),
        ({"source": {"tables": ["posts"], "id_column": "id;"}}, "source.id_column: a column name is 1 to 64"),
        ({"model_names": ["a\tb"]}, "model_names[0]: Value error, must not contain control characters"),
        ({"model_names": []}, "model_names"),
        ({"model_names": ["a", "b", "a"]}, "model_names: Value error, names must be unique: a repeated"),
        ({"source": {"tables": ["posts", "posts"]}}, "source.tables: Value error, names must be unique: posts"),
        ({"start_time": "yesterday"}, "start_time"),
        ({"batch_size": 0}, "batch_size"),
        ({"unexpected": 1}, "unexpected"),
    ],
)
def test_invalid_bodies_get_422_naming_the_field(client: TestClient, patch: dict, field: str) -> None:
    body = {**task_body("posts"), **patch}
    assert_error(client.post("/predicting/tasks", json=body), 422, field)


def test_missing_body_field_is_named(client: TestClient) -> None:
    body = task_body("posts")
    del body["end_time"]
    assert_error(client.post("/predicting/tasks", json=body), 422, "end_time: Field required")


@pytest.mark.parametrize(
    "path",
    ["/predicting/tasks/{}", "/predicting/tasks/{}/sample", "/predicting/tasks/{}/labels", "/predicting/tasks/{}/log"],
)
@pytest.mark.parametrize("bad", ["123", "Z" * 32, "A" * 32, "a" * 33])
def test_malformed_task_ids_get_400(client: TestClient, path: str, bad: str) -> None:
    assert_error(client.get(path.format(bad)), 400, "task_id not in proper format")


def test_malformed_task_id_on_abort_gets_400(client: TestClient) -> None:
    assert_error(client.post("/predicting/tasks/xyz/abort"), 400, "task_id not in proper format")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/predicting/tasks/{}"),
        ("get", "/predicting/tasks/{}/sample"),
        ("get", "/predicting/tasks/{}/labels"),
        ("get", "/predicting/tasks/{}/log"),
        ("post", "/predicting/tasks/{}/abort"),
    ],
)
def test_unknown_task_id_gets_400(client: TestClient, method: str, path: str) -> None:
    assert_error(getattr(client, method)(path.format(uuid.uuid4().hex)), 400, "task id does not exist")


def test_sample_before_any_label_is_404(client: TestClient, source_posts: str, keyword_model: str) -> None:
    task_id = client.post("/predicting/tasks", json=task_body(source_posts)).json()["task_id"]
    assert_error(client.get(f"/predicting/tasks/{task_id}/sample"), 404, "not found yet")


def test_sample_of_a_task_that_ended_without_labels_says_so(
    client: TestClient, services: Settings, source_posts: str, keyword_model: str
) -> None:
    empty_range = task_body(source_posts, start_time="2031-01-01T00:00:00", end_time="2031-02-01T00:00:00")
    task_id = client.post("/predicting/tasks", json=empty_range).json()["task_id"]
    assert labeling.plan_task(services, task_id) == []  # the workflow's steps, run here without a broker
    assert labeling.finalize_task(services, task_id) == "SUCCESS"
    assert_error(client.get(f"/predicting/tasks/{task_id}/sample"), 404, "ended SUCCESS with no labels")
    status = client.get(f"/predicting/tasks/{task_id}").json()
    assert status["progress"]["total"] == 0 and status["progress"]["percent"] == 100.0


def test_sample_size_is_bounded(client: TestClient) -> None:
    assert_error(client.get(f"/predicting/tasks/{uuid.uuid4().hex}/sample?size=0"), 422, "size")
    assert_error(client.get(f"/predicting/tasks/{uuid.uuid4().hex}/sample?size=101"), 422, "size")


def test_list_filters_and_pages_by_cursor(client: TestClient, source_posts: str, keyword_model: str) -> None:
    created = [client.post("/predicting/tasks", json=task_body(source_posts)).json()["task_id"] for _ in range(3)]
    first = client.get("/predicting/tasks?limit=2").json()
    assert first["error_code"] == 200 and len(first["tasks"]) == 2 and first["next_cursor"]
    second = client.get("/predicting/tasks", params={"limit": 2, "cursor": first["next_cursor"]}).json()
    ids = [t["task_id"] for t in first["tasks"] + second["tasks"]]
    assert len(ids) == len(set(ids))
    assert ids[:3] == created[::-1]  # newest first, nothing skipped between pages
    walked, cursor = [], None
    while True:
        page = client.get("/predicting/tasks", params={"limit": 2, **({"cursor": cursor} if cursor else {})}).json()
        assert page["tasks"], "a next_cursor led to an empty page"
        walked += [t["task_id"] for t in page["tasks"]]
        if not (cursor := page["next_cursor"]):
            break
    everything = [t["task_id"] for t in client.get("/predicting/tasks?limit=500").json()["tasks"]]
    assert walked == everything
    exact = client.get("/predicting/tasks", params={"limit": len(everything)}).json()
    assert len(exact["tasks"]) == len(everything) and exact["next_cursor"] is None
    for task in client.get("/predicting/tasks?status=SUCCESS&limit=500").json()["tasks"]:
        assert task["status"] == "SUCCESS"
    assert_error(client.get("/predicting/tasks?status=DONE"), 422, "status")
    assert_error(client.get("/predicting/tasks?cursor=garbage"), 400, "cursor")


def test_abort_a_pending_task_then_abort_twice(client: TestClient, source_posts: str, keyword_model: str) -> None:
    task_id = client.post("/predicting/tasks", json=task_body(source_posts)).json()["task_id"]
    for _ in range(2):
        r = client.post(f"/predicting/tasks/{task_id}/abort")
        assert r.status_code == 200 and r.json()["error_message"] == "break status sent to task"
    assert client.get(f"/predicting/tasks/{task_id}").json()["abort_requested"] is True


def test_unreachable_output_schema(client: TestClient, broken_output: None, source_posts: str) -> None:
    assert_error(client.post("/predicting/tasks", json=task_body(source_posts)), 503, "cannot connect to output schema")
    assert_error(client.get("/predicting/tasks"), 503, "cannot read the state table")
    assert_error(client.get(f"/predicting/tasks/{uuid.uuid4().hex}/sample"), 503, "cannot connect to output schema")
    assert_error(client.post(f"/predicting/tasks/{uuid.uuid4().hex}/abort"), 503, "failed to send break status")
    assert_error(client.get("/healthz"), 503, "cannot connect to output schema")


def test_unreachable_source_fails_to_start(client: TestClient, source_posts: str, keyword_model: str) -> None:
    engine = create_engine(UNREACHABLE, connect_args={"connect_timeout": 2})
    client.app.dependency_overrides[deps._source_engine] = lambda: engine  # type: ignore[attr-defined]
    try:
        r = client.post("/predicting/tasks", json=task_body(source_posts))
    finally:
        client.app.dependency_overrides.pop(deps._source_engine)  # type: ignore[attr-defined]
    assert_error(r, 500, "failed to start a labeling task", "source database")


def test_unknown_route_keeps_the_envelope(client: TestClient) -> None:
    assert_error(client.get("/nothing/here"), 404, "Not Found")


def test_api_keys_when_configured(services: Settings, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    keyed = services.model_copy(update={"api_keys": ["s3cret"]})
    with TestClient(create_app(keyed)) as c:
        assert c.get("/healthz").status_code == 200
        missing = c.get("/predicting/tasks")
        assert_error(missing, 401, "missing API key")
        assert missing.headers["www-authenticate"] == "Bearer"
        assert_error(c.get("/predicting/tasks", headers={"X-API-Key": "wrong"}), 403, "not accepted")
        assert c.get("/predicting/tasks", headers={"X-API-Key": "s3cret"}).status_code == 200
        assert c.get("/predicting/tasks", headers={"Authorization": "Bearer s3cret"}).status_code == 200
        assert_error(c.get("/predicting/tasks", headers={"Authorization": "Bearer S3CRET"}), 403, "not accepted")
        assert_error(c.get("/metrics"), 401, "missing API key")  # a scraper sends the key as a bearer token
        assert c.get("/metrics", headers={"Authorization": "Bearer s3cret"}).status_code == 200
    assert caplog.records and not any("s3cret" in r.getMessage() for r in caplog.records)  # keys never logged


def test_production_refuses_to_start_without_keys(services: Settings) -> None:
    with pytest.raises(RuntimeError, match="API_KEYS"):
        create_app(services.model_copy(update={"env": "production", "api_keys": []}))
    with pytest.raises(RuntimeError, match="MODEL_SIGNING_KEY"):
        create_app(services.model_copy(update={"env": "production", "api_keys": ["k"]}))


HOSTILE_NAMES = [
    "posts`; DROP TABLE posts; --",
    "posts'; DROP TABLE posts; --",
    'posts"; DELETE FROM posts; --',
    "posts /* comment */",
    "posts;",
    "pоsts",  # Cyrillic o
    "ｐｏｓｔｓ",  # full-width
    "information_schema.tables",
    f"{SRC}.posts_missing",
]


def catalogue(settings: Settings) -> set[tuple[str, str]]:
    query = text(
        "SELECT table_schema, table_name FROM information_schema.tables WHERE table_schema IN (:a, :b)"
    ).bindparams(a=settings.input_schema, b=settings.output_schema)
    with output_engine(settings).connect() as conn:
        return {(schema, name) for schema, name in conn.execute(query)}


def test_hostile_table_and_column_names_change_nothing(
    client: TestClient, services: Settings, source_posts: str, keyword_model: str
) -> None:
    before = catalogue(services)
    with output_engine(services).connect() as conn:
        tasks_before = conn.execute(text("SELECT COUNT(*) FROM tasks")).scalar_one()
    for name in HOSTILE_NAMES:
        for field, value in (("tables", [name]), ("id_column", name), ("text_columns", [name]), ("time_column", name)):
            source = {"tables": [source_posts], field: value}
            r = client.post("/predicting/tasks", json=task_body(source_posts) | {"source": source})
            assert r.status_code in (400, 422), (field, name, r.text)
            assert f"source.{field}" in r.json()["error_message"], r.json()
    assert catalogue(services) == before  # no table created or dropped
    with output_engine(services).connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM tasks")).scalar_one() == tasks_before  # no task stored


@pytest.mark.parametrize(
    ("field", "value", "needle"),
    [
        ("start_time", "0001-01-01T00:00:00+05:00", "start_time: 0001-01-01T00:00:00+05:00 is out of range in UTC"),
        ("end_time", "9999-12-31T23:59:59-05:00", "end_time: 9999-12-31T23:59:59-05:00 is out of range in UTC"),
    ],
)
def test_times_that_leave_the_calendar_in_the_source_zone_are_422(
    client: TestClient, source_posts: str, keyword_model: str, field: str, value: str, needle: str
) -> None:
    assert_error(client.post("/predicting/tasks", json=task_body(source_posts, **{field: value})), 422, needle)


@pytest.mark.parametrize("value", ["10000-01-01T00:00:00", "2026-13-01", "2026-02-30T00:00:00", "", "1e9", "NaN"])
def test_times_that_are_no_times_are_422(client: TestClient, source_posts: str, value: str) -> None:
    assert_error(client.post("/predicting/tasks", json=task_body(source_posts, start_time=value)), 422, "start_time")


def test_the_widest_range_plans_every_row(
    client: TestClient, services: Settings, source_posts: str, keyword_model: str
) -> None:
    body = task_body(source_posts, start_time="0001-01-01T00:00:00", end_time="9999-12-31T23:59:59.999999")
    r = client.post("/predicting/tasks", json=body)
    assert r.status_code == 200, r.text
    task_id = r.json()["task_id"]
    chunk_ids = labeling.plan_task(services, task_id)
    status = client.get(f"/predicting/tasks/{task_id}").json()
    assert status["progress"]["total"] == SOURCE_ROWS
    assert len(chunk_ids) == pytest.approx(SOURCE_ROWS / services.chunk_rows, abs=1)


def test_json_bodies_have_a_cap_of_their_own(services: Settings, source_posts: str) -> None:
    limit = "body: the request is over the limit of 33,554,432 bytes"
    with TestClient(create_app(services)) as c:
        body = task_body(source_posts)
        body["model_names"] = ["m" * 90] * 200_000  # about 18 MB: under the cap, so the schema answers
        assert_error(c.post("/predicting/tasks", json=body), 422, "model_names")
        body["model_names"] = ["m" * 90] * 400_000  # about 37 MB
        assert_error(c.post("/predicting/tasks", json=body), 413, limit)
        # The upload cap is the route's, not the Content-Type's: a multipart header gets no more room.
        multipart = {"content-type": "multipart/form-data; boundary=b"}
        assert_error(c.post("/preprocessing/patterns", content=b"x" * (33 << 20), headers=multipart), 413, limit)

        def streamed():  # no Content-Length: sent chunked
            yield b'{"model_names": ['
            for _ in range(33 * 1024):
                yield b'"' + b"m" * 1022 + b'",'
            yield b'"m"]}'

        r = c.post("/predicting/tasks", content=streamed(), headers={"content-type": "application/json"})
        assert_error(r, 413, limit)


def test_status_is_cached_briefly_and_an_abort_shows_at_once(
    client: TestClient, services: Settings, source_posts: str, keyword_model: str
) -> None:
    task_id = client.post("/predicting/tasks", json=task_body(source_posts)).json()["task_id"]
    url = f"/predicting/tasks/{task_id}"
    assert client.get(url).json()["error"] is None
    with output_engine(services).begin() as conn:
        conn.execute(update(tasks).where(tasks.c.id == task_id).values(error="changed behind the API's back"))
    assert client.get(url).json()["error"] is None  # the cached answer
    time.sleep(STATUS_TTL_S + 0.1)
    # Expired: sent once more while it is rebuilt, then the rebuilt one.
    assert client.get(url).json()["error"] is None
    deadline = time.monotonic() + 5
    while (error := client.get(url).json()["error"]) is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert error == "changed behind the API's back"
    assert client.post(f"{url}/abort").status_code == 200
    assert client.get(url).json()["abort_requested"] is True  # this process's own change drops the entry


def test_labels_are_exported_as_csv_and_jsonl(
    client: TestClient, services: Settings, source_posts: str, keyword_model: str
) -> None:
    task_id = client.post("/predicting/tasks", json=task_body(source_posts)).json()["task_id"]
    rows = [("kw", i, f"标签,{i % 3}", 0.25 + i) for i in range(1, 2_500)]
    with output_engine(services).begin() as conn:
        write_labels(conn, LabelRows(task_id, source_posts, datetime(2026, 5, 1), rows))
    expected = {(source_posts, i, m, lb, sc, None) for m, i, lb, sc in rows}

    r = client.get(f"/predicting/tasks/{task_id}/labels")
    assert r.status_code == 200 and r.headers["content-type"] == "text/csv; charset=utf-8"
    assert r.headers["content-disposition"] == f'attachment; filename="labels-{task_id}.csv"'
    header, *lines = csv.reader(io.StringIO(r.text))
    assert header == ["source_table", "source_id", "model", "label", "score", "margin"]
    found = {(t, int(i), m, lb, float(sc), float(mg) if mg else None) for t, i, m, lb, sc, mg in lines}
    assert found == expected and len(lines) == len(rows)

    r = client.get(f"/predicting/tasks/{task_id}/labels", params={"format": "jsonl"})
    assert r.status_code == 200 and r.headers["content-type"] == "application/x-ndjson"
    assert {tuple(json.loads(line).values()) for line in r.text.splitlines()} == expected
    assert_error(client.get(f"/predicting/tasks/{task_id}/labels", params={"format": "xlsx"}), 422, "format")


def test_a_new_task_has_no_log_yet_and_bad_cursors_are_refused(
    client: TestClient, source_posts: str, keyword_model: str
) -> None:
    task_id = client.post("/predicting/tasks", json=task_body(source_posts)).json()["task_id"]
    r = client.get(f"/predicting/tasks/{task_id}/log", params={"after": 5})
    assert r.status_code == 200 and r.text == "" and r.headers["X-Next-After"] == "5"
    assert_error(client.get(f"/predicting/tasks/{task_id}/log", params={"after": -1}), 422, "after")
    assert_error(client.get(f"/predicting/tasks/{task_id}/log", params={"limit": 0}), 422, "limit")
    assert_error(client.get(f"/modeling/tasks/{task_id}/log"), 400, "task id does not exist")  # not a modeling task


def test_review_export_is_doccano_jsonl_that_uploads_back(
    client: TestClient, services: Settings, source_posts: str, keyword_model: str
) -> None:
    task_id = client.post("/predicting/tasks", json=task_body(source_posts)).json()["task_id"]
    with source_engine(services).connect() as conn:
        texts = dict(
            conn.execute(
                text(f"SELECT id, CONCAT_WS('', title, content) FROM {source_posts} ORDER BY id LIMIT 70")
            ).all()
        )
    ids = [i for i, found in texts.items() if found][:60]
    empty = [i for i, found in texts.items() if not found]
    rows = [(keyword_model, i, f"话题{n % 3}", 0.1 * (n + 1)) for n, i in enumerate(ids)]
    with output_engine(services).begin() as conn:
        write_labels(conn, LabelRows(task_id, source_posts, datetime(2026, 5, 1), rows))
    url = f"/predicting/tasks/{task_id}/review"

    r = client.get(url, params={"sampling": "least_confident", "size": 10})
    assert r.status_code == 200 and r.headers["content-type"] == "application/x-ndjson"
    assert r.headers["X-Rows-Skipped"] == "0"
    lines = [json.loads(line) for line in r.text.splitlines()]
    assert [line["meta"]["source_id"] for line in lines] == ids[:10]  # the lowest scores
    for line, (_m, _i, label, score) in zip(lines, rows, strict=False):
        assert line["text"] and line["label"] == [label] and line["meta"]["machine_labels"] is True
        assert line["meta"]["predictions"] == {keyword_model: [{"label": label, "score": score}]}
    seeded = {"sampling": "uniform", "size": 5, "seed": 7}
    assert client.get(url, params=seeded).text == client.get(url, params=seeded).text
    per_label = [
        json.loads(line) for line in client.get(url, params={"sampling": "per_label", "size": 9}).text.splitlines()
    ]
    assert sorted(Counter(line["label"][0] for line in per_label).values()) == [3, 3, 3]

    assert empty  # the demo posts hold some: a row with no text has nothing to show in doccano
    with output_engine(services).begin() as conn:
        write_labels(
            conn, LabelRows(task_id, source_posts, datetime(2026, 5, 1), [(keyword_model, empty[0], "x", 0.01)])
        )
    skipped = client.get(url, params={"sampling": "least_confident", "size": 10})
    # The row without text is left out and counted; the next nearest takes its place.
    assert skipped.headers["X-Rows-Skipped"] == "1" and skipped.headers["X-Rows-Repeated"] == "0"
    skipped_lines = [json.loads(line) for line in skipped.text.splitlines()]
    assert [line["meta"]["source_id"] for line in skipped_lines] == ids[:10]
    assert_error(client.get(url, params={"sampling": "disagreement"}), 400, "sampling: disagreement needs")
    assert_error(client.get(url, params={"model": "nope"}), 400, "model: 'nope' is not a model of this task")
    assert_error(client.get(url, params={"sampling": "newest"}), 422, "sampling")
    assert_error(client.get(url, params={"size": 0}), 422, "size")

    # Reviewed in doccano or not, the file goes back as a dataset.
    up = client.post(
        "/documenting/datasets", files={"file": ("review.jsonl", r.content)}, data={"name": uuid.uuid4().hex}
    )
    assert up.status_code == 200, up.text
    assert up.json()["rows"] == 10 and up.json()["rejected"] == 0


def test_review_export_of_rows_where_two_models_disagree(
    client: TestClient, services: Settings, source_posts: str, keyword_model: str
) -> None:
    other = f"second_{uuid.uuid4().hex[:8]}"
    register_keyword_model(other, DEMO_RULES)
    body = task_body(source_posts, model_names=[keyword_model, other])
    task_id = client.post("/predicting/tasks", json=body).json()["task_id"]
    with source_engine(services).connect() as conn:
        ids = list(
            conn.execute(
                text(f"SELECT id FROM {source_posts} WHERE CHAR_LENGTH(CONCAT_WS('', title, content)) > 0 ORDER BY id")
            ).scalars()
        )[:40]
    agree = [(m, i, "体育", 0.9) for i in ids[:20] for m in (keyword_model, other)]
    differ = [(keyword_model, i, "体育", 0.8) for i in ids[20:30]] + [(other, i, "科技", 0.7) for i in ids[20:30]]
    one_only = [(keyword_model, i, "财经", 0.6) for i in ids[30:35]]  # the other gave no label: a disagreement
    with output_engine(services).begin() as conn:
        write_labels(conn, LabelRows(task_id, source_posts, datetime(2026, 5, 1), agree + differ + one_only))

    r = client.get(f"/predicting/tasks/{task_id}/review", params={"sampling": "disagreement", "size": 100})
    assert r.status_code == 200, r.text
    lines = [json.loads(line) for line in r.text.splitlines()]
    assert [line["meta"]["source_id"] for line in lines] == ids[20:35]
    for line in lines[:10]:
        assert line["meta"]["predictions"] == {
            keyword_model: [{"label": "体育", "score": 0.8}],
            other: [{"label": "科技", "score": 0.7}],
        }
    assert lines[10]["meta"]["predictions"] == {keyword_model: [{"label": "财经", "score": 0.6}]}
    few = client.get(f"/predicting/tasks/{task_id}/review", params={"sampling": "disagreement", "size": 4})
    picked = [json.loads(line)["meta"]["source_id"] for line in few.text.splitlines()]
    assert len(picked) == 4 and set(picked) <= set(ids[20:35]) and picked == sorted(picked)
