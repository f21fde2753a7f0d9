"""Modeling end to end: uploads, training on a real worker of the modeling queue, the registry, and a
trained model used by a predicting task — MariaDB, Redis, uvicorn and Celery processes."""

import os
import time
from collections.abc import Iterator

import httpx
import pytest
import redis
from sklearn.metrics import accuracy_score, classification_report, hamming_loss
from sklearn.preprocessing import MultiLabelBinarizer

from models.training import load_model
from settings import Settings
from tests.conftest import TEST_ENV, task_body
from tests.samples import SAMPLE, read_jsonl, split_upload
from tests.services import Process, start_api, start_worker, wait_for
from utils.db.engines import output_engine
from utils.db.model_store import model_blob


@pytest.fixture(scope="module")
def stack(services: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    for url in (services.broker_url, services.result_backend):
        redis.Redis.from_url(url).flushdb()
    logs = tmp_path_factory.mktemp("modeling")
    env = {**os.environ, **TEST_ENV}
    procs: list[Process] = [start_worker(env, logs / "worker.log", name="modeling", queues="predicting,modeling")]
    api, url = start_api(env, logs / "api.log")
    procs.append(api)
    with httpx.Client(base_url=url, timeout=60) as client:
        yield client
    for proc in procs:
        proc.kill()


@pytest.fixture(scope="module")
def sample_dataset(stack: httpx.Client) -> int:
    content = split_upload()
    labels = (SAMPLE / "labels.json").read_text(encoding="utf-8")
    r = stack.post(
        "/documenting/datasets",
        files={"file": ("sample.jsonl", content)},
        data={"name": "modeling-sample", "split_field": "split", "labels": labels},
    )
    assert r.status_code == 200, r.text
    assert r.json()["rejected"] == 0
    return int(r.json()["dataset_id"])


def wait(client: httpx.Client, task_id: str, timeout: float = 240) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = client.get(f"/modeling/tasks/{task_id}").json()
        if body["status"] in ("SUCCESS", "FAILURE", "BREAK"):
            return body
        time.sleep(0.3)
    raise AssertionError(f"modeling task {task_id} did not finish: {body}")


def sklearn_report(gold: list[list[str]], predicted: list[list[str]], labels: list[str]) -> dict:
    binarizer = MultiLabelBinarizer(classes=labels).fit([labels])
    return classification_report(
        binarizer.transform(gold), binarizer.transform(predicted), target_names=labels, output_dict=True,
        zero_division=0,
    )  # fmt: skip


def test_train_report_reuse_details_and_use_in_a_predicting_task(
    stack: httpx.Client, sample_dataset: int, services: Settings, source_posts: str
) -> None:
    r = stack.post(
        "/modeling/tasks",
        json={"dataset_id": sample_dataset, "model_type": "term_weight", "model_name": "topics", "params": {}},
    )
    assert r.status_code == 200, r.text
    done = wait(stack, r.json()["task_id"])
    assert done["status"] == "SUCCESS", done
    log = [line.split(" INFO ", 1)[1] for line in stack.get(f"/modeling/tasks/{done['task_id']}/log").text.splitlines()]
    assert log[0] == "started training" and log[1].startswith("training term_weight on ")
    assert log[2].startswith("trained in ") and log[3] == "finished SUCCESS" and len(log) == 4
    model = stack.get("/modeling/models/topics").json()
    assert model["version"] == 1 and model["kind"] == "term_weight" and "scikit-learn" in model["library_versions"]
    assert model["dataset_id"] == sample_dataset

    # The stored report is scikit-learn's own on the model's predictions.
    with output_engine(services).connect() as conn:
        blob, _sha, kind, versions = model_blob(conn, model["model_id"])
    labeler = load_model(kind, blob, versions)
    test_rows = read_jsonl("test.jsonl")
    predicted = [[label for label, _ in found] for found in labeler.predict([r["text"] for r in test_rows])]
    every = sorted(set(model["labels"]) | {label for r in test_rows for label in r["label"]})
    expected = sklearn_report([r["label"] for r in test_rows], predicted, every)
    stored = model["metrics"]["test"]["report"]
    for key in ("micro avg", "macro avg", "weighted avg", *every):
        assert stored[key] == pytest.approx(expected[key]), key

    # Majority baseline on test: always the most frequent training label.
    train_rows = read_jsonl("train.jsonl")
    counts: dict[str, int] = {}
    for row in train_rows:
        for label in row["label"]:
            counts[label] = counts.get(label, 0) + 1
    majority = max(counts, key=lambda k: counts[k])
    baseline = sklearn_report([r["label"] for r in test_rows], [[majority]] * len(test_rows), every)
    assert stored["micro avg"]["f1-score"] >= baseline["micro avg"]["f1-score"] + 0.25

    again = stack.post(
        "/modeling/tasks",
        json={"dataset_id": sample_dataset, "model_type": "term_weight", "model_name": "topics", "params": {}},
    ).json()
    assert again["reused"] is True and again["task_id"] is None and again["model"]["version"] == 1
    forced = stack.post(
        "/modeling/tasks",
        json={"dataset_id": sample_dataset, "model_type": "term_weight", "model_name": "topics", "force": True},
    ).json()
    assert forced["reused"] is False and wait(stack, forced["task_id"])["status"] == "SUCCESS"
    assert stack.get("/modeling/models/topics").json()["version"] == 2

    details = stack.get("/modeling/models/topics/details", params={"version": 1})
    assert details.status_code == 200 and details.text.startswith("\ufefftext,gold,predicted,scores")
    assert details.text.count("\n") >= len(read_jsonl("dev.jsonl")) + 1

    # Version 1 labels source rows in a predicting task the way predict does in-process.
    body = task_body(source_posts, model="topics", model_versions={"topics": 1}, batch_size=500)
    created = stack.post("/predicting/tasks", json=body)
    assert created.status_code == 200, created.text
    assert created.json()["config"]["models"][0]["version"] == 1
    task_id = created.json()["task_id"]
    status = wait_for(stack, task_id, ("SUCCESS", "FAILURE", "BREAK"), timeout=240)
    assert status["status"] == "SUCCESS", status
    sample = stack.get(f"/predicting/tasks/{task_id}/sample", params={"size": 30}).json()["rows"]
    assert sample
    for row in sample:
        got = sorted((x["label"], round(x["score"], 6)) for x in row["labels"]["topics"])
        want = sorted((label, round(score, 6)) for label, score in labeler.predict([row["text"]])[0])
        assert got == want

    assert stack.delete("/modeling/models/topics", params={"version": 2}).json()["versions"] == [2]
    assert stack.get("/modeling/models/topics").json()["version"] == 1


def test_rule_model_from_a_rule_set_and_evaluation_on_another_dataset(stack: httpx.Client, sample_dataset: int) -> None:
    rules = stack.post(
        "/documenting/rule-sets",
        files={"file": ("rules.csv", (SAMPLE / "rules.csv").read_bytes())},
        data={"name": "sample-rules"},
    )
    assert rules.status_code == 200, rules.text
    r = stack.post(
        "/modeling/tasks",
        json={"dataset_id": sample_dataset, "model_type": "regex", "model_name": "topic-rules",
              "rule_set_id": rules.json()["rule_set_id"]},
    )  # fmt: skip
    assert r.status_code == 200, r.text
    done = wait(stack, r.json()["task_id"])
    assert done["status"] == "SUCCESS", done
    assert done["result"]["model"]["name"] == "topic-rules"
    trained_test = done["result"]["metrics"]["test"]["report"]

    evaluation = stack.post(
        "/modeling/models/topic-rules/evaluate", json={"dataset_id": sample_dataset, "split": "test"}
    )
    assert evaluation.status_code == 200, evaluation.text
    result = wait(stack, evaluation.json()["task_id"])
    assert result["status"] == "SUCCESS", result
    assert result["result"]["evaluation"]["report"]["micro avg"] == pytest.approx(trained_test["micro avg"])


def test_a_rule_model_from_its_rule_set_alone(stack: httpx.Client, sample_dataset: int, services: Settings) -> None:
    """No labeled data yet: a keyword model is built from its rules, has no report, is multi-label, and
    an evaluation on a dataset later reports scikit-learn's figures for multi-label data."""
    rules = stack.post(
        "/documenting/rule-sets",
        files={"file": ("rules.csv", (SAMPLE / "rules.csv").read_bytes())},
        data={"name": "rules-alone"},
    )
    assert rules.status_code == 200, rules.text
    rule_set_id = rules.json()["rule_set_id"]
    r = stack.post("/modeling/tasks", json={"model_type": "keyword", "model_name": "rules-alone",
                                            "rule_set_id": rule_set_id})  # fmt: skip
    assert r.status_code == 200, r.text
    assert r.json()["config"]["dataset_id"] is None and r.json()["config"]["multi_label"] is True
    done = wait(stack, r.json()["task_id"])
    assert done["status"] == "SUCCESS", done
    model = stack.get("/modeling/models/rules-alone").json()
    assert model["dataset_id"] is None and model["metrics"] is None and model["multi_label"] is True
    assert model["decision"]["multi_label"] is True and model["decision"]["thresholds"] is None
    assert stack.get("/modeling/models/rules-alone/details").status_code == 404
    # The same rules again: the stored model is reused, as for any training.
    again = stack.post("/modeling/tasks", json={"model_type": "keyword", "model_name": "rules-alone",
                                                "rule_set_id": rule_set_id})  # fmt: skip
    assert again.json()["reused"] is True

    evaluation = stack.post("/modeling/models/rules-alone/evaluate", json={"dataset_id": sample_dataset})
    assert evaluation.status_code == 200, evaluation.text
    result = wait(stack, evaluation.json()["task_id"])["result"]["evaluation"]
    rows = [row for split in ("train", "dev", "test") for row in read_jsonl(f"{split}.jsonl")]
    with output_engine(services).connect() as conn:
        blob, _sha, kind, versions = model_blob(conn, model["model_id"])
    predicted = [[label for label, _ in found] for found in load_model(kind, blob, versions).predict(
        [row["text"] for row in rows])]  # fmt: skip
    every = sorted(set(model["labels"]) | {label for row in rows for label in row["label"]})
    binarizer = MultiLabelBinarizer(classes=every).fit([every])
    y_true, y_pred = binarizer.transform([row["label"] for row in rows]), binarizer.transform(predicted)
    assert result["rows"] == len(rows) and "confusion_matrix" not in result
    assert result["accuracy"] == result["subset_accuracy"] == accuracy_score(y_true, y_pred)
    assert result["hamming_loss"] == hamming_loss(y_true, y_pred)

    # A classifier still needs labeled texts.
    refused = stack.post("/modeling/tasks", json={"model_type": "term_weight", "model_name": "no-data"})
    assert refused.status_code == 422 and "dataset_id: required by term_weight" in refused.json()["error_message"]
