"""Guards a careless or hostile client found a way around, tested for their whole family: every read route
when the output schema is out of reach, names compared byte for byte on every route that takes one, and a
source altered under a task."""

import re
import uuid
from datetime import datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from settings import Settings
from tests.api.conftest import assert_error
from tests.conftest import task_body
from utils.db.engines import output_engine, source_engine
from utils.db.label_store import LabelRows, write_labels
from workers.cli import DEMO_RULES, register_keyword_model

# A value for each kind of path parameter: enough to reach the route's database work.
PATH_VALUES = {"task_id": uuid.uuid4().hex, "name": "topics", "dataset_id": "1", "rule_set_id": "1", "set_id": "1"}


def read_routes(client: TestClient) -> list[str]:
    """Every GET path of the API that answers from the output schema, with its parameters filled in."""
    paths = []
    for path, operations in client.app.openapi()["paths"].items():  # type: ignore[attr-defined]
        if "get" not in operations or not path.startswith(("/predicting", "/modeling", "/documenting",
                                                           "/preprocessing", "/metrics", "/healthz")):  # fmt: skip
            continue
        paths.append(re.sub(r"\{(\w+)\}", lambda m: PATH_VALUES[m.group(1)], path))
    return paths


def test_every_read_route_answers_503_when_the_output_schema_is_out_of_reach(
    client: TestClient, broken_output: None
) -> None:
    routes = read_routes(client)
    assert len(routes) >= 20, routes  # the family, not one example
    for path in routes:
        r = client.get(path)
        assert r.status_code == 503, (path, r.status_code, r.text)
        assert r.json()["error_code"] == 503
        assert "SELECT" not in r.text and "[SQL" not in r.text, (path, r.text)


@pytest.mark.parametrize("suffix", [" ", "   ", "%09", "%20"])
def test_a_model_name_with_a_trailing_space_is_another_name(
    client: TestClient, services: Settings, suffix: str
) -> None:
    register_keyword_model("exact-name", DEMO_RULES)
    assert client.get("/modeling/models/exact-name").status_code == 200
    for method, path in (
        ("get", "/modeling/models/{}"),
        ("get", "/modeling/models/{}/details"),
        ("delete", "/modeling/models/{}"),
        ("get", "/modeling/models/{}?version=1"),
    ):
        r = client.request(method.upper(), path.format("exact-name" + suffix))
        assert r.status_code in (404, 422), (method, path, r.text)
    for variant in ("Exact-name", "EXACT-NAME", " exact-name"):
        assert client.get(f"/modeling/models/{variant}").status_code in (404, 422)
    assert client.get("/modeling/models/exact-name").status_code == 200  # nothing was deleted


@pytest.mark.parametrize("name", ["topics ", " topics", "topics\t", "to\x00pics", "\u3000topics"])
def test_names_with_surrounding_whitespace_or_control_characters_are_refused_where_they_are_given(
    client: TestClient, source_posts: str, keyword_model: str, name: str
) -> None:
    r = client.post("/preprocessing/patterns", json={"name": name, "patterns": ["广告"]})
    assert_error(r, 422, "name")
    body = task_body(source_posts)
    body["model_names"] = [name]
    assert_error(client.post("/predicting/tasks", json=body), 422, "model_names[0]")
    assert_error(client.post("/predicting/tasks", json=task_body(source_posts, pattern_set=name)), 422, "pattern_set")
    training = {"dataset_id": 1, "model_type": "keyword", "model_name": name, "rule_set_id": 1}
    assert_error(client.post("/modeling/tasks", json=training), 422, "model_name")


def test_a_source_altered_under_a_task_answers_409_on_sample_and_review(
    client: TestClient, services: Settings, keyword_model: str
) -> None:
    with source_engine(services).begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS altered_posts"))
        conn.execute(
            text("CREATE TABLE altered_posts (id BIGINT PRIMARY KEY, title TEXT, content TEXT, post_time DATETIME)")
        )
        conn.execute(
            text("INSERT INTO altered_posts VALUES (1, 'NBA', 'x', '2026-03-01'), (2, 'NBA', 'y', '2026-03-02')")
        )
    task_id = client.post("/predicting/tasks", json=task_body("altered_posts")).json()["task_id"]
    with output_engine(services).begin() as conn:
        write_labels(conn, LabelRows(task_id, "altered_posts", datetime(2026, 5, 1), [("kw", 1, "体育", 1.0)]))
    assert client.get(f"/predicting/tasks/{task_id}/sample").status_code == 200

    for change, needle in (
        ("ALTER TABLE altered_posts MODIFY post_time VARCHAR(32)", "not a DATETIME"),
        ("ALTER TABLE altered_posts DROP COLUMN content", "column 'content' does not exist"),
        ("DROP TABLE altered_posts", "does not exist"),
    ):
        with source_engine(services).begin() as conn:
            conn.execute(text(change))
        for route in ("sample", "review"):
            r = client.get(f"/predicting/tasks/{task_id}/{route}")
            assert_error(r, 409, "the source has changed since the task was created", needle)


@pytest.mark.parametrize("route", ["/predicting/tasks", "/modeling/tasks", "/preprocessing/patterns"])
def test_malformed_json_is_422_saying_where(client: TestClient, route: str) -> None:
    r = client.post(route, content=b'{"name": [', headers={"content-type": "application/json"})
    assert_error(r, 422, "body: not valid JSON at character 10")
