"""The modeling API's checks, against MariaDB and without a worker: every bad request is a clear 4xx."""

import json
import uuid

import pytest
from fastapi.testclient import TestClient

from settings import Settings
from tests.api.conftest import assert_error
from tests.conftest import task_body
from utils.db import task_store as ts
from utils.db.engines import output_engine
from utils.db.model_store import add_model
from workers.cli import DEMO_RULES, register_keyword_model


def dataset(client: TestClient, rows: list[dict], **form: str) -> int:
    content = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode()
    r = client.post(
        "/documenting/datasets",
        files={"file": ("d.jsonl", content)},
        data={"name": f"m-{uuid.uuid4().hex[:10]}", **form},
    )
    assert r.status_code == 200, r.text
    return int(r.json()["dataset_id"])


@pytest.fixture(scope="module")
def two_labels(client: TestClient) -> int:
    return dataset(client, [{"text": f"第{i}条 {'足球' if i % 2 else '股票'}", "label": ["体育" if i % 2 else "财经"]}
                            for i in range(40)])  # fmt: skip


def train(client: TestClient, **body: object):
    return client.post("/modeling/tasks", json={"model_name": f"m-{uuid.uuid4().hex[:8]}", **body})


@pytest.mark.parametrize(
    ("body", "code", "needle"),
    [
        ({"model_type": "random_forest"}, 422, "model_type"),
        ({"model_type": "term_weight", "params": {"C": "strong"}}, 422, "params.C"),
        ({"model_type": "term_weight", "params": {"nonsense": 1}}, 422, "params.nonsense"),
        ({"model_type": "keyword"}, 422, "rule_set_id: required by keyword models"),
        ({"model_type": "regex", "rule_set_id": 999_999}, 400, "rule_set_id: rule set 999999 does not exist"),
        ({"model_type": "term_weight", "pattern_set": "no-such-set"}, 400, "pattern_set: pattern set 'no-such-set'"),
        ({"model_type": "term_weight", "unexpected": True}, 422, "unexpected"),
    ],
)
def test_bad_training_requests(client: TestClient, two_labels: int, body: dict, code: int, needle: str) -> None:
    assert_error(train(client, dataset_id=two_labels, **body), code, needle)


def test_dataset_problems_are_400(client: TestClient) -> None:
    assert_error(train(client, dataset_id=999_999, model_type="term_weight"), 400, "dataset 999999 does not exist")
    one = dataset(client, [{"text": f"文本{i}", "label": ["体育"]} for i in range(10)])
    assert_error(train(client, dataset_id=one, model_type="term_weight"), 400, "one label only ('体育')")
    only_test = dataset(
        client, [{"text": f"文本{i}", "label": ["a" if i % 2 else "b"], "split": "test"} for i in range(6)],
        split_field="split",
    )  # fmt: skip
    assert_error(train(client, dataset_id=only_test, model_type="sgd"), 400, "the train split")


def test_registry_and_task_lookups(client: TestClient, two_labels: int) -> None:
    assert_error(client.get("/modeling/models/nothing-here"), 404, "model 'nothing-here' does not exist")
    assert_error(client.get("/modeling/models/nothing-here/details"), 404, "does not exist")
    assert_error(client.delete("/modeling/models/nothing-here"), 404, "does not exist")
    assert_error(client.post("/modeling/models/nothing-here/evaluate", json={"dataset_id": two_labels}), 404, "")
    assert_error(client.get("/modeling/tasks/xyz"), 400, "not in proper format")
    assert_error(client.get(f"/modeling/tasks/{uuid.uuid4().hex}"), 400, "does not exist")
    assert_error(client.get("/modeling/models", params={"cursor": "x"}), 400, "cursor")


def test_a_training_request_is_stored_then_launched(client: TestClient, services: Settings, two_labels: int) -> None:
    r = train(client, dataset_id=two_labels, model_type="complement_nb")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["reused"] is False and body["status"] == "PENDING"
    assert body["config"]["params"]  # defaults filled in, so identical trainings compare equal
    status = client.get(f"/modeling/tasks/{body['task_id']}").json()
    assert status["type"] == "training" and status["config"] == body["config"]
    with output_engine(services).begin() as conn:  # no worker here: end it, so no test leaves it running
        ts.finish_task(conn, body["task_id"], ts.FAILURE, {}, "test: no worker")


def store_model(settings: Settings, name: str, kind: str, versions: dict[str, str]) -> None:
    with output_engine(settings).begin() as conn:
        add_model(conn, name, kind, b"not loaded by these tests", ["a", "b"], {}, versions)


def test_a_model_saved_with_other_library_versions_is_refused_before_it_runs(
    client: TestClient, services: Settings, source_posts: str, two_labels: int
) -> None:
    name = f"old-{uuid.uuid4().hex[:8]}"
    store_model(services, name, "term_weight", {"scikit-learn": "0.24.2", "numpy": "1.19.0"})
    r = client.post("/predicting/tasks", json=task_body(source_posts, model=name))
    assert_error(r, 400, f"model_names: model '{name}' version 1", "numpy 1.19.0", "is installed")
    evaluation = client.post(f"/modeling/models/{name}/evaluate", json={"dataset_id": two_labels})
    assert_error(evaluation, 400, "version: model", "retrain the model")


def test_a_model_in_use_is_not_deleted(client: TestClient, services: Settings, source_posts: str) -> None:
    name = f"kw-{uuid.uuid4().hex[:8]}"
    register_keyword_model(name, DEMO_RULES)
    task_id = client.post("/predicting/tasks", json=task_body(source_posts, model=name)).json()["task_id"]
    assert_error(client.delete(f"/modeling/models/{name}"), 409, f"used by running task {task_id}")
    with output_engine(services).begin() as conn:
        ts.finish_task(conn, task_id, ts.BREAK, {}, None)
    assert client.delete(f"/modeling/models/{name}").json()["versions"] == [1]
    assert_error(client.get(f"/modeling/models/{name}"), 404, "does not exist")


def test_tasks_are_listed_by_type_and_status_in_pages(client: TestClient, services: Settings, two_labels: int) -> None:
    ids = []
    for _ in range(3):
        body = train(client, dataset_id=two_labels, model_type="sgd", force=True).json()
        ids.append(body["task_id"])
        with output_engine(services).begin() as conn:
            ts.finish_task(conn, body["task_id"], ts.FAILURE, {}, "test: no worker")
    first = client.get("/modeling/tasks", params={"type": "training", "status": "FAILURE", "limit": 2}).json()
    assert [t["task_id"] for t in first["tasks"]] == ids[::-1][:2]
    second = client.get("/modeling/tasks", params={"status": "FAILURE", "limit": 2, "cursor": first["next_cursor"]})
    assert second.json()["tasks"][0]["task_id"] == ids[0]
    assert client.get("/modeling/tasks", params={"type": "evaluation", "status": "FAILURE"}).json()["tasks"] == []
    assert_error(client.get("/modeling/tasks", params={"type": "predicting"}), 422, "type")
    assert_error(client.get("/modeling/tasks", params={"cursor": "nonsense"}), 400, "cursor")
