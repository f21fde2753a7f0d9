"""Single-label data end to end, on MariaDB, Redis, uvicorn and Celery processes: an upload detected as
single-label trains a model that writes exactly one label per row, whose report's figures equal
scikit-learn's on the labels a predicting task served; and every review export of a source that repeats
its texts uploads back line for line."""

import json
import os
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
import redis
from sklearn.metrics import accuracy_score, confusion_matrix
from sqlalchemy import insert, select

from models.evaluation import NO_LABEL
from settings import Settings
from tests.conftest import RANGE, TEST_ENV, task_body
from tests.samples import as_jsonl, split_rows
from tests.services import Process, start_api, start_worker
from utils.db.engines import output_engine, source_engine
from utils.db.tables import labels
from utils.demo import posts_table

TABLE = "label_modes_posts"
SAMPLINGS = ("uniform", "per_label", "least_confident", "disagreement")


@pytest.fixture(scope="module")
def stack(services: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    for url in (services.broker_url, services.result_backend):
        redis.Redis.from_url(url).flushdb()
    logs = tmp_path_factory.mktemp("label_modes")
    env = {**os.environ, **TEST_ENV}
    procs: list[Process] = [start_worker(env, logs / "worker.log", name="modes", queues="predicting,modeling")]
    api, url = start_api(env, logs / "api.log")
    procs.append(api)
    with httpx.Client(base_url=url, timeout=60) as client:
        yield client
    for proc in procs:
        proc.kill()


def finished(client: httpx.Client, path: str, timeout: float = 240) -> dict:
    deadline = time.monotonic() + timeout
    body: dict = {}
    while time.monotonic() < deadline:
        body = client.get(path).json()
        if body["status"] in ("SUCCESS", "FAILURE", "BREAK"):
            return body
        time.sleep(0.3)
    raise AssertionError(f"{path} did not finish: {body}")


def upload(client: httpx.Client, content: bytes, **fields: str) -> dict:
    r = client.post("/documenting/datasets", files={"file": ("data.jsonl", content)},
                    data={"name": uuid.uuid4().hex, **fields})  # fmt: skip
    assert r.status_code == 200, r.text
    return dict(r.json())


@pytest.fixture(scope="module")
def single_label_rows() -> list[dict]:
    """The sample's rows with exactly one label: a single-label dataset, as doccano exports one."""
    return [row for row in split_rows() if len(row["label"]) == 1]


@pytest.fixture(scope="module")
def source_texts(services: Settings, single_label_rows: list[dict]) -> dict[int, str]:
    """A source table of the test split's texts, each repeated one to three times: source id → text."""
    texts = [row["text"] for row in single_label_rows if row["split"] == "test"]
    by_id: dict[int, str] = {}
    for n, text in enumerate(texts):
        for _ in range(n % 3 + 1):
            by_id[len(by_id) + 1] = text
    table = posts_table(TABLE)
    engine = source_engine(services)
    table.drop(engine, checkfirst=True)
    table.create(engine)
    with engine.begin() as conn:
        conn.execute(insert(table), [
            {"id": i, "title": None, "content": text, "post_time": RANGE[0] + timedelta(minutes=i)}
            for i, text in by_id.items()
        ])  # fmt: skip
    return by_id


def test_single_label_data_gets_one_label_and_reviews_come_back_whole(
    stack: httpx.Client,
    services: Settings,
    keyword_model: str,
    single_label_rows: list[dict],
    source_texts: dict[int, str],
) -> None:
    dataset = upload(stack, as_jsonl(single_label_rows), split_field="split")
    assert dataset["multi_label"] is False and dataset["rejected"] == 0

    name = f"single_{uuid.uuid4().hex[:8]}"
    r = stack.post("/modeling/tasks", json={"dataset_id": dataset["dataset_id"], "model_type": "term_weight",
                                            "model_name": name})  # fmt: skip
    assert r.status_code == 200, r.text
    assert r.json()["config"]["multi_label"] is False
    assert finished(stack, f"/modeling/tasks/{r.json()['task_id']}")["status"] == "SUCCESS"
    model = stack.get(f"/modeling/models/{name}").json()
    assert model["multi_label"] is False and model["decision"]["multi_label"] is False
    assert model["decision"]["thresholds"] is None and model["decision"]["threshold_method"]

    body = task_body(TABLE, model=name)
    body["model_names"] = [name, keyword_model]
    r = stack.post("/predicting/tasks", json=body)
    assert r.status_code == 200, r.text
    task_id = r.json()["task_id"]
    status = finished(stack, f"/predicting/tasks/{task_id}")
    assert status["status"] == "SUCCESS", status

    # Exactly one label per labeled row, each with its margin; the rule model's labels have none.
    served: dict[int, list[str]] = defaultdict(list)
    margins: dict[int, float] = {}
    with output_engine(services).connect() as conn:
        found = conn.execute(
            select(labels.c.source_id, labels.c.model, labels.c.label, labels.c.margin).where(
                labels.c.task_id == task_id
            )
        ).all()
    for source_id, model_name, label, margin in found:
        if model_name == name:
            served[source_id].append(label)
            assert margin is not None and margin >= 0
            margins[source_id] = margin
        else:
            assert margin is None
    assert [i for i, given in served.items() if len(given) > 1] == []
    assert len(served) > 0.9 * len(source_texts)

    # The report's figures are scikit-learn's on the labels the task served, text by text.
    gold_of = {row["text"]: row["label"][0] for row in single_label_rows if row["split"] == "test"}
    first_id = {text: i for i, text in sorted(source_texts.items(), reverse=True)}
    y_true = list(gold_of.values())
    y_pred = [served[first_id[text]][0] if served.get(first_id[text]) else NO_LABEL for text in gold_of]
    test = model["metrics"]["test"]
    assert test["rows"] == len(y_true)
    assert test["accuracy"] == accuracy_score(y_true, y_pred)
    matrix = test["confusion_matrix"]
    assert matrix["counts"] == confusion_matrix(y_true, y_pred, labels=matrix["labels"]).tolist()

    # Every sampling mode's export uploads back whole, though the source repeats its texts.
    repeated = 0
    for sampling in SAMPLINGS:
        r = stack.get(f"/predicting/tasks/{task_id}/review",
                      params={"sampling": sampling, "size": 40, "model": name, "seed": 3})  # fmt: skip
        assert r.status_code == 200, r.text
        lines = [json.loads(line) for line in r.text.splitlines()]
        assert len(lines) == 40, (sampling, r.headers)
        assert len({line["text"] for line in lines}) == 40
        repeated += int(r.headers["X-Rows-Repeated"])
        back = upload(stack, r.content)
        assert (back["rows"], back["rejected"]) == (40, 0), (sampling, back)
        if sampling == "least_confident":
            # The rows nearest the decision: the smallest margins among the distinct texts.
            by_text = {source_texts[i]: margin for i, margin in margins.items()}
            nearest = sorted(by_text.values())[:40]
            assert sorted(by_text[line["text"]] for line in lines) == nearest
    assert repeated > 0  # the source's repeats were met and left out
