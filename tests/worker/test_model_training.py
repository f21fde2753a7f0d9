"""The training step called directly against MariaDB (no broker): exclusion, storage, redelivery."""

import hashlib
import json
import re
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import update

from apis.app import create_app
from settings import Settings
from tests.samples import as_jsonl, split_rows
from utils.db.engines import output_engine
from utils.db.model_store import add_model, latest_models, model_blob
from utils.db.tables import models
from workers import model_training
from workers.cli import DEMO_RULES, register_keyword_model
from workers.labeler_cache import get_labeler

EXCLUDE = ["比赛", r"^\S{0,6}$"]


@pytest.fixture(scope="module")
def client(services: Settings) -> Iterator[TestClient]:
    with TestClient(create_app()) as c:
        yield c


def test_training_skips_excluded_texts_stores_once_and_survives_redelivery(
    client: TestClient, services: Settings
) -> None:
    rows = split_rows()
    content = as_jsonl(rows)
    upload = client.post(
        "/documenting/datasets",
        files={"file": ("s.jsonl", content)},
        data={"name": f"train-{uuid.uuid4().hex[:8]}", "split_field": "split"},
    )
    dataset_id = upload.json()["dataset_id"]
    set_name = f"skip-{uuid.uuid4().hex[:8]}"
    assert client.post("/preprocessing/patterns", json={"name": set_name, "patterns": EXCLUDE}).status_code == 200
    name = f"excl-{uuid.uuid4().hex[:8]}"
    body = {"dataset_id": dataset_id, "model_type": "complement_nb", "model_name": name, "pattern_set": set_name}
    task_id = client.post("/modeling/tasks", json=body).json()["task_id"]

    assert model_training.train_task(services, task_id) == "SUCCESS"
    assert model_training.train_task(services, task_id) == "SUCCESS"  # a redelivered message stores nothing more
    status = client.get(f"/modeling/tasks/{task_id}").json()
    assert status["status"] == "SUCCESS", status
    compiled = [re.compile(p) for p in EXCLUDE]
    expected = {
        split: sum(1 for r in rows if r["split"] == split and any(c.search(r["text"]) for c in compiled))
        for split in ("train", "dev", "test")
    }
    metrics = status["result"]["metrics"]
    assert metrics["excluded"] == expected and expected["train"] > 0
    assert metrics["train_rows"] == sum(1 for r in rows if r["split"] == "train") - expected["train"]
    assert metrics["dev"]["rows"] == sum(1 for r in rows if r["split"] == "dev") - expected["dev"]
    versions = client.get("/modeling/models", params={"name": name}).json()["models"]
    assert [m["version"] for m in versions] == [1]
    assert client.get(f"/modeling/models/{name}").json()["pattern_set"]["patterns"] == EXCLUDE


def test_reuse_only_the_newest_version_and_never_give_a_version_twice(client: TestClient, services: Settings) -> None:
    rows = [{"text": f"第{i}条 {'足球比赛' if i % 2 else '股票基金'}", "label": ["体育" if i % 2 else "财经"]}
            for i in range(60)]  # fmt: skip
    content = as_jsonl(rows)
    upload = client.post(
        "/documenting/datasets", files={"file": ("r.jsonl", content)}, data={"name": f"r-{uuid.uuid4().hex[:8]}"}
    )
    dataset_id = upload.json()["dataset_id"]
    name = f"reuse-{uuid.uuid4().hex[:8]}"

    def training(alpha: float, force: bool = False) -> dict:
        body = {"dataset_id": dataset_id, "model_type": "complement_nb", "model_name": name,
                "params": {"alpha": alpha}, "force": force}  # fmt: skip
        created = client.post("/modeling/tasks", json=body).json()
        if created["task_id"]:
            assert model_training.train_task(services, created["task_id"]) == "SUCCESS"
        return created

    assert training(0.3)["reused"] is False  # version 1
    assert training(0.3)["reused"] is True
    assert training(1.0)["reused"] is False  # version 2, now the newest
    # version 1 was trained this way, but predicting would use version 2: train again, as version 3
    assert training(0.3)["reused"] is False
    assert client.get(f"/modeling/models/{name}").json()["version"] == 3
    assert client.delete(f"/modeling/models/{name}", params={"version": 3}).json()["versions"] == [3]
    assert training(0.5)["reused"] is False
    assert client.get(f"/modeling/models/{name}").json()["version"] == 4  # 3 is not given again


def test_two_models_of_one_name_stored_at_once_get_distinct_versions(services: Settings) -> None:
    name = f"race-{uuid.uuid4().hex[:8]}"
    both_started = threading.Barrier(2, timeout=20)

    def store(blob: bytes) -> int:
        with output_engine(services).begin() as conn:
            both_started.wait()
            row = add_model(conn, name, "keyword", blob, ["a"], {}, {})
            time.sleep(0.2)  # hold the transaction open while the other one tries
            return int(row.version)

    with ThreadPoolExecutor(2) as pool:
        versions = sorted(pool.map(store, [b"one", b"two"]))
    assert versions == [1, 2]


def test_a_model_whose_bytes_were_replaced_is_not_loaded(services: Settings) -> None:
    """Whoever can write the output schema cannot make a worker unpickle their bytes: the signature
    needs MODEL_SIGNING_KEY, which the database does not hold."""
    name = f"signed-{uuid.uuid4().hex[:8]}"
    register_keyword_model(name, DEMO_RULES)
    forged = json.dumps({"kind": "keyword", "rules": [["x", "y", 1.0]]}).encode()
    with output_engine(services).begin() as conn:
        model = latest_models(conn, [name])[name]
        conn.execute(
            update(models).where(models.c.id == model.id).values(blob=forged, sha256=hashlib.sha256(forged).hexdigest())
        )
    with pytest.raises(ValueError, match="not signed with this server's MODEL_SIGNING_KEY"):
        get_labeler(output_engine(services), model.id, hashlib.sha256(forged).hexdigest())
    genuine = f"genuine-{uuid.uuid4().hex[:8]}"
    register_keyword_model(genuine, DEMO_RULES)
    other_key = services.model_copy(update={"model_signing_key": SecretStr("another")})
    with output_engine(services).connect() as conn:
        model_id = latest_models(conn, [genuine])[genuine].id
        assert model_blob(conn, model_id, services)[2] == "keyword"
        with pytest.raises(ValueError, match="not signed"):
            model_blob(conn, model_id, other_key)  # a server with another key refuses it too
